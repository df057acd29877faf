import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  zeroTokens,
  type CatalogEndpoint,
  type CatalogModel,
  type LlmReplyV1,
} from '@turnpike/contracts';
import {
  TransportRefusal,
  type AttemptLink,
  type AttemptListener,
  type AttemptRequest,
  type CancelReason,
  type GenerationTransport,
} from '@turnpike/generation';
import { parseChatCompletionRequest } from '@turnpike/openai-api';
import { tracer } from '@turnpike/telemetry';
import type { ChargesService } from '../billing/charges.service.js';
import type { GatewayConfig } from '../gateway.config.js';
import { AttemptRunner, REPLY_LOST_CODE, type AttemptPlan } from './attempt-runner.service.js';
import { Generation } from './generation.js';
import type { RoutePlanner } from './route-planner.service.js';

/** A transport the test drives: it holds each attempt's listener and records cancels. */
class ScriptedTransport implements GenerationTransport {
  readonly mode = 'inprocess' as const;
  listener: AttemptListener | null = null;
  request: AttemptRequest | null = null;
  cancels: CancelReason[] = [];
  released = 0;
  refuse: TransportRefusal | null = null;

  unavailable(): string | null {
    return null;
  }

  start(request: AttemptRequest, listener: AttemptListener): Promise<AttemptLink> {
    if (this.refuse) return Promise.reject(this.refuse);
    this.request = request;
    this.listener = listener;
    return Promise.resolve({
      cancel: async (reason) => void this.cancels.push(reason),
      release: () => void this.released++,
    });
  }

  send(seq: number, r: Record<string, unknown>): void {
    this.listener!.reply({
      v: 1,
      generationId: this.request!.generationId,
      attempt: this.request!.attempt,
      seq,
      ...r,
    } as LlmReplyV1);
  }
}

const timing = { connectorQueueMs: 0, upstreamTtftMs: 5, upstreamMs: 9, connectorMs: 9 };
const tokens = { ...zeroTokens(), prompt: 7, completion: 3 };

function setup() {
  const transport = new ScriptedTransport();
  const runner = new AttemptRunner(
    { requestTimeoutMs: 10_000 } as GatewayConfig,
    { observeFailure: () => undefined } as unknown as RoutePlanner,
    transport,
    { attemptCost: () => 0 } as unknown as ChargesService,
  );
  const parsed = parseChatCompletionRequest({
    model: 't/m',
    messages: [{ role: 'user', content: 'hi' }],
    stream: true,
  });
  assert.ok(parsed.ok);
  const gen = new Generation(
    'gen-1732406400-attemptrun',
    { tenantId: 't', keyId: 'k' },
    parsed.value,
    tracer().startSpan('test'),
    { firstTokenTimeoutMs: 5_000, stallTimeoutMs: 5_000, requestedStallMs: null },
  );
  const chunks: Array<Record<string, unknown>> = [];
  const plan: AttemptPlan = {
    candidate: {
      model: { id: 't/m' } as CatalogModel,
      endpoint: {
        id: 't/m@p',
        provider: 'p',
        upstreamModel: 'm',
        pricing: {},
        maxOutputTokens: null,
      } as unknown as CatalogEndpoint,
    },
    role: 'primary',
    body: parsed.value as unknown as Record<string, unknown>,
    limitFirstOutput: false,
    onChunk: (c) => chunks.push(c),
    estimate: () => ({ ...zeroTokens(), prompt: 1 }),
  };
  return { transport, runner, gen, plan, chunks };
}

const tick = () => new Promise((r) => setImmediate(r));

describe('AttemptRunner over a generation transport', () => {
  test('coalesced chunks reach the answer one by one, in order; the end completes the attempt', async () => {
    const { transport, runner, gen, plan, chunks } = setup();
    const outcome = runner.run(gen, plan, new AbortController().signal);
    await tick();
    transport.send(0, { type: 'chunk', chunk: { n: 0 } });
    transport.send(1, { type: 'chunks', chunks: [{ n: 1 }, { n: 2 }, { n: 3 }] });
    transport.send(2, { type: 'alive' });
    transport.send(3, {
      type: 'end',
      tokens,
      usageReported: true,
      finishReason: 'stop',
      nativeFinishReason: 'stop',
      timing,
      accountId: 'acct_1',
    });
    const o = await outcome;
    assert.equal(o.kind, 'done');
    assert.deepEqual(
      chunks.map((c) => c['n']),
      [0, 1, 2, 3],
    );
    assert.ok(o.kind === 'done');
    assert.deepEqual(o.entry.tokens, tokens);
    assert.equal(o.entry.accountId, 'acct_1');
    assert.equal(transport.released, 1);
    assert.deepEqual(transport.cancels, []);
  });

  test('a lost reply ends the attempt at once: cancelled upstream, retryable, its final count still booked', async () => {
    const { transport, runner, gen, plan, chunks } = setup();
    const outcome = runner.run(gen, plan, new AbortController().signal);
    await tick();
    transport.send(0, { type: 'chunk', chunk: { n: 0 } });
    transport.send(1, { type: 'chunks', chunks: [{ n: 1 }] });
    const t0 = Date.now();
    transport.listener!.lost('reply 2 of the attempt never arrived');
    const o = await outcome;
    assert.ok(Date.now() - t0 < 1_000, 'not held until a timeout');
    assert.ok(o.kind === 'failed', o.kind);
    assert.equal(o.error.code, REPLY_LOST_CODE);
    assert.equal(o.error.status, 502);
    assert.equal(o.retryable, true);
    assert.equal(o.cause, 'transport');
    assert.equal(o.chunksSent, 2);
    assert.equal(chunks.length, 2);
    assert.deepEqual(transport.cancels, ['timeout']);
    assert.equal(o.entry.errorCode, REPLY_LOST_CODE);
    // The executor's final reply (what the attempt consumed) still arrives and is booked.
    assert.equal(gen.pending.length, 1);
    transport.send(4, {
      type: 'error',
      error: {
        status: 499,
        message: 'cancelled',
        type: 'upstream_error',
        code: null,
        param: null,
        retryable: false,
        upstreamStatus: null,
        retryAfterSec: null,
      },
      chunksSent: 3,
      tokens,
      timing,
      accountId: 'acct_2',
    });
    await Promise.all(gen.pending);
    assert.deepEqual(o.entry.tokens, tokens);
    assert.equal(o.entry.accountId, 'acct_2');
    assert.equal(transport.released, 1);
  });

  test('an attempt the transport refuses is a 413 (too large) or a 503 (unavailable), nothing sent', async () => {
    for (const [refusal, status] of [
      [new TransportRefusal('too_large', 'too large', 8_000_000), 413],
      [new TransportRefusal('unavailable', 'broker down'), 503],
    ] as const) {
      const { transport, runner, gen, plan } = setup();
      transport.refuse = refusal;
      const o = await runner.run(gen, plan, new AbortController().signal);
      assert.ok(o.kind === 'refused', o.kind);
      assert.equal(o.error.status, status);
      assert.equal(gen.attempts.length, 1);
      assert.equal(gen.pending.length, 0);
    }
  });
});
