/**
 * The OpenRouter drop-in, end to end: the official `@openrouter/sdk` (a root devDependency,
 * pinned), unchanged but for `serverURL` and the API key, against the running platform at both
 * `<gateway>/v1` and OpenRouter's `<gateway>/api/v1`. The SDK validates every response with its
 * own zod schemas and throws on a mismatch, so each call here passing means the shape is
 * accepted; the assertions then check that what it parsed carries the real values (the catalog's
 * prices, the tokens the simulator produced, the charges the ledger booked), not placeholders.
 *
 * Each prefix gets a fresh tenant, so its credits, key usage and activity are exactly what these
 * tests spent.
 */
import assert from 'node:assert/strict';
import { before, describe, test } from 'node:test';
import { OpenRouter } from '@openrouter/sdk';
import {
  NotFoundResponseError,
  OpenRouterError,
  UnauthorizedResponseError,
} from '@openrouter/sdk/models/errors';
import { expectedContent, seedTenant } from '@turnpike/testing';
import { ctx, eventually, marker } from '../support/context.js';

type Json = Record<string, unknown>;

const CREDITS = 5; // dollars granted to each prefix's tenant
/** The test catalog's sim-small prices, in micro-units per million tokens. */
const SMALL = { prompt: 150_000, completion: 600_000 };
const upstreamMicros = (prompt: number, completion: number) =>
  Math.ceil((prompt * SMALL.prompt + completion * SMALL.completion) / 1_000_000);
const micros = (usd: number) => Math.round(usd * 1_000_000);
const APP = { referer: 'https://sdk-app.example', title: 'SDK App' };

async function raw(path: string, key?: string): Promise<{ status: number; body: Json }> {
  const res = await fetch(`${ctx().gatewayUrl}${path}`, {
    headers: key ? { authorization: `Bearer ${key}` } : {},
  });
  return { status: res.status, body: (await res.json()) as Json };
}

/** What the SDK threw, or a failure if it did not. */
async function rejection(p: Promise<unknown>): Promise<unknown> {
  try {
    await p;
  } catch (e) {
    return e;
  }
  assert.fail('the call succeeded; an error was expected');
}

for (const prefix of ['/v1', '/api/v1'] as const) {
  describe(`@openrouter/sdk at <gateway>${prefix}`, () => {
    let sdk: OpenRouter;
    let tenant: { tenantId: string; keyId: string; key: string };
    const keyName = `sdk-key-${prefix === '/v1' ? 'v1' : 'api'}`;
    /** The completions made below: id, cost (micro-units) and tokens. */
    const made: Array<{ id: string; costMicros: number; prompt: number; completion: number }> = [];

    before(async () => {
      const id = `or-sdk-${Math.random().toString(36).slice(2, 8)}`;
      tenant = await seedTenant(
        ctx().gatewayUrl,
        ctx().adminToken,
        { id, name: `SDK ${prefix}` },
        keyName,
        CREDITS,
      );
      sdk = new OpenRouter({
        apiKey: tenant.key,
        serverURL: `${ctx().gatewayUrl}${prefix}`,
        // App attribution, as the SDK sends it (`HTTP-Referer`, `X-OpenRouter-Title`).
        httpReferer: APP.referer,
        appTitle: APP.title,
      });
    });

    test('models.list: the catalog with its real prices; paging, filters and count', async () => {
      const all: string[] = [];
      let totalCount = -1;
      for await (const page of await sdk.models.list()) {
        totalCount = page.result.totalCount;
        all.push(...page.result.data.map((m) => m.id));
      }
      assert.ok(all.includes('turnpike/sim-small') && all.includes('turnpike/sim-multi'), `${all}`);
      assert.equal(totalCount, all.length);

      const first = await sdk.models.list();
      const small = first.result.data.find((m) => m.id === 'turnpike/sim-small')!;
      assert.equal(small.name, 'Turnpike: Simulator Small');
      assert.equal(small.contextLength, 8192);
      assert.equal(small.canonicalSlug, 'turnpike/sim-small');
      assert.deepEqual(small.architecture.inputModalities, ['text']);
      assert.equal(small.pricing.prompt, '0.00000015');
      assert.equal(small.pricing.completion, '0.0000006');
      assert.equal(small.topProvider.maxCompletionTokens, 4096);
      assert.equal(small.links.details, `${prefix}/models/turnpike/sim-small/endpoints`);

      // Pages of two, followed by the SDK's own iterator, give the same list.
      const paged: string[] = [];
      let pages = 0;
      for await (const page of await sdk.models.list({ limit: 2 })) {
        pages++;
        assert.ok(page.result.data.length <= 2);
        assert.equal(page.result.totalCount, all.length);
        paged.push(...page.result.data.map((m) => m.id));
      }
      assert.deepEqual(paged, all);
      assert.equal(pages, Math.ceil(all.length / 2) + (all.length % 2 === 0 ? 1 : 0));

      const images = (await sdk.models.list({ inputModalities: 'image' })).result;
      assert.ok(images.data.some((m) => m.id === 'turnpike/sim-large'));
      assert.ok(!images.data.some((m) => m.id === 'turnpike/sim-small'));
      assert.equal(images.totalCount, images.data.length);
      assert.ok(images.totalCount < all.length);

      const count = await sdk.models.count();
      assert.equal(count.data.count, all.length);
    });

    test('models.get and endpoints.list: one model and its endpoints', async () => {
      const one = await sdk.models.get({ author: 'turnpike', slug: 'sim-large' });
      assert.equal(one.data.id, 'turnpike/sim-large');
      assert.equal(one.data.contextLength, 128000);
      assert.deepEqual(one.data.architecture.inputModalities, ['text', 'image']);

      const { data } = await sdk.endpoints.list({ author: 'turnpike', slug: 'sim-multi' });
      assert.equal(data.id, 'turnpike/sim-multi');
      const byProvider = new Map(data.endpoints.map((e) => [e.tag, e]));
      assert.deepEqual([...byProvider.keys()].sort(), ['sim', 'sim-b', 'sim-c']);
      assert.equal(byProvider.get('sim')!.pricing.prompt, '0.0000001');
      assert.equal(byProvider.get('sim-b')!.pricing.completion, '0.0000008');
      assert.equal(byProvider.get('sim-c')!.contextLength, 8192);
      for (const e of data.endpoints) assert.equal(e.modelId, 'turnpike/sim-multi');
    });

    test('chat.send, unary: the completion, its usage and cost', async () => {
      const text = `sdk unary ${marker('or-unary')}`;
      const res = await sdk.chat.send({
        chatRequest: {
          model: 'turnpike/sim-small',
          messages: [{ role: 'user', content: `${text} [[sim tokens=9]]` }],
        },
      });
      assert.ok(!(res instanceof ReadableStream), 'a unary request gets a ChatResult');
      assert.match(res.id, /^gen-/);
      assert.equal(res.model, 'turnpike/sim-small');
      assert.equal(res.object, 'chat.completion');
      const choice = res.choices[0]!;
      assert.equal(choice.message.content, expectedContent(text, 9));
      assert.equal(choice.finishReason, 'stop');
      const usage = res.usage!;
      assert.equal(usage.completionTokens, 9);
      assert.ok(usage.promptTokens > 0);
      assert.equal(usage.totalTokens, usage.promptTokens + 9);
      assert.ok(micros(usage.cost!) >= upstreamMicros(usage.promptTokens, 9), `${usage.cost}`);
      made.push({
        id: res.id,
        costMicros: micros(usage.cost!),
        prompt: usage.promptTokens,
        completion: 9,
      });
    });

    test('chat.send, streamed with usage: the chunks, the final usage and cost', async () => {
      const text = `sdk stream ${marker('or-stream')}`;
      const stream = await sdk.chat.send({
        chatRequest: {
          model: 'turnpike/sim-small',
          stream: true,
          streamOptions: { includeUsage: true },
          messages: [{ role: 'user', content: `${text} [[sim tokens=7]]` }],
        },
      });
      assert.ok(stream instanceof ReadableStream, 'a streamed request gets an event stream');
      const chunks = [];
      for await (const chunk of stream) chunks.push(chunk);
      assert.ok(chunks.length >= 8, `${chunks.length} chunks`);
      const ids = new Set(chunks.map((c) => c.id));
      assert.equal(ids.size, 1, 'every chunk carries the generation id');
      const id = chunks[0]!.id;
      assert.match(id, /^gen-/);
      const content = chunks.map((c) => c.choices[0]?.delta.content ?? '').join('');
      assert.equal(content, expectedContent(text, 7));
      assert.equal(chunks.map((c) => c.choices[0]?.finishReason).find(Boolean), 'stop');
      for (const c of chunks) assert.equal(c.model, 'turnpike/sim-small');
      for (const c of chunks.slice(0, -1)) assert.equal(c.usage, undefined);
      const last = chunks.at(-1)!;
      assert.deepEqual(last.choices, []);
      const usage = last.usage!;
      assert.equal(usage.completionTokens, 7);
      assert.ok(usage.promptTokens > 0);
      assert.ok(micros(usage.cost!) >= upstreamMicros(usage.promptTokens, 7), `${usage.cost}`);
      made.push({ id, costMicros: micros(usage.cost!), prompt: usage.promptTokens, completion: 7 });
    });

    test('generations.getGeneration: the stored record of each completion', async () => {
      assert.equal(made.length, 2, 'the two completions above ran');
      for (const [i, m] of made.entries()) {
        // Usage events reach billing asynchronously: 404 until it has booked this one.
        const g = await eventually(async () => {
          try {
            return (await sdk.generations.getGeneration({ id: m.id })).data;
          } catch (e) {
            if (e instanceof NotFoundResponseError) return null;
            throw e;
          }
        }, `generation ${m.id}`);
        assert.equal(g.id, m.id);
        assert.equal(g.model, 'turnpike/sim-small');
        assert.equal(g.providerName, 'sim');
        assert.equal(g.streamed, i === 1);
        assert.equal(g.cancelled, false);
        assert.equal(g.finishReason, 'stop');
        assert.equal(g.tokensPrompt, m.prompt);
        assert.equal(g.tokensCompletion, m.completion);
        assert.equal(micros(g.totalCost), m.costMicros, 'the cost the client was shown');
        assert.equal(micros(g.usage), m.costMicros);
        assert.equal(micros(g.upstreamInferenceCost!), upstreamMicros(m.prompt, m.completion));
        assert.ok(g.latency !== null && g.latency > 0);
        assert.equal(g.providerResponses?.length, 1);
        assert.ok(!Number.isNaN(Date.parse(g.createdAt)));
        assert.equal(g.httpReferer, APP.referer);
        assert.equal(g.origin, APP.referer);
        // The SDK's schema has no app title; the raw record keeps it.
        const rec = await raw(`${prefix}/generation?id=${m.id}`, tenant.key);
        assert.equal((rec.body['data'] as Json)['app_title'], APP.title);
      }
    });

    test('apiKeys.getCurrentKeyMetadata, credits.getCredits, analytics.getUserActivity', async () => {
      const spent = made.reduce((n, m) => n + m.costMicros, 0);
      assert.ok(spent > 0);
      const key = await eventually(async () => {
        const k = (await sdk.apiKeys.getCurrentKeyMetadata()).data;
        return micros(k.usage) === spent && k;
      }, `the key's usage to reach ${spent} micro-units`);
      assert.equal(key.label, keyName);
      assert.equal(micros(key.usageDaily), spent);
      assert.equal(key.limit, null);
      assert.equal(key.isFreeTier, false);
      assert.equal(key.organizationId, tenant.tenantId);

      const credits = (await sdk.credits.getCredits()).data;
      assert.equal(credits.totalCredits, CREDITS);
      assert.equal(micros(credits.totalUsage), spent);

      const today = new Date().toISOString().slice(0, 10);
      const rows = await eventually(async () => {
        const r = (await sdk.analytics.getUserActivity()).data;
        return r.reduce((n, x) => n + x.requests, 0) === made.length && r;
      }, 'the activity of both completions');
      assert.equal(rows.length, 1, JSON.stringify(rows));
      const row = rows[0]!;
      assert.equal(row.date.slice(0, 10), today);
      assert.equal(row.model, 'turnpike/sim-small');
      assert.equal(row.providerName, 'sim');
      assert.equal(row.endpointId, 'turnpike/sim-small@sim');
      assert.equal(micros(row.usage), spent);
      assert.equal(
        row.promptTokens,
        made.reduce((n, m) => n + m.prompt, 0),
      );
      assert.equal(row.completionTokens, 16);
    });

    test('errors surface as the SDK typed errors: unknown model (404), bad key (401)', async () => {
      const notFound = await rejection(
        sdk.chat.send({
          chatRequest: {
            model: 'turnpike/no-such-model',
            messages: [{ role: 'user', content: 'hello' }],
          },
        }),
      );
      assert.ok(notFound instanceof NotFoundResponseError, String(notFound));
      assert.equal(notFound.statusCode, 404);
      assert.equal(notFound.error.code, 404);
      assert.match(notFound.error.message, /turnpike\/no-such-model/);
      assert.equal(notFound.error.metadata?.['error_type'], 'model_not_found');

      const bad = new OpenRouter({
        apiKey: 'sk-tp-v1-not-a-real-key',
        serverURL: `${ctx().gatewayUrl}${prefix}`,
      });
      const unauthorized = await rejection(
        bad.chat.send({
          chatRequest: { model: 'turnpike/sim-small', messages: [{ role: 'user', content: 'x' }] },
        }),
      );
      assert.ok(unauthorized instanceof UnauthorizedResponseError, String(unauthorized));
      assert.equal(unauthorized.error.code, 401);
      const keyErr = await rejection(bad.apiKeys.getCurrentKeyMetadata());
      assert.ok(keyErr instanceof UnauthorizedResponseError, String(keyErr));

      // A generation that is not the caller's: the typed 404, not a validation error.
      const missing = await rejection(sdk.generations.getGeneration({ id: 'gen-0-nothing' }));
      assert.ok(missing instanceof NotFoundResponseError, String(missing));
      assert.ok(missing instanceof OpenRouterError);
    });
  });
}

test('the raw error body under /api/v1 is OpenRouter dialect, under /v1 (no SDK) OpenAI', async () => {
  const key = ctx().tenants[0]!.key;
  const or = await raw('/api/v1/models/turnpike/nope', key);
  const oa = await raw('/v1/models/turnpike/nope', key);
  assert.equal(or.status, 404);
  assert.equal(oa.status, 404);
  const orErr = or.body['error'] as Json;
  const oaErr = oa.body['error'] as Json;
  assert.equal(orErr['code'], 404);
  assert.deepEqual(orErr['metadata'], { error_type: 'model_not_found' });
  assert.equal(oaErr['code'], 'model_not_found');
  assert.equal(orErr['message'], oaErr['message']);
});
