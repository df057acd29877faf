import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { LlmAttemptV1, UsageEventV1 } from '@turnpike/contracts';
import { attemptMeasures, RollupBatch, usageDims, usageMeasures, usedFallback } from './facts.js';
import { countOf, quantileOf } from './sketch.js';

const event = (over: Partial<UsageEventV1> = {}): UsageEventV1 => ({
  v: 1,
  generationId: 'gen-1-aaaaaaaaaa',
  createdAt: '2026-12-03T10:15:30.000Z',
  tenantId: 'acme',
  keyId: 'acme-key',
  app: { referer: 'https://app.example', title: 'App' },
  requestedModel: 'a/m',
  model: 'a/m',
  provider: 'p',
  endpointId: 'a/m@p',
  accountId: null,
  stream: true,
  status: 'success',
  finishReason: 'stop',
  nativeFinishReason: 'stop',
  tokens: { prompt: 100, completion: 41, cachedRead: 20, cacheWrite: 5, reasoning: 7 },
  usageReported: true,
  cost: { currency: 'USD', upstreamMicros: 80, chargedMicros: 100 },
  ttftMs: 200.4,
  latencyMs: 1200.6,
  attempts: [],
  error: null,
  requestBytes: 10,
  ...over,
});

test('a generation adds its request, tokens, charge, latency, TTFT and throughput', () => {
  const m = usageMeasures(event());
  assert.equal(m.requests, 1);
  assert.deepEqual(
    [m.promptTokens, m.completionTokens, m.cachedTokens, m.cacheWriteTokens, m.reasoningTokens],
    [100, 41, 20, 5, 7],
  );
  assert.deepEqual([m.upstreamMicros, m.chargedMicros, m.errors, m.fallbacks], [80, 100, 0, 0]);
  // Whole milliseconds; throughput as the router measures it: 40 tokens after the first in 1 s.
  assert.ok(Math.abs(quantileOf(m.latency, 0.5)! - 1201) <= 12.01);
  assert.ok(Math.abs(quantileOf(m.ttft, 0.5)! - 200) <= 2);
  assert.ok(Math.abs(quantileOf(m.throughput, 0.5)! - 40) <= 0.4);
  assert.equal(m.latency['s'], 1201);
});

test('errors are counted by code and never charged; a fallback is counted; unstreamed has no throughput', () => {
  const m = usageMeasures(
    event({
      status: 'error',
      stream: false,
      tokens: { prompt: 10, completion: 0, cachedRead: 0, cacheWrite: 0, reasoning: 0 },
      error: { status: 503, code: 'upstream_overloaded', message: 'x' },
      attempts: [{ role: null } as never, { role: null } as never],
      ttftMs: null,
    }),
  );
  assert.deepEqual([m.errors, m.chargedMicros, m.upstreamMicros, m.fallbacks], [1, 0, 80, 1]);
  assert.deepEqual(m.errorsByCode, { upstream_overloaded: 1 });
  assert.equal(countOf(m.ttft), 0);
  assert.equal(countOf(m.throughput), 0);
  const noCode = usageMeasures(
    event({ status: 'error', error: { status: 502, code: null, message: 'x' } }),
  );
  assert.deepEqual(noCode.errorsByCode, { status_502: 1 });
  // An empty completion is not charged either (billing's rule).
  assert.equal(
    usageMeasures(event({ tokens: { ...event().tokens, completion: 0 } })).chargedMicros,
    0,
  );
});

test('a fallback is a move to another endpoint: a same-endpoint retry is not one', () => {
  const roles = (...r: Array<string | null>) =>
    usedFallback({ attempts: r.map((role) => ({ role }) as never) });
  assert.equal(roles('primary'), false);
  assert.equal(roles('primary', 'retry'), false);
  assert.equal(roles('primary', 'fallback'), true);
  assert.equal(roles('primary', 'retry', 'continuation'), true);
  // Events from before roles: more than one attempt.
  assert.equal(roles(null), false);
  assert.equal(roles(null, null), true);
  const m = usageMeasures(
    event({
      attempts: [{ role: 'primary' } as never, { role: 'retry' } as never],
    }),
  );
  assert.equal(m.fallbacks, 0);
});

test('dimensions: none is empty, the app is the referer else the title, long values are cut', () => {
  const d = usageDims(event({ model: null, provider: null, endpointId: null, finishReason: null }));
  assert.deepEqual(
    [d.model, d.provider, d.endpointId, d.finishReason, d.app],
    ['', '', '', '', 'https://app.example'],
  );
  assert.equal(usageDims(event({ app: { referer: null, title: 'T' } })).app, 'T');
  assert.equal(usageDims(event({ app: { referer: null, title: null } })).app, '');
  assert.equal(
    usageDims(event({ app: { referer: 'x'.repeat(5000), title: null } })).app.length,
    256,
  );
});

test('a batch sums records per bucket: minute and day, or hour for minutes already compacted', () => {
  const batch = new RollupBatch(Date.parse('2026-12-03T10:00:00.000Z'));
  batch.addUsage(event());
  batch.addUsage(
    event({ generationId: 'gen-2-aaaaaaaaaa', createdAt: '2026-12-03T10:15:59.999Z' }),
  );
  batch.addUsage(
    event({ generationId: 'gen-3-aaaaaaaaaa', createdAt: '2026-12-03T09:59:59.000Z' }),
  );
  const rows = batch
    .sortedUsage()
    .map((r) => [r.granularity, new Date(r.bucketStart).toISOString(), r.measures.requests]);
  assert.deepEqual(rows.sort(), [
    ['day', '2026-12-03T00:00:00.000Z', 3],
    ['hour', '2026-12-03T09:00:00.000Z', 1],
    ['minute', '2026-12-03T10:15:00.000Z', 2],
  ]);
  const attempt: LlmAttemptV1 = {
    v: 1,
    generationId: 'gen-1-aaaaaaaaaa',
    attempt: 1,
    endpointId: 'a/m@p',
    provider: 'p',
    upstreamModel: 'm',
    outcome: 'error',
    upstreamStatus: 429,
    errorCode: 'upstream_rate_limited',
    providerCode: null,
    retryAfterSec: 2,
    accountId: null,
    accountFailures: [],
    ttftMs: null,
    latencyMs: 30,
    tokens: { prompt: 0, completion: 0, cachedRead: 0, cacheWrite: 0, reasoning: 0 },
    endedAt: Date.parse('2026-12-03T10:20:00.000Z'),
  };
  assert.deepEqual(attemptMeasures(attempt).errorsByCode, { upstream_rate_limited: 1 });
  batch.addAttempt(attempt);
  assert.deepEqual(
    batch.sortedAttempts().map((r) => r.granularity),
    ['day', 'minute'],
  );
});
