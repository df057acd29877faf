import assert from 'node:assert/strict';
import http from 'node:http';
import { after, before, describe, test } from 'node:test';
import Fastify, { type FastifyInstance } from 'fastify';
import { isApiError } from '@turnpike/openai-api';
import { clientErrorHandler, depthCheckedJsonParser, frameworkErrors } from './edge.js';

/** A bare Fastify with the gateway's edge handlers (the full gateway needs Kafka to boot). */
let app: FastifyInstance;
let base: string;

before(async () => {
  app = Fastify({ clientErrorHandler, frameworkErrors, bodyLimit: 1 << 20 });
  app.removeContentTypeParser('application/json');
  app.addContentTypeParser(
    'application/json',
    { parseAs: 'buffer' },
    depthCheckedJsonParser(app.getDefaultJsonParser('error', 'error'), 8),
  );
  app.setErrorHandler((e, _req, reply) => {
    if (isApiError(e)) return reply.code(e.status).send(e.toBody());
    return reply
      .code(500)
      .send({ error: { message: String(e), type: 'x', param: null, code: null } });
  });
  app.post('/echo', async (req) => ({ got: req.body }));
  app.get('/p/:id', async (req) => ({ id: (req.params as { id: string }).id }));
  app.get('/api/v1/p/:id', async (req) => ({ id: (req.params as { id: string }).id }));
  await app.listen({ port: 0, host: '127.0.0.1' });
  const addr = app.server.address();
  base = `http://127.0.0.1:${typeof addr === 'object' && addr ? addr.port : 0}`;
});
after(() => app.close());

interface Answer {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: { error: { message: string; type: string; param: string | null; code: string | null } };
}

function raw(path: string, opts: { headers?: Record<string, string>; body?: string } = {}) {
  return new Promise<Answer>((resolve, reject) => {
    const req = http.request(
      `${base}${path}`,
      { method: opts.body === undefined ? 'GET' : 'POST', headers: opts.headers ?? {} },
      (res) => {
        let t = '';
        res.on('data', (c: Buffer) => (t += c.toString()));
        res.on('end', () =>
          resolve({
            status: res.statusCode ?? 0,
            headers: res.headers,
            body: JSON.parse(t) as Answer['body'],
          }),
        );
      },
    );
    req.on('error', reject);
    req.end(opts.body);
  });
}

const isOpenAIError = (b: Answer['body']) =>
  typeof b.error?.message === 'string' &&
  typeof b.error.type === 'string' &&
  'param' in b.error &&
  'code' in b.error;

describe('gateway edge errors', () => {
  test('431: oversized headers answer in OpenAI shape, with a trace id', async () => {
    const r = await raw('/p/x', { headers: { 'x-big': 'a'.repeat(20_000) } });
    assert.equal(r.status, 431);
    assert.ok(isOpenAIError(r.body), JSON.stringify(r.body));
    assert.equal(r.body.error.code, 'request_headers_too_large');
    assert.match(String(r.headers['x-trace-id']), /^[0-9a-f]{32}$/);
  });

  test('414: an over-long path parameter answers in OpenAI shape', async () => {
    const r = await raw(`/p/${'a'.repeat(500)}`);
    assert.equal(r.status, 414);
    assert.ok(isOpenAIError(r.body), JSON.stringify(r.body));
    assert.equal(r.body.error.code, 'uri_too_long');
    assert.match(String(r.headers['x-trace-id']), /^[0-9a-f]{32}$/);
    assert.equal((await raw('/p/short')).status, 200);
  });

  test("431 in OpenRouter's dialect under /api/v1 (read from the refused packet)", async () => {
    const r = await raw('/api/v1/p/x', { headers: { 'x-big': 'a'.repeat(20_000) } });
    assert.equal(r.status, 431);
    const e = r.body.error as unknown as Record<string, unknown>;
    assert.equal(e['code'], 431, JSON.stringify(r.body));
    assert.deepEqual(e['metadata'], { error_type: 'request_headers_too_large' });
    assert.match(String(r.headers['x-trace-id']), /^[0-9a-f]{32}$/);
  });

  test("414 in OpenRouter's dialect under /api/v1 and for OpenRouter's SDKs (numeric code)", async () => {
    for (const [path, headers] of [
      [`/api/v1/p/${'a'.repeat(500)}`, {}],
      [`/p/${'a'.repeat(500)}`, { 'user-agent': 'speakeasy-sdk/typescript @openrouter/sdk' }],
    ] as const) {
      const r = await raw(path, { headers });
      assert.equal(r.status, 414);
      const e = r.body.error as unknown as Record<string, unknown>;
      assert.equal(e['code'], 414, JSON.stringify(r.body));
      assert.deepEqual(e['metadata'], { error_type: 'uri_too_long' });
      assert.equal(typeof e['message'], 'string');
      assert.match(String(r.headers['x-trace-id']), /^[0-9a-f]{32}$/);
    }
  });

  test('400: a body nested deeper than the limit is refused before it is parsed', async () => {
    const deep = `{"model":"x","extra":${'['.repeat(10_000)}${']'.repeat(10_000)}}`;
    const r = await raw('/echo', { headers: { 'content-type': 'application/json' }, body: deep });
    assert.equal(r.status, 400);
    assert.equal(r.body.error.code, 'json_too_deep');
  });

  test('bodies within the limit pass unchanged, brackets inside strings do not count', async () => {
    const body = { a: [[[{ b: '[[[[[[[[[[[[[[[[[[[[ \\" {{{{{{{{{{{{{{' }]]] };
    const r = await raw('/echo', {
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    assert.equal(r.status, 200);
    assert.deepEqual((r.body as unknown as { got: unknown }).got, body);
  });
});
