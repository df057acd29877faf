import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  unknownHealth,
  type CatalogEndpoint,
  type EndpointHealth,
  type RoutingEntryV1,
} from '@turnpike/contracts';
import {
  capCandidates,
  exclusionReason,
  rankCandidates,
  resolveModel,
  tierOf,
  weightedOrder,
  type RankedCandidate,
  type RouteRequest,
  type RoutingContext,
} from './rank.js';
import { requestParameters, routeRequestOf } from './request.js';

const NOW = 1_800_000_000_000;

function endpoint(
  model: string,
  provider: string,
  price: number,
  over: Partial<CatalogEndpoint> = {},
  health: Partial<EndpointHealth> = {},
): CatalogEndpoint {
  return {
    id: `${model}@${provider}`,
    provider,
    upstreamModel: 'up',
    pricing: {
      promptPerM: price,
      completionPerM: price * 4,
      cachedReadPerM: 0,
      cacheWritePerM: 0,
      reasoningPerM: 0,
      perRequest: 0,
    },
    contextLength: 8192,
    maxOutputTokens: 4096,
    quantization: null,
    region: null,
    supportedParameters: ['temperature', 'max_tokens', 'tools'],
    dataCollection: 'deny',
    supportsPrefill: false,
    ...over,
    health: { ...unknownHealth(), ...health },
  };
}

function entry(id: string, endpoints: CatalogEndpoint[]): RoutingEntryV1 {
  return {
    v: 1,
    model: {
      id,
      name: id,
      description: '',
      created: 0,
      contextLength: 8192,
      inputModalities: ['text'],
      outputModalities: ['text'],
      supportedParameters: [],
      pricing: endpoints[0]!.pricing,
    },
    endpoints,
    updatedAt: NOW,
  };
}

/** A deterministic random source (mulberry32). */
function seeded(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const MULTI = 't/multi';
const table = (
  eps: CatalogEndpoint[] = [
    endpoint(MULTI, 'a', 100_000),
    endpoint(MULTI, 'b', 200_000),
    endpoint(MULTI, 'c', 300_000),
  ],
  extra: RoutingEntryV1[] = [],
) => {
  const m = new Map<string, RoutingEntryV1>([
    [MULTI, entry(MULTI, eps)],
    ...extra.map((e) => [e.model.id, e] as const),
  ]);
  return (id: string) => m.get(id);
};

const ctx = (
  lookup: RoutingContext['lookup'],
  over: Partial<RoutingContext> = {},
): RoutingContext => ({
  lookup,
  now: NOW,
  random: seeded(42),
  maxCandidates: 3,
  ...over,
});

const req = (over: Partial<RouteRequest> = {}): RouteRequest => ({
  models: [MULTI],
  parameters: [],
  estimatedPromptTokens: 10,
  ...over,
});

function providers(r: ReturnType<typeof rankCandidates>): string[] {
  assert.ok(r.ok, r.ok ? '' : r.message);
  return r.candidates.map((c) => c.endpoint.provider);
}

describe('rankCandidates: default load balancing', () => {
  test('is a pure function of its inputs (same seed, same order)', () => {
    const a = providers(rankCandidates(req(), ctx(table(), { random: seeded(7) })));
    const b = providers(rankCandidates(req(), ctx(table(), { random: seeded(7) })));
    assert.deepEqual(a, b);
    assert.equal(new Set(a).size, 3, 'every endpoint is a candidate');
  });

  test('spreads load favouring low price: weights by inverse square price', () => {
    const random = seeded(1);
    const first: Record<string, number> = { a: 0, b: 0, c: 0 };
    const n = 20_000;
    for (let i = 0; i < n; i++)
      first[providers(rankCandidates(req(), ctx(table(), { random })))[0]!]!++;
    // Prices 1 : 2 : 3 → weights 1 : 1/4 : 1/9 → shares 0.735, 0.184, 0.082.
    assert.ok(Math.abs(first['a']! / n - 0.735) < 0.02, JSON.stringify(first));
    assert.ok(Math.abs(first['b']! / n - 0.184) < 0.02, JSON.stringify(first));
    assert.ok(Math.abs(first['c']! / n - 0.082) < 0.02, JSON.stringify(first));
  });

  test('a higher recent error rate means less traffic', () => {
    const random = seeded(3);
    const eps = [
      endpoint(MULTI, 'a', 100_000, {}, { errorRate: 0.9 }),
      endpoint(MULTI, 'b', 100_000),
    ];
    let a = 0;
    for (let i = 0; i < 2000; i++)
      if (providers(rankCandidates(req(), ctx(table(eps), { random })))[0] === 'a') a++;
    assert.ok(a < 300, `a first ${a} times of 2000`);
  });

  test('weightedOrder draws without replacement', () => {
    const out = weightedOrder(['x', 'y', 'z'], () => 1, seeded(5));
    assert.deepEqual([...out].sort(), ['x', 'y', 'z']);
  });
});

describe('rankCandidates: health', () => {
  test('open circuits and Retry-After go last; half-open after healthy (except probes)', () => {
    const eps = [
      endpoint(MULTI, 'a', 100_000, {}, { circuit: 'open', circuitOpenUntil: NOW + 1000 }),
      endpoint(MULTI, 'b', 200_000, {}, { retryAfterUntil: NOW + 1000 }),
      endpoint(MULTI, 'c', 300_000, {}, { circuit: 'half_open' }),
      endpoint(MULTI, 'd', 400_000),
    ];
    const r = rankCandidates(req(), ctx(table(eps), { maxCandidates: 4, probeChance: 0 }));
    assert.deepEqual(providers(r).slice(0, 2), ['d', 'c']);
    assert.deepEqual(new Set(providers(r).slice(2)), new Set(['a', 'b']));
    assert.deepEqual(
      (r as { candidates: RankedCandidate[] }).candidates.map((c) => c.tier),
      ['healthy', 'probe', 'unavailable', 'unavailable'],
    );
  });

  test('an open circuit past its cool-down counts as half-open (probe)', () => {
    const e = endpoint(MULTI, 'a', 1, {}, { circuit: 'open', circuitOpenUntil: NOW - 1 });
    assert.equal(tierOf(e, NOW), 'probe');
    assert.equal(tierOf(e, NOW - 2), 'unavailable');
  });

  test('the caller’s own Retry-After memory makes an endpoint unavailable at once', () => {
    const cooldowns = new Map([[`${MULTI}@a`, NOW + 500]]);
    const r = rankCandidates(req({ provider: { sort: 'price' } }), ctx(table(), { cooldowns }));
    assert.deepEqual(providers(r), ['b', 'c', 'a']);
    const later = rankCandidates(
      req({ provider: { sort: 'price' } }),
      ctx(table(), { cooldowns, now: NOW + 500 }),
    );
    assert.deepEqual(providers(later), ['a', 'b', 'c']);
  });

  test('half-open endpoints are probed now and then', () => {
    const eps = [
      endpoint(MULTI, 'a', 100_000, {}, { circuit: 'half_open' }),
      endpoint(MULTI, 'b', 200_000),
    ];
    const random = seeded(11);
    let probes = 0;
    for (let i = 0; i < 1000; i++)
      if (
        providers(
          rankCandidates(req({ provider: { sort: 'price' } }), ctx(table(eps), { random })),
        )[0] === 'a'
      )
        probes++;
    assert.ok(probes > 60 && probes < 140, `${probes} probes of 1000`);
  });

  test('all unavailable: still tried, cheapest first under sort', () => {
    const eps = ['a', 'b'].map((p, i) =>
      endpoint(MULTI, p, (i + 1) * 100_000, {}, { circuit: 'open', circuitOpenUntil: NOW + 10 }),
    );
    assert.deepEqual(
      providers(rankCandidates(req({ provider: { sort: 'price' } }), ctx(table(eps)))),
      ['a', 'b'],
    );
  });
});

describe('rankCandidates: provider preferences', () => {
  test('only and ignore (provider slugs, case-insensitive)', () => {
    assert.deepEqual(providers(rankCandidates(req({ provider: { only: ['B'] } }), ctx(table()))), [
      'b',
    ]);
    assert.deepEqual(
      new Set(providers(rankCandidates(req({ provider: { ignore: ['a'] } }), ctx(table())))),
      new Set(['b', 'c']),
    );
  });

  test('order comes first, then the others; allow_fallbacks false keeps only the order list', () => {
    assert.deepEqual(
      providers(
        rankCandidates(req({ provider: { order: ['c', 'a'], sort: 'price' } }), ctx(table())),
      ),
      ['c', 'a', 'b'],
    );
    assert.deepEqual(
      providers(
        rankCandidates(
          req({ provider: { order: ['c', 'a'], allow_fallbacks: false } }),
          ctx(table()),
        ),
      ),
      ['c', 'a'],
    );
  });

  test('allow_fallbacks false without order: one endpoint', () => {
    const r = rankCandidates(
      req({ provider: { allow_fallbacks: false, sort: 'price' } }),
      ctx(table()),
    );
    assert.deepEqual(providers(r), ['a']);
  });

  test('sort by price, latency and throughput', () => {
    const eps = [
      endpoint(MULTI, 'a', 100_000, {}, { ttftMsEwma: 300, tokensPerSecondEwma: 50 }),
      endpoint(
        MULTI,
        'b',
        200_000,
        {},
        { ttftMs: { p50: 100, p75: 1, p90: 1, p99: 1 }, ttftMsEwma: 900, tokensPerSecondEwma: 20 },
      ),
      endpoint(
        MULTI,
        'c',
        300_000,
        {},
        { ttftMsEwma: 200, tokensPerSecond: { p50: 90, p75: 1, p90: 1, p99: 1 } },
      ),
    ];
    assert.deepEqual(
      providers(rankCandidates(req({ provider: { sort: 'price' } }), ctx(table(eps)))),
      ['a', 'b', 'c'],
    );
    assert.deepEqual(
      providers(rankCandidates(req({ provider: { sort: 'latency' } }), ctx(table(eps)))),
      ['b', 'c', 'a'],
    );
    assert.deepEqual(
      providers(rankCandidates(req({ provider: { sort: { by: 'throughput' } } }), ctx(table(eps)))),
      ['c', 'a', 'b'],
    );
  });

  test('unmeasured endpoints sort after measured ones for latency and throughput', () => {
    const eps = [
      endpoint(MULTI, 'a', 100_000),
      endpoint(MULTI, 'b', 200_000, {}, { ttftMsEwma: 900, tokensPerSecondEwma: 1 }),
    ];
    assert.deepEqual(
      providers(rankCandidates(req({ provider: { sort: 'latency' } }), ctx(table(eps)))),
      ['b', 'a'],
    );
    assert.deepEqual(
      providers(rankCandidates(req({ provider: { sort: 'throughput' } }), ctx(table(eps)))),
      ['b', 'a'],
    );
  });

  test(':floor sorts by price and :nitro by throughput', () => {
    const eps = [
      endpoint(MULTI, 'a', 100_000, {}, { tokensPerSecondEwma: 10 }),
      endpoint(MULTI, 'b', 200_000, {}, { tokensPerSecondEwma: 100 }),
      endpoint(MULTI, 'c', 300_000, {}, { tokensPerSecondEwma: 50 }),
    ];
    assert.deepEqual(
      providers(rankCandidates(req({ models: [`${MULTI}:floor`] }), ctx(table(eps)))),
      ['a', 'b', 'c'],
    );
    assert.deepEqual(
      providers(rankCandidates(req({ models: [`${MULTI}:nitro`] }), ctx(table(eps)))),
      ['b', 'c', 'a'],
    );
    const r = rankCandidates(req({ models: [`${MULTI}:nitro`] }), ctx(table(eps)));
    assert.ok(r.ok && r.candidates[0]!.model.id === MULTI, 'the variant serves the base model');
    assert.equal(resolveModel(`${MULTI}:turbo`, table()), undefined);
  });

  test('max_price in currency per million tokens (and per request)', () => {
    // a: 0.10 / 0.40, b: 0.20 / 0.80, c: 0.30 / 1.20 per million.
    assert.deepEqual(
      new Set(
        providers(rankCandidates(req({ provider: { max_price: { prompt: 0.2 } } }), ctx(table()))),
      ),
      new Set(['a', 'b']),
    );
    assert.deepEqual(
      providers(
        rankCandidates(req({ provider: { max_price: { completion: 0.5 } } }), ctx(table())),
      ),
      ['a'],
    );
    const priced = [
      endpoint(MULTI, 'a', 100_000, {
        pricing: {
          promptPerM: 1,
          completionPerM: 1,
          cachedReadPerM: 0,
          cacheWritePerM: 0,
          reasoningPerM: 0,
          perRequest: 2000,
        },
      }),
    ];
    const r = rankCandidates(
      req({ provider: { max_price: { request: 0.001 } } }),
      ctx(table(priced)),
    );
    assert.equal(r.ok, false);
    assert.match(r.ok ? '' : r.message, /request price above provider.max_price.request/);
  });

  test('data_collection deny, quantizations, require_parameters', () => {
    const eps = [
      endpoint(MULTI, 'a', 100_000, { dataCollection: 'allow', quantization: 'fp8' }),
      endpoint(MULTI, 'b', 200_000, { supportedParameters: ['temperature'], quantization: 'fp16' }),
      endpoint(MULTI, 'c', 300_000),
    ];
    assert.deepEqual(
      new Set(
        providers(rankCandidates(req({ provider: { data_collection: 'deny' } }), ctx(table(eps)))),
      ),
      new Set(['b', 'c']),
    );
    assert.deepEqual(
      providers(rankCandidates(req({ provider: { quantizations: ['fp8'] } }), ctx(table(eps)))),
      ['a'],
    );
    const tools = req({ parameters: ['tools'], provider: { require_parameters: true } });
    assert.deepEqual(
      new Set(providers(rankCandidates(tools, ctx(table(eps))))),
      new Set(['a', 'c']),
    );
    assert.equal(
      providers(rankCandidates(req({ parameters: ['tools'] }), ctx(table(eps)))).length,
      3,
      'only when required',
    );
  });

  test('context window: endpoints too small for the prompt are left out', () => {
    const eps = [
      endpoint(MULTI, 'a', 100_000, { contextLength: 1000 }),
      endpoint(MULTI, 'b', 200_000, { contextLength: 100_000 }),
    ];
    assert.deepEqual(
      providers(rankCandidates(req({ estimatedPromptTokens: 5000 }), ctx(table(eps)))),
      ['b'],
    );
  });
});

describe('rankCandidates: models fallback and errors', () => {
  const other = entry('t/other', [endpoint('t/other', 'x', 50_000)]);

  test('models: the primary model’s endpoints, then the fallback model’s', () => {
    const r = rankCandidates(
      req({ models: [MULTI, 't/other'], provider: { sort: 'price' } }),
      ctx(table(undefined, [other]), { maxCandidates: 10 }),
    );
    assert.ok(r.ok);
    assert.deepEqual(
      r.candidates.map((c) => `${c.model.id}@${c.endpoint.provider}`),
      [`${MULTI}@a`, `${MULTI}@b`, `${MULTI}@c`, 't/other@x'],
    );
  });

  test('the cap keeps at least one candidate of each model', () => {
    const r = rankCandidates(
      req({ models: [MULTI, 't/other'], provider: { sort: 'price' } }),
      ctx(table(undefined, [other]), { maxCandidates: 2 }),
    );
    assert.ok(r.ok);
    assert.deepEqual(
      r.candidates.map((c) => c.endpoint.provider),
      ['a', 'x'],
    );
  });

  test('a fallback model’s healthy endpoint comes before the primary’s unavailable ones', () => {
    const down = ['a', 'b'].map((p) =>
      endpoint(MULTI, p, 100_000, {}, { circuit: 'open', circuitOpenUntil: NOW + 1000 }),
    );
    const r = rankCandidates(
      req({ models: [MULTI, 't/other'] }),
      ctx(table(down, [other]), { maxCandidates: 5 }),
    );
    assert.equal(providers(r)[0], 'x');
  });

  test('sort partition none sorts across models', () => {
    const r = rankCandidates(
      req({ models: [MULTI, 't/other'], provider: { sort: { by: 'price', partition: 'none' } } }),
      ctx(table(undefined, [other]), { maxCandidates: 10 }),
    );
    assert.deepEqual(providers(r), ['x', 'a', 'b', 'c']);
  });

  test('an unknown primary model is a 404; unknown fallbacks are skipped', () => {
    const r = rankCandidates(req({ models: ['t/nope'] }), ctx(table()));
    assert.deepEqual(r.ok ? null : [r.status, r.code], [404, 'model_not_found']);
    assert.equal(
      providers(
        rankCandidates(req({ models: [MULTI, 't/nope'], provider: { only: ['a'] } }), ctx(table())),
      ).length,
      1,
    );
  });

  test('models only (OpenRouter’s fallback example): the first entry is the primary', () => {
    // The parsed request carries models[0] as its model; routeRequestOf dedupes it.
    const route = routeRequestOf({ model: 't/other', models: ['t/other', MULTI], messages: [] }, 0);
    assert.deepEqual(route.models, ['t/other', MULTI]);
    const r = rankCandidates(
      { ...route, provider: { sort: 'price' } },
      ctx(table(undefined, [other]), { maxCandidates: 10 }),
    );
    assert.ok(r.ok);
    assert.deepEqual(
      r.candidates.map((c) => `${c.model.id}@${c.endpoint.provider}`),
      ['t/other@x', `${MULTI}@a`, `${MULTI}@b`, `${MULTI}@c`],
    );
  });

  test('a model we do not have is skipped like an unavailable one, even as the primary', () => {
    const r = rankCandidates(
      req({ models: ['t/nope', 't/other'] }),
      ctx(table(undefined, [other]), { maxCandidates: 10 }),
    );
    assert.ok(r.ok);
    assert.deepEqual(
      r.candidates.map((c) => c.model.id),
      ['t/other'],
    );
  });

  test('none of the models exists: a 404 naming every one', () => {
    const r = rankCandidates(req({ models: ['t/nope', 'x/gone', 'y/never'] }), ctx(table()));
    assert.equal(r.ok, false);
    if (r.ok) return;
    assert.deepEqual([r.status, r.code], [404, 'model_not_found']);
    for (const m of ['t/nope', 'x/gone', 'y/never'])
      assert.ok(r.message.includes(`'${m}'`), r.message);
  });

  test('none can serve: the 404 names every model, the unknown ones included', () => {
    const r = rankCandidates(
      req({ models: ['t/nope', MULTI, 't/other'], provider: { only: ['zzz'] } }),
      ctx(table(undefined, [other])),
    );
    assert.equal(r.ok, false);
    if (r.ok) return;
    assert.deepEqual([r.status, r.code], [404, 'no_endpoints']);
    for (const m of ['t/nope', MULTI, 't/other'])
      assert.ok(r.message.includes(`'${m}'`), r.message);
  });

  test("no endpoint satisfies the request's constraints: a 404 (the client's to fix) naming the reasons", () => {
    const r = rankCandidates(req({ provider: { only: ['zzz'] } }), ctx(table()));
    assert.equal(r.ok, false);
    if (r.ok) return;
    assert.equal(r.status, 404);
    assert.equal(r.code, 'no_endpoints');
    assert.match(
      r.message,
      /'t\/multi': a: not in provider.only; b: not in provider.only; c: not in provider.only/,
    );
    for (const provider of [
      { max_price: { prompt: 0 } },
      { ignore: ['a', 'b', 'c'] },
      { quantizations: ['int4'] },
      { data_collection: 'deny' as const },
    ]) {
      const x = rankCandidates(
        req({ provider }),
        ctx(table([endpoint(MULTI, 'a', 5, { dataCollection: 'allow' })])),
      );
      assert.deepEqual(
        x.ok ? null : [x.status, x.code],
        [404, 'no_endpoints'],
        JSON.stringify(provider),
      );
    }
  });

  test("a model without an enabled endpoint is the platform's doing: 503", () => {
    const empty = rankCandidates(
      req(),
      ctx(() => ({ ...entry(MULTI, [endpoint(MULTI, 'a', 1)]), endpoints: [] })),
    );
    assert.deepEqual(empty.ok ? null : [empty.status, empty.code], [503, 'no_endpoints']);
    assert.match(empty.ok ? '' : empty.message, /has no enabled endpoint/);
    // Beside a model the request's constraints left out, still a 503.
    const both = rankCandidates(
      req({ models: [MULTI, 't/other'], provider: { only: ['zzz'] } }),
      ctx((id) =>
        id === 't/other'
          ? { ...entry('t/other', [endpoint('t/other', 'x', 1)]), endpoints: [] }
          : table()(id),
      ),
    );
    assert.deepEqual(both.ok ? null : [both.status, both.code], [503, 'no_endpoints']);
  });

  test('a prompt too long for every endpoint is a 400 context_length_exceeded on messages', () => {
    const eps = [
      endpoint(MULTI, 'a', 100_000, { contextLength: 1000 }),
      endpoint(MULTI, 'b', 200_000, { contextLength: 4000 }),
    ];
    const other = entry('t/other', [endpoint('t/other', 'x', 50_000, { contextLength: 2000 })]);
    const r = rankCandidates(
      req({ models: [MULTI, 't/other'], estimatedPromptTokens: 5000 }),
      ctx(table(eps, [other])),
    );
    assert.equal(r.ok, false);
    if (r.ok) return;
    assert.equal(r.status, 400);
    assert.equal(r.code, 'context_length_exceeded');
    assert.equal(r.status === 400 ? r.param : null, 'messages');
    assert.equal(r.status === 400 ? r.maxContextLength : null, 4000);
    assert.match(r.message, /maximum context length is 4000 tokens/);
    assert.match(r.message, /about 5000 tokens/);
  });

  test('mixed reasons (context window and a constraint) are a 404 no_endpoints', () => {
    const eps = [
      endpoint(MULTI, 'a', 100_000, { contextLength: 1000 }),
      endpoint(MULTI, 'b', 200_000, { contextLength: 100_000 }),
    ];
    const r = rankCandidates(
      req({ estimatedPromptTokens: 5000, provider: { ignore: ['b'] } }),
      ctx(table(eps)),
    );
    assert.deepEqual(r.ok ? null : [r.status, r.code], [404, 'no_endpoints']);
    // An unknown fallback model is another reason: still a 404 no_endpoints.
    const r2 = rankCandidates(
      req({ models: [MULTI, 't/nope'], estimatedPromptTokens: 500_000 }),
      ctx(table(eps)),
    );
    assert.deepEqual(r2.ok ? null : [r2.status, r2.code], [404, 'no_endpoints']);
  });

  test('capCandidates keeps the order', () => {
    const m = entry(MULTI, [endpoint(MULTI, 'a', 1)]).model;
    const c = (p: string, id = MULTI): RankedCandidate => ({
      model: { ...m, id },
      endpoint: endpoint(id, p, 1),
      tier: 'healthy',
    });
    const all = [c('a'), c('b'), c('c'), c('x', 't/o'), c('y', 't/p')];
    assert.deepEqual(
      capCandidates(all, 4).map((x) => x.endpoint.provider),
      ['a', 'b', 'x', 'y'],
    );
  });
});

describe('exclusionReason', () => {
  test('null when the endpoint can serve', () => {
    assert.equal(exclusionReason(endpoint(MULTI, 'a', 1), req()), null);
  });
});

describe('request helpers', () => {
  test('requestParameters: routed parameters only, structured outputs derived', () => {
    assert.deepEqual(
      requestParameters({
        model: 'x',
        messages: [],
        temperature: 0.5,
        top_p: null,
        foo: 1,
        response_format: { type: 'json_schema', json_schema: { name: 'x' } },
      }),
      ['response_format', 'structured_outputs', 'temperature'],
    );
  });
  test('routeRequestOf: model first, then models, without duplicates', () => {
    const r = routeRequestOf({ model: 'a/b', models: ['a/b', 'c/d'], messages: [] }, 42);
    assert.deepEqual(r.models, ['a/b', 'c/d']);
    assert.equal(r.estimatedPromptTokens, 42);
    assert.equal(r.provider, null);
  });
});
