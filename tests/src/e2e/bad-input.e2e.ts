/**
 * Bad input gets a clean 4xx in OpenAI's shape, never a 5xx, and the platform stays healthy:
 * NULs and impossible dates in query and path parameters, deep JSON, prompts no endpoint can
 * take, oversized headers and path parameters, hostile catalog admin bodies, and requests that
 * would make the upstream simulator (the embedded default provider) generate without bound.
 */
import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';
import { PROVIDER_KINDS } from '@turnpike/contracts';
import { seedTenant } from '@turnpike/testing';
import { client, ctx, marker, simRequests } from '../support/context.js';
import { assertOpenAIError, assertPlatformHealthy, send } from '../support/http.js';

const chatBody = (content: string, extra: Record<string, unknown> = {}) => ({
  model: 'turnpike/sim-small',
  messages: [{ role: 'user', content }],
  ...extra,
});

after(async () => {
  await assertPlatformHealthy();
});

describe('query and path parameters', () => {
  test('a NUL in /v1/generation?id is a 400 naming id', async () => {
    const r = await send('GET', '/v1/generation?id=%00');
    assertOpenAIError(r, 400, { param: 'id', code: 'invalid_value' });
    assertOpenAIError(await send('GET', '/v1/generation?id=gen-%00abc'), 400, { param: 'id' });
  });

  test('impossible dates in /v1/activity?date are a 400 naming date', async () => {
    for (const date of ['9999-99-99', '2026-02-30', '2025-02-29', '2026-13-01', '2026-1-1']) {
      const r = await send('GET', `/v1/activity?date=${date}`);
      assertOpenAIError(r, 400, { param: 'date' });
    }
    // A real date still answers.
    assert.equal((await send('GET', '/v1/activity?date=2024-02-29')).status, 200);
  });

  test('a NUL in /v1/activity?key_id is a 400 naming key_id', async () => {
    assertOpenAIError(await send('GET', '/v1/activity?key_id=%00'), 400, { param: 'key_id' });
  });

  test('a NUL in an admin path parameter is a 400 naming it', async () => {
    const r = await send('GET', '/admin/tenants/%00', { auth: 'admin' });
    assertOpenAIError(r, 400, { param: 'id', code: 'invalid_value' });
    assertOpenAIError(await send('GET', '/admin/tenants/ab%00cd/keys', { auth: 'admin' }), 400, {
      param: 'id',
    });
  });

  test('a tenant name containing a NUL is a 400 naming name, and no tenant is created', async () => {
    const id = marker('nul').replace(/[^a-zA-Z0-9_-]/g, '');
    const r = await send('POST', '/admin/tenants', {
      auth: 'admin',
      body: { id, name: 'evil\u0000name' },
    });
    assertOpenAIError(r, 400, { param: 'name' });
    assertOpenAIError(await send('GET', `/admin/tenants/${id}`, { auth: 'admin' }), 404);
  });

  test('creating a tenant that exists: 200 when it is the same one, 409 when the id is taken', async () => {
    const id = marker('dup').replace(/[^a-zA-Z0-9_-]/g, '');
    const create = (name: string) =>
      send('POST', '/admin/tenants', { auth: 'admin', body: { id, name } });
    const first = await create('Dup Co');
    assert.equal(first.status, 201, first.text);
    const again = await create('Dup Co');
    assert.equal(again.status, 200, again.text);
    assert.deepEqual(again.json, first.json, 'the same tenant, unchanged');
    assertOpenAIError(await create('Someone Else'), 409, { param: 'id', code: 'tenant_exists' });
    const stored = await send('GET', `/admin/tenants/${id}`, { auth: 'admin' });
    assert.equal((stored.json as { name: string }).name, 'Dup Co');
  });

  test('deleting a markup with a parameter it does not know is a 400, and no rule goes', async () => {
    const rules = async () =>
      JSON.stringify((await send('GET', '/admin/markups', { auth: 'admin' })).json);
    const before = await rules();
    for (const q of ['tenant_id[a]=1', 'tenantid=x', 'model=a&model=b', 'tenant_id=']) {
      const r = await send('DELETE', `/admin/markups?${q}`, { auth: 'admin' });
      assertOpenAIError(r, 400);
    }
    assert.equal(await rules(), before);
  });

  test('431: oversized headers answer in OpenAI shape with X-Trace-Id', async () => {
    const r = await send('GET', '/v1/models', { headers: { 'x-big': 'a'.repeat(64 * 1024) } });
    assertOpenAIError(r, 431, { code: 'request_headers_too_large' });
  });

  test("431 and 414 under /api/v1 answer in OpenRouter's dialect (numeric code)", async () => {
    for (const [r, status, type] of [
      [
        await send('GET', '/api/v1/models', { headers: { 'x-big': 'a'.repeat(64 * 1024) } }),
        431,
        'request_headers_too_large',
      ],
      [await send('GET', `/api/v1/models/${'a'.repeat(2000)}`), 414, 'uri_too_long'],
    ] as const) {
      assert.equal(r.status, status, r.text);
      const e = (r.json as { error: Record<string, unknown> }).error;
      assert.equal(e['code'], status, r.text);
      assert.deepEqual(e['metadata'], { error_type: type });
      assert.match(String(r.headers['x-trace-id']), /^[0-9a-f]{32}$/);
    }
  });

  test('414: over-long path parameters answer in OpenAI shape with X-Trace-Id', async () => {
    const long = 'a'.repeat(2000);
    assertOpenAIError(await send('GET', `/v1/models/${long}`), 414, { code: 'uri_too_long' });
    assertOpenAIError(await send('GET', `/v1/models/a/${long}/endpoints`), 414, {
      code: 'uri_too_long',
    });
    assertOpenAIError(await send('GET', `/admin/tenants/${long}`, { auth: 'admin' }), 414, {
      code: 'uri_too_long',
    });
  });
});

describe('chat completions', () => {
  test('10,000-deep arrays in an unknown field: 400 json_too_deep, before parsing', async () => {
    const m = marker('deep');
    const json = JSON.stringify(chatBody(m)).replace(
      /}$/,
      `,"extra":${'['.repeat(10_000)}${']'.repeat(10_000)}}`,
    );
    const r = await send('POST', '/v1/chat/completions', { body: json });
    assertOpenAIError(r, 400, { code: 'json_too_deep' });
    assert.deepEqual(await simRequests(m), [], 'nothing reached the upstream');
  });

  test('a prompt larger than every endpoint window: 400 context_length_exceeded, not 503', async () => {
    const m = marker('ctx');
    const r = await send('POST', '/v1/chat/completions', {
      body: chatBody(`${m} ${'lorem ipsum dolor sit amet '.repeat(8000)}`),
    });
    const e = assertOpenAIError(r, 400, { code: 'context_length_exceeded', param: 'messages' });
    assert.match(e.message, /maximum context length is 8192 tokens/);
    assert.deepEqual(await simRequests(m), [], 'nothing reached the upstream');
  });
});

describe('routing constraints nothing satisfies', () => {
  test("the request's own provider constraints leave no endpoint: 404 no_endpoints, not a 5xx", async () => {
    for (const provider of [
      { only: ['nowhere'] },
      { max_price: { prompt: 0 } },
      { ignore: ['sim'] },
    ]) {
      const m = marker('noend');
      const r = await send('POST', '/v1/chat/completions', { body: chatBody(m, { provider }) });
      const e = assertOpenAIError(r, 404, { code: 'no_endpoints' });
      assert.match(e.message, /turnpike\/sim-small/);
      assert.deepEqual(await simRequests(m), []);
    }
  });
});

describe('credit movements', () => {
  const grant = (tenant: string, body: unknown, key = marker('idem')) =>
    send('POST', `/admin/tenants/${tenant}/credits`, {
      auth: 'admin',
      body,
      headers: { 'idempotency-key': key },
    });

  test('amounts no ledger sum can hold are 400s, and the ledger keeps booking', async () => {
    const t = await seedTenant(
      ctx().gatewayUrl,
      ctx().adminToken,
      { id: marker('rich'), name: 'Rich' },
      'default',
      0,
    );
    assertOpenAIError(await grant(t.tenantId, { amount_micros: Number.MAX_SAFE_INTEGER }), 400, {
      param: 'amount_micros',
    });
    assertOpenAIError(await grant(t.tenantId, { amount: '999999999999.999999' }), 400, {
      param: 'amount',
    });
    assertOpenAIError(
      await grant(t.tenantId, { kind: 'adjustment', amount: '-9007199254.740991' }),
      400,
      { param: 'amount' },
    );
    // The largest movements are booked until the tenant's credit reaches its bound.
    assert.equal((await grant(t.tenantId, { amount: '1000000000' })).status, 200);
    assert.equal((await grant(t.tenantId, { amount: '1000000000' })).status, 200);
    assertOpenAIError(await grant(t.tenantId, { amount: '0.000001' }), 400, {
      code: 'credit_limit_exceeded',
      param: 'amount',
    });
    // The ledger still books (another tenant's grant) and its invariants hold.
    const other = await seedTenant(ctx().gatewayUrl, ctx().adminToken, {
      id: marker('after'),
      name: 'After',
    });
    const r = await grant(other.tenantId, { amount: '0.5', note: 'after' });
    assert.equal(r.status, 200, r.text);
    const verify = await send('GET', '/admin/billing/verify', { auth: 'admin' });
    assert.equal(verify.status, 200, verify.text);
    const v = verify.json as Record<string, number>;
    assert.deepEqual(
      [v['unbalancedTransactions'], v['balanceMismatches'], v['keyUsageMismatches']],
      [0, 0, 0],
    );
  });
});

describe('catalog admin bodies', () => {
  const put = (path: string, body: unknown) =>
    send('PUT', `/admin/catalog/${path}`, { auth: 'admin', body });
  const provider = marker('h7prov');
  const model = `h7/${marker('model')}`;
  const endpoint = {
    upstream_model: 'sim-gpt-small',
    pricing: { prompt: '0.20', completion: '0.80' },
    context_length: 8192,
  };

  test('an unknown provider kind is a 400 naming kind and listing the valid kinds', async () => {
    const r = await put(`providers/${provider}`, { name: 'X', kind: 'bogus' });
    const e = assertOpenAIError(r, 400, { param: 'kind' });
    for (const kind of PROVIDER_KINDS) assert.ok(e.message.includes(`'${kind}'`), e.message);
    assert.match(e.message, /bogus/);
    const list = await send('GET', '/admin/catalog/providers', { auth: 'admin' });
    assert.equal(list.status, 200);
    const ids = (list.json as { data: Array<{ id: string }> }).data.map((p) => p.id);
    assert.ok(!ids.includes(provider), 'the provider was not created');
    // A known kind is accepted.
    const ok = await put(`providers/${provider}`, { name: 'X', kind: 'openai' });
    assert.equal(ok.status, 200, ok.text);
    const view = ok.json as Record<string, unknown>;
    assert.deepEqual([view['id'], view['name'], view['kind']], [provider, 'X', 'openai']);
  });

  /** [path under /admin/catalog, body, the param the 400 names] */
  type Case = [string, unknown, string | null];
  const prov = (body: unknown, param: string | null): Case => [
    `providers/${provider}`,
    body,
    param,
  ];
  const mdl = (patch: Record<string, unknown>, param: string): Case => [
    `models/${model}`,
    { name: 'M', context_length: 8192, ...patch },
    param,
  ];
  const ep = (patch: Record<string, unknown>, param: string): Case => [
    `models/${model}/endpoints/sim`,
    { ...endpoint, ...patch },
    param,
  ];
  const price = (prompt: string, completion = '1') => ({ pricing: { prompt, completion } });
  const expect400s = async (cases: Case[]) => {
    for (const [path, body, param] of cases)
      assertOpenAIError(await put(path, body), 400, { param });
  };

  test('unknown fields, bodies that are not objects, huge strings and NULs are 400s naming the field', async () => {
    await expect400s([
      prov({ name: 'X', kind: 'openai', extra: 1 }, 'extra'),
      prov({ name: 'x'.repeat(100_000), kind: 'openai' }, 'name'),
      prov({ name: 'a\u0000b', kind: 'openai' }, 'name'),
      prov([1, 2, 3], null),
      prov('a string', null),
      prov(42, null),
      ['providers/Not_A_Slug', { name: 'X', kind: 'openai' }, 'id'],
      mdl({ endpoints: [] }, 'endpoints'),
      mdl({ description: 'd'.repeat(20_000) }, 'description'),
      mdl({ input_modalities: ['a\u0000'] }, 'input_modalities[0]'),
      ep({ foo: 'bar' }, 'foo'),
      ep({ pricing: { ...endpoint.pricing, image: '1' } }, 'pricing.image'),
      ep({ upstream_model: 'u'.repeat(10_000) }, 'upstream_model'),
      ep({ region: 'r'.repeat(10_000) }, 'region'),
      ep(
        { supported_parameters: Array.from({ length: 1000 }, (_, i) => `p${i}`) },
        'supported_parameters',
      ),
    ]);
  });

  test('negative and absurd numbers are 400s naming the field', async () => {
    await expect400s([
      mdl({ context_length: -1 }, 'context_length'),
      mdl({ context_length: 1e21 }, 'context_length'),
      mdl({ context_length: 3_000_000_000 }, 'context_length'),
      mdl({ context_length: 2.5 }, 'context_length'),
      mdl({ context_length: '8192' }, 'context_length'),
      mdl({ created: 1e300 }, 'created'),
      mdl({ created: -5 }, 'created'),
      ep({ context_length: 0 }, 'context_length'),
      ep({ max_output_tokens: -1 }, 'max_output_tokens'),
      ep({ max_output_tokens: 2 ** 31 }, 'max_output_tokens'),
      ep(price('-1'), 'pricing.prompt'),
      ep(price('1e9'), 'pricing.prompt'),
      ep(price('1', '99999999999999999999999'), 'pricing.completion'),
      ep(price('1', 'NaN'), 'pricing.completion'),
    ]);
    // Nothing was created by any of them.
    assertOpenAIError(await send('GET', `/admin/catalog/models/${model}`, { auth: 'admin' }), 404);
  });

  test('a valid model and endpoint are still accepted, and deleted again', async () => {
    let r = await put(`models/${model}`, { name: 'M', context_length: 8192 });
    assert.equal(r.status, 200, r.text);
    r = await put(`models/${model}/endpoints/sim`, endpoint);
    assert.equal(r.status, 200, r.text);
    r = await send('DELETE', `/admin/catalog/models/${model}`, { auth: 'admin' });
    assert.equal(r.status, 200, r.text);
  });

  test('a model id that is not author/slug is a 400, not a 5xx', async () => {
    for (const path of ['models/UPPER/x', 'models/a/b%20c', 'models/-a/b']) {
      const r = await send('GET', `/admin/catalog/${path}`, { auth: 'admin' });
      assertOpenAIError(r, 400);
      assertOpenAIError(await put(path, { name: 'M', context_length: 8192 }), 400, { param: 'id' });
    }
  });
});

describe('the upstream simulator stays bounded through the gateway', () => {
  test('[[sim tokens=1000000000]] with max_tokens 5: five tokens, finish_reason length, at once', async () => {
    const m = marker('huge');
    const started = Date.now();
    const data = await client().chat.completions.create({
      model: 'turnpike/sim-small',
      max_tokens: 5,
      messages: [{ role: 'user', content: `${m} [[sim tokens=1000000000]]` }],
    });
    assert.equal(data.usage?.completion_tokens, 5);
    assert.equal(data.choices[0]?.finish_reason, 'length');
    assert.ok(Date.now() - started < 10_000, `took ${Date.now() - started} ms`);
    const [rec] = await simRequests(m);
    assert.equal(rec?.tokensSent, 5);
  });

  test('a json_schema with minItems 1e9 and minLength 1e9 gets a bounded, valid answer', async () => {
    const data = await client().chat.completions.create({
      model: 'turnpike/sim-small',
      messages: [{ role: 'user', content: `${marker('schema')} alpha beta` }],
      response_format: {
        type: 'json_schema',
        json_schema: {
          name: 'hostile',
          schema: {
            type: 'object',
            properties: {
              list: { type: 'array', minItems: 1e9, items: { type: 'integer' } },
              text: { type: 'string', minLength: 1e9 },
            },
          },
        },
      },
    });
    const parsed = JSON.parse(data.choices[0]?.message.content ?? '') as {
      list: unknown[];
      text: string;
    };
    assert.ok(parsed.list.length >= 1 && parsed.list.length <= 64, `${parsed.list.length} items`);
    assert.ok(parsed.text.length <= 5000, `${parsed.text.length} characters`);
  });

  test('an absurd knob is the upstream 400 (sim_invalid_knob), passed through in OpenAI shape', async () => {
    const m = marker('knob');
    const r = await send('POST', '/v1/chat/completions', {
      body: chatBody(`${m} [[sim tokens=1000000000000]]`),
    });
    assertOpenAIError(r, 400, { message: /at most 1000000000/ });
    const [rec] = await simRequests(m);
    assert.equal(rec?.status, 400);
    assert.equal(rec?.tokensSent, 0);
  });
});
