import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { RecentIds } from './recent-ids.js';

describe('RecentIds', () => {
  test('remembers an id for its time to live, then forgets it', () => {
    const ids = new RecentIds(1000, 10);
    ids.add('a', 0);
    assert.equal(ids.has('a', 999), true);
    assert.equal(ids.has('a', 1001), false);
    assert.equal(ids.has('b', 0), false);
  });

  test('holds at most its maximum: the oldest go first, and are counted', () => {
    const evictions: number[] = [];
    const ids = new RecentIds(60_000, 3, (n) => evictions.push(n));
    for (const [i, id] of ['a', 'b', 'c', 'd', 'e'].entries()) ids.add(id, i);
    assert.equal(ids.size, 3);
    assert.deepEqual(
      ['a', 'b', 'c', 'd', 'e'].map((id) => ids.has(id, 10)),
      [false, false, true, true, true],
    );
    assert.equal(ids.evicted, 2);
    assert.deepEqual(evictions, [1, 1]);
  });

  test('an id added again becomes the newest (not evicted before younger ones)', () => {
    const ids = new RecentIds(60_000, 2);
    ids.add('a', 0);
    ids.add('b', 1);
    ids.add('a', 2);
    ids.add('c', 3);
    assert.equal(ids.has('a', 4), true);
    assert.equal(ids.has('b', 4), false);
  });

  test('prune drops the expired ids and keeps the live ones', () => {
    const ids = new RecentIds(100, 10);
    ids.add('a', 0);
    ids.add('b', 50);
    ids.add('c', 200);
    ids.prune(175);
    assert.equal(ids.size, 1);
    assert.equal(ids.has('c', 175), true);
  });

  test('a flood stays bounded', () => {
    const ids = new RecentIds(60_000, 1000);
    for (let i = 0; i < 100_000; i++) ids.add(`gen-${i}#1`, i);
    assert.equal(ids.size, 1000);
    assert.equal(ids.evicted, 99_000);
    assert.equal(ids.has('gen-99999#1', 100_000), true);
  });
});
