import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  unknownHealth,
  type CatalogEndpoint,
  type CatalogModel,
  type RoutingEntryV1,
} from '@turnpike/contracts';
import { isApiError, parseChatCompletionRequest } from '@turnpike/openai-api';
import type { RoutingTableService } from '../catalog/routing-table.service.js';
import type { GatewayConfig } from '../gateway.config.js';
import { FallbackPlan, RoutePlanner, type Candidate } from './route-planner.service.js';

const model = { id: 't/m' } as CatalogModel;
const candidate = (
  provider: string,
  contextLength: number,
  modelId = 't/m',
  supportsPrefill = false,
): Candidate => ({
  model: modelId === model.id ? model : ({ id: modelId } as CatalogModel),
  endpoint: {
    id: `${modelId}@${provider}`,
    provider,
    contextLength,
    supportsPrefill,
    health: unknownHealth(),
  } as CatalogEndpoint,
});

describe('FallbackPlan', () => {
  test('hands out candidates in order', () => {
    const plan = new FallbackPlan([candidate('a', 10), candidate('b', 10)]);
    assert.equal(plan.next()?.endpoint.provider, 'a');
    assert.equal(plan.hasMore(), true);
    assert.equal(plan.peek()?.endpoint.provider, 'b');
    assert.equal(plan.next()?.endpoint.provider, 'b');
    assert.equal(plan.hasMore(), false);
    assert.equal(plan.next(), null);
    assert.equal(plan.peek(), null);
  });

  test('a cut answer continues only where a prefill is continued; the others are dropped', () => {
    const plan = new FallbackPlan([
      candidate('a', 10),
      candidate('b', 10),
      candidate('c', 10, 't/m', true),
      candidate('d', 10),
      candidate('e', 10, 't/other', true),
    ]);
    plan.next();
    assert.equal(plan.hasMore(true), true);
    assert.equal(plan.nextPrefill()?.endpoint.provider, 'c');
    assert.equal(plan.nextPrefill()?.endpoint.id, 't/other@e');
    assert.equal(plan.hasMore(true), false);
    assert.equal(plan.hasMore(), false, 'd was passed over for good');
    assert.equal(plan.nextPrefill(), null);
  });

  test('after a context-length error a fallback model the client named is still tried', () => {
    // t/m is the requested model; t/named came from `models`, with the same declared window.
    const plan = new FallbackPlan(
      [
        candidate('a', 8192),
        candidate('b', 8192),
        candidate('c', 8192, 't/named'),
        candidate('d', 4096, 't/named'),
      ],
      't/m',
    );
    plan.failed(plan.next()!, { code: 'context_length_exceeded' });
    assert.deepEqual(
      [plan.next(), plan.next(), plan.next()].map((c) => c?.endpoint.id ?? null),
      ['t/named@c', 't/named@d', null],
    );
  });

  test('after a context-length error only larger windows remain', () => {
    const plan = new FallbackPlan([
      candidate('a', 4096),
      candidate('b', 2048),
      candidate('c', 4096),
      candidate('d', 32_000),
    ]);
    const first = plan.next()!;
    plan.failed(first, { code: 'context_length_exceeded' });
    assert.equal(plan.next()?.endpoint.provider, 'd');
    assert.equal(plan.hasMore(), false);
  });

  test("a provider with no usable account: none of its endpoints, other providers' still", () => {
    // `models` fallbacks: another model at the same provider is dropped too.
    const plan = new FallbackPlan([
      candidate('a', 4096),
      candidate('b', 4096),
      candidate('a', 4096, 't/other'),
      candidate('c', 4096, 't/other'),
    ]);
    plan.failed(plan.next()!, { code: 'provider_not_configured' });
    assert.deepEqual(
      [plan.next(), plan.next(), plan.next()].map((c) => c?.endpoint.id ?? null),
      ['t/m@b', 't/other@c', null],
    );
  });

  test('other failures leave the rest as they are', () => {
    const plan = new FallbackPlan([candidate('a', 4096), candidate('b', 2048)]);
    plan.failed(plan.next()!, { code: 'upstream_error' });
    assert.equal(plan.next()?.endpoint.provider, 'b');
  });
});

describe('RoutePlanner: what a request nothing can serve is answered with', () => {
  const endpoint = {
    id: 't/m@a',
    provider: 'a',
    upstreamModel: 'up',
    pricing: {
      promptPerM: 1_000_000,
      completionPerM: 1_000_000,
      cachedReadPerM: 0,
      cacheWritePerM: 0,
      reasoningPerM: 0,
      perRequest: 0,
    },
    contextLength: 8192,
    maxOutputTokens: null,
    quantization: null,
    region: null,
    supportedParameters: [],
    dataCollection: 'deny',
    supportsPrefill: false,
    health: unknownHealth(),
  } as CatalogEndpoint;
  const entry = (endpoints: CatalogEndpoint[]): RoutingEntryV1 => ({
    v: 1,
    model: { ...model, name: 'M', contextLength: 8192 } as CatalogModel,
    endpoints,
    updatedAt: 0,
  });
  const planner = (e: RoutingEntryV1) =>
    new RoutePlanner(
      {
        get: (id: string) => (id === 't/m' ? e : undefined),
        cooldowns: () => new Map(),
      } as unknown as RoutingTableService,
      { maxAttempts: 3 } as GatewayConfig,
    );
  const failure = (e: RoutingEntryV1, extra: Record<string, unknown>) => {
    const body = parseChatCompletionRequest({
      model: 't/m',
      messages: [{ role: 'user', content: 'hi' }],
      ...extra,
    });
    assert.ok(body.ok);
    try {
      planner(e).plan(body.value);
    } catch (err) {
      assert.ok(isApiError(err), String(err));
      return { status: err.status, code: err.code, type: err.type, param: err.param };
    }
    return assert.fail('expected an error');
  };

  test("the request's constraints leave no endpoint: 404 no_endpoints, a client error", () => {
    for (const provider of [{ only: ['nowhere'] }, { max_price: { prompt: 0 } }])
      assert.deepEqual(failure(entry([endpoint]), { provider }), {
        status: 404,
        code: 'no_endpoints',
        type: 'invalid_request_error',
        param: null,
      });
  });

  test('a model without an enabled endpoint: 503, and an unknown model: 404 model_not_found', () => {
    assert.deepEqual(failure(entry([]), {}).status, 503);
    assert.deepEqual(failure(entry([endpoint]), { model: 'x/unknown' }).code, 'model_not_found');
  });
});
