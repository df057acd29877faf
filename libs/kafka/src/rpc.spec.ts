import assert from 'node:assert/strict';
import { test } from 'node:test';
import { BatchingProducer, type BatchSender } from './batching-producer.js';
import type { KafkaClient } from './client.js';
import { RpcClient, RpcFailure } from './rpc.js';

const quiet = { log: () => undefined, warn: () => undefined, error: () => undefined };

test('a call whose send fails rejects at once with a 503, and leaves no unhandled rejection behind', async () => {
  const unhandled: unknown[] = [];
  const onUnhandled = (e: unknown) => unhandled.push(e);
  process.on('unhandledRejection', onUnhandled);
  try {
    const broken: BatchSender = {
      connect: async () => undefined,
      disconnect: async () => undefined,
      sendBatch: () => Promise.reject(new Error('Connection error: connect ECONNREFUSED')),
    };
    const producer = new BatchingProducer({ sender: broken }, quiet, { lingerMs: 0, maxBatch: 10 });
    await producer.connect();
    // The client's consumer is not started: this test is about the send path only.
    const rpc = new RpcClient({} as KafkaClient, producer, quiet, { instance: 'x', partition: 0 });
    const timeoutMs = 50;
    const e = await rpc.call('billing', 'credits.get', {}, timeoutMs).then(
      () => null,
      (err: unknown) => err,
    );
    assert.ok(e instanceof RpcFailure, String(e));
    assert.equal(e.error.status, 503);
    // Past the reply's own timeout: before the fix, its rejection surfaced here, unhandled.
    await new Promise((r) => setTimeout(r, timeoutMs * 4));
    assert.deepEqual(unhandled, []);
  } finally {
    process.off('unhandledRejection', onUnhandled);
  }
});
