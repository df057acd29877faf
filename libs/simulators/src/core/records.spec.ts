import assert from 'node:assert/strict';
import { test } from 'node:test';
import { RecordStore } from './records.js';
import type { SimRequestRecord } from './types.js';

const rec = (id: string, outcome: SimRequestRecord['outcome'] = 'completed'): SimRequestRecord =>
  ({
    id,
    receivedAt: 0,
    model: null,
    stream: false,
    messagesCount: 1,
    headers: {},
    credentialSha256: null,
    body: { big: 'x'.repeat(1000) },
    knobs: {},
    outcome,
    status: 200,
    tokensSent: 0,
    tokenTimes: [],
  }) as unknown as SimRequestRecord;

test('RecordStore keeps at most maxRecords, dropping the oldest ended record first', () => {
  const store = new RecordStore(3);
  store.add(rec('a', 'in_progress'));
  store.add(rec('b'));
  store.add(rec('c'));
  store.add(rec('d'));
  // 'a' is still running: the oldest ENDED one ('b') went.
  assert.deepEqual(
    store.list().map((r) => r.id),
    ['a', 'c', 'd'],
  );
  for (let i = 0; i < 1000; i++) store.add(rec(`n${i}`));
  assert.equal(store.size, 3);
  assert.deepEqual(
    store.list().map((r) => r.id),
    ['a', 'n998', 'n999'],
  );
});

test('RecordStore: when every record is still running the oldest goes', () => {
  const store = new RecordStore(2);
  for (const id of ['a', 'b', 'c']) store.add(rec(id, 'in_progress'));
  assert.deepEqual(
    store.list().map((r) => r.id),
    ['b', 'c'],
  );
});

test('RecordStore refuses a cap that is not a positive integer', () => {
  assert.throws(() => new RecordStore(0), RangeError);
  assert.throws(() => new RecordStore(1.5), RangeError);
});
