import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  MALFORMED_IN_A_ROW_LIMIT,
  MALFORMED_SHARE_LIMIT,
  MALFORMED_SHARE_MIN_EVENTS,
  MalformedTolerance,
} from './stream-tolerance.js';

/**
 * A stream of `total` events, those at `bad` (1-based) malformed, fed as a decoder reports them
 * (each malformed event in order, then the count after each read of `perRead` events): the
 * event at which the stream is judged past the tolerance, or null.
 */
function judge(total: number, bad: readonly number[], perRead = 1): number | null {
  const t = new MalformedTolerance();
  for (let from = 1; from <= total; from += perRead) {
    const to = Math.min(total, from + perRead - 1);
    for (const b of bad) if (b >= from && b <= to && t.malformedAt(b)) return b;
    if (t.readUpTo(to)) return to;
  }
  return null;
}

describe('MalformedTolerance', () => {
  test('the documented limits', () => {
    assert.equal(MALFORMED_IN_A_ROW_LIMIT, 3);
    assert.equal(MALFORMED_SHARE_LIMIT, 0.1);
    assert.equal(MALFORMED_SHARE_MIN_EVENTS, 20);
  });

  test('three malformed events in a row pass; a fourth in a row fails at once', () => {
    assert.equal(judge(15, [5, 6, 7]), null);
    assert.equal(judge(15, [5, 6, 7, 8]), 8);
    assert.equal(judge(100, [35, 36, 37]), null, '3 of 37 is under 10 %');
    assert.equal(judge(100, [35, 36, 37, 38]), 38);
    // A good event between them starts the run again.
    assert.equal(judge(15, [2, 3, 4, 6, 7, 8]), null);
    // Three in a row among the first twenty are 15 % of them, though: too many.
    assert.equal(judge(100, [5, 6, 7]), 20);
  });

  test('more than 10 % of the events once 20 were read', () => {
    // Two of the first twenty (10 %) is not more than 10 %; a third within them is.
    assert.equal(judge(200, [2, 9]), null);
    assert.equal(judge(200, [2, 9, 15]), 20, 'judged at the twentieth event');
    // Past twenty, each malformed event is judged on the share so far.
    assert.equal(judge(200, [2, 9, 25]), 25, '3 of 25 = 12 %');
    assert.equal(judge(200, [2, 9, 31]), null, '3 of 31 < 10 %');
  });

  test('a short stream is judged on runs only', () => {
    assert.equal(judge(12, [1, 4, 7, 10]), null, '4 of 12, never 4 in a row, under 20 events');
  });

  test('one malformed event every eleven, over a long stream: never too many', () => {
    const bad = Array.from({ length: 90 }, (_, i) => 11 * (i + 1));
    assert.equal(judge(1000, bad), null);
    // One every nine is over 10 %.
    assert.notEqual(judge(1000, [9, 18, 27, 36]), null);
  });

  test('the same verdicts however many events one read brings', () => {
    const cases: Array<[number, number[]]> = [
      [200, [2, 9, 15]],
      [200, [2, 9, 25]],
      [200, [2, 9, 31]],
      [100, [5, 6, 7, 8]],
      [100, [1, 2, 3]],
      [1000, [9, 18, 27, 36]],
    ];
    for (const [total, bad] of cases) {
      const one = judge(total, bad) !== null;
      for (const perRead of [2, 7, 20, 64, 1000])
        assert.equal(judge(total, bad, perRead) !== null, one, `${bad.join(',')} by ${perRead}`);
    }
    // Read at once, the verdict comes at the end of the read that crossed twenty.
    assert.equal(judge(200, [2, 9, 15], 64), 64);
  });
});
