import assert from 'node:assert/strict';
import { test } from 'node:test';
import { SendTracker } from './send-tracker.js';

const deferred = () => {
  let resolve!: () => void;
  let reject!: (e: unknown) => void;
  const promise = new Promise<void>((a, b) => {
    resolve = a;
    reject = b;
  });
  return { promise, resolve, reject };
};

test('settles once every send is acknowledged', async () => {
  const t = new SendTracker();
  await t.settled();
  const ds = [deferred(), deferred(), deferred()];
  for (const d of ds) t.add(d.promise);
  assert.equal(t.inFlight, 3);
  let done = false;
  const all = t.settled().then(() => (done = true));
  ds[0]!.resolve();
  ds[2]!.resolve();
  await new Promise((r) => setImmediate(r));
  assert.equal(done, false, 'one is still out');
  ds[1]!.resolve();
  await all;
  assert.equal(t.inFlight, 0);
});

test('rejects with the first failure, and a failure never goes unhandled', async () => {
  const t = new SendTracker();
  const a = deferred();
  const b = deferred();
  t.add(a.promise);
  t.add(b.promise);
  b.reject(new Error('first'));
  a.reject(new Error('second'));
  await new Promise((r) => setImmediate(r));
  await assert.rejects(t.settled(), /first/);
});

test('holds no reference to the sends it counts', async () => {
  const t = new SendTracker();
  for (let i = 0; i < 10_000; i++) t.add(Promise.resolve());
  await t.settled();
  assert.deepEqual(
    Object.values(t).filter((v) => Array.isArray(v)),
    [],
    'no array of promises',
  );
});
