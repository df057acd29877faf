import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { LlmReplyV1 } from '@turnpike/contracts';
import type { BatchingProducer } from './batching-producer.js';
import type { KafkaClient } from './client.js';
import { ReplyInbox } from './reply-inbox.js';

const quiet = { log: () => undefined, warn: () => undefined, error: () => undefined };
const gen = 'gen-1732406400-inboxgap';
const chunk = (seq: number): LlmReplyV1 => ({
  v: 1,
  generationId: gen,
  attempt: 1,
  seq,
  type: 'chunk',
  chunk: { seq },
});

function inbox(gapTimeoutMs: number) {
  // Not started: replies are handed in through `receive`, as the consumer would.
  return new ReplyInbox({} as KafkaClient, {} as BatchingProducer, quiet, {
    instance: 'gw',
    partition: 0,
    gapTimeoutMs,
  });
}

test('replies are handed on in seq order; duplicates and strays are dropped', () => {
  const box = inbox(1000);
  const got: number[] = [];
  const gaps: number[] = [];
  const release = box.register(
    gen,
    1,
    (r) => got.push(r.seq),
    (s) => gaps.push(s),
  );
  for (const s of [0, 2, 1, 1, 3]) box.receive(chunk(s));
  box.receive({ ...chunk(0), attempt: 9 });
  assert.deepEqual(got, [0, 1, 2, 3]);
  assert.deepEqual(box.stats, { delivered: 4, strays: 1, invalid: 0, reordered: 1, gaps: 0 });
  release();
  assert.deepEqual(gaps, []);
});

test('a reply that never comes is reported once, at the gap timeout, and nothing after it is delivered', async () => {
  const box = inbox(150);
  const got: number[] = [];
  const gaps: Array<{ seq: number; at: number }> = [];
  const t0 = performance.now();
  box.register(
    gen,
    1,
    (r) => got.push(r.seq),
    (seq) => gaps.push({ seq, at: performance.now() - t0 }),
  );
  box.receive(chunk(0));
  box.receive(chunk(2)); // 1 is lost
  box.receive(chunk(3));
  await new Promise((r) => setTimeout(r, 60));
  assert.deepEqual(gaps, [], 'not before the timeout');
  await new Promise((r) => setTimeout(r, 400));
  const reported = gaps as Array<{ seq: number; at: number }>;
  assert.equal(reported.length, 1);
  assert.equal(reported[0]!.seq, 1);
  assert.ok(reported[0]!.at >= 140, `reported after ${reported[0]!.at} ms`);
  box.receive(chunk(1)); // too late
  box.receive(chunk(4));
  assert.deepEqual(got, [0]);
  // The final reply still comes through: what the attempt consumed is billed.
  box.receive({
    v: 1,
    generationId: gen,
    attempt: 1,
    seq: 5,
    type: 'error',
    error: {
      status: 502,
      message: 'x',
      type: 'upstream_error',
      code: null,
      param: null,
      retryable: true,
      upstreamStatus: null,
      retryAfterSec: null,
    },
    chunksSent: 4,
    tokens: { prompt: 1, completion: 4, reasoning: 0, cachedRead: 0, cacheWrite: 0 },
    timing: { connectorQueueMs: 0, upstreamTtftMs: null, upstreamMs: 1, connectorMs: 1 },
    accountId: null,
  });
  assert.deepEqual(got, [0, 5]);
  assert.equal(box.stats.gaps, 1);
});

test('a gap that closes in time stops its clock', async () => {
  const box = inbox(100);
  const got: number[] = [];
  const gaps: number[] = [];
  box.register(
    gen,
    1,
    (r) => got.push(r.seq),
    (s) => gaps.push(s),
  );
  box.receive(chunk(1));
  box.receive(chunk(0));
  box.receive(chunk(3));
  box.receive(chunk(2));
  await new Promise((r) => setTimeout(r, 250));
  assert.deepEqual(got, [0, 1, 2, 3]);
  assert.deepEqual(gaps, []);
});

test('an unregistered attempt hears of no gap', async () => {
  const box = inbox(50);
  const gaps: number[] = [];
  const release = box.register(
    gen,
    1,
    () => undefined,
    (s) => gaps.push(s),
  );
  box.receive(chunk(1));
  release();
  await new Promise((r) => setTimeout(r, 150));
  assert.deepEqual(gaps, []);
});
