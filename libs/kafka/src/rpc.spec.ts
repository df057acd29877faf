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

test('a call too large for its topic is a 413 at once, and leaves no unhandled rejection behind', async () => {
  const unhandled: unknown[] = [];
  const onUnhandled = (e: unknown) => unhandled.push(e);
  process.on('unhandledRejection', onUnhandled);
  try {
    const sent: unknown[] = [];
    const sender: BatchSender = {
      connect: async () => undefined,
      disconnect: async () => undefined,
      sendBatch: (b) => {
        sent.push(b);
        return Promise.resolve([]);
      },
    };
    const producer = new BatchingProducer({ sender }, quiet, {
      lingerMs: 0,
      maxBatch: 10,
      defaultMaxMessageBytes: 10_000,
    });
    await producer.connect();
    const rpc = new RpcClient({} as KafkaClient, producer, quiet, { instance: 'x', partition: 0 });
    const timeoutMs = 50;
    const e = await rpc
      .call('router', 'catalog.models.upsert', { description: 'x'.repeat(20_000) }, timeoutMs)
      .then(
        () => null,
        (err: unknown) => err,
      );
    assert.ok(e instanceof RpcFailure, String(e));
    assert.equal(e.error.status, 413);
    assert.equal(e.error.code, 'request_too_large');
    assert.equal(e.error.type, 'invalid_request_error');
    assert.match(e.error.message, /too large to pass to router/);
    assert.equal(sent.length, 0, 'nothing reached the broker');
    await new Promise((r) => setTimeout(r, timeoutMs * 4));
    assert.deepEqual(unhandled, []);
  } finally {
    process.off('unhandledRejection', onUnhandled);
  }
});
