import { test } from 'node:test';
import assert from 'node:assert/strict';
import { formatMicros, perMillionFromDecimal, upstreamCostMicros } from './index.js';

const price = {
  promptPerM: 150_000, // $0.15 / M
  completionPerM: 600_000, // $0.60 / M
  cachedReadPerM: 75_000,
  cacheWritePerM: 0,
  reasoningPerM: 600_000,
  perRequest: 0,
};
const t = (
  p: Partial<Record<'prompt' | 'completion' | 'cachedRead' | 'cacheWrite' | 'reasoning', number>>,
) => ({
  prompt: 0,
  completion: 0,
  cachedRead: 0,
  cacheWrite: 0,
  reasoning: 0,
  ...p,
});

test('cost is rounded up to the next micro-unit, once', () => {
  // 10 * 0.15 + 5 * 0.6 = 4.5 micro-units -> 5
  assert.equal(upstreamCostMicros(t({ prompt: 10, completion: 5 }), price), 5);
  assert.equal(upstreamCostMicros(t({}), price), 0);
});

test('cached prompt tokens are billed at the cached price, not twice', () => {
  // 1_000_000 prompt of which 400_000 cached: 600_000*0.15 + 400_000*0.075 = 90_000 + 30_000
  assert.equal(upstreamCostMicros(t({ prompt: 1_000_000, cachedRead: 400_000 }), price), 120_000);
});

test('per-request price is added', () => {
  assert.equal(
    upstreamCostMicros(t({ prompt: 1_000_000 }), { ...price, perRequest: 2_000 }),
    152_000,
  );
});

test('huge counts stay exact', () => {
  const big = { ...price, promptPerM: 1_000_000_000 }; // $1000 per million tokens
  assert.equal(upstreamCostMicros(t({ prompt: 50_000_000 }), big), 50_000_000_000);
});

test('decimal prices convert exactly', () => {
  assert.equal(perMillionFromDecimal('0.15'), 150_000);
  assert.equal(perMillionFromDecimal('15'), 15_000_000);
  assert.equal(perMillionFromDecimal('0.000001'), 1);
  assert.throws(() => perMillionFromDecimal('0.1234567'));
  assert.equal(formatMicros(1_234_567), '1.234567');
  assert.equal(formatMicros(-5), '-0.000005');
});

test('per-token decimal strings are exact', async () => {
  const { perTokenDecimal } = await import('./index.js');
  assert.equal(perTokenDecimal(150_000), '0.00000015');
  assert.equal(perTokenDecimal(10_000_000), '0.00001');
  assert.equal(perTokenDecimal(0), '0');
  assert.equal(perTokenDecimal(2_000_000_000_000), '2');
});
