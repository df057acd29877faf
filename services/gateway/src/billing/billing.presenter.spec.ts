/**
 * The billing routes' bodies against @openrouter/sdk 1.3.19's own response schemas (what
 * `apiKeys.getCurrentKeyMetadata`, `credits.getCredits`, `generations.getGeneration` and
 * `analytics.getUserActivity` validate), with the real figures carried through.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  ActivityResponse$inboundSchema,
  GenerationResponse$inboundSchema,
} from '@openrouter/sdk/models';
import {
  GetCreditsResponse$inboundSchema,
  GetCurrentKeyResponse$inboundSchema,
} from '@openrouter/sdk/models/operations';
import type { GenerationRecord, KeyUsage } from '@turnpike/contracts';
import {
  presentActivity,
  presentCredits,
  presentGeneration,
  nextReset,
  presentKey,
} from './billing.presenter.js';

const usage: KeyUsage = {
  keyId: 'key-1',
  tenantId: 'acme',
  limitMicros: 5_000_000,
  limitReset: 'monthly',
  limitRemainingMicros: 4_250_000,
  usageMicros: 1_250_000,
  usageDailyMicros: 10,
  usageWeeklyMicros: 20,
  usageMonthlyMicros: 750_000,
};

const record = (over: Partial<GenerationRecord> = {}): GenerationRecord => ({
  generationId: 'gen-1-abc',
  tenantId: 'acme',
  keyId: 'key-1',
  createdAt: '2026-12-02T10:00:00.000Z',
  requestedModel: 'turnpike/sim-small',
  model: 'turnpike/sim-small',
  provider: 'sim',
  endpointId: 'turnpike/sim-small@sim',
  stream: true,
  status: 'success',
  finishReason: 'stop',
  nativeFinishReason: 'stop',
  tokens: { prompt: 12, completion: 30, cachedRead: 2, cacheWrite: 0, reasoning: 0 },
  usageReported: true,
  upstreamMicros: 21,
  chargedMicros: 25,
  ttftMs: 40,
  latencyMs: 300,
  attempts: [
    {
      attempt: 1,
      endpointId: 'turnpike/sim-small@sim-b',
      provider: 'sim-b',
      model: 'turnpike/sim-small',
      outcome: 'error',
      upstreamStatus: 500,
      errorCode: 'upstream_error',
      ttftMs: null,
      latencyMs: 12,
    },
  ],
  app: { referer: null, title: null },
  error: null,
  ...over,
});

describe('billing presenters: @openrouter/sdk accepts them', () => {
  test('GET /v1/key parses as GetCurrentKeyResponse, with the key’s figures', () => {
    const d = GetCurrentKeyResponse$inboundSchema.parse({ data: presentKey(usage, 'prod') }).data;
    assert.equal(d.label, 'prod');
    assert.equal(d.limit, 5);
    assert.equal(d.limitRemaining, 4.25);
    assert.equal(d.limitReset, 'monthly');
    assert.equal(d.usage, 1.25);
    assert.equal(d.usageMonthly, 0.75);
    assert.equal(d.organizationId, 'acme', 'the tenant owns the key');
    assert.equal(d.workspaceId, null);
    assert.deepEqual(d.allowedDataRegions, ['global']);
    assert.deepEqual(d.freeModelDailyRequests, { limit: 0, remaining: 0, used: 0 });
    assert.equal(d.expiresAt, null);
  });

  test('a key without a limit', () => {
    const d = GetCurrentKeyResponse$inboundSchema.parse({
      data: presentKey(
        { ...usage, limitMicros: null, limitRemainingMicros: null, limitReset: null },
        'k',
      ),
    }).data;
    assert.equal(d.limit, null);
    assert.equal(d.limitRemaining, null);
    const raw = presentKey(
      { ...usage, limitMicros: null, limitRemainingMicros: null, limitReset: null },
      'k',
    );
    assert.deepEqual(raw['budgets'], []);
    assert.equal(raw['effective_budget'], null);
  });

  // PyPI `openrouter` 1.3.84 requires `budgets` and `effective_budget` (npm 1.3.19 has neither).
  test('the key limit is its one budget layer, over the limit’s UTC window', () => {
    const now = Date.parse('2026-12-02T10:00:00Z'); // a Wednesday
    const k = presentKey({ ...usage, limitRemainingMicros: -250_000 }, 'prod', now);
    const budget = {
      scope: 'key_limit',
      budget_id: null,
      guardrail_id: null,
      include_byok: false,
      limit_usd: 5,
      spend_usd: 5.25,
      remaining_usd: -0.25, // overspent: this layer refuses until it resets
      reset_interval: 'monthly',
      resets_at: '2027-01-01T00:00:00.000Z',
    };
    assert.deepEqual(k['budgets'], [budget]);
    assert.deepEqual(k['effective_budget'], budget);
    assert.equal(k['limit_remaining'], 0, 'limit_remaining itself never goes below zero');
    const lifetime = presentKey({ ...usage, limitReset: null }, 'prod', now);
    assert.equal((lifetime['effective_budget'] as { resets_at: unknown }).resets_at, null);
  });

  test('window ends: next UTC midnight, next Monday, first of next month', () => {
    const wed = Date.parse('2026-12-02T10:00:00Z');
    assert.equal(nextReset('daily', wed).toISOString(), '2026-12-03T00:00:00.000Z');
    assert.equal(nextReset('weekly', wed).toISOString(), '2026-12-07T00:00:00.000Z');
    assert.equal(nextReset('monthly', wed).toISOString(), '2027-01-01T00:00:00.000Z');
    const monday = Date.parse('2026-12-07T00:00:00Z');
    assert.equal(nextReset('weekly', monday).toISOString(), '2026-12-14T00:00:00.000Z');
    const sunday = Date.parse('2026-12-06T23:59:59Z');
    assert.equal(nextReset('weekly', sunday).toISOString(), '2026-12-07T00:00:00.000Z');
    assert.equal(nextReset('daily', sunday).toISOString(), '2026-12-07T00:00:00.000Z');
  });

  test('GET /v1/credits parses as GetCreditsResponse', () => {
    const d = GetCreditsResponse$inboundSchema.parse({
      data: presentCredits({
        tenantId: 'acme',
        creditsMicros: 100_000_000,
        usageMicros: 1_234,
        balanceMicros: 99_998_766,
      }),
    }).data;
    assert.deepEqual(d, { totalCredits: 100, totalUsage: 0.001234 });
  });

  test('GET /v1/generation parses as GenerationResponse, with the record’s figures', () => {
    const d = GenerationResponse$inboundSchema.parse({ data: presentGeneration(record()) }).data;
    assert.equal(d.id, 'gen-1-abc');
    assert.equal(d.totalCost, 0.000025);
    assert.equal(d.upstreamInferenceCost, 0.000021);
    assert.equal(d.tokensPrompt, 12);
    assert.equal(d.tokensCompletion, 30);
    assert.equal(d.nativeTokensCached, 2);
    assert.equal(d.streamed, true);
    assert.equal(d.latency, 300);
    assert.equal(d.generationTime, 260);
    assert.equal(d.origin, '', 'no referer');
    assert.equal(d.providerResponses?.[0]?.status, 500);
    assert.equal(d.apiType, 'completions');
  });

  test('a resumed answer: every attempt with its role and charges; the SDK still parses it', () => {
    const attempt = (n: number, over: Partial<GenerationRecord['attempts'][number]>) => ({
      attempt: n,
      endpointId: `turnpike/sim-small@p${n}`,
      provider: `p${n}`,
      model: 'turnpike/sim-small',
      outcome: 'success',
      upstreamStatus: 200,
      errorCode: null,
      ttftMs: 10,
      latencyMs: 50,
      ...over,
    });
    const body = presentGeneration(
      record({
        chargedMicros: 1_050,
        upstreamMicros: 821,
        attempts: [
          attempt(1, {
            role: 'primary',
            served: true,
            outcome: 'error',
            errorCode: 'upstream_stream_cut',
            tokens: { prompt: 1_000, completion: 41, reasoning: 0 },
            billedTokens: { prompt: 1_000, completion: 40, reasoning: 0 },
            upstreamMicros: 175,
            billedUpstreamMicros: 174,
            chargedMicros: 250,
          }),
          attempt(2, {
            role: 'continuation',
            served: true,
            tokens: { prompt: 1_050, completion: 160, reasoning: 0 },
            billedTokens: { prompt: 0, completion: 160, reasoning: 0 },
            upstreamMicros: 1_690,
            billedUpstreamMicros: 640,
            chargedMicros: 800,
          }),
        ],
      }),
    );
    const d = GenerationResponse$inboundSchema.parse({ data: body }).data;
    assert.equal(d.totalCost, 0.00105);
    assert.deepEqual(
      d.providerResponses?.map((r) => [r.providerName, r.status]),
      [
        ['p1', 200],
        ['p2', 200],
      ],
    );
    const raw = body['provider_responses'] as Array<Record<string, unknown>>;
    assert.deepEqual(
      raw.map((r) => [r['role'], r['served'], r['billed_tokens_prompt'], r['total_cost_micros']]),
      [
        ['primary', true, 1_000, 250],
        ['continuation', true, 0, 800],
      ],
    );
    assert.equal(
      raw.reduce((a, r) => a + (r['total_cost_micros'] as number), 0),
      body['total_cost_micros'],
    );
    assert.equal(raw[1]!['upstream_inference_cost'], 0.00169);
    // A record from before attempt roles: nulls and zeros, never a crash.
    assert.equal(
      (presentGeneration(record())['provider_responses'] as Array<Record<string, unknown>>)[0]![
        'role'
      ],
      null,
    );
  });

  test('a cancelled generation with an app referer', () => {
    const d = GenerationResponse$inboundSchema.parse({
      data: presentGeneration(
        record({
          status: 'cancelled',
          ttftMs: null,
          app: { referer: 'https://app.example', title: 'App' },
        }),
      ),
    }).data;
    assert.equal(d.cancelled, true);
    assert.equal(d.origin, 'https://app.example');
    assert.equal(d.httpReferer, 'https://app.example');
  });

  test('GET /v1/activity parses as ActivityResponse', () => {
    const d = ActivityResponse$inboundSchema.parse({
      data: [
        presentActivity({
          date: '2026-12-02',
          model: 'turnpike/sim-small',
          provider: 'sim',
          endpointId: 'turnpike/sim-small@sim',
          keyId: 'key-1',
          requests: 3,
          promptTokens: 30,
          completionTokens: 90,
          reasoningTokens: 0,
          cachedTokens: 0,
          chargedMicros: 75,
          upstreamMicros: 60,
        }),
      ],
    }).data;
    assert.equal(d[0]!.requests, 3);
    assert.equal(d[0]!.usage, 0.000075);
    assert.equal(d[0]!.providerName, 'sim');
  });
});
