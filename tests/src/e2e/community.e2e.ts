/**
 * Community figures on the running platform, over the real RPC path (gateway → analytics, and
 * the router for `/v1/providers`): three fresh tenants make real completions through the
 * gateway (A and B opt in, C does not), and a few usage events dated last week are produced on
 * the real topic. Then:
 * - rankings (OpenRouter's `rankings-daily`, `app-rankings`, `session-cost`, and our weekly
 *   rankings with the trend) count A and B, never C, except for C itself; `scope=own` is the
 *   caller alone; the figures are exactly the tokens and charges the completions reported;
 * - feedback only on one's own generations, reviews one per tenant and model (edited, deleted
 *   by their author only), ratings next to usage, operators hiding and unhiding a review;
 * - the per-tenant write limit answers 429 with Retry-After;
 * - comparison from real traffic on a model only this suite uses: success and fallback rates,
 *   TTFT, latency and throughput, prices and context from the catalog;
 * - `@openrouter/sdk` (`providers.list`, `datasets.getRankingsDaily`, `datasets.getAppRankings`,
 *   `datasets.getSessionCost`, `generations.submitFeedback`) accepts every answer;
 * - tenant isolation on every route (no key: 401; another tenant's data: never).
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import fc from 'fast-check';
import kafkajs from 'kafkajs';
import { OpenRouter } from '@openrouter/sdk';
import { NotFoundResponseError } from '@openrouter/sdk/models/errors';
import { TOPICS } from '@turnpike/contracts';
import { seedTenant, usageEventFixture } from '@turnpike/testing';
import { addTestModel, catalogAdmin, ctx, eventually, marker } from '../support/context.js';
import { assertOpenAIError, send, type RawAnswer } from '../support/http.js';

type Json = Record<string, unknown>;
type Tenant = { tenantId: string; keyId: string; key: string };

const SMALL = 'turnpike/sim-small';
const LARGE = 'turnpike/sim-large';
const MULTI = 'turnpike/sim-multi';
const APP = {
  a: 'https://community-a.example',
  b: 'https://community-b.example',
  c: 'https://community-c.example',
};
const DAY = 86_400_000;
const isoDay = (t: number) => new Date(t).toISOString().slice(0, 10);
const micros = (usd: number) => Math.round(usd * 1_000_000);

let A: Tenant;
let B: Tenant;
let C: Tenant;

const as = (t: Tenant) => ({ auth: { bearer: t.key } as const });
const get = (t: Tenant, path: string) => send('GET', path, as(t));
const json = (r: RawAnswer) => r.json as Json;
const data = (r: RawAnswer) => json(r)['data'] as Json[];

interface Made {
  tokens: Map<string, number>;
  generations: Array<{ id: string; model: string; micros: number }>;
}
/** What each tenant's completions reported, per model: tokens (prompt + completion) and charges. */
const made = new Map<string, Made>();

async function complete(t: Tenant, model: string, app: string, completion: number): Promise<void> {
  const r = await send('POST', '/v1/chat/completions', {
    ...as(t),
    headers: { 'http-referer': app },
    body: {
      model,
      messages: [
        {
          role: 'user',
          content: `${marker('community')} [[sim tokens=${completion} ttft_ms=0 tps=0]]`,
        },
      ],
    },
  });
  assert.equal(r.status, 200, r.text);
  const u = json(r)['usage'] as Json;
  const mine: Made = made.get(t.tenantId) ?? { tokens: new Map(), generations: [] };
  mine.tokens.set(
    model,
    (mine.tokens.get(model) ?? 0) +
      (u['prompt_tokens'] as number) +
      (u['completion_tokens'] as number),
  );
  mine.generations.push({
    id: json(r)['id'] as string,
    model,
    micros: micros(u['cost'] as number),
  });
  made.set(t.tenantId, mine);
}

const tokensOf = (t: Tenant, model: string) => made.get(t.tenantId)?.tokens.get(model) ?? 0;

/** Every model's tokens in a rankings-daily answer, summed over its dates (a run may span midnight). */
function byModel(rows: Json[]): Map<string, number> {
  const out = new Map<string, number>();
  for (const r of rows) {
    const m = r['model_permaslug'] as string;
    if (m !== 'other') out.set(m, (out.get(m) ?? 0) + Number(r['total_tokens']));
  }
  return out;
}

const window = () => `start_date=${isoDay(Date.now() - DAY)}&end_date=${isoDay(Date.now())}`;

/** Last week's event of A (same weekday, 5 s earlier than now, a week ago): the trend's base. */
const PAST = { prompt: 1200, completion: 800, micros: 4321 };

before(async () => {
  const seed = async (name: string, credits: number) =>
    seedTenant(
      ctx().gatewayUrl,
      ctx().adminToken,
      { id: `comm-${name}-${Math.random().toString(36).slice(2, 8)}`, name },
      'k',
      credits,
    );
  [A, B, C] = [await seed('a', 10), await seed('b', 10), await seed('c', 10)];

  // A and B opt in; C never does.
  for (const t of [A, B]) {
    const r = await send('PUT', '/v1/community/settings', { ...as(t), body: { opted_in: true } });
    assert.equal(r.status, 200, r.text);
  }

  // Real traffic: A on sim-small (three turns from its app), B on both, C on sim-multi only.
  for (let i = 0; i < 3; i++) await complete(A, SMALL, APP.a, 5 + i);
  await complete(B, SMALL, APP.b, 20);
  await complete(B, LARGE, APP.b, 30);
  await complete(C, MULTI, APP.c, 400);
  await complete(C, SMALL, APP.c, 300);

  // Last week's traffic, produced on the real topic as the gateway would have.
  const kafka = new kafkajs.Kafka({
    clientId: 'community-e2e',
    brokers: [ctx().kafkaBrokers],
    logLevel: kafkajs.logLevel.NOTHING,
  });
  const producer = kafka.producer();
  await producer.connect();
  try {
    const createdAt = new Date(Date.now() - 7 * DAY - 5_000).toISOString();
    const past = (t: Tenant, app: string, micros: number, prompt: number, completion: number) =>
      usageEventFixture(t.tenantId, micros, {
        keyId: t.keyId,
        createdAt,
        model: LARGE,
        requestedModel: LARGE,
        endpointId: `${LARGE}@sim`,
        app: { referer: app, title: null },
        tokens: { prompt, completion, cachedRead: 0, cacheWrite: 0, reasoning: 0 },
      });
    const events = [
      past(A, APP.a, PAST.micros, PAST.prompt, PAST.completion),
      // C's, last week: never in A's or B's figures.
      past(C, APP.c, 999, 90_000, 9_000),
    ];
    await producer.send({
      topic: TOPICS.usageEvents,
      messages: events.map((e) => ({ key: e.generationId, value: JSON.stringify(e) })),
    });
  } finally {
    await producer.disconnect();
  }
});

describe('opt-in', () => {
  test('each tenant its own setting; C never chose; bad bodies are 400s; no key is a 401', async () => {
    const c = await get(C, '/v1/community/settings');
    assert.equal(c.status, 200, c.text);
    assert.deepEqual(json(c)['data'], { opted_in: false, updated_at: null });
    const a = json(await get(A, '/v1/community/settings'))['data'] as Json;
    assert.equal(a['opted_in'], true);
    assert.ok(Date.parse(a['updated_at'] as string) > Date.now() - 600_000);
    assertOpenAIError(
      await send('PUT', '/v1/community/settings', { ...as(C), body: { opted_in: 'yes' } }),
      400,
      { param: 'opted_in' },
    );
    assertOpenAIError(
      await send('PUT', '/v1/community/settings', { ...as(C), body: { opted_in: true, extra: 1 } }),
      400,
    );
    assertOpenAIError(await send('GET', '/v1/community/settings', { auth: 'none' }), 401);
    // The admin token is not a tenant key.
    assertOpenAIError(await send('GET', '/v1/community/settings', { auth: 'admin' }), 401);
  });
});

describe('rankings on seeded traffic', () => {
  test('rankings-daily: A and B count, C (opted out) only for itself; scope=own is the caller', async () => {
    const expectAB = new Map([
      [SMALL, tokensOf(A, SMALL) + tokensOf(B, SMALL)],
      [LARGE, tokensOf(B, LARGE)],
    ]);
    const seenByA = await eventually(
      async () => {
        const r = await get(A, `/v1/datasets/rankings-daily?${window()}`);
        assert.equal(r.status, 200, r.text);
        const m = byModel(data(r));
        return m.get(SMALL) === expectAB.get(SMALL) && m.get(LARGE) === expectAB.get(LARGE) && m;
      },
      'A and B traffic in rankings-daily',
      30_000,
    );
    assert.equal(seenByA.has(MULTI), false, 'C opted out: its model is not in A’s rankings');
    assert.deepEqual([...seenByA.entries()].sort(), [...expectAB.entries()].sort());

    // C sees the community and itself.
    const seenByC = byModel(
      data(
        await eventually(
          async () => {
            const r = await get(C, `/v1/datasets/rankings-daily?${window()}`);
            return byModel(data(r)).get(MULTI) === tokensOf(C, MULTI) && r;
          },
          'C’s own traffic in its rankings',
          30_000,
        ),
      ),
    );
    assert.equal(seenByC.get(SMALL), expectAB.get(SMALL)! + tokensOf(C, SMALL));
    assert.equal(seenByC.get(LARGE), expectAB.get(LARGE));

    const own = byModel(data(await get(B, `/v1/datasets/rankings-daily?${window()}&scope=own`)));
    assert.deepEqual([...own.entries()].sort(), [
      [LARGE, tokensOf(B, LARGE)],
      [SMALL, tokensOf(B, SMALL)],
    ]);

    // OpenRouter's shape, rows in order within each date, `other` last.
    const r = json(await get(A, `/v1/datasets/rankings-daily?${window()}`));
    const rows = r['data'] as Json[];
    const lastOfDate = rows.filter((x, i) => rows[i + 1]?.['date'] !== x['date']);
    for (const x of lastOfDate) assert.equal(x['model_permaslug'], 'other');
    assert.deepEqual(r['meta'], {
      as_of: (r['meta'] as Json)['as_of'],
      start_date: isoDay(Date.now() - DAY),
      end_date: isoDay(Date.now()),
      version: 'v1',
    });
    assertOpenAIError(await get(A, `/v1/datasets/rankings-daily?category=programming`), 400, {
      param: 'category',
    });
    assertOpenAIError(await get(A, `/v1/datasets/rankings-daily?start_date=2026-13-01`), 400, {
      param: 'start_date',
    });
    assertOpenAIError(await send('GET', '/v1/datasets/rankings-daily', { auth: 'none' }), 401);
  });

  test('app-rankings: apps by tokens; C’s app only for C', async () => {
    const apps = (r: RawAnswer) =>
      data(r).map((a) => [
        a['rank'],
        a['app_name'],
        a['total_requests'],
        Number(a['total_tokens']),
      ]);
    const expected = [
      [APP.a, 3, tokensOf(A, SMALL)],
      [APP.b, 2, tokensOf(B, SMALL) + tokensOf(B, LARGE)],
    ].sort((x, y) => (y[2] as number) - (x[2] as number));
    const r = await eventually(
      async () => {
        const r = await get(B, `/v1/datasets/app-rankings?${window()}`);
        return apps(r).length === 2 && r;
      },
      'both apps ranked',
      30_000,
    );
    assert.deepEqual(
      apps(r),
      expected.map((e, i) => [i + 1, ...e]),
    );
    for (const a of data(r))
      assert.ok(Number.isInteger(a['app_id']) && (a['app_id'] as number) > 0);
    const c = apps(await get(C, `/v1/datasets/app-rankings?${window()}`));
    assert.equal(c[0]![1], APP.c, 'C’s app, the largest, for C');
    assert.equal(c.length, 3);
    assertOpenAIError(await get(B, '/v1/datasets/app-rankings?limit=0'), 400, { param: 'limit' });
  });

  test('session-cost: the median charge of a session (a key, an app, a model, a day) per turn range', async () => {
    const today = isoDay(Date.now());
    const cells = await eventually(
      async () => {
        const r = await get(A, `/v1/datasets/session-cost?end_date=${today}&model=${SMALL}`);
        assert.equal(r.status, 200, r.text);
        const rows = data(r);
        return rows.length === 2 && rows;
      },
      'two session cells of sim-small',
      30_000,
    );
    const aCost = made.get(A.tenantId)!.generations.reduce((n, g) => n + g.micros, 0);
    const bCost = made.get(B.tenantId)!.generations.filter((g) => g.model === SMALL)[0]!.micros;
    const byApp = new Map(cells.map((c) => [c['app_name'], c]));
    // A's three requests of the day are one session of 3 turns; B's one request a 1-turn session.
    assert.equal(byApp.get(APP.a)!['turn_range'], '2-9-turns');
    assert.equal(micros(byApp.get(APP.a)!['median_session_cost_usd'] as number), aCost);
    assert.equal(byApp.get(APP.b)!['turn_range'], '1-turn');
    assert.equal(micros(byApp.get(APP.b)!['median_session_cost_usd'] as number), bCost);
    assert.equal(byApp.get(APP.a)!['app_slug'], 'community-a-example');
    assert.equal(byApp.has(APP.c), false, 'C opted out');
  });

  test('weekly rankings: the week so far against the same hours of last week, with ratings', async () => {
    const large = await eventually(
      async () => {
        const r = await get(A, '/v1/community/rankings?period=week');
        assert.equal(r.status, 200, r.text);
        const row = data(r).find((x) => x['model'] === LARGE);
        return (
          row && (row['previous'] as Json)['total_tokens'] === PAST.prompt + PAST.completion && r
        );
      },
      'last week’s event in the comparison',
      30_000,
    );
    const body = json(large);
    const rows = body['data'] as Json[];
    const meta = body['meta'] as Json;
    assert.equal(meta['period'], 'week');
    assert.equal(meta['partial'], true);
    const row = rows.find((x) => x['model'] === LARGE)!;
    const now = tokensOf(B, LARGE);
    const before = PAST.prompt + PAST.completion;
    assert.equal(row['total_tokens'], now);
    assert.equal(row['change_pct'], Math.round(((now - before) / before) * 1000) / 10);
    assert.equal(row['trend'], now > before * 1.05 ? 'up' : now < before * 0.95 ? 'down' : 'flat');
    const small = rows.find((x) => x['model'] === SMALL)!;
    assert.equal(small['total_tokens'], tokensOf(A, SMALL) + tokensOf(B, SMALL));
    assert.equal(small['trend'], 'new');
    assert.equal(
      rows.some((x) => x['model'] === MULTI),
      false,
      'C opted out',
    );
    assert.equal(
      meta['total_tokens'],
      rows.reduce((n, x) => n + (x['total_tokens'] as number), 0),
    );
    assert.deepEqual(Object.keys(row['rating'] as Json).sort(), [
      'average_feedback_score',
      'average_score',
      'feedback_scored',
      'reviews',
      'thumbs_down',
      'thumbs_up',
    ]);
    const month = await get(A, '/v1/community/rankings?period=month');
    assert.equal(month.status, 200, month.text);
    assert.equal((json(month)['meta'] as Json)['period'], 'month');
    assertOpenAIError(await get(A, '/v1/community/rankings?period=year'), 400, { param: 'period' });
  });
});

describe('feedback and reviews', () => {
  const gen = (t: Tenant) => made.get(t.tenantId)!.generations[0]!;

  before(async () => {
    // Billing books a generation a moment after it ends: feedback needs its record.
    for (const t of [A, B])
      await eventually(
        async () => (await get(t, `/v1/generation?id=${gen(t).id}`)).status === 200,
        `billing's record of ${gen(t).id}`,
        30_000,
      );
  });

  test('feedback on one’s own generation only; its rating reaches the model', async () => {
    const ok = await send('POST', '/v1/generation/feedback', {
      ...as(A),
      body: {
        generation_id: gen(A).id,
        category: 'latency',
        comment: 'slow',
        thumbs: 'down',
        score: 2,
      },
    });
    assert.equal(ok.status, 200, ok.text);
    assert.deepEqual(json(ok), { data: { success: true } });
    // Another tenant's generation is as unknown as a missing one.
    assertOpenAIError(
      await send('POST', '/v1/generation/feedback', {
        ...as(B),
        body: { generation_id: gen(A).id, category: 'other' },
      }),
      404,
    );
    assertOpenAIError(
      await send('POST', '/v1/generation/feedback', {
        ...as(A),
        body: { generation_id: 'gen-0000000000-nope0000', category: 'other' },
      }),
      404,
    );
    assertOpenAIError(
      await send('POST', '/v1/generation/feedback', {
        ...as(A),
        body: { generation_id: gen(A).id, category: 'slow' },
      }),
      400,
      { param: 'category' },
    );
    assertOpenAIError(
      await send('POST', '/v1/generation/feedback', {
        ...as(A),
        body: { generation_id: gen(A).id, category: 'other', comment: 'x'.repeat(2001) },
      }),
      400,
      { param: 'comment' },
    );
    assertOpenAIError(
      await send('POST', '/v1/generation/feedback', {
        ...as(A),
        body: { generation_id: gen(A).id, category: 'other', score: 6 },
      }),
      400,
      { param: 'score' },
    );
    const rating = json(await get(A, `/v1/models/${SMALL}/reviews`))['rating'] as Json;
    assert.equal(rating['thumbs_down'], 1);
    assert.equal(rating['average_feedback_score'], 2);
  });

  test('reviews: one per tenant and model, edited by its author; C’s (opted out) only for C', async () => {
    const put = (t: Tenant, score: number, text: string) =>
      send('PUT', `/v1/models/${SMALL}/reviews/mine`, { ...as(t), body: { score, text } });
    const first = await put(A, 5, 'great');
    assert.equal(first.status, 200, first.text);
    assert.equal(json(first)['created'], true);
    const edit = await put(A, 4, 'good');
    assert.equal(json(edit)['created'], false);
    assert.equal((json(edit)['data'] as Json)['id'], (json(first)['data'] as Json)['id']);
    assert.equal((await put(B, 2, 'meh')).status, 200);
    assert.equal((await put(C, 1, 'bad')).status, 200);

    const mine = json(await get(A, `/v1/models/${SMALL}/reviews/mine`))['data'] as Json;
    assert.deepEqual(
      [mine['score'], mine['text'], mine['mine'], mine['hidden']],
      [4, 'good', true, false],
    );

    const list = json(await get(A, `/v1/models/${SMALL}/reviews`));
    const seen = (list['data'] as Json[]).map((r) => [r['text'], r['mine']]);
    assert.deepEqual(seen, [
      ['good', true],
      ['meh', false],
    ]);
    assert.equal(list['total'], 2);
    assert.deepEqual(
      [(list['rating'] as Json)['reviews'], (list['rating'] as Json)['average_score']],
      [2, 3],
    );
    const forC = json(await get(C, `/v1/models/${SMALL}/reviews`));
    assert.equal(forC['total'], 3);
    assert.deepEqual((forC['data'] as Json[])[0]!['text'], 'bad');
    assert.equal(json(await get(A, `/v1/models/${SMALL}/reviews?scope=own`))['total'], 1);
    // No tenant id of another tenant shows.
    assert.equal(JSON.stringify(list).includes(B.tenantId), false);

    // B's delete removes B's review only.
    const del = await send('DELETE', `/v1/models/${SMALL}/reviews/mine`, as(B));
    assert.equal(del.status, 200, del.text);
    assertOpenAIError(await send('DELETE', `/v1/models/${SMALL}/reviews/mine`, as(B)), 404);
    assertOpenAIError(await get(B, `/v1/models/${SMALL}/reviews/mine`), 404);
    assert.equal(
      json(await get(A, `/v1/models/${SMALL}/reviews/mine`))['data'] !== undefined,
      true,
    );
    assert.equal(json(await get(A, `/v1/models/${SMALL}/reviews`))['total'], 1);

    assertOpenAIError(await put(A, 0, 'x'), 400, { param: 'score' });
    assertOpenAIError(await put(A, 3, 'x'.repeat(4001)), 400, { param: 'text' });
    assertOpenAIError(
      await send('PUT', '/v1/models/nobody/nothing/reviews/mine', { ...as(A), body: { score: 3 } }),
      404,
      { code: 'model_not_found' },
    );
    assertOpenAIError(await send('GET', `/v1/models/${SMALL}/reviews`, { auth: 'none' }), 401);
  });

  test('moderation: an operator hides a review from everyone but its author, and unhides it', async () => {
    const list = await send('GET', `/admin/community/reviews?model=${SMALL}`, { auth: 'admin' });
    assert.equal(list.status, 200, list.text);
    const a = data(list).find((r) => r['tenant_id'] === A.tenantId)!;
    assert.equal(a['hidden'], false);
    const hide = await send('POST', `/admin/community/reviews/${a['id']}/hide`, {
      auth: 'admin',
      body: { reason: 'spam' },
    });
    assert.equal(hide.status, 200, hide.text);
    assert.deepEqual(
      [(json(hide)['data'] as Json)['hidden'], (json(hide)['data'] as Json)['hidden_reason']],
      [true, 'spam'],
    );
    const forC = json(await get(C, `/v1/models/${SMALL}/reviews`));
    assert.equal(
      (forC['data'] as Json[]).some((r) => r['text'] === 'good'),
      false,
    );
    assert.equal((forC['rating'] as Json)['reviews'], 1, 'only C’s own counts now');
    const forA = json(await get(A, `/v1/models/${SMALL}/reviews`));
    assert.deepEqual(
      (forA['data'] as Json[]).map((r) => [r['text'], r['hidden']]),
      [['good', true]],
    );
    assert.equal((forA['rating'] as Json)['reviews'], 0, 'a hidden review is not counted');
    // Hidden ones filter; an edit keeps it hidden.
    const hidden = await send('GET', '/admin/community/reviews?hidden=true', { auth: 'admin' });
    assert.ok(data(hidden).some((r) => r['id'] === a['id']));
    await send('PUT', `/v1/models/${SMALL}/reviews/mine`, {
      ...as(A),
      body: { score: 5, text: 'edited' },
    });
    assert.equal(
      (json(await get(A, `/v1/models/${SMALL}/reviews/mine`))['data'] as Json)['hidden'],
      true,
    );

    const unhide = await send('POST', `/admin/community/reviews/${a['id']}/unhide`, {
      auth: 'admin',
    });
    assert.equal(unhide.status, 200, unhide.text);
    assert.equal(
      (json(await get(C, `/v1/models/${SMALL}/reviews`))['rating'] as Json)['reviews'],
      2,
    );

    assertOpenAIError(
      await send('POST', '/admin/community/reviews/999999999/hide', { auth: 'admin' }),
      404,
    );
    assertOpenAIError(
      await send('POST', '/admin/community/reviews/abc/hide', { auth: 'admin' }),
      400,
      { param: 'id' },
    );
    assertOpenAIError(await send('GET', '/admin/community/reviews', as(A)), 401);
    assertOpenAIError(await send('POST', `/admin/community/reviews/${a['id']}/hide`, as(A)), 401);
  });

  test('abuse limit: a tenant’s writes per minute are bounded (429, Retry-After); others go on', async () => {
    const d = await seedTenant(
      ctx().gatewayUrl,
      ctx().adminToken,
      { id: `comm-d-${Math.random().toString(36).slice(2, 8)}`, name: 'D' },
      'k',
      0,
    );
    // 30 a minute by default: 62 writes in a row meet the limit whichever minute they start in.
    let refused: RawAnswer | null = null;
    for (let i = 0; i < 62 && !refused; i++) {
      const r = await send('PUT', `/v1/models/${SMALL}/reviews/mine`, {
        auth: { bearer: d.key },
        body: { score: 3, text: `try ${i}` },
      });
      if (r.status === 429) refused = r;
      else assert.equal(r.status, 200, r.text);
    }
    assert.ok(refused, 'no write was refused');
    assertOpenAIError(refused, 429, { code: 'rate_limit_exceeded' });
    const after = Number(refused.headers['retry-after']);
    assert.ok(after >= 1 && after <= 60, `Retry-After ${after}`);
    // The limit is D's own: A writes on.
    const a = await send('PUT', `/v1/models/${LARGE}/reviews/mine`, {
      ...as(A),
      body: { score: 4 },
    });
    assert.equal(a.status, 200, a.text);
  });
});

describe('model comparison from real traffic', () => {
  const MODEL = `e2e-compare/measured-${Math.random().toString(36).slice(2, 6)}`;

  before(() => addTestModel(MODEL, 'sim', { prompt: '0.25', completion: '1.50' }));
  after(async () => {
    await catalogAdmin('DELETE', `models/${MODEL}`);
  });

  test('success and fallback rates, TTFT, latency, throughput; prices and context; ratings', async () => {
    // Five streamed successes (200 ms to the first token, then 20 tokens at 40 a second), and
    // one request meeting upstream 500s (the only endpoint: the gateway retries it once, then the
    // request fails; both attempts count against it).
    for (let i = 0; i < 5; i++) {
      const r = await send('POST', '/v1/chat/completions', {
        ...as(A),
        body: {
          model: MODEL,
          stream: true,
          messages: [
            { role: 'user', content: `${marker('measured')} [[sim ttft_ms=200 tps=40 tokens=20]]` },
          ],
        },
      });
      assert.equal(r.status, 200, r.text);
    }
    const failed = await send('POST', '/v1/chat/completions', {
      ...as(A),
      body: {
        model: MODEL,
        messages: [{ role: 'user', content: `${marker('measured')} [[sim status=500]]` }],
      },
    });
    assert.equal(failed.status, 502, failed.text);

    const url = `/v1/models/compare?models=${MODEL},${SMALL}&window=1h`;
    const body = await eventually(
      async () => {
        const r = await get(B, url);
        assert.equal(r.status, 200, r.text);
        const m = ((json(r)['data'] as Json)['models'] as Json[])[0]!;
        return (m['measured'] as Json)['attempts'] === 7 && json(r);
      },
      'seven attempts measured',
      30_000,
    );
    const [measured, small] = (body['data'] as Json)['models'] as Json[];
    assert.equal(measured!['id'], MODEL);
    assert.equal(measured!['context_length'], 8192);
    assert.deepEqual(measured!['price_per_million'], { prompt: '0.25', completion: '1.5' });
    const m = measured!['measured'] as Json;
    assert.deepEqual([m['successes'], m['failures'], m['cancelled']], [5, 2, 0]);
    assert.equal(m['success_rate'], Math.round((5 / 7) * 10_000) / 10_000);
    assert.equal(m['fallback_rate'], Math.round((2 / 7) * 10_000) / 10_000);
    const ttft = m['ttft_ms'] as Json;
    const latency = m['latency_ms'] as Json;
    const tps = m['throughput_tps'] as Json;
    assert.ok((ttft['p50'] as number) >= 190, `TTFT ${JSON.stringify(ttft)}`);
    assert.ok((ttft['p50'] as number) <= (ttft['p90'] as number));
    assert.ok(
      (latency['p50'] as number) >= (ttft['p50'] as number) + 400,
      `latency ${JSON.stringify(latency)}`,
    );
    // 20 tokens paced at 40 a second: never faster than the pacing allows.
    assert.ok(
      (tps['p50'] as number) > 0 && (tps['p50'] as number) <= 48,
      `throughput ${JSON.stringify(tps)}`,
    );
    const [endpoint] = measured!['endpoints'] as Json[];
    assert.equal(endpoint!['id'], `${MODEL}@sim`);
    assert.deepEqual((endpoint!['measured'] as Json)['attempts'], 7);
    assert.equal((body['data'] as Json)['window'] !== undefined, true);
    // sim-small: A's and B's reviews count for B.
    assert.equal(small!['id'], SMALL);
    assert.ok(((small!['rating'] as Json)['reviews'] as number) >= 1);

    assertOpenAIError(await get(B, `/v1/models/compare?models=${MODEL},nobody/nothing`), 404, {
      code: 'model_not_found',
      param: 'models',
    });
    assertOpenAIError(await get(B, `/v1/models/compare?models=${MODEL}&window=1y`), 400, {
      param: 'window',
    });
    assertOpenAIError(await send('GET', url, { auth: 'none' }), 401);
  });
});

describe('@openrouter/sdk accepts every answer', () => {
  const sdk = (t: Tenant) =>
    new OpenRouter({ apiKey: t.key, serverURL: `${ctx().gatewayUrl}/api/v1`, httpReferer: APP.a });

  test('providers.list: the providers we route to, with their policies', async () => {
    const { data: providers } = await sdk(A).providers.list();
    const sim = providers.find((p) => p.slug === 'sim');
    assert.ok(sim, JSON.stringify(providers.map((p) => p.slug)));
    assert.equal(sim.name, 'Turnpike Simulator');
    assert.equal(sim.privacyPolicyUrl, null);
    const raw = data(await send('GET', '/v1/providers', { auth: 'none' })).find(
      (p) => p['slug'] === 'sim',
    )!;
    assert.deepEqual(raw['data_collection'], ['deny']);
    assert.deepEqual(raw['regions'], ['local']);
    assert.ok((raw['models'] as number) >= 3);
  });

  test('datasets.getRankingsDaily, getAppRankings, getSessionCost', async () => {
    const today = isoDay(Date.now());
    const daily = await sdk(A).datasets.getRankingsDaily({
      startDate: isoDay(Date.now() - DAY),
      endDate: today,
    });
    const small = daily.data
      .filter((d) => d.modelPermaslug === SMALL)
      .reduce((n, d) => n + Number(d.totalTokens), 0);
    assert.equal(small, tokensOf(A, SMALL) + tokensOf(B, SMALL));
    assert.equal(daily.meta.version, 'v1');
    assert.equal(daily.meta.endDate, today);

    const apps = await sdk(A).datasets.getAppRankings({
      startDate: isoDay(Date.now() - DAY),
      endDate: today,
    });
    assert.deepEqual(apps.result.data.map((a) => a.appName).sort(), [APP.a, APP.b]);
    assert.equal(apps.result.data[0]!.rank, 1);

    // The default window ends yesterday: last week's session of A (one turn) is in it.
    const sessions = await sdk(A).datasets.getSessionCost({ model: LARGE });
    const cell = sessions.result.data.find((c) => c.appName === APP.a);
    assert.ok(cell, JSON.stringify(sessions.result.data));
    assert.equal(cell.turnRange, '1-turn');
    assert.equal(micros(cell.medianSessionCostUsd), PAST.micros);
    assert.equal(
      sessions.result.data.some((c) => c.appName === APP.c),
      false,
      'C opted out',
    );
    assert.equal(sessions.result.meta.windowDays, 30);
  });

  test('generations.submitFeedback: on its own generation; another tenant’s is a NotFound', async () => {
    const mine = made.get(B.tenantId)!.generations[0]!.id;
    const res = await sdk(B).generations.submitFeedback({
      submitGenerationFeedbackRequest: {
        generationId: mine,
        category: 'formatting',
        comment: 'lists',
      },
    });
    assert.deepEqual(res, { data: { success: true } });
    const theirs = made.get(A.tenantId)!.generations[0]!.id;
    await assert.rejects(
      sdk(B).generations.submitFeedback({
        submitGenerationFeedbackRequest: { generationId: theirs, category: 'other' },
      }),
      NotFoundResponseError,
    );
  });
});

describe('every community route asks for the right credential', () => {
  const tenantRoutes: Array<[string, string, unknown?]> = [
    ['GET', '/v1/community/settings'],
    ['PUT', '/v1/community/settings', { opted_in: true }],
    ['GET', '/v1/community/rankings'],
    ['GET', '/v1/datasets/rankings-daily'],
    ['GET', '/v1/datasets/app-rankings'],
    ['GET', '/v1/datasets/session-cost'],
    ['GET', `/v1/models/compare?models=${SMALL}`],
    ['GET', `/v1/models/${SMALL}/reviews`],
    ['GET', `/v1/models/${SMALL}/reviews/mine`],
    ['PUT', `/v1/models/${SMALL}/reviews/mine`, { score: 1 }],
    ['DELETE', `/v1/models/${SMALL}/reviews/mine`],
    [
      'POST',
      '/v1/generation/feedback',
      { generation_id: 'gen-0000000000-x0000000', category: 'other' },
    ],
    ['POST', '/v1/compare', { models: [SMALL], messages: [{ role: 'user', content: 'x' }] }],
  ];
  const adminRoutes: Array<[string, string, unknown?]> = [
    ['GET', '/admin/community/reviews'],
    ['POST', '/admin/community/reviews/1/hide', {}],
    ['POST', '/admin/community/reviews/1/unhide'],
  ];

  test('tenant routes: no key, a wrong key or the admin token is a 401, under both prefixes', async () => {
    for (const [method, path, body] of tenantRoutes)
      for (const auth of ['none', { bearer: 'sk-tp-v1-not-a-key' }, 'admin'] as const) {
        const opts = { auth, ...(body === undefined ? {} : { body }) };
        assertOpenAIError(await send(method, path, opts), 401);
        // OpenRouter's prefix answers in OpenRouter's dialect: the status as the code.
        const r = await send(method, `/api${path}`, opts);
        assert.equal(r.status, 401, `${method} /api${path}: ${r.text}`);
        assert.equal((json(r)['error'] as Json)['code'], 401);
      }
  });

  test('operator routes: a tenant key or no key is a 401', async () => {
    for (const [method, path, body] of adminRoutes)
      for (const auth of ['none', { bearer: A.key }] as const)
        assertOpenAIError(
          await send(method, path, { auth, ...(body === undefined ? {} : { body }) }),
          401,
        );
  });
});

describe('hostile input to every community route', () => {
  /** Percent-encoding of any string (lone surrogates become U+FFFD, as UTF-8 makes them). */
  const enc = (v: string) =>
    [...Buffer.from(v, 'utf8')].map((b) => `%${b.toString(16).padStart(2, '0')}`).join('');
  const hostile = fc.oneof(
    fc.string({ unit: 'binary', maxLength: 24 }),
    fc.constantFrom(
      '',
      '\u0000',
      'a\u0000b',
      '\ud800',
      '-1',
      '0',
      '1e308',
      'NaN',
      '2026-02-30',
      '9999-12-31',
      'x'.repeat(1500),
      'a/b',
      '../../admin',
      'own',
      'week',
      `${SMALL},${LARGE}`,
      '7d',
    ),
  );
  const value: fc.Arbitrary<unknown> = fc.oneof(
    hostile,
    fc.integer(),
    fc.double(),
    fc.boolean(),
    fc.constant(null),
    fc.array(hostile, { maxLength: 3 }),
    fc.dictionary(hostile, hostile, { maxKeys: 3 }),
  );
  /** A valid body with one field replaced, removed or added. */
  const mutated = (base: Json) =>
    fc
      .tuple(fc.constantFrom(...Object.keys(base), 'extra'), value, fc.boolean())
      .map(([k, v, del]) => {
        const copy: Json = { ...base };
        if (del) delete copy[k];
        else copy[k] = v;
        return copy;
      });
  const gets: Array<[string, string[]]> = [
    ['/v1/datasets/rankings-daily', ['start_date', 'end_date', 'period', 'scope', 'modality']],
    ['/v1/datasets/app-rankings', ['start_date', 'sort', 'limit', 'offset', 'category']],
    ['/v1/datasets/session-cost', ['app_slug', 'model', 'turn_range', 'limit', 'end_date']],
    ['/v1/community/rankings', ['period', 'date', 'limit', 'scope']],
    ['/v1/models/compare', ['models', 'window', 'scope']],
    [`/v1/models/${SMALL}/reviews`, ['limit', 'offset', 'scope']],
    ['/admin/community/reviews', ['model', 'hidden', 'limit', 'after']],
  ];
  const request = fc.oneof(
    fc
      .tuple(fc.constantFrom(...gets), fc.array(fc.tuple(fc.nat(4), hostile), { maxLength: 3 }))
      .map(([[path, names], params]) => ({
        method: 'GET',
        path: `${path}?${params.map(([i, v]) => `${names[i % names.length]}=${enc(v)}`).join('&')}`,
        body: undefined as unknown,
      })),
    fc
      .tuple(
        hostile,
        hostile,
        fc.constantFrom('reviews', 'reviews/mine'),
        fc.constantFrom('GET', 'PUT', 'DELETE'),
        value,
      )
      .map(([a, s, tail, method, body]) => ({
        method: tail === 'reviews' ? 'GET' : method,
        path: `/v1/models/${enc(a) || 'x'}/${enc(s) || 'y'}/${tail}`,
        body: method === 'PUT' ? body : undefined,
      })),
    mutated({ score: 4, text: 'ok' }).map((body) => ({
      method: 'PUT',
      path: `/v1/models/${SMALL}/reviews/mine`,
      body: body as unknown,
    })),
    mutated({ opted_in: true }).map((body) => ({
      method: 'PUT',
      path: '/v1/community/settings',
      body: body as unknown,
    })),
    mutated({ generation_id: 'gen-0000000000-nope0000', category: 'other', score: 3 }).map(
      (body) => ({ method: 'POST', path: '/v1/generation/feedback', body: body as unknown }),
    ),
    mutated({
      models: ['nobody/nothing', SMALL],
      messages: [{ role: 'user', content: 'x' }],
      stream: false,
    }).map((body) => ({ method: 'POST', path: '/v1/compare', body: body as unknown })),
    fc.tuple(hostile, fc.constantFrom('hide', 'unhide'), value).map(([id, verb, body]) => ({
      method: 'POST',
      path: `/admin/community/reviews/${enc(id) || '1'}/${verb}`,
      body: body as unknown,
    })),
  );

  test('never a 5xx; every error in OpenAI’s shape', async () => {
    const statuses = new Map<number, number>();
    await fc.assert(
      fc.asyncProperty(request, async (req) => {
        const r = await send(req.method, req.path, {
          auth: req.path.startsWith('/admin') ? 'admin' : { bearer: B.key },
          ...(req.body === undefined ? {} : { body: req.body }),
        });
        statuses.set(r.status, (statuses.get(r.status) ?? 0) + 1);
        const what = `${req.method} ${req.path.slice(0, 200)} ${JSON.stringify(req.body)?.slice(0, 200)} → ${r.status} ${r.text.slice(0, 300)}`;
        assert.ok(r.status < 500, what);
        if (r.status >= 400) assertOpenAIError(r, r.status);
      }),
      { seed: 20_260_318, numRuns: 300 },
    );
    console.log(
      `[community fuzz] statuses ${[...statuses.entries()]
        .sort()
        .map(([s, n]) => `${s}×${n}`)
        .join(' ')}`,
    );
  });
});
