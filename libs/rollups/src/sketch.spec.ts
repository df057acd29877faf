import assert from 'node:assert/strict';
import { test } from 'node:test';
import { SKETCH_RELATIVE_ACCURACY } from '@turnpike/contracts';
import {
  addInto,
  countOf,
  fromSketchRecord,
  meanOf,
  quantileOf,
  sketchOf,
  sketchRecord,
  sumOf,
  type SketchBins,
} from './sketch.js';

/** A deterministic spread of values in [0, 1): the golden-ratio sequence, from `start`. */
function spread(start: number): () => number {
  let x = start;
  return () => (x = (x + 0.6180339887498949) % 1);
}

/** The value DDSketch's rank points at: index floor(q (n - 1)) of the sorted values. */
const exact = (values: number[], q: number) =>
  [...values].sort((a, b) => a - b)[Math.floor(q * (values.length - 1))]!;

const within = (got: number | null, want: number, what: string) => {
  assert.ok(got !== null, what);
  assert.ok(
    Math.abs(got - want) <= want * SKETCH_RELATIVE_ACCURACY + 1e-9,
    `${what}: ${got} vs ${want}`,
  );
};

test('quantiles are within the stated relative accuracy of the exact ones', () => {
  const rnd = spread(0.1);
  // Log-normal latencies over four orders of magnitude, and some zeros.
  const values = Array.from({ length: 20_000 }, (_, i) =>
    i % 97 === 0 ? 0 : Math.round(300 * Math.exp(1.5 * (rnd() + rnd() + rnd() - 1.5))),
  );
  const bins = sketchOf(values);
  for (const q of [0, 0.01, 0.25, 0.5, 0.9, 0.99, 0.999, 1])
    within(quantileOf(bins, q), exact(values, q), `q=${q}`);
  assert.equal(countOf(bins), values.length);
  assert.equal(
    sumOf(bins),
    values.reduce((a, b) => a + b, 0),
  );
  assert.equal(meanOf(bins), values.reduce((a, b) => a + b, 0) / values.length);
});

test('merging is adding the bins: in any order and grouping, the same sketch and quantiles', () => {
  const rnd = spread(0.2);
  const values = Array.from({ length: 3000 }, () => 5 + rnd() * 2000);
  const parts = [
    values.slice(0, 700),
    values.slice(700, 701),
    values.slice(701, 2500),
    values.slice(2500),
  ];
  const merged: SketchBins = {};
  for (const p of parts) addInto(merged, sketchOf(p));
  const reversed: SketchBins = {};
  for (const p of [...parts].reverse()) addInto(reversed, sketchOf([...p].reverse()));
  const whole = sketchOf(values);
  for (const b of [merged, reversed]) {
    for (const k of Object.keys(whole).filter((k) => k !== 's'))
      assert.equal(b[k], whole[k], `bin ${k}`);
    assert.ok(Math.abs(sumOf(b) - sumOf(whole)) < 1e-6);
    for (const q of [0.5, 0.9, 0.99]) assert.equal(quantileOf(b, q), quantileOf(whole, q));
  }
  for (const q of [0.5, 0.9, 0.99])
    within(quantileOf(merged, q), exact(values, q), `merged q=${q}`);
});

test('the published form is DDSketch protobuf that the library reads back to the same quantiles', () => {
  const rnd = spread(0.3);
  const values = Array.from({ length: 500 }, () => Math.round(50 + rnd() * 5000));
  const bins = sketchOf([0, ...values]);
  const rec = sketchRecord(bins);
  assert.equal(rec.relativeAccuracy, 0.01);
  assert.equal(rec.count, 501);
  assert.equal(
    rec.sum,
    values.reduce((a, b) => a + b, 0),
  );
  const back = fromSketchRecord(rec)!;
  assert.equal(back.count, 501);
  assert.equal(back.zeroCount, 1);
  for (const q of [0, 0.5, 0.9, 0.99, 1]) {
    const v = back.getValueAtQuantile(q);
    assert.ok(Math.abs(v - quantileOf(bins, q)!) <= 1e-9 * Math.max(1, v), `q=${q}`);
  }
  // Trimmed to the used bins: a narrow distribution is small on the wire.
  assert.ok(sketchRecord(sketchOf([100, 101, 102])).ddsketch.length < 120);
  assert.deepEqual(sketchRecord({}), { relativeAccuracy: 0.01, count: 0, sum: 0, ddsketch: '' });
  assert.equal(fromSketchRecord(sketchRecord({})), null);
  assert.equal(quantileOf({}, 0.5), null);
});

test('negative and non-finite values are not kept', () => {
  const b = sketchOf([-1, Number.NaN, Infinity, 3]);
  assert.equal(countOf(b), 1);
  assert.equal(quantileOf(b, 1)! > 2.9, true);
});
