/**
 * The community routes' bodies against @openrouter/sdk 1.3.19's own response schemas (what
 * `providers.list`, `datasets.getRankingsDaily`, `datasets.getAppRankings`,
 * `datasets.getSessionCost` and `generations.submitFeedback` validate), with the real figures
 * carried through; and the comparison's catalog and measured sides side by side.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  RankingsDailyResponse$inboundSchema,
  SubmitGenerationFeedbackResponse$inboundSchema,
} from '@openrouter/sdk/models';
import {
  GetAppRankingsResponse$inboundSchema,
  GetSessionCostResponse$inboundSchema,
  ListProvidersResponse$inboundSchema,
} from '@openrouter/sdk/models/operations';
import type { CompareModelsResult, RoutingEntryV1 } from '@turnpike/contracts';
import { unknownHealth } from '@turnpike/contracts';
import {
  perMillion,
  presentAppRankings,
  presentComparison,
  presentProviders,
  presentRankingsDaily,
  presentSessionCost,
} from './community.presenter.js';

/** A presented body, read field by field. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- asserting on response JSON
type J = Record<string, any>;

const meta = { asOf: '2026-03-18T12:00:00.000Z', startDate: '2026-03-10', endDate: '2026-03-17' };

describe('OpenRouter shapes, as @openrouter/sdk parses them', () => {
  test('providers.list', () => {
    const body = presentProviders([
      {
        id: 'sim',
        name: 'Turnpike Simulator',
        kind: 'openai',
        endpoints: 3,
        models: 3,
        data_collection: ['deny'],
        quantizations: ['fp8'],
        regions: ['local'],
        privacy_policy_url: null,
        terms_of_service_url: null,
        status_page_url: null,
      },
    ]);
    const parsed = ListProvidersResponse$inboundSchema.parse(body);
    assert.deepEqual(parsed.data[0], {
      name: 'Turnpike Simulator',
      slug: 'sim',
      privacyPolicyUrl: null,
      termsOfServiceUrl: null,
      statusPageUrl: null,
      headquarters: null,
      datacenters: null,
    });
    // Our policies beside OpenRouter's fields.
    assert.deepEqual(body.data[0]!['data_collection'], ['deny']);
    assert.deepEqual(body.data[0]!['quantizations'], ['fp8']);
    assert.deepEqual(body.data[0]!['regions'], ['local']);
  });

  test('datasets.getRankingsDaily', () => {
    const parsed = RankingsDailyResponse$inboundSchema.parse(
      presentRankingsDaily({
        data: [
          { date: '2026-03-10', model: 'x/one', totalTokens: 12_345_678_901 },
          { date: '2026-03-10', model: 'other', totalTokens: 0 },
        ],
        meta,
      }),
    );
    assert.deepEqual(parsed, {
      data: [
        { date: '2026-03-10', modelPermaslug: 'x/one', totalTokens: '12345678901' },
        { date: '2026-03-10', modelPermaslug: 'other', totalTokens: '0' },
      ],
      meta: { asOf: meta.asOf, startDate: '2026-03-10', endDate: '2026-03-17', version: 'v1' },
    });
  });

  test('datasets.getAppRankings', () => {
    const body = presentAppRankings({
      data: [
        {
          appId: 42,
          app: 'https://a.example',
          rank: 1,
          requests: 3,
          totalTokens: 500,
          growthTokens: 400,
        },
      ],
      meta,
    });
    // The SDK keeps the body under `Result` (its pagination wrapper).
    const parsed = GetAppRankingsResponse$inboundSchema.parse({ Result: body });
    assert.deepEqual(parsed.result.data, [
      { appId: 42, appName: 'https://a.example', rank: 1, totalRequests: 3, totalTokens: '500' },
    ]);
    assert.equal((body['data'] as Array<Record<string, unknown>>)[0]!['growth_tokens'], '400');
  });

  test('datasets.getSessionCost', () => {
    const parsed = GetSessionCostResponse$inboundSchema.parse({
      Result: presentSessionCost({
        data: [
          {
            app: 'https://a.example',
            appSlug: 'a-example',
            model: 'x/one',
            turnRange: '2-9-turns',
            sessions: 2,
            medianSessionMicros: 1_740_000,
          },
        ],
        meta: { asOf: meta.asOf, windowDays: 30, windowEndDate: '2026-03-17' },
      }),
    });
    assert.deepEqual(parsed.result, {
      data: [
        {
          appName: 'https://a.example',
          appSlug: 'a-example',
          medianSessionCostUsd: 1.74,
          modelPermaslug: 'x/one',
          turnRange: '2-9-turns',
        },
      ],
      meta: { asOf: meta.asOf, version: 'v1', windowDays: 30, windowEndDate: '2026-03-17' },
    });
  });

  test('generations.submitFeedback', () => {
    assert.deepEqual(
      SubmitGenerationFeedbackResponse$inboundSchema.parse({ data: { success: true } }),
      {
        data: { success: true },
      },
    );
  });
});

describe('comparison', () => {
  const pricing = (prompt: number, completion: number) => ({
    promptPerM: prompt,
    completionPerM: completion,
    cachedReadPerM: 0,
    cacheWritePerM: 0,
    reasoningPerM: 0,
    perRequest: 0,
  });
  const entry: RoutingEntryV1 = {
    v: 1,
    updatedAt: 1,
    model: {
      id: 'x/one',
      name: 'X One',
      description: '',
      created: 0,
      contextLength: 8192,
      inputModalities: ['text'],
      outputModalities: ['text'],
      supportedParameters: [],
      pricing: pricing(150_000, 600_000),
    },
    endpoints: ['sim', 'sim-b'].map((provider, i) => ({
      id: `x/one@${provider}`,
      provider,
      providerName: provider.toUpperCase(),
      upstreamModel: 'x',
      pricing: i === 0 ? pricing(150_000, 600_000) : pricing(2_500_000, 10_000_000),
      contextLength: 8192 * (i + 1),
      maxOutputTokens: 4096,
      quantization: null,
      region: null,
      supportedParameters: [],
      dataCollection: 'deny' as const,
      supportsPrefill: false,
      health: unknownHealth(),
    })),
  };
  const measured = {
    attempts: 10,
    successes: 9,
    failures: 1,
    cancelled: 0,
    successRate: 0.9,
    fallbackRate: 0.1,
    ttftMs: { p50: 123.456, p90: 200, p99: 300 },
    latencyMs: { p50: 1000, p90: 1500, p99: 2000 },
    tokensPerSecond: { p50: 35.04, p90: 40, p99: 41 },
  };
  const result: CompareModelsResult = {
    window: {
      from: '2026-03-11T12:00:00.000Z',
      to: '2026-03-18T12:00:00.000Z',
      granularity: 'hour',
    },
    models: [
      {
        id: 'x/one',
        measured,
        endpoints: [{ id: 'x/one@sim', measured }],
        rating: {
          model: 'x/one',
          reviews: 2,
          averageScore: 4.5,
          thumbsUp: 3,
          thumbsDown: 1,
          feedbackScored: 0,
          averageFeedbackScore: null,
        },
      },
    ],
  };

  test('prices per million, context, what traffic measured and the ratings, per model and endpoint', () => {
    const body = presentComparison([entry], result) as { data: { window: unknown; models: J[] } };
    const m = body.data.models[0]!;
    assert.equal(m['id'], 'x/one');
    assert.equal(m['context_length'], 8192);
    assert.deepEqual(m['price_per_million'], { prompt: '0.15', completion: '0.6' });
    assert.deepEqual(m['measured']['ttft_ms'], { p50: 123.5, p90: 200, p99: 300 });
    assert.equal(m['measured']['success_rate'], 0.9);
    assert.equal(m['measured']['fallback_rate'], 0.1);
    assert.deepEqual(m['rating'], {
      reviews: 2,
      average_score: 4.5,
      thumbs_up: 3,
      thumbs_down: 1,
      feedback_scored: 0,
      average_feedback_score: null,
    });
    const [sim, simB] = m['endpoints'] as [J, J];
    assert.deepEqual(sim['price_per_million'], { prompt: '0.15', completion: '0.6' });
    assert.equal(sim['measured']['throughput_tps']['p50'], 35);
    assert.equal(sim['provider_name'], 'SIM');
    // An endpoint analytics has no figures for: its catalog side, no measures.
    assert.deepEqual(simB['price_per_million'], { prompt: '2.5', completion: '10' });
    assert.equal(simB['context_length'], 16384);
    assert.equal(simB['measured'], null);
    assert.deepEqual(body.data.window, result.window);
  });

  test('prices per million tokens as decimals', () => {
    assert.equal(perMillion(0), '0');
    assert.equal(perMillion(150_000), '0.15');
    assert.equal(perMillion(10_000_000), '10');
    assert.equal(perMillion(1), '0.000001');
  });
});
