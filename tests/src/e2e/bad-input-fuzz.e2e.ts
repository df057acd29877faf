/**
 * Property-based fuzzing of every public route of the gateway (fast-check, seeded and bounded):
 * random JSON values and mutations of valid bodies, random query strings, path segments, headers
 * and credentials. The property: never a 5xx (no generated text carries a `[[sim` fault knob, so
 * no upstream failure was asked for), every 4xx is JSON in the client's error dialect (OpenAI's
 * `ErrorResponse`, or OpenRouter's numeric code under `/api/v1`) with an `X-Trace-Id`, every
 * stream ends with `[DONE]` and no error event, and the platform stays up.
 *
 * `TURNPIKE_FUZZ_SEED` (default {@link DEFAULT_SEED}) and `TURNPIKE_FUZZ_RUNS` (runs per
 * property, default {@link DEFAULT_RUNS}) make a run reproducible or longer. On failure
 * fast-check prints the seed, the path and the (shrunk) counterexample.
 *
 * Admin routes are fuzzed with every kind of credential; with the admin token, what they can
 * change is kept to ids of the fuzz's own (`fuzz-...` tenants, providers and models, markups of
 * a fuzz tenant), so the suites that share this platform keep their catalog, markups and credits.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import fc from 'fast-check';
import { loadOpenAISpecValidators, seedTenant } from '@turnpike/testing';
import { ctx, marker } from '../support/context.js';
import { assertPlatformHealthy, send, type RawAnswer } from '../support/http.js';

const DEFAULT_SEED = 20_261_207;
const DEFAULT_RUNS = 100;

function intFromEnv(name: string, fallback: number, min: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < min) throw new Error(`${name} must be an integer >= ${min}`);
  return n;
}

const SEED = intFromEnv('TURNPIKE_FUZZ_SEED', DEFAULT_SEED, -(2 ** 31));
const RUNS = intFromEnv('TURNPIKE_FUZZ_RUNS', DEFAULT_RUNS, 1);

const spec = loadOpenAISpecValidators();

/**
 * The fuzz's own fixtures, so that nothing it does touches what the other suites use: a tenant
 * whose key sends the tenant requests (spending its own credits), a tenant and key that the
 * admin requests may change (credits, keys, limits), a model (with an endpoint at `sim`) they
 * may change or delete, and a tenant id for markup rules. Paths name them with placeholders,
 * filled in when the request is sent.
 */
const FIXTURE = {
  tenant: '{target-tenant}',
  key: '{target-key}',
  author: 'fuzz-fixture',
  slug: 'model',
  markupTenant: 'fuzz-markups',
};
const fixtures = { chatKey: '', targetTenant: '', targetKey: '' };

const fill = (text: string) =>
  text
    .replaceAll(FIXTURE.tenant, fixtures.targetTenant)
    .replaceAll(FIXTURE.key, fixtures.targetKey);

before(async () => {
  const { gatewayUrl, adminToken } = ctx();
  fixtures.chatKey = (
    await seedTenant(gatewayUrl, adminToken, { id: `fuzz-${marker('chat')}`, name: 'Fuzz' })
  ).key;
  const target = await seedTenant(
    gatewayUrl,
    adminToken,
    { id: `fuzz-${marker('target')}`, name: 'Fuzz target' },
    'target',
    0,
  );
  fixtures.targetTenant = target.tenantId;
  fixtures.targetKey = target.keyId;
  const model = `${FIXTURE.author}/${FIXTURE.slug}`;
  for (const [path, body] of [
    [`models/${model}`, { name: 'Fuzz fixture', context_length: 8192 }],
    [
      `models/${model}/endpoints/sim`,
      {
        upstream_model: 'sim-gpt-small',
        pricing: { prompt: '1', completion: '1' },
        context_length: 8192,
      },
    ],
  ] as const) {
    const r = await send('PUT', `/admin/catalog/${path}`, { auth: 'admin', body });
    assert.equal(r.status, 200, r.text);
  }
});

/** What the admin requests created goes again: models by fuzz authors and the fuzz's markups. */
after(async () => {
  // The admin model list pages: every page, then the deletions.
  const fuzzModels: string[] = [];
  for (let next: string | null = '/admin/catalog/models?limit=500'; next !== null;) {
    const page = (await send('GET', next, { auth: 'admin' })).json as {
      data: Array<{ id: string }>;
      links: { next: string | null };
    };
    fuzzModels.push(...page.data.map((m) => m.id).filter((id) => id.startsWith('fuzz-')));
    next = page.links.next;
  }
  for (const id of fuzzModels)
    await send('DELETE', `/admin/catalog/models/${id}`, { auth: 'admin' });
  const markups = await send('GET', '/admin/markups', { auth: 'admin' });
  for (const r of (
    markups.json as { data: Array<{ tenant_id: string | null; model: string | null }> }
  ).data)
    if (r.tenant_id === FIXTURE.markupTenant)
      await send(
        'DELETE',
        `/admin/markups?tenant_id=${FIXTURE.markupTenant}${r.model ? `&model=${encodeURIComponent(r.model)}` : ''}`,
        { auth: 'admin' },
      );
});

// --- hostile building blocks ----------------------------------------------------------------

const noKnob = (s: string) => !s.toLowerCase().includes('[[sim');

/** Text that breaks naive code: NUL, surrogates, RTL, huge, numeric-looking, prototype keys. */
const hostileString: fc.Arbitrary<string> = fc
  .oneof(
    { weight: 4, arbitrary: fc.string({ unit: 'binary', maxLength: 24 }) },
    { weight: 2, arbitrary: fc.string({ maxLength: 12 }) },
    {
      weight: 3,
      arbitrary: fc.constantFrom(
        '',
        '\u0000',
        'a\u0000b',
        '\ud800',
        '\udfff\ud800',
        '\u202e\u2066evil',
        '\ufeff',
        '\uffff',
        'NaN',
        'Infinity',
        '-Infinity',
        '-1',
        '0',
        '1e308',
        '-0',
        '0x10',
        'null',
        'true',
        '__proto__',
        'constructor',
        'prototype',
        'toString',
        '%00',
        '%',
        '%zz',
        '../..',
        '/',
        '\\',
        ' ',
        '\r\n',
        '😀👩‍👩‍👧',
        'turnpike/sim-small',
        'gen-00000000-0000',
        'x'.repeat(5000),
        '日本語'.repeat(300),
      ),
    },
  )
  .filter(noKnob);

const hostileNumber: fc.Arbitrary<number> = fc.oneof(
  fc.integer(),
  fc.double(),
  fc.constantFrom(
    0,
    -0,
    -1,
    0.5,
    1e308,
    -1e308,
    5e-324,
    2 ** 31 - 1,
    2 ** 31,
    2 ** 53,
    2 ** 53 + 2,
    1e21,
    Number.MAX_SAFE_INTEGER,
  ),
);

const deepArray = fc
  .integer({ min: 30, max: 90 })
  .map((d) => JSON.parse(`${'['.repeat(d)}${']'.repeat(d)}`) as unknown);

const hugeArray = fc
  .tuple(fc.integer({ min: 1000, max: 20_000 }), fc.constantFrom<unknown>(0, 'a', null, {}, []))
  .map(([n, v]) => Array.from({ length: n }, () => v));

/** Any JSON-ish value, hostile leaves included, some deeply nested or huge. */
const hostileValue: fc.Arbitrary<unknown> = fc.letrec<{ value: unknown }>((tie) => ({
  value: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    { weight: 4, arbitrary: hostileString },
    { weight: 3, arbitrary: hostileNumber },
    { weight: 1, arbitrary: fc.boolean() },
    { weight: 1, arbitrary: fc.constant(null) },
    { weight: 2, arbitrary: fc.array(tie('value'), { maxLength: 4 }) },
    { weight: 2, arbitrary: fc.dictionary(hostileString, tie('value'), { maxKeys: 4 }) },
    { weight: 1, arbitrary: deepArray },
    { weight: 1, arbitrary: hugeArray },
  ),
})).value;

/** Percent-encoding as a client does it (lone surrogates become U+FFFD, as in UTF-8). */
const encode = (s: string) =>
  encodeURIComponent(
    s.replace(/[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g, '\ufffd'),
  );

/** A path segment, percent-encoded as a client would send it (and some raw oddities). */
const segment: fc.Arbitrary<string> = fc.oneof(
  { weight: 5, arbitrary: hostileString.map(encode) },
  {
    weight: 1,
    arbitrary: fc.constantFrom(
      '%',
      '%zz',
      '%00',
      '%2F',
      '..',
      '.',
      '%2e%2e',
      ';',
      'a%2Fb',
      '%C3%28',
      '%ED%A0%80',
      '%FF',
    ),
  },
  { weight: 1, arbitrary: fc.constant('a'.repeat(300)) },
);

/** A query string: random keys and values, repeated keys, malformed escapes. */
const query = (keys: readonly string[]): fc.Arbitrary<string> =>
  fc
    .array(
      fc.oneof(
        fc
          .tuple(
            fc.oneof(fc.constantFrom(...keys), hostileString),
            fc.oneof(hostileString, hostileNumber.map(String)),
          )
          .map(([k, v]) => `${encode(k)}=${encode(v)}`),
        fc.constantFrom(
          '&',
          '=',
          '%',
          'a=%zz',
          'id=%FF',
          'date=%ED%A0%80',
          '==',
          'a[b]=1',
          'a[]=1',
          'id',
          '__proto__[x]=1',
        ),
      ),
      { maxLength: 5 },
    )
    .map((parts) => (parts.length === 0 ? '' : `?${parts.join('&')}`));

/** Extra headers a client could send (names and values Node accepts). */
const headers: fc.Arbitrary<Record<string, string>> = fc
  .array(
    fc.tuple(
      fc.oneof(
        fc.constantFrom(
          'content-type',
          'accept',
          'user-agent',
          'http-referer',
          'x-title',
          'traceparent',
          'tracestate',
          'idempotency-key',
          'x-forwarded-for',
          'accept-encoding',
          'content-encoding',
          'x-sim-tokens',
        ),
        fc.stringMatching(/^x-[a-z0-9-]{1,16}$/),
      ),
      fc.oneof(
        fc.stringMatching(/^[\x20-\x7e]{0,40}$/),
        fc.constantFrom(
          'application/json',
          'application/json; charset=utf-16',
          'text/plain',
          'application/x-www-form-urlencoded',
          'multipart/form-data; boundary=x',
          '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01',
          '00-zzzz-zzzz-01',
          'openrouter',
          'gzip',
          'x'.repeat(2000),
        ),
      ),
    ),
    { maxLength: 3 },
  )
  .map((pairs) => Object.fromEntries(pairs.filter(([, v]) => !/\[\[sim/i.test(v))));

/** Credentials: the fuzz tenant's key, none, the admin token, or a made-up bearer token. */
type Auth = 'tenant' | 'none' | 'admin' | { bearer: string };
const madeUpBearer: fc.Arbitrary<Auth> = fc
  .oneof(hostileString, fc.constantFrom('sk-tp-v1-', 'sk-tp-v1-xxxx', 'adm-'))
  .map((s): Auth => ({ bearer: s.replace(/[^\x21-\x7e]/g, 'x') || 'x' }));
/** Mostly the credential the route wants (so requests get past the guard), sometimes another. */
const authFavouring = (wanted: 'tenant' | 'admin'): fc.Arbitrary<Auth> =>
  fc.oneof(
    { weight: 6, arbitrary: fc.constant<Auth>(wanted) },
    { weight: 1, arbitrary: fc.constant<Auth>(wanted === 'admin' ? 'tenant' : 'admin') },
    { weight: 1, arbitrary: fc.constant<Auth>('none') },
    { weight: 1, arbitrary: madeUpBearer },
  );
const auth = authFavouring('tenant');

// --- requests ---------------------------------------------------------------------------------

interface FuzzRequest {
  method: string;
  path: string;
  auth: Auth;
  headers: Record<string, string>;
  body?: unknown;
}

const prefix = fc.constantFrom('/v1', '/api/v1');

/** Sets `value` at a dotted path of a copy of `base` (or deletes it). */
function mutate(base: Record<string, unknown>, path: string, value: unknown, del: boolean) {
  const copy = structuredClone(base);
  const keys = path.split('.');
  let cur: Record<string, unknown> = copy;
  for (const k of keys.slice(0, -1)) {
    const next = cur[k];
    if (typeof next !== 'object' || next === null) cur[k] = {};
    cur = cur[k] as Record<string, unknown>;
  }
  const last = keys.at(-1)!;
  if (del) delete cur[last];
  else cur[last] = value;
  return copy;
}

const CHAT_PATHS = [
  'model',
  'models',
  'messages',
  'messages.0',
  'messages.0.role',
  'messages.0.content',
  'messages.0.name',
  'messages.1',
  'max_tokens',
  'max_completion_tokens',
  'temperature',
  'top_p',
  'n',
  'stream',
  'stream_options',
  'stream_options.include_usage',
  'stop',
  'seed',
  'logit_bias',
  'logprobs',
  'top_logprobs',
  'tools',
  'tool_choice',
  'response_format',
  'response_format.json_schema',
  'response_format.json_schema.schema',
  'provider',
  'provider.only',
  'provider.order',
  'provider.sort',
  'provider.max_price',
  'provider.max_price.prompt',
  'provider.quantizations',
  'provider.require_parameters',
  'reasoning',
  'usage',
  'metadata',
  'user',
  'transforms',
  'plugins',
  'prediction',
  'modalities',
  'service_tier',
] as const;

/** A chat body that passes validation more often than not, so requests reach routing and the upstream. */
const plausibleChat: fc.Arbitrary<Record<string, unknown>> = fc
  .record(
    {
      model: fc.constantFrom(
        'turnpike/sim-small',
        'turnpike/sim-large',
        'turnpike/sim-small:floor',
        'turnpike/sim-multi:nitro',
      ),
      content: fc.oneof(
        hostileString,
        fc.array(
          fc.oneof(
            hostileString.map((text) => ({ type: 'text', text })),
            fc.constant({ type: 'image_url', image_url: { url: 'data:image/png;base64,AAAA' } }),
          ),
          { minLength: 1, maxLength: 3 },
        ),
      ),
      max_tokens: fc.oneof(fc.integer({ min: 1, max: 64 }), fc.constantFrom(2 ** 31, 2 ** 53 - 1)),
      n: fc.integer({ min: 1, max: 4 }),
      stream: fc.boolean(),
      temperature: fc.double({ min: 0, max: 2, noNaN: true }),
      provider: fc.record(
        {
          only: fc.array(fc.oneof(fc.constantFrom('sim', 'sim-b'), hostileString), {
            maxLength: 2,
          }),
          sort: fc.constantFrom('price', 'throughput', 'latency'),
          max_price: fc.record({ prompt: fc.oneof(hostileNumber, fc.constantFrom('0.1', '1e3')) }),
          allow_fallbacks: fc.boolean(),
          require_parameters: fc.boolean(),
          data_collection: fc.constantFrom('allow', 'deny'),
        },
        { requiredKeys: [] },
      ),
      response_format: fc.oneof(
        fc.constant({ type: 'json_object' }),
        hostileValue.map((schema) => ({
          type: 'json_schema',
          json_schema: {
            name: 'fuzz',
            schema:
              typeof schema === 'object' && schema !== null && !Array.isArray(schema) ? schema : {},
          },
        })),
      ),
      tools: fc.array(
        hostileValue.map((parameters) => ({
          type: 'function',
          function: {
            name: 'f',
            parameters:
              typeof parameters === 'object' && parameters !== null && !Array.isArray(parameters)
                ? parameters
                : {},
          },
        })),
        { minLength: 1, maxLength: 2 },
      ),
      models: fc.array(fc.oneof(fc.constant('turnpike/sim-large'), hostileString), {
        maxLength: 3,
      }),
    },
    { requiredKeys: ['model', 'content'] },
  )
  .map(({ content, stream, ...rest }) => ({
    ...rest,
    ...(stream ? { stream: true, stream_options: { include_usage: true } } : {}),
    messages: [{ role: 'user', content }],
  }));

const chatBody: fc.Arbitrary<unknown> = fc.oneof(
  { weight: 4, arbitrary: plausibleChat },
  {
    weight: 4,
    arbitrary: fc
      .tuple(
        plausibleChat,
        fc.array(
          fc.tuple(
            fc.oneof(
              fc.constantFrom(...CHAT_PATHS),
              hostileString.filter((s) => s.length > 0 && !s.includes('.')),
            ),
            hostileValue,
            fc.boolean(),
          ),
          { minLength: 1, maxLength: 3 },
        ),
      )
      .map(([base, muts]) => muts.reduce((b, [p, v, del]) => mutate(b, p, v, del), base)),
  },
  { weight: 1, arbitrary: hostileValue },
  { weight: 1, arbitrary: hostileString.map((s) => `{"model": ${s}`) },
);

const chatRequest: fc.Arbitrary<FuzzRequest> = fc.record({
  method: fc.constant('POST'),
  path: fc.tuple(prefix, query(['stream', 'x'])).map(([p, q]) => `${p}/chat/completions${q}`),
  auth,
  headers,
  body: chatBody.map((b) => (typeof b === 'string' ? b : JSON.stringify(b))),
});

/** The public catalog and the tenant's reads, with random segments and query strings. */
const readRequest: fc.Arbitrary<FuzzRequest> = fc.record({
  method: fc.constantFrom('GET', 'GET', 'GET', 'HEAD', 'POST', 'DELETE'),
  path: fc
    .tuple(
      prefix,
      fc.oneof(
        fc.constant('/models'),
        segment.map((s) => `/models/${s}`),
        fc.tuple(segment, segment).map(([a, s]) => `/models/${a}/${s}`),
        fc.tuple(segment, segment).map(([a, s]) => `/model/${a}/${s}`),
        fc.tuple(segment, segment).map(([a, s]) => `/models/${a}/${s}/endpoints`),
        fc.constantFrom('/models/turnpike/sim-small', '/models/turnpike%2Fsim-small/endpoints'),
        fc.constant('/credits'),
        fc.constant('/key'),
        fc.constant('/generation'),
        fc.constant('/activity'),
      ),
      query([
        'offset',
        'limit',
        'supported_parameters',
        'input_modalities',
        'output_modalities',
        'q',
        'id',
        'date',
        'days',
        'format',
        'key_id',
      ]),
    )
    .map(([p, route, q]) => `${p}${route}${q}`),
  auth,
  headers,
});

/**
 * The admin API with every credential. Without the admin token every route is fair game (all
 * must be 401s); with it, a write names only the fuzz's own ids: new `fuzz-...` ids, or the
 * fixtures (the target tenant and key, the fixture model, the markup tenant).
 */
interface AdminIds {
  tenant: fc.Arbitrary<string>;
  key: fc.Arbitrary<string>;
  author: fc.Arbitrary<string>;
  slug: fc.Arbitrary<string>;
  /** A provider id to create or replace. */
  provider: fc.Arbitrary<string>;
  /** A provider id an endpoint names. */
  endpointProvider: fc.Arbitrary<string>;
}

const fuzzId = segment.map((s) => `fuzz-${s}`);
const anyIds: AdminIds = {
  tenant: segment,
  key: segment,
  author: segment,
  slug: segment,
  provider: segment,
  endpointProvider: segment,
};
const ownIds: AdminIds = {
  tenant: fc.oneof(fuzzId, fc.constant(FIXTURE.tenant)),
  key: fc.oneof(fuzzId, fc.constant(FIXTURE.key)),
  author: fc.oneof(fuzzId, fc.constant(FIXTURE.author)),
  slug: fc.oneof(segment, fc.constant(FIXTURE.slug)),
  provider: fuzzId,
  endpointProvider: fc.oneof(fuzzId, fc.constant('sim')),
};

/**
 * Amounts of money as the admin API takes them (decimal strings or numbers), mostly at the
 * boundaries: a few movements of these add up past what a safe integer of micro-units holds.
 */
const money: fc.Arbitrary<unknown> = fc.oneof(
  {
    weight: 4,
    arbitrary: fc.constantFrom(
      '1',
      '-5',
      '0.000001',
      '9007199254.740991',
      '9000000000',
      '8000000000',
      '999999999999.999999',
      '1e3',
      '0.0000001',
    ),
  },
  { weight: 1, arbitrary: hostileNumber },
  { weight: 1, arbitrary: hostileString },
);
/** Micro-units, mostly at the boundaries of safe integers. */
const micros: fc.Arbitrary<unknown> = fc.oneof(
  {
    weight: 4,
    arbitrary: fc.constantFrom(
      Number.MAX_SAFE_INTEGER,
      -Number.MAX_SAFE_INTEGER,
      9e15,
      8e15,
      2 ** 53 + 2,
      1e15,
      1,
    ),
  },
  { weight: 1, arbitrary: hostileNumber },
  { weight: 1, arbitrary: hostileString },
);

/** A body each admin route would take, with hostile values in its fields. */
const bodies = {
  tenant: fc.record(
    { name: hostileString, id: fc.oneof(fc.stringMatching(/^fuzz-[a-z0-9]{1,8}$/), hostileString) },
    { requiredKeys: ['name'] },
  ),
  key: fc.record({ name: hostileString }, { requiredKeys: [] }),
  credits: fc
    .tuple(
      fc.record(
        {
          kind: fc.oneof(fc.constantFrom('grant', 'adjustment', 'refund'), hostileString),
          note: hostileString,
          generation_id: fc.oneof(fc.constant('gen-00000000-0000'), hostileString),
          idempotency_key: hostileString,
        },
        { requiredKeys: ['idempotency_key'] },
      ),
      // Mostly exactly one amount, as the route wants.
      fc.oneof(
        { weight: 3, arbitrary: money.map((amount) => ({ amount })) },
        { weight: 3, arbitrary: micros.map((amount_micros) => ({ amount_micros })) },
        {
          weight: 1,
          arbitrary: fc
            .tuple(money, micros)
            .map(([amount, amount_micros]) => ({ amount, amount_micros })),
        },
        { weight: 1, arbitrary: fc.constant({}) },
      ),
    )
    .map(([b, amount]) => ({ ...b, ...amount })),
  limit: fc.record(
    {
      limit: fc.oneof(money, fc.constant(null)),
      limit_micros: fc.oneof(micros, fc.constant(null)),
      limit_reset: fc.oneof(fc.constantFrom('daily', 'weekly', 'monthly', null), hostileString),
    },
    { requiredKeys: [] },
  ),
  markup: fc.record(
    {
      model: fc.oneof(fc.constant('turnpike/sim-small'), hostileString, fc.constant(null)),
      percent_bps: fc.oneof(hostileNumber, fc.constantFrom(0, 100_000, 100_001)),
      fixed_fee: money,
      fixed_fee_micros: micros,
    },
    { requiredKeys: [] },
  ),
  provider: fc.record(
    { name: hostileString, kind: fc.oneof(fc.constant('openai'), hostileString) },
    { requiredKeys: [] },
  ),
  model: fc.record(
    {
      name: hostileString,
      context_length: fc.oneof(hostileNumber, fc.constant(8192)),
      description: hostileString,
      created: hostileNumber,
      input_modalities: fc.array(hostileString, { maxLength: 3 }),
      output_modalities: fc.array(fc.oneof(fc.constant('text'), hostileString), { maxLength: 3 }),
    },
    { requiredKeys: ['name', 'context_length'] },
  ),
  endpoint: fc.record(
    {
      upstream_model: hostileString,
      pricing: fc.record(
        {
          prompt: fc.oneof(money, fc.constant('0.5')),
          completion: fc.oneof(fc.constant('1'), money),
          cached_read: money,
          request: fc.oneof(fc.constant('9999999.999999'), money),
        },
        { requiredKeys: ['prompt', 'completion'] },
      ),
      context_length: fc.oneof(hostileNumber, fc.constantFrom(8192, 100_000_000)),
      max_output_tokens: fc.oneof(hostileNumber, fc.constant(null)),
      quantization: fc.oneof(hostileString, fc.constantFrom('fp8', null)),
      region: fc.oneof(hostileString, fc.constant(null)),
      data_collection: fc.oneof(fc.constantFrom('allow', 'deny'), hostileString),
      supported_parameters: fc.array(hostileString, { maxLength: 3 }),
      disabled: fc.oneof(fc.boolean(), hostileValue),
    },
    { requiredKeys: ['upstream_model', 'pricing', 'context_length'] },
  ),
} satisfies Record<string, fc.Arbitrary<unknown>>;

/** A route's body, sometimes with an unknown field, sometimes any value at all. */
const bodyOf = (b: fc.Arbitrary<unknown>): fc.Arbitrary<unknown> =>
  fc.oneof(
    { weight: 5, arbitrary: b },
    {
      weight: 1,
      arbitrary: fc
        .tuple(b, hostileString, hostileValue)
        .map(([x, k, v]) => (typeof x === 'object' && x !== null ? { ...x, [k]: v } : x)),
    },
    { weight: 1, arbitrary: hostileValue },
  );

type AdminRoute = [method: string, path: string, body: unknown];

const adminRoutes = (ids: AdminIds): fc.Arbitrary<AdminRoute> => {
  const model = fc.tuple(ids.author, ids.slug).map(([a, s]) => `${a}/${s}`);
  const endpoint = fc
    .tuple(model, ids.endpointProvider)
    .map(([m, p]) => `/admin/catalog/models/${m}/endpoints/${p}`);
  const route = (
    method: string,
    path: fc.Arbitrary<string>,
    body?: fc.Arbitrary<unknown>,
  ): fc.Arbitrary<AdminRoute> =>
    fc
      .tuple(path, body === undefined ? fc.constant(undefined) : bodyOf(body))
      .map(([p, b]): AdminRoute => [method, p, b]);
  return fc.oneof(
    route('POST', fc.constant('/admin/tenants'), bodies.tenant),
    route(
      'GET',
      ids.tenant.map((t) => `/admin/tenants/${t}`),
    ),
    route(
      'POST',
      ids.tenant.map((t) => `/admin/tenants/${t}/keys`),
      bodies.key,
    ),
    route(
      'GET',
      ids.tenant.map((t) => `/admin/tenants/${t}/keys`),
    ),
    route(
      'POST',
      ids.key.map((k) => `/admin/keys/${k}/disable`),
    ),
    route(
      'POST',
      ids.tenant.map((t) => `/admin/tenants/${t}/credits`),
      bodies.credits,
    ),
    route(
      'GET',
      ids.tenant.map((t) => `/admin/tenants/${t}/credits`),
    ),
    route(
      'PUT',
      fc.tuple(ids.tenant, ids.key).map(([t, k]) => `/admin/tenants/${t}/keys/${k}/limit`),
      bodies.limit,
    ),
    route('GET', fc.constant('/admin/markups')),
    route('PUT', fc.constant('/admin/markups'), bodies.markup),
    route(
      'DELETE',
      query(['model']).map(
        (q) => `/admin/markups?tenant_id=${FIXTURE.markupTenant}${q ? `&${q.slice(1)}` : ''}`,
      ),
    ),
    route('GET', fc.constant('/admin/catalog/providers')),
    route(
      'PUT',
      ids.provider.map((p) => `/admin/catalog/providers/${p}`),
      bodies.provider,
    ),
    route('GET', fc.constant('/admin/catalog/models')),
    route(
      'GET',
      model.map((m) => `/admin/catalog/models/${m}`),
    ),
    route(
      'PUT',
      model.map((m) => `/admin/catalog/models/${m}`),
      bodies.model,
    ),
    route(
      'DELETE',
      model.map((m) => `/admin/catalog/models/${m}`),
    ),
    route('PUT', endpoint, bodies.endpoint),
    route('DELETE', endpoint),
    route(
      'POST',
      fc.tuple(endpoint, fc.constantFrom('disable', 'enable')).map(([e, v]) => `${e}/${v}`),
    ),
    route('GET', fc.constant('/admin/billing/verify')),
  );
};

/** The money commands, with the admin token, on the fuzz's own tenant and key. */
const moneyRequest: fc.Arbitrary<FuzzRequest> = fc
  .oneof(
    {
      weight: 4,
      arbitrary: bodyOf(bodies.credits).map((b): AdminRoute => [
        'POST',
        `/admin/tenants/${FIXTURE.tenant}/credits`,
        b,
      ]),
    },
    bodyOf(bodies.limit).map((b): AdminRoute => [
      'PUT',
      `/admin/tenants/${FIXTURE.tenant}/keys/${FIXTURE.key}/limit`,
      b,
    ]),
    bodyOf(bodies.markup).map((b): AdminRoute => [
      'PUT',
      '/admin/markups',
      typeof b === 'object' && b !== null && !Array.isArray(b)
        ? { ...b, tenant_id: FIXTURE.markupTenant }
        : b,
    ]),
    fc.constant<AdminRoute>(['GET', `/admin/tenants/${FIXTURE.tenant}/credits`, undefined]),
    fc.constant<AdminRoute>(['GET', '/admin/billing/verify', undefined]),
  )
  .map(([method, path, body]): FuzzRequest => ({
    method,
    path,
    auth: 'admin',
    headers: {},
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  }));

const adminRequest: fc.Arbitrary<FuzzRequest> = authFavouring('admin').chain((a) => {
  const admin = a === 'admin';
  return fc
    .tuple(
      adminRoutes(admin ? ownIds : anyIds),
      headers,
      fc.option(hostileString.map(encode), { nil: undefined }),
    )
    .map(([[method, path, body], h, idem]): FuzzRequest => {
      // With the admin token, markup rules are only ever the markup tenant's.
      const markups = admin && method === 'PUT' && path === '/admin/markups';
      const b =
        markups && typeof body === 'object' && body !== null && !Array.isArray(body)
          ? { ...body, tenant_id: FIXTURE.markupTenant }
          : markups
            ? { tenant_id: FIXTURE.markupTenant, percent_bps: body }
            : body;
      return {
        method,
        path,
        auth: a,
        headers: idem === undefined || idem === '' ? h : { ...h, 'idempotency-key': idem },
        ...(b === undefined ? {} : { body: JSON.stringify(b) }),
      };
    });
});

/** Anything: random methods on random paths. */
const anyRequest: fc.Arbitrary<FuzzRequest> = fc.record({
  method: fc.constantFrom('GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS', 'HEAD'),
  path: fc
    .tuple(
      fc.constantFrom('', '/v1', '/api/v1', '/api', '/admin', '/health', '/v1/chat'),
      fc.array(segment, { maxLength: 4 }),
      query(['a', 'id']),
    )
    .map(([p, segs, q]) => `${p}/${segs.join('/')}${q}`),
  auth: auth.map((a): Auth => (a === 'admin' ? 'tenant' : a)),
  headers,
  body: fc.option(
    hostileValue.map((v) => JSON.stringify(v)),
    { nil: undefined },
  ),
});

// --- the property ---------------------------------------------------------------------------

const describeRequest = (r: FuzzRequest) =>
  `${r.method} ${fill(r.path).slice(0, 300)} auth=${JSON.stringify(r.auth)} headers=${JSON.stringify(r.headers).slice(0, 300)} body=${String(r.body).slice(0, 500)}`;

function dialectOf(r: FuzzRequest): 'openai' | 'openrouter' {
  if (r.path === '/api/v1' || /^\/api\/v1[/?]/.test(r.path)) return 'openrouter';
  const ua = Object.entries(r.headers).find(([k]) => k.toLowerCase() === 'user-agent')?.[1];
  return ua !== undefined && /openrouter/i.test(ua) ? 'openrouter' : 'openai';
}

/** Checks one answer; throws (with the request and the answer) when the property is broken. */
function checkAnswer(req: FuzzRequest, res: RawAnswer): void {
  const what = () => `${describeRequest(req)}\n→ ${res.status} ${res.text.slice(0, 800)}`;
  assert.ok(res.status >= 200 && res.status < 500, `a ${res.status}: ${what()}`);
  if (req.method === 'HEAD' || res.status === 204) return;
  const type = String(res.headers['content-type'] ?? '');
  if (res.status >= 400) {
    assert.match(type, /^application\/json/, `not JSON: ${what()}`);
    assert.match(String(res.headers['x-trace-id']), /^[0-9a-f]{32}$/, `no X-Trace-Id: ${what()}`);
    if (dialectOf(req) === 'openrouter') {
      const e = (res.json as { error?: { message?: unknown; code?: unknown } }).error;
      assert.equal(typeof e?.message, 'string', `not OpenRouter's error shape: ${what()}`);
      assert.equal(e?.code, res.status, `not OpenRouter's error shape: ${what()}`);
    } else {
      assert.deepEqual(spec.errorResponse(res.json), [], `not OpenAI's error shape: ${what()}`);
    }
    return;
  }
  if (type.startsWith('text/event-stream')) {
    assert.ok(res.text.endsWith('data: [DONE]\n\n'), `a stream without [DONE]: ${what()}`);
    assert.doesNotMatch(res.text, /"finish_reason":"error"/, `a stream that failed: ${what()}`);
  }
}

async function fuzz(name: string, arb: fc.Arbitrary<FuzzRequest>, runs = RUNS): Promise<void> {
  const statuses = new Map<number, number>();
  const started = Date.now();
  await fc.assert(
    fc.asyncProperty(arb, async (req) => {
      const res = await send(req.method, fill(req.path), {
        auth: req.auth === 'tenant' ? { bearer: fixtures.chatKey } : req.auth,
        headers: req.headers,
        ...(req.body !== undefined ? { body: req.body } : {}),
        timeoutMs: 20_000,
      });
      statuses.set(res.status, (statuses.get(res.status) ?? 0) + 1);
      checkAnswer(req, res);
    }),
    { seed: SEED, numRuns: runs, endOnFailure: false },
  );
  const summary = [...statuses.entries()].sort((a, b) => a[0] - b[0]);
  console.log(
    `[fuzz] ${name}: ${runs} runs in ${Date.now() - started} ms (seed ${SEED}), statuses ${summary.map(([s, n]) => `${s}×${n}`).join(' ')}`,
  );
}

describe(`fuzzing the public routes (seed ${SEED}, ${RUNS} runs per property)`, () => {
  test('POST /v1/chat/completions: random JSON and mutations of valid bodies', () =>
    fuzz('chat completions', chatRequest, RUNS * 3));

  test('the catalog and the tenant reads: random segments, query strings and headers', () =>
    fuzz('reads', readRequest, RUNS * 2));

  test('the admin API with every credential', () => fuzz('admin', adminRequest, RUNS * 2));

  test("the money commands on the fuzz's own tenant: credits, key limits, markups", () =>
    fuzz('money', moneyRequest));

  test('random methods on random paths', () => fuzz('anything', anyRequest));

  test('the gateway is still up and serving, every service ready', async () => {
    await assertPlatformHealthy();
    for (const url of ctx().gatewayUrls) {
      const res = await fetch(`${url}/health/live`);
      assert.equal(res.status, 200, url);
    }
  });
});
