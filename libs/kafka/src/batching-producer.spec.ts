import assert from 'node:assert/strict';
import { test } from 'node:test';
import { MultipleErrors, ProtocolError } from '@platformatic/kafka';
import type { TopicMessages } from './producer-sender.js';
import {
  BatchingProducer,
  BrokerUnavailableError,
  MessageTooLargeError,
  ProduceDeadlineError,
  type BatchSender,
  type BatchingProducerOptions,
  type ProducerLane,
} from './batching-producer.js';
import type { KafkaClient } from './client.js';
import type { OutgoingMessage } from './codec.js';

const quiet = { log: () => undefined, warn: () => undefined, error: () => undefined };

interface Call {
  messages: Array<{ topic: string; key: string | null; value: string }>;
  resolve: () => void;
  reject: (e: unknown) => void;
}

/**
 * A stand-in for the client's producer (the unit under test is the batching logic, not
 * Kafka): records each sendBatch and lets the test acknowledge or fail it.
 */
class FakeSender implements BatchSender {
  calls: Call[] = [];
  /** When set, sendBatch answers by itself. */
  auto: ((c: Call) => void) | null = null;
  async connect(): Promise<void> {}
  async disconnect(): Promise<void> {}
  sendBatch(batch: { topicMessages: TopicMessages[] }): Promise<unknown> {
    return new Promise<void>((resolve, reject) => {
      const call: Call = {
        messages: batch.topicMessages.flatMap((t) =>
          t.messages.map((m) => ({
            topic: t.topic,
            key: (m.key as string | null) ?? null,
            value: (m.value as Buffer).toString(),
          })),
        ),
        resolve,
        reject,
      };
      this.calls.push(call);
      this.auto?.(call);
    });
  }
}

const msg = (key: string | null, value: string, partition?: number): OutgoingMessage => ({
  key,
  value: Buffer.from(value),
  headers: {},
  ...(partition === undefined ? {} : { partition }),
});

async function producer(
  opts: Partial<BatchingProducerOptions> = {},
): Promise<{ p: BatchingProducer; fake: FakeSender }> {
  const fake = new FakeSender();
  const p = new BatchingProducer({ sender: fake }, quiet, { lingerMs: 1, maxBatch: 500, ...opts });
  await p.connect();
  return { p, fake };
}

const tick = (ms = 5) => new Promise((r) => setTimeout(r, ms));
const settled = <T>(p: Promise<T>) =>
  p.then(
    () => 'ok' as const,
    (e: unknown) => e as Error,
  );

test('messages handed in within the linger window go out as one batch', async () => {
  const { p, fake } = await producer();
  fake.auto = (c) => c.resolve();
  await Promise.all([
    p.send('t', msg('a', '1')),
    p.send('t', msg('b', '2')),
    p.send('u', msg('c', '3')),
  ]);
  assert.equal(fake.calls.length, 1);
  assert.deepEqual(
    fake.calls[0]!.messages.map((m) => m.value),
    ['1', '2', '3'],
  );
});

test('batches are capped by bytes: no batch exceeds maxBatchBytes, order is kept', async () => {
  const { p, fake } = await producer({ maxBatchBytes: 1000 });
  fake.auto = (c) => c.resolve();
  const sends = Array.from({ length: 10 }, (_, i) =>
    p.send('t', msg('k', `${i}`.padEnd(300, 'x'))),
  );
  await Promise.all(sends);
  assert.ok(fake.calls.length >= 4, `${fake.calls.length} batches`);
  for (const c of fake.calls) {
    const bytes = c.messages.reduce((n, m) => n + m.value.length + 33, 0);
    assert.ok(bytes <= 1000, `a batch of ${bytes} bytes`);
  }
  assert.deepEqual(
    fake.calls.flatMap((c) => c.messages.map((m) => m.value.slice(0, 1))),
    ['0', '1', '2', '3', '4', '5', '6', '7', '8', '9'],
  );
});

test('a message over its topic limit fails alone, at once; the others go through', async () => {
  const { p, fake } = await producer({
    maxMessageBytes: { big: 10_000 },
    defaultMaxMessageBytes: 1000,
  });
  fake.auto = (c) => c.resolve();
  const small = p.send('t', msg('a', 'small'));
  const tooBig = settled(p.send('t', msg('b', 'x'.repeat(2000))));
  const fitsBigTopic = p.send('big', msg('c', 'x'.repeat(2000)));
  const e = await tooBig;
  assert.ok(e instanceof MessageTooLargeError, String(e));
  assert.match(e.message, /exceeds t's limit of 1000 bytes/);
  await Promise.all([small, fitsBigTopic]);
  assert.deepEqual(
    fake.calls.flatMap((c) => c.messages.map((m) => m.key)),
    ['a', 'c'],
  );
});

test('a batch refused for its size is sent again one by one: only the culprit fails', async () => {
  const { p, fake } = await producer();
  fake.auto = (c) => {
    if (c.messages.some((m) => m.value === 'poison')) {
      // As the client reports it: the broker's error inside the send's aggregate.
      c.reject(
        new MultipleErrors('Producing messages failed.', [new ProtocolError('MESSAGE_TOO_LARGE')]),
      );
    } else c.resolve();
  };
  const results = await Promise.all(
    ['a', 'b', 'poison', 'c'].map((v, i) => settled(p.send('t', msg(`k${i}`, v)))),
  );
  assert.deepEqual(results.slice(0, 2), ['ok', 'ok']);
  assert.ok(results[2] instanceof MessageTooLargeError);
  assert.equal(results[3], 'ok');
});

test('after a transient failure the batch is retried; nothing is lost, order per key holds', async () => {
  const { p, fake } = await producer();
  let fail = 2;
  fake.auto = (c) => {
    if (fail-- > 0) c.reject(new Error('Connection error: connect ECONNREFUSED'));
    else c.resolve();
  };
  const sends = ['1', '2', '3'].map((v) => p.send('t', msg('same', v)));
  await tick(20);
  assert.notEqual(p.unavailableSince, null, 'the failure is visible while it lasts');
  await Promise.all(sends);
  assert.equal(p.unavailableSince, null);
  const delivered = fake.calls.at(-1)!.messages.map((m) => m.value);
  assert.deepEqual(delivered, ['1', '2', '3']);
});

test('fail-fast sends are refused at once while the broker is unreachable', async () => {
  const { p, fake } = await producer();
  fake.auto = (c) => c.reject(new Error('Connection error: connect ECONNREFUSED'));
  const first = await settled(p.send('t', msg('a', '1'), { failFast: true }));
  assert.ok(first instanceof BrokerUnavailableError, String(first));
  const calls = fake.calls.length;
  const t0 = Date.now();
  const second = await settled(p.send('t', msg('b', '2'), { failFast: true }));
  assert.ok(second instanceof BrokerUnavailableError);
  assert.ok(Date.now() - t0 < 50, 'refused without waiting');
  assert.equal(fake.calls.length, calls, 'nothing was sent for it');
});

test('a message whose retry budget is spent fails; later ones still go through', async () => {
  const { p, fake } = await producer();
  let down = true;
  fake.auto = (c) => (down ? c.reject(new Error('ECONNREFUSED')) : c.resolve());
  const early = settled(p.send('t', msg('a', '1'), { retryMs: 50 }));
  const e = await early;
  assert.ok(e instanceof BrokerUnavailableError, String(e));
  down = false;
  await p.send('t', msg('b', '2'));
});

test('several batches in flight, but never two of one key: per-key order survives', async () => {
  const { p, fake } = await producer({ maxInFlight: 3, lingerMs: 0 });
  const a1 = p.send('t', msg('a', 'a1'));
  await tick();
  // a1's batch is in flight, unacknowledged. b1 may overtake it; a2 must wait for it.
  const a2 = p.send('t', msg('a', 'a2'));
  const b1 = p.send('t', msg('b', 'b1'));
  await tick();
  assert.equal(fake.calls.length, 2);
  assert.deepEqual(
    fake.calls[1]!.messages.map((m) => m.value),
    ['b1'],
  );
  fake.calls[1]!.resolve();
  await b1;
  fake.calls[0]!.resolve();
  await a1;
  await tick();
  assert.equal(fake.calls.length, 3);
  assert.deepEqual(
    fake.calls[2]!.messages.map((m) => m.value),
    ['a2'],
  );
  fake.calls[2]!.resolve();
  await a2;
});

test('keyless messages keep their order per explicit partition', async () => {
  const { p, fake } = await producer({ maxInFlight: 3, lingerMs: 0 });
  const first = p.send('t', msg(null, 'p0-1', 0));
  await tick();
  const second = p.send('t', msg(null, 'p0-2', 0));
  const other = p.send('t', msg(null, 'p1-1', 1));
  await tick();
  assert.deepEqual(
    fake.calls.map((c) => c.messages.map((m) => m.value)),
    [['p0-1'], ['p1-1']],
  );
  fake.auto = (c) => c.resolve();
  for (const c of fake.calls) c.resolve();
  await Promise.all([first, second, other]);
  assert.deepEqual(
    fake.calls.at(-1)!.messages.map((m) => m.value),
    ['p0-2'],
  );
});

test('the buffer is bounded: beyond maxQueuedBytes sends are refused', async () => {
  const { p } = await producer({ maxQueuedBytes: 1000 });
  const held = p.send('t', msg('a', 'x'.repeat(900)));
  const refused = await settled(p.send('t', msg('b', 'x'.repeat(200))));
  assert.ok(refused instanceof BrokerUnavailableError);
  void held.catch(() => undefined);
  await p.flush(10);
});

test('on an unordered topic (replies carry seq), a key does not wait for its batch in flight', async () => {
  const { p, fake } = await producer({ maxInFlight: 3, lingerMs: 0, unorderedTopics: ['r'] });
  const first = p.send('r', msg('gen', 'tok1', 0));
  await tick();
  const second = p.send('r', msg('gen', 'tok2', 0));
  await tick();
  assert.deepEqual(
    fake.calls.map((c) => c.messages.map((m) => m.value)),
    [['tok1'], ['tok2']],
    'the second token left before the first was acknowledged',
  );
  for (const c of fake.calls) c.resolve();
  await Promise.all([first, second]);
});

async function laned(
  opts: Partial<BatchingProducerOptions> = {},
): Promise<{ p: BatchingProducer; hot: FakeSender; bulk: FakeSender }> {
  const fakes: Record<ProducerLane, FakeSender> = { hot: new FakeSender(), bulk: new FakeSender() };
  const p = new BatchingProducer({ sender: (lane) => fakes[lane] }, quiet, {
    lingerMs: 1,
    maxBatch: 500,
    hotTopics: ['req'],
    ...opts,
  });
  await p.connect();
  return { p, ...fakes };
}

test('hot topics take a lane of their own: no linger, and never behind a bulk batch in flight', async () => {
  const { p, hot, bulk } = await laned({ lingerMs: 200, maxInFlight: 1 });
  assert.equal(p.laneOf('req'), 'hot');
  assert.equal(p.laneOf('usage'), 'bulk');
  // A bulk batch in flight, unacknowledged, and more bulk lingering behind it.
  const u1 = p.send('usage', msg('u', 'u1'), {});
  for (let i = 0; i < 500; i++) void p.send('usage', msg(`k${i}`, `u${i}`)).catch(() => undefined);
  await tick(1);
  assert.equal(bulk.calls.length, 1, 'the full bulk batch left at once');
  const t0 = Date.now();
  const r = p.send('req', msg('g', 'request'));
  await new Promise((resolve) => setImmediate(resolve));
  await new Promise((resolve) => setImmediate(resolve));
  assert.equal(hot.calls.length, 1, 'the hot message left within the next event-loop turns');
  assert.deepEqual(
    hot.calls[0]!.messages.map((m) => m.value),
    ['request'],
  );
  hot.calls[0]!.resolve();
  await r;
  // The bulk batch in flight is never acknowledged before this point: the hot one did not wait.
  assert.ok(Date.now() - t0 < 1000, `acknowledged after ${Date.now() - t0} ms`);
  assert.equal(bulk.calls.length, 1, 'the bulk lane still waits for its batch in flight');
  bulk.auto = (c) => c.resolve();
  bulk.calls[0]!.resolve();
  await u1;
  await p.flush(1000);
});

test('a send with a deadline fails at it, queued or in flight, instead of hanging', async () => {
  const { p, hot } = await laned({ hot: { maxInFlight: 1 } });
  const t0 = Date.now();
  // First one in flight (never acknowledged), second queued behind it (same key).
  const inFlight = settled(p.send('req', msg('g', '1'), { deadlineAt: t0 + 60 }));
  while (hot.calls.length === 0) await tick(1);
  const queued = settled(p.send('req', msg('g', '2'), { deadlineAt: t0 + 120 }));
  const noDeadline = settled(p.send('req', msg('h', '3')));
  const a = await inFlight;
  const ta = Date.now() - t0;
  assert.ok(a instanceof ProduceDeadlineError, String(a));
  assert.ok(
    a instanceof BrokerUnavailableError,
    'callers that handle an unreachable broker handle it',
  );
  assert.match(a.message, /in flight/);
  assert.ok(ta >= 55 && ta < 1000, `failed after ${ta} ms`);
  const b = await queued;
  const tb = Date.now() - t0;
  assert.ok(b instanceof ProduceDeadlineError, String(b));
  assert.match(b.message, /queued/);
  assert.ok(tb >= 115 && tb < 1000, `failed after ${tb} ms`);
  assert.equal(hot.calls.length, 1, 'the expired queued message was never sent');
  assert.equal(p.stats.expired, 2);
  // Its bytes stay counted while its batch is out, and come back when the batch returns.
  assert.ok(p.queuedBytes.hot > 0);
  hot.auto = (c) => c.resolve();
  hot.calls[0]!.resolve();
  assert.equal(await noDeadline, 'ok');
  assert.equal(p.queuedBytes.hot, 0);
  const late = await settled(p.send('req', msg('g', '4'), { deadlineAt: Date.now() - 1 }));
  assert.ok(late instanceof ProduceDeadlineError, 'a deadline already past fails at once');
});

test('a full lane: a send with a deadline waits for room until then, one without is refused', async () => {
  const { p, hot } = await laned({ hot: { maxQueuedBytes: 1000, maxInFlight: 1 } });
  const first = p.send('req', msg('a', 'x'.repeat(800)));
  const refused = await settled(p.send('req', msg('b', 'x'.repeat(300))));
  assert.ok(refused instanceof BrokerUnavailableError, String(refused));
  assert.ok(!(refused instanceof ProduceDeadlineError));
  const t0 = Date.now();
  const waits = settled(p.send('req', msg('c', 'x'.repeat(300)), { deadlineAt: t0 + 5000 }));
  const givesUp = settled(p.send('req', msg('d', 'x'.repeat(300)), { deadlineAt: t0 + 50 }));
  const g = await givesUp;
  assert.ok(g instanceof ProduceDeadlineError, String(g));
  assert.match(g.message, /waiting for room/);
  await tick(5);
  assert.equal(hot.calls.length, 1, 'nothing else was admitted while the lane was full');
  hot.auto = (c) => c.resolve();
  hot.calls[0]!.resolve();
  await first;
  assert.equal(await waits, 'ok', 'admitted once the first was acknowledged');
  assert.ok(Date.now() - t0 < 1000);
  assert.deepEqual(
    hot.calls.map((c) => c.messages.map((m) => m.key)),
    [['a'], ['c']],
  );
  assert.equal(p.stats.waitedForRoom, 2);
  // The bulk lane has its own bound: the full hot lane did not refuse it.
  p.send('usage', msg('u', 'x'.repeat(900))).catch(() => undefined);
  assert.ok(p.queuedBytes.bulk > 0);
  await p.flush(10);
});

test('idempotent producers, as many per lane as batches in flight, one batch each', async () => {
  const made: Array<{ cfg: Record<string, unknown>; sender: FakeSender }> = [];
  const client = {} as KafkaClient;
  const makeSender = (cfg: Record<string, unknown>) => {
    const sender = new FakeSender();
    made.push({ cfg, sender });
    return sender;
  };
  const p = new BatchingProducer(client, quiet, {
    lingerMs: 0,
    maxBatch: 500,
    maxInFlight: 2,
    hotTopics: ['req'],
    hot: { maxInFlight: 3 },
    makeSender,
  });
  await p.connect();
  assert.equal(made.length, 5, '3 hot + 2 bulk producers');
  for (const m of made) {
    assert.equal(m.cfg['idempotent'], true);
    assert.equal(m.cfg['maxInFlight'], 1);
  }
  // Keys one after the other: three batches in flight, each on its own producer; the fourth
  // waits for a free one.
  const calls = () => made.reduce((n, m) => n + m.sender.calls.length, 0);
  const sends: Promise<void>[] = [];
  for (const k of ['a', 'b', 'c']) {
    const before = calls();
    sends.push(p.send('req', msg(k, k)));
    while (calls() === before) await tick(1);
  }
  sends.push(p.send('req', msg('d', 'd')));
  await tick(30);
  assert.equal(calls(), 3, 'the fourth batch waits: no hot producer is free');
  const busy = made.filter((m) => m.sender.calls.length > 0);
  assert.equal(busy.length, 3, 'three hot producers carry one batch each');
  assert.ok(busy.every((m) => m.sender.calls.length === 1));
  for (const m of made) m.sender.auto = (c) => c.resolve();
  for (const m of busy) m.sender.calls[0]!.resolve();
  await Promise.all(sends);
  const keys = made.flatMap((m) => m.sender.calls.flatMap((c) => c.messages.map((x) => x.key)));
  assert.deepEqual([...keys].sort(), ['a', 'b', 'c', 'd']);
  const plain = new BatchingProducer(client, quiet, {
    lingerMs: 0,
    maxBatch: 500,
    maxInFlight: 4,
    idempotent: false,
    makeSender,
  });
  assert.equal(made.length, 6, 'not idempotent: one producer for the only lane');
  assert.equal(made[5]!.cfg['maxInFlight'], 4);
  assert.equal(made[5]!.cfg['idempotent'], false);
  assert.equal(plain.laneOf('req'), 'bulk');
});
