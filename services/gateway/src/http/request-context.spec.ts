/**
 * The request context on a real Fastify instance (no Nest, no network): every response,
 * including those rejected before a handler (401 from a hook, bad JSON, unknown route), carries
 * X-Trace-Id, and chat completions' X-Generation-Id; errors come in the client's dialect, which
 * @openrouter/sdk's error schemas parse.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import Fastify, { type FastifyInstance } from 'fastify';
import { propagation, trace } from '@opentelemetry/api';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import { TracerProvider } from '@opentelemetry/sdk-trace';
import {
  BadRequestResponseErrorData$inboundSchema,
  UnauthorizedResponseErrorData$inboundSchema,
} from '@openrouter/sdk/models';
import { unauthorized } from '@turnpike/openai-api';
import { rewritePublicUrl } from './public-url.js';
import {
  adoptRequestSpan,
  errorBodyIn,
  errorDialectOf,
  installRequestContext,
  requestGenerationId,
} from './request-context.js';

const SDK_UA = 'speakeasy-sdk/typescript 1.3.19 2.914.0 1.0.0 @openrouter/sdk';

let app: FastifyInstance;
before(async () => {
  // What the service's telemetry registers at boot: a recording tracer and W3C propagation.
  trace.setGlobalTracerProvider(new TracerProvider());
  propagation.setGlobalPropagator(new W3CTraceContextPropagator());
  app = Fastify({ rewriteUrl: (req) => rewritePublicUrl(req.url ?? '/') });
  installRequestContext(app);
  app.setErrorHandler((err, _req, reply) => {
    const status = (err as { statusCode?: number }).statusCode ?? 500;
    void reply.status(status).send({
      error: {
        message: (err as Error).message,
        type: 'invalid_request_error',
        param: null,
        code: null,
      },
    });
  });
  app.setNotFoundHandler((_req, reply) => {
    void reply.status(404).send({
      error: { message: 'Unknown route', type: 'invalid_request_error', param: null, code: null },
    });
  });
  app.post('/v1/chat/completions', (req, reply) => {
    if (req.headers.authorization !== 'Bearer ok') {
      const e = unauthorized();
      void reply.status(e.status).send(e.toBody());
      return;
    }
    const span = adoptRequestSpan(req);
    span?.end();
    void reply.send({ id: requestGenerationId(req), trace: span?.spanContext().traceId });
  });
  app.get('/v1/credits', () => ({ data: { total_credits: 1, total_usage: 0 } }));
  await app.ready();
});
after(async () => {
  await app.close();
});

const TRACE = /^(?!0{32})[0-9a-f]{32}$/;

describe('request context', () => {
  test('a 401 before the handler has X-Trace-Id and X-Generation-Id', async () => {
    const r = await app.inject({ method: 'POST', url: '/v1/chat/completions', payload: {} });
    assert.equal(r.statusCode, 401);
    assert.match(String(r.headers['x-trace-id']), TRACE);
    assert.match(String(r.headers['x-generation-id']), /^gen-\d+-[A-Za-z0-9]{20}$/);
    assert.equal(r.json().error.code, 'invalid_api_key', 'OpenAI’s dialect by default');
  });

  test('bad JSON: a 400 with both headers', async () => {
    const r = await app.inject({
      method: 'POST',
      url: '/v1/chat/completions',
      headers: { 'content-type': 'application/json', authorization: 'Bearer ok' },
      payload: '{"model": ',
    });
    assert.equal(r.statusCode, 400);
    assert.match(String(r.headers['x-trace-id']), TRACE);
    assert.match(String(r.headers['x-generation-id']), /^gen-/);
  });

  test('the handler adopts the same generation id and span the headers name', async () => {
    const r = await app.inject({
      method: 'POST',
      url: '/api/v1/chat/completions',
      headers: { authorization: 'Bearer ok' },
      payload: {},
    });
    assert.equal(r.statusCode, 200);
    assert.equal(r.json().id, r.headers['x-generation-id']);
    assert.equal(r.json().trace, r.headers['x-trace-id']);
  });

  test('a client traceparent is continued', async () => {
    const traceId = 'ab'.repeat(16);
    const r = await app.inject({
      method: 'GET',
      url: '/v1/credits',
      headers: { traceparent: `00-${traceId}-${'cd'.repeat(8)}-01` },
    });
    assert.equal(r.headers['x-trace-id'], traceId);
    assert.equal(r.headers['x-generation-id'], undefined, 'no generation here');
  });

  test('an unknown route has X-Trace-Id too', async () => {
    const r = await app.inject({ method: 'GET', url: '/v1/nope' });
    assert.equal(r.statusCode, 404);
    assert.match(String(r.headers['x-trace-id']), TRACE);
  });

  test('OpenRouter’s dialect under /api/v1 and for its SDKs: the SDK’s error schemas parse it', async () => {
    for (const [url, ua] of [
      ['/api/v1/chat/completions', undefined],
      ['/v1/chat/completions', SDK_UA],
    ] as const) {
      const r = await app.inject({
        method: 'POST',
        url,
        payload: {},
        headers: ua ? { 'user-agent': ua } : {},
      });
      assert.equal(r.statusCode, 401);
      const err = UnauthorizedResponseErrorData$inboundSchema.parse(r.json().error);
      assert.equal(err.code, 401);
      assert.equal(err.metadata?.['error_type'], 'invalid_api_key');
      assert.equal(r.json().error.type, 'invalid_request_error', 'OpenAI’s type stays beside it');
    }
    const bad = await app.inject({
      method: 'POST',
      url: '/api/v1/chat/completions',
      headers: { 'content-type': 'application/json', authorization: 'Bearer ok' },
      payload: '{',
    });
    assert.equal(BadRequestResponseErrorData$inboundSchema.parse(bad.json().error).code, 400);
  });

  test('dialect choice and body shape', () => {
    assert.equal(errorDialectOf('/v1/models', undefined), 'openai');
    assert.equal(errorDialectOf('/v1/models', 'OpenAI/JS 7.57.0'), 'openai');
    assert.equal(errorDialectOf('/v1/models', SDK_UA), 'openrouter');
    assert.equal(errorDialectOf('/api/v1/models', undefined), 'openrouter');
    assert.equal(errorDialectOf('/api/v1?x', undefined), 'openrouter');
    const body = { error: { message: 'm', type: 't', param: null, code: null } };
    assert.deepEqual(errorBodyIn('openai', 404, body), body);
    assert.deepEqual(errorBodyIn('openrouter', 404, body), {
      error: { message: 'm', type: 't', param: null, code: 404 },
    });
    assert.deepEqual(
      errorBodyIn('openrouter', 402, {
        error: {
          message: 'm',
          type: 't',
          param: null,
          code: 'insufficient_quota',
          metadata: { a: 1 },
        },
      }),
      {
        error: {
          message: 'm',
          type: 't',
          param: null,
          code: 402,
          metadata: { a: 1, error_type: 'insufficient_quota' },
        },
      },
    );
  });
});
