/**
 * `POST /v1/compare` on the running platform: one prompt to several models at once, each
 * through the normal completion path (its own generation id, usage event and ledger entry, the
 * 402 when the tenant cannot pay), a failing model (its only provider refuses connections)
 * failing alone; as one JSON body, or streamed with every chunk tagged by its model as it
 * arrives; a client that leaves cancels every model's generation; an invalid comparison starts
 * none.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { expectedContent, seedTenant } from '@turnpike/testing';
import {
  addTestModel,
  catalogAdmin,
  ctx,
  eventually,
  marker,
  simRequests,
} from '../support/context.js';
import { assertOpenAIError, send } from '../support/http.js';

type Json = Record<string, unknown>;
type Tenant = { tenantId: string; keyId: string; key: string };

const SMALL = 'turnpike/sim-small';
const LARGE = 'turnpike/sim-large';
const DOWN = `e2e-compare/down-${Math.random().toString(36).slice(2, 6)}`;
const micros = (usd: number) => Math.round(usd * 1_000_000);

let tenant: Tenant;

/** The SSE events of a streamed comparison, in order, with when each arrived. */
async function streamed(
  body: Json,
  opts: { until?: (events: Json[]) => boolean; signal?: AbortController } = {},
): Promise<{ status: number; events: Json[]; done: boolean; headers: Headers }> {
  const abort = opts.signal ?? new AbortController();
  const res = await fetch(`${ctx().gatewayUrl}/v1/compare`, {
    method: 'POST',
    headers: { authorization: `Bearer ${tenant.key}`, 'content-type': 'application/json' },
    body: JSON.stringify(body),
    signal: abort.signal,
  });
  const events: Json[] = [];
  let done = false;
  if (res.status !== 200 || !res.body)
    return { status: res.status, events, done, headers: res.headers };
  let buffer = '';
  try {
    for await (const bytes of res.body) {
      buffer += Buffer.from(bytes).toString('utf8');
      let i: number;
      while ((i = buffer.indexOf('\n\n')) !== -1) {
        const frame = buffer.slice(0, i);
        buffer = buffer.slice(i + 2);
        const data = frame.replace(/^data: /, '');
        if (data === '[DONE]') done = true;
        else events.push({ ...(JSON.parse(data) as Json), _at: Date.now() });
      }
      if (opts.until?.(events)) {
        abort.abort();
        break;
      }
    }
  } catch (e) {
    if (!abort.signal.aborted) throw e;
  }
  return { status: res.status, events, done, headers: res.headers };
}

before(async () => {
  tenant = await seedTenant(
    ctx().gatewayUrl,
    ctx().adminToken,
    { id: `compare-${Math.random().toString(36).slice(2, 8)}`, name: 'Compare' },
    'k',
    10,
  );
  // A model whose only provider refuses every connection.
  const down = ctx().downUpstream.provider;
  assert.equal(
    (await catalogAdmin('PUT', `providers/${down}`, { name: down, kind: 'openai' })).status,
    200,
  );
  await addTestModel(DOWN, down, { prompt: '0.10', completion: '0.40' });
});
after(async () => {
  await catalogAdmin('DELETE', `models/${DOWN}`);
});

describe('POST /v1/compare', () => {
  test('JSON: each model answered and billed as its own generation; the failing one fails alone', async () => {
    const text = `compare json ${marker('cmp-json')}`;
    const r = await send('POST', '/v1/compare', {
      auth: { bearer: tenant.key },
      headers: { 'http-referer': 'https://compare.example' },
      body: {
        models: [SMALL, LARGE, DOWN],
        messages: [{ role: 'user', content: `${text} [[sim tokens=6]]` }],
        temperature: 0.5,
        stream: false,
      },
    });
    assert.equal(r.status, 200, r.text);
    const body = r.json as Json;
    assert.equal(body['object'], 'compare');
    assert.match(body['id'] as string, /^cmp-/);
    assert.equal(r.headers['x-compare-id'], body['id']);
    const results = body['results'] as Json[];
    assert.deepEqual(
      results.map((x) => [x['index'], x['model'], x['status']]),
      [
        [0, SMALL, 'success'],
        [1, LARGE, 'success'],
        [2, DOWN, 'error'],
      ],
    );
    for (const x of results.slice(0, 2)) {
      assert.equal((x['output'] as Json)['content'], expectedContent(text, 6));
      assert.equal(x['finish_reason'], 'stop');
      assert.equal((x['usage'] as Json)['completion_tokens'], 6);
      assert.ok((x['cost'] as number) > 0);
      assert.equal(x['cost_micros'], micros(x['cost'] as number));
      assert.match(x['generation_id'] as string, /^gen-/);
      assert.ok(
        (x['ttft_ms'] as number) > 0 && (x['ttft_ms'] as number) <= (x['latency_ms'] as number),
      );
      assert.equal(x['provider'], 'sim');
    }
    assert.notEqual(results[0]!['generation_id'], results[1]!['generation_id']);
    // sim-large costs more than sim-small for the same tokens.
    assert.ok((results[1]!['cost'] as number) > (results[0]!['cost'] as number));
    const down = results[2]!;
    assert.deepEqual(
      [(down['error'] as Json)['status'], (down['error'] as Json)['code']],
      [502, 'upstream_connection_error'],
    );
    assert.equal(down['cost'], null);
    assert.match(down['generation_id'] as string, /^gen-/);
    assert.deepEqual([body['succeeded'], body['failed']], [2, 1]);
    assert.equal(
      body['total_cost_micros'],
      (results[0]!['cost_micros'] as number) + (results[1]!['cost_micros'] as number),
    );

    // Each model's request reached its upstream with the comparison's sampling.
    const upstream = await simRequests(text);
    assert.deepEqual(upstream.map((s) => s.model).sort(), ['sim-gpt-large', 'sim-gpt-small']);
    for (const s of upstream) assert.equal(s.body['temperature'], 0.5);

    // Billed like any call: each generation has billing's record, with the cost shown, and the
    // app attribution of the comparison.
    for (const x of results.slice(0, 2)) {
      const g = await eventually(
        async () => {
          const res = await send('GET', `/v1/generation?id=${x['generation_id']}`, {
            auth: { bearer: tenant.key },
          });
          return res.status === 200 && ((res.json as Json)['data'] as Json);
        },
        `billing's record of ${x['generation_id']}`,
        30_000,
      );
      assert.equal(micros(g['total_cost'] as number), x['cost_micros']);
      assert.equal(g['model'], x['model']);
      assert.equal(g['http_referer'], 'https://compare.example');
    }
    const credits = await eventually(
      async () => {
        const res = await send('GET', '/v1/credits', { auth: { bearer: tenant.key } });
        const c = (res.json as Json)['data'] as Json;
        return micros(c['total_usage'] as number) === body['total_cost_micros'] && c;
      },
      'the tenant charged exactly the two answers',
      30_000,
    );
    assert.equal(credits['total_credits'], 10);
  });

  test('streamed: chunks tagged by model as they arrive, each result, then [DONE]', async () => {
    const text = `compare stream ${marker('cmp-stream')}`;
    const { status, events, done, headers } = await streamed({
      models: [SMALL, LARGE, DOWN],
      messages: [{ role: 'user', content: `${text} [[sim ttft_ms=300 tps=20 tokens=8]]` }],
    });
    assert.equal(status, 200);
    assert.match(headers.get('content-type') ?? '', /^text\/event-stream/);
    assert.ok(done, 'the stream ends with [DONE]');
    assert.equal(events[0]!['object'], 'compare.start');
    assert.deepEqual(events[0]!['models'], [SMALL, LARGE, DOWN]);
    assert.equal(events.at(-1)!['object'], 'compare.done');
    const resultAt = (model: string) =>
      events.findIndex((e) => e['object'] === 'compare.result' && e['model'] === model);
    const chunks = (model: string) =>
      events.filter((e) => e['object'] === 'compare.chunk' && e['model'] === model);
    // The refused model answers first: nothing waits for the others.
    assert.ok(resultAt(DOWN) < resultAt(SMALL) && resultAt(DOWN) < resultAt(LARGE));
    // Both models stream at once: each one's first chunk comes before either one's result.
    const firstChunk = (model: string) => events.indexOf(chunks(model)[0]!);
    for (const m of [SMALL, LARGE]) {
      assert.ok(chunks(m).length >= 2, `${m}: ${chunks(m).length} chunks`);
      assert.ok(
        firstChunk(m) < Math.min(resultAt(SMALL), resultAt(LARGE)),
        `${m} streamed alongside`,
      );
      const content = chunks(m)
        .map(
          (e) =>
            (((e['chunk'] as Json)['choices'] as Json[])[0]?.['delta'] as Json | undefined)?.[
              'content'
            ] ?? '',
        )
        .join('');
      assert.equal(content, expectedContent(text, 8));
      const result = events[resultAt(m)]!;
      assert.equal(result['status'], 'success');
      assert.equal((result['output'] as Json)['content'], content);
      assert.ok((result['ttft_ms'] as number) >= 290, `${m} TTFT ${result['ttft_ms']}`);
      assert.equal(chunks(m)[0]!['generation_id'], result['generation_id']);
      assert.equal((chunks(m)[0]!['chunk'] as Json)['id'], result['generation_id']);
    }
    assert.equal(events[resultAt(DOWN)]!['status'], 'error');
  });

  test('a client that leaves cancels every model’s generation', async () => {
    const text = `compare leave ${marker('cmp-leave')}`;
    const { events } = await streamed(
      {
        models: [SMALL, LARGE],
        messages: [{ role: 'user', content: `${text} [[sim ttft_ms=50 tps=4 tokens=60]]` }],
      },
      {
        until: (ev) =>
          [SMALL, LARGE].every((m) =>
            ev.some((e) => e['object'] === 'compare.chunk' && e['model'] === m),
          ),
      },
    );
    assert.ok(events.length >= 3);
    const records = await eventually(
      async () => {
        const r = await simRequests(text);
        return r.length === 2 && r.every((x) => x.outcome === 'aborted') && r;
      },
      'both upstream calls aborted',
      15_000,
    );
    // Far fewer than the 60 tokens each would have sent.
    for (const r of records)
      assert.ok(r.tokensSent < 60, `${r.model}: ${r.tokensSent} tokens sent`);
  });

  test('a tenant without credit: each model gets the normal path’s 402', async () => {
    const broke = await seedTenant(
      ctx().gatewayUrl,
      ctx().adminToken,
      { id: `compare-broke-${Math.random().toString(36).slice(2, 8)}`, name: 'Broke' },
      'k',
      0,
    );
    const text = `compare broke ${marker('cmp-broke')}`;
    const r = await send('POST', '/v1/compare', {
      auth: { bearer: broke.key },
      body: { models: [SMALL, LARGE], messages: [{ role: 'user', content: text }], stream: false },
    });
    assert.equal(r.status, 200, r.text);
    for (const x of (r.json as Json)['results'] as Json[]) {
      assert.equal(x['status'], 'error');
      assert.equal((x['error'] as Json)['status'], 402);
    }
    assert.equal((await simRequests(text)).length, 0, 'no upstream call');
  });

  test('an invalid comparison starts nothing', async () => {
    const text = `compare invalid ${marker('cmp-invalid')}`;
    const messages = [{ role: 'user', content: text }];
    const post = (body: unknown) =>
      send('POST', '/v1/compare', { auth: { bearer: tenant.key }, body });
    const nine = Array.from({ length: 9 }, (_, i) => (i % 2 === 0 ? SMALL : LARGE) + '');
    assertOpenAIError(await post({ models: nine, messages }), 400, { param: 'models' });
    assertOpenAIError(await post({ models: [], messages }), 400, { param: 'models' });
    assertOpenAIError(await post({ models: [SMALL, 'nobody/nothing'], messages }), 404, {
      code: 'model_not_found',
      param: 'models[1]',
    });
    assertOpenAIError(await post({ models: [SMALL], model: SMALL, messages }), 400, {
      param: 'model',
    });
    assertOpenAIError(await post({ models: [SMALL], messages, temperature: 7 }), 400, {
      param: 'temperature',
    });
    assertOpenAIError(await post({ models: [SMALL, SMALL], messages }), 400, {
      param: 'models[1]',
    });
    assertOpenAIError(
      await send('POST', '/v1/compare', { auth: 'none', body: { models: [SMALL], messages } }),
      401,
    );
    assert.equal((await simRequests(text)).length, 0, 'no model was called');
  });
});
