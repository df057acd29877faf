import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { lagOf } from './lag.js';

describe('lagOf', () => {
  const offsets = [
    { partition: 1, offset: '40', low: '10' },
    { partition: 0, offset: '100', low: '0' },
    { partition: 2, offset: '7', low: '7' },
  ];

  test('latest minus committed, per partition, in partition order', () => {
    const lag = lagOf(
      't',
      [
        { partition: 0, offset: '90' },
        { partition: 1, offset: '40' },
        { partition: 2, offset: '7' },
      ],
      offsets,
      false,
    );
    assert.deepEqual(lag, [
      { topic: 't', partition: 0, committed: 90, latest: 100, lag: 10 },
      { topic: 't', partition: 1, committed: 40, latest: 40, lag: 0 },
      { topic: 't', partition: 2, committed: 7, latest: 7, lag: 0 },
    ]);
  });

  test('a partition never committed: the whole retained log for a group that reads from the beginning, nothing otherwise', () => {
    const committed = [
      { partition: 0, offset: '-1' },
      { partition: 1, offset: '25' },
    ];
    assert.deepEqual(
      lagOf('t', committed, offsets, true).map((l) => [l.partition, l.lag]),
      [
        [0, 100],
        [1, 15],
        [2, 0],
      ],
    );
    assert.deepEqual(
      lagOf('t', committed, offsets, false).map((l) => [l.partition, l.lag]),
      [[1, 15]],
    );
  });

  test('a committed offset ahead of what the admin read (a race) is no negative lag', () => {
    assert.equal(lagOf('t', [{ partition: 0, offset: '120' }], offsets, false)[0]!.lag, 0);
  });
});
