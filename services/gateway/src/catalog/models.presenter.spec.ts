import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  ModelResponse$inboundSchema,
  ModelsCountResponse$inboundSchema,
  ModelsListResponse$inboundSchema,
} from '@openrouter/sdk/models';
import { ListEndpointsResponse$inboundSchema } from '@openrouter/sdk/models/operations';
import {
  unknownHealth,
  type CatalogEndpoint,
  type CatalogModel,
  type EndpointHealth,
  type RoutingEntryV1,
} from '@turnpike/contracts';
import {
  countModels,
  endpointStatus,
  listModels,
  presentEndpoint,
  presentEndpoints,
  presentModel,
  toolChoiceSupport,
  type ModelListOptions,
} from './models.presenter.js';

type Json = Record<string, unknown>;
const NOW = 1_800_000_000_000;
const model: CatalogModel = {
  id: 't/m',
  name: 'T: M',
  description: '',
  created: 0,
  contextLength: 8192,
  inputModalities: ['text'],
  outputModalities: ['text'],
  supportedParameters: [],
  pricing: {
    promptPerM: 0,
    completionPerM: 0,
    cachedReadPerM: 0,
    cacheWritePerM: 0,
    reasoningPerM: 0,
    perRequest: 0,
  },
};
const endpoint = (health: Partial<EndpointHealth> = {}): CatalogEndpoint => ({
  id: 't/m@p',
  provider: 'p',
  providerName: 'Provider P',
  upstreamModel: 'u',
  pricing: {
    promptPerM: 150_000,
    completionPerM: 600_000,
    cachedReadPerM: 0,
    cacheWritePerM: 0,
    reasoningPerM: 600_000,
    perRequest: 0,
  },
  contextLength: 8192,
  maxOutputTokens: 4096,
  quantization: null,
  region: null,
  supportedParameters: ['tools'],
  dataCollection: 'deny',
  supportsPrefill: false,
  health: { ...unknownHealth(), ...health },
});

describe('endpoints API presenter', () => {
  test('status: 0 healthy, -1 half-open, -2 Retry-After, -3 open', () => {
    assert.equal(endpointStatus(endpoint(), NOW), 0);
    assert.equal(endpointStatus(endpoint({ circuit: 'half_open' }), NOW), -1);
    assert.equal(endpointStatus(endpoint({ retryAfterUntil: NOW + 1 }), NOW), -2);
    assert.equal(endpointStatus(endpoint({ retryAfterUntil: NOW }), NOW), 0);
    assert.equal(endpointStatus(endpoint({ circuit: 'open', circuitOpenUntil: NOW + 1 }), NOW), -3);
    assert.equal(
      endpointStatus(endpoint({ circuit: 'open', circuitOpenUntil: NOW - 1 }), NOW),
      -1,
      'past its cool-down',
    );
  });

  test('OpenRouter fields: uptime in percent, latency and throughput percentiles', () => {
    const p = presentEndpoint(
      model,
      endpoint({
        uptime: { last5m: 1, last30m: 0.98765, last1d: null },
        ttftMs: { p50: 120, p75: 130, p90: 150, p99: 200 },
        tokensPerSecond: { p50: 80, p75: 70, p90: 60, p99: 50 },
      }),
      NOW,
    );
    assert.equal(p['uptime_last_5m'], 100);
    assert.equal(p['uptime_last_30m'], 98.77);
    assert.equal(p['uptime_last_1d'], null);
    assert.deepEqual(p['latency_last_30m'], { p50: 120, p75: 130, p90: 150, p99: 200 });
    assert.equal((p['throughput_last_30m'] as { p50: number }).p50, 80);
    assert.equal(p['provider_name'], 'Provider P');
    assert.equal(p['tag'], 'p');
    assert.equal(p['max_prompt_tokens'], 8192);
    assert.deepEqual(p['pricing'], {
      prompt: '0.00000015',
      completion: '0.0000006',
      request: '0',
      image: '0',
      web_search: '0',
      internal_reasoning: '0.0000006',
      input_cache_read: '0',
      input_cache_write: '0',
    });
  });
});

// ---------------------------------------------------------------------------------------------
// Conformance with @openrouter/sdk 1.3.19's own response schemas (what `models.list`,
// `models.get` and `endpoints.list` validate), and with OpenAI's `Model`.
// ---------------------------------------------------------------------------------------------

const entry = (over: Partial<RoutingEntryV1> = {}): RoutingEntryV1 => ({
  v: 1,
  model: { ...model, id: 'turnpike/sim-small', supportedParameters: ['tools', 'max_tokens'] },
  endpoints: [endpoint()],
  updatedAt: NOW,
  ...over,
});

const NO_FILTER: ModelListOptions = {
  offset: null,
  limit: null,
  supportedParameters: [],
  inputModalities: null,
  outputModalities: null,
  q: null,
};

describe('models API presenter: @openrouter/sdk and openai accept it', () => {
  test('GET /v1/models parses as the SDK’s ModelsListResponse, with real values', () => {
    const body = listModels([entry()], NO_FILTER);
    const parsed = ModelsListResponse$inboundSchema.parse(body);
    assert.equal(parsed.totalCount, 1);
    assert.equal(parsed.links.next, null);
    const m = parsed.data[0]!;
    assert.equal(m.id, 'turnpike/sim-small');
    assert.equal(m.links.details, '/v1/models/turnpike/sim-small/endpoints');
    assert.equal(m.defaultParameters, null);
    assert.equal(m.supportedVoices, null);
    assert.equal(m.contextLength, 8192);
    assert.equal(m.topProvider.maxCompletionTokens, 4096);
    assert.deepEqual(m.supportedParameters, ['tools', 'max_tokens']);
    // OpenAI's Model fields are there too, for `client.models.list()` / `retrieve()`.
    const raw = (body['data'] as Record<string, unknown>[])[0]!;
    assert.equal(body['object'], 'list');
    assert.equal(raw['object'], 'model');
    assert.equal(raw['owned_by'], 'turnpike');
    assert.equal(typeof raw['created'], 'number');
  });

  test('links follow the prefix the client used', () => {
    const body = listModels([entry()], NO_FILTER, '/api/v1');
    const m = (body['data'] as Record<string, { details: string }>[])[0]!;
    assert.equal(m['links']!.details, '/api/v1/models/turnpike/sim-small/endpoints');
  });

  test('paging: offset/limit, total_count before paging, links.next until the last page', () => {
    const entries = ['a/one', 'a/two', 'a/three'].map((id) =>
      entry({ model: { ...model, id, name: id } }),
    );
    const first = ModelsListResponse$inboundSchema.parse(
      listModels(entries, { ...NO_FILTER, offset: 0, limit: 2 }),
    );
    assert.deepEqual(
      first.data.map((m) => m.id),
      ['a/one', 'a/two'],
    );
    assert.equal(first.totalCount, 3);
    assert.equal(first.links.next, '/v1/models?offset=2&limit=2');
    const last = ModelsListResponse$inboundSchema.parse(
      listModels(entries, { ...NO_FILTER, offset: 2, limit: 2 }),
    );
    assert.deepEqual(
      last.data.map((m) => m.id),
      ['a/three'],
    );
    assert.equal(last.links.next, null);
  });

  test('filters: supported_parameters, modalities, q', () => {
    const a = entry({ model: { ...model, id: 'a/tools', supportedParameters: ['tools'] } });
    const b = entry({
      model: { ...model, id: 'b/vision', name: 'Vision', inputModalities: ['text', 'image'] },
    });
    const ids = (o: Partial<ModelListOptions>) =>
      (listModels([a, b], { ...NO_FILTER, ...o })['data'] as { id: string }[]).map((m) => m.id);
    assert.deepEqual(ids({ supportedParameters: ['tools'] }), ['a/tools']);
    assert.deepEqual(ids({ inputModalities: ['image'] }), ['b/vision']);
    assert.deepEqual(ids({ outputModalities: ['audio'] }), []);
    assert.deepEqual(ids({ q: 'vision' }), ['b/vision']);
  });

  test('GET /v1/models/count parses as the SDK’s ModelsCountResponse: the filtered count', () => {
    const a = entry({ model: { ...model, id: 'a/text' } });
    const b = entry({ model: { ...model, id: 'b/vision', inputModalities: ['text', 'image'] } });
    const c = entry({ model: { ...model, id: 'c/voice', outputModalities: ['audio'] } });
    const count = (o: Partial<ModelListOptions>) =>
      ModelsCountResponse$inboundSchema.parse(countModels([a, b, c], { ...NO_FILTER, ...o })).data
        .count;
    assert.equal(count({}), 3);
    assert.equal(count({ inputModalities: ['image'] }), 1);
    assert.equal(count({ outputModalities: ['text'] }), 2);
    // Paging does not change the count.
    assert.equal(count({ offset: 2, limit: 1 }), 3);
    assert.equal(count({}), (listModels([a, b, c], NO_FILTER)['data'] as unknown[]).length);
  });

  test('GET /v1/model/{author}/{slug} parses as the SDK’s ModelResponse', () => {
    const parsed = ModelResponse$inboundSchema.parse({ data: presentModel(entry()) });
    assert.equal(parsed.data.canonicalSlug, 'turnpike/sim-small');
  });

  test('GET /v1/models/{author}/{slug}/endpoints parses as the SDK’s ListEndpointsResponse', () => {
    const e = endpoint({
      uptime: { last5m: 1, last30m: 0.5, last1d: null },
      ttftMs: { p50: 120, p75: 130, p90: 150, p99: 200 },
      tokensPerSecond: { p50: 80, p75: 70, p90: 60, p99: 50 },
    });
    const parsed = ListEndpointsResponse$inboundSchema.parse({
      data: presentEndpoints(entry({ endpoints: [e, endpoint({ circuit: 'half_open' })] }), NOW),
    });
    const [first, second] = parsed.data.endpoints;
    assert.equal(first!.uptimeLast30m, 50);
    assert.deepEqual(first!.latencyLast30m, { p50: 120, p75: 130, p90: 150, p99: 200 });
    assert.equal(first!.throughputLast30m!.p50, 80);
    assert.equal(first!.status, 0);
    assert.equal(second!.status, -1);
    assert.equal(first!.supportsVoiceCloning, false);
    // Required by PyPI `openrouter` 1.3.84 (the npm SDK's schema strips them).
    const raw = (presentEndpoints(entry({ endpoints: [e] }), NOW)['endpoints'] as Json[])[0]!;
    assert.deepEqual(raw['native_tools'], {});
    assert.equal(raw['service_tier'], null);
    assert.equal(raw['supports_diarization'], false);
    // `tools` without `tool_choice`: auto only.
    assert.deepEqual(first!.supportsToolChoice, {
      auto: true,
      none: false,
      required: false,
      function: false,
    });
  });

  test('supports_tool_choice from the endpoint’s parameters', () => {
    assert.deepEqual(toolChoiceSupport(['tools', 'tool_choice']), {
      auto: true,
      none: true,
      required: true,
      function: true,
    });
    assert.deepEqual(toolChoiceSupport(['max_tokens']), {
      auto: false,
      none: false,
      required: false,
      function: false,
    });
  });
});
