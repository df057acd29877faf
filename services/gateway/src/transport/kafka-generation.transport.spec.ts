import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { LlmRequestMessageV1, TOPICS, type LlmReplyV1, type ReplyEndV1 } from '@turnpike/contracts';
import {
  ATTEMPT_SILENCE_LIMIT_MS,
  TransportRefusal,
  type AttemptRequest,
} from '@turnpike/generation';
import {
  MessageTooLargeError,
  ReplyInbox,
  type BatchingProducer,
  type KafkaClient,
  type OutgoingMessage,
} from '@turnpike/kafka';
import type { ProducerService } from '@turnpike/service-kit';
import type { ReplyInboxService } from './reply-inbox.service.js';
import { KafkaGenerationTransport } from './kafka-generation.transport.js';

const quiet = { log: () => undefined, warn: () => undefined, error: () => undefined };
const gen = 'gen-1732406400-transport';

const request: AttemptRequest = {
  v: 1,
  kind: 'generate',
  generationId: gen,
  attempt: 1,
  tenantId: 't',
  keyId: 'k',
  deadlineAt: Date.now() + 60_000,
  createdAt: Date.now(),
  endpoint: {
    id: 'm/x@p',
    provider: 'p',
    upstreamModel: 'x',
    pricing: {
      promptPerM: 0,
      completionPerM: 0,
      cachedReadPerM: 0,
      cacheWritePerM: 0,
      reasoningPerM: 0,
      perRequest: 0,
    },
    maxOutputTokens: null,
  },
  stream: true,
  body: { model: 'm/x', messages: [{ role: 'user', content: 'hi' }], stream: true },
};

const reply = (seq: number, r: Record<string, unknown>): LlmReplyV1 =>
  ({ v: 1, generationId: gen, attempt: 1, seq, ...r }) as LlmReplyV1;
const end = (seq: number): LlmReplyV1 =>
  reply(seq, {
    type: 'end',
    tokens: { prompt: 1, completion: 1, reasoning: 0, cachedRead: 0, cacheWrite: 0 },
    usageReported: true,
    finishReason: 'stop',
    nativeFinishReason: 'stop',
    timing: { connectorQueueMs: 0, upstreamTtftMs: 1, upstreamMs: 1, connectorMs: 1 },
    accountId: null,
  } satisfies Partial<ReplyEndV1>);

function setup(send: (topic: string, m: OutgoingMessage) => Promise<void> = async () => undefined) {
  const sent: Array<{ topic: string; value: unknown; partition?: number }> = [];
  const producer = {
    send: async (topic: string, m: OutgoingMessage) => {
      await send(topic, m);
      sent.push({
        topic,
        value: m.value === null ? null : JSON.parse(m.value.toString()),
        ...(m.partition !== undefined ? { partition: m.partition } : {}),
      });
    },
  } as unknown as ProducerService;
  // A real inbox, not started: replies are handed in as its consumer would.
  const inbox = new ReplyInbox({} as KafkaClient, {} as BatchingProducer, quiet, {
    instance: 'gw-1',
    partition: 7,
    gapTimeoutMs: 80,
  });
  (inbox as unknown as { unavailable: () => null }).unavailable = () => null;
  const transport = new KafkaGenerationTransport(inbox as unknown as ReplyInboxService, producer);
  transport.onApplicationShutdown(); // the tests drive the silence check themselves
  const got: LlmReplyV1[] = [];
  const lost: string[] = [];
  const listener = { reply: (r: LlmReplyV1) => got.push(r), lost: (w: string) => lost.push(w) };
  return { inbox, transport, sent, got, lost, listener };
}

describe('KafkaGenerationTransport', () => {
  test('an attempt is a request message that names this inbox; its replies come back in order, keep-alives not passed on', async () => {
    const t = setup();
    const link = await t.transport.start(request, t.listener, {});
    assert.equal(t.sent.length, 1);
    assert.equal(t.sent[0]!.topic, TOPICS.llmRequests);
    const msg = LlmRequestMessageV1.parse(t.sent[0]!.value);
    assert.ok(msg.kind === 'generate');
    assert.deepEqual(msg.replyTo, { topic: TOPICS.llmReplies, partition: 7, instance: 'gw-1' });
    t.inbox.receive(reply(1, { type: 'alive' }));
    t.inbox.receive(reply(0, { type: 'chunk', chunk: { a: 1 } }));
    t.inbox.receive(reply(2, { type: 'chunks', chunks: [{ a: 2 }, { a: 3 }] }));
    t.inbox.receive(end(3));
    assert.deepEqual(
      t.got.map((r) => r.type),
      ['chunk', 'chunks', 'end'],
    );
    await link.cancel('client_disconnected');
    assert.equal(t.sent[1]!.topic, TOPICS.llmCancels);
    const cancel = LlmRequestMessageV1.parse(t.sent[1]!.value);
    assert.deepEqual(cancel, {
      v: 1,
      kind: 'cancel',
      generationId: gen,
      attempt: 1,
      reason: 'client_disconnected',
    });
    link.release();
    assert.equal(t.inbox.pending, 0);
  });

  test('an attempt heard nothing from past the silence limit is reported lost, once; keep-alives hold it off', async () => {
    const t = setup();
    await t.transport.start(request, t.listener, {});
    const start = Date.now();
    t.transport.checkSilence(start + ATTEMPT_SILENCE_LIMIT_MS - 1000);
    assert.deepEqual(t.lost, []);
    t.inbox.receive(reply(0, { type: 'alive' }));
    t.transport.checkSilence(Date.now() + ATTEMPT_SILENCE_LIMIT_MS - 1000);
    assert.deepEqual(t.lost, [], 'a keep-alive restarts the clock');
    t.transport.checkSilence(Date.now() + ATTEMPT_SILENCE_LIMIT_MS + 1000);
    assert.equal(t.lost.length, 1);
    assert.match(t.lost[0]!, /nothing heard from the attempt/);
    t.transport.checkSilence(Date.now() + 10 * ATTEMPT_SILENCE_LIMIT_MS);
    assert.equal(t.lost.length, 1, 'reported once');
  });

  test('after its final reply an attempt may be silent; a released one is forgotten', async () => {
    const t = setup();
    const a = await t.transport.start(request, t.listener, {});
    t.inbox.receive(end(0));
    const b = await t.transport.start({ ...request, attempt: 2 }, t.listener, {});
    b.release();
    t.transport.checkSilence(Date.now() + 2 * ATTEMPT_SILENCE_LIMIT_MS);
    assert.deepEqual(t.lost, []);
    a.release();
  });

  test('a gap in the replies is reported at the gap timeout', async () => {
    const t = setup();
    await t.transport.start(request, t.listener, {});
    t.inbox.receive(reply(0, { type: 'chunk', chunk: {} }));
    t.inbox.receive(reply(2, { type: 'chunk', chunk: {} }));
    await new Promise((r) => setTimeout(r, 200));
    assert.deepEqual(t.lost, ['reply 1 of the attempt never arrived']);
    assert.equal(t.got.length, 1);
  });

  test('a request that cannot be sent is refused, and leaves nothing registered', async () => {
    const big = setup(async () => {
      throw new MessageTooLargeError(TOPICS.llmRequests, 9_000_000, 8_000_000);
    });
    const e = await big.transport.start(request, big.listener, {}).catch((x: unknown) => x);
    assert.ok(e instanceof TransportRefusal && e.reason === 'too_large', String(e));
    assert.equal(big.inbox.pending, 0);
    const down = setup(async () => {
      throw new Error('Connection error: connect ECONNREFUSED');
    });
    const e2 = await down.transport.start(request, down.listener, {}).catch((x: unknown) => x);
    assert.ok(e2 instanceof TransportRefusal && e2.reason === 'unavailable', String(e2));
    assert.equal(down.inbox.pending, 0);
    down.transport.checkSilence(Date.now() + 2 * ATTEMPT_SILENCE_LIMIT_MS);
    assert.deepEqual(down.lost, [], 'a refused attempt is not watched');
  });
});
