import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { LedgerLagClock } from './ledger-lag.js';

describe('LedgerLagClock', () => {
  test('no lagging partition: 0 seconds behind', () => {
    const c = new LedgerLagClock();
    c.booked(0, 1_000);
    assert.equal(c.secondsBehind([], 60_000), 0);
  });

  test('a batch in hand: since its first event; once booked, since the last booked event of a lagging partition', () => {
    const c = new LedgerLagClock();
    c.booked(0, 5_000);
    c.booked(1, 9_000);
    c.taking(1, 10_000);
    assert.equal(c.secondsBehind([1], 12_500), 2.5);
    // Partition 0 lags too and its next batch is not fetched: bounded by its last booked event.
    assert.equal(c.secondsBehind([0, 1], 12_500), 7.5);
    c.booked(1, 11_000);
    assert.equal(c.secondsBehind([1], 12_500), 1.5);
  });

  test('a batch that failed is no longer in hand; a lagging partition never booked here is unknown', () => {
    const c = new LedgerLagClock();
    c.booked(0, 1_000);
    c.taking(0, 2_000);
    c.dropped(0);
    assert.equal(c.secondsBehind([0], 3_000), 2);
    assert.equal(c.secondsBehind([0, 3], 3_000), null);
  });

  test('never negative (clocks of producer and billing differ)', () => {
    const c = new LedgerLagClock();
    c.taking(0, 5_000);
    assert.equal(c.secondsBehind([0], 4_000), 0);
  });
});
