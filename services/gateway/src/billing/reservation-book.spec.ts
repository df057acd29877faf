import { test } from 'node:test';
import assert from 'node:assert/strict';
import { admits, ReservationBook } from './reservation-book.js';

test('admission: a replica may hold its share of the balance, or one request the whole balance covers', () => {
  // one replica: the whole balance
  assert.equal(admits(1_000, 0, 1_000, 1), true);
  assert.equal(admits(1_000, 1, 1_000, 1), false);
  // two replicas: a share of 500 each ...
  assert.equal(admits(1_000, 0, 400, 2), true);
  assert.equal(admits(1_000, 400, 100, 2), true);
  assert.equal(admits(1_000, 400, 101, 2), false);
  // ... but an idle replica admits one request the whole balance covers
  assert.equal(admits(1_000, 0, 900, 2), true);
  assert.equal(admits(1_000, 0, 1_001, 2), false);
  // free requests always pass; an overspent tenant gets nothing that costs
  assert.equal(admits(-5, 0, 0, 2), true);
  assert.equal(admits(-5, 0, 1, 2), false);
  assert.equal(admits(0, 0, 1, 1), false);
});

test('holds: worst case while in flight, the actual charge until it lands, then nothing', () => {
  const book = new ReservationBook(60_000);
  const a = book.hold('t', 'k', 1_000);
  const b = book.hold('t', 'k2', 500);
  assert.equal(book.held('t'), 1_500);
  assert.equal(book.heldByKey('k'), 1_000);
  book.settle(a, 'gen-a', 300, 0);
  assert.equal(book.held('t'), 800);
  assert.equal(book.heldByKey('k'), 300);
  book.settle(b, 'gen-b', 0, 0); // free: released at once
  assert.equal(book.held('t'), 300);
  assert.equal(book.heldByKey('k2'), 0);
  book.landed(['gen-x', 'gen-a']);
  assert.equal(book.held('t'), 0);
  assert.equal(book.pendingLandings, 0);
  // idempotent
  book.landed(['gen-a']);
  book.release(a);
  book.settle(a, 'gen-a', 300);
  assert.equal(book.held('t'), 0);
});

test('holds: a charge that never lands is released after the timeout', () => {
  const book = new ReservationBook(1_000);
  const a = book.hold('t', 'k', 100);
  book.settle(a, 'gen-a', 120, 10_000); // an estimate may exceed the worst case
  assert.equal(book.held('t'), 120);
  assert.equal(book.expire(10_500), 0);
  assert.equal(book.expire(11_000), 1);
  assert.equal(book.held('t'), 0);
  assert.equal(book.stats.expired, 1);
});

test('concurrent admissions against one replica never exceed its share', () => {
  const book = new ReservationBook(60_000);
  const balance = 10_000;
  let admitted = 0;
  for (let i = 0; i < 200; i++) {
    if (admits(balance, book.held('t'), 1_100, 2)) {
      book.hold('t', 'k', 1_100);
      admitted++;
    }
  }
  assert.equal(admitted, 4); // floor(5000 / 1100)
  assert.ok(book.held('t') <= balance / 2);
});
