import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { ApiError, OpenAIErrorBody } from '@turnpike/openai-api';
import { extractContext, SpanKind, SpanStatusCode, tracer, type Span } from '@turnpike/telemetry';
import { newGenerationId } from '../completions/generation-id.js';

/**
 * What every request gets before any guard, parser or handler runs, so that responses rejected
 * early (401, bad JSON, unknown route, 413) carry it too:
 * - a SERVER span (continuing the client's `traceparent`) and its `X-Trace-Id`;
 * - on `POST /v1/chat/completions`, its generation id and `X-Generation-Id` (the handler adopts
 *   both, so the body's `id`, the header and the usage event agree);
 * - the error dialect the client speaks (see {@link errorDialectOf}).
 */

const kSpan = Symbol('turnpike.requestSpan');
const kAdopted = Symbol('turnpike.requestSpanAdopted');
const kGeneration = Symbol('turnpike.generationId');
const kDialect = Symbol('turnpike.errorDialect');

interface Ctx {
  [kSpan]?: Span;
  [kAdopted]?: boolean;
  [kGeneration]?: string;
  [kDialect]?: ErrorDialect;
}

export type ErrorDialect = 'openai' | 'openrouter';

const CHAT_COMPLETIONS = '/v1/chat/completions';

/**
 * OpenAI's error body names the error with a string `code`; OpenRouter's with the numeric HTTP
 * status (and `@openrouter/sdk` rejects anything else, so its typed errors would turn into
 * response-validation errors). Clients that speak OpenRouter's dialect get it: requests under
 * OpenRouter's `/api/v1` prefix, and OpenRouter's SDKs (their User-Agent names `openrouter`,
 * e.g. `speakeasy-sdk/typescript 1.3.19 ... @openrouter/sdk`). Everyone else gets OpenAI's.
 */
export function errorDialectOf(originalUrl: string, userAgent: string | undefined): ErrorDialect {
  if (originalUrl === '/api/v1' || /^\/api\/v1[/?]/.test(originalUrl)) return 'openrouter';
  if (userAgent !== undefined && /openrouter/i.test(userAgent)) return 'openrouter';
  return 'openai';
}

/**
 * An error body in the client's dialect. OpenRouter's keeps OpenAI's `type` and `param` beside
 * the numeric `code`, and our string code as `metadata.error_type`.
 */
export function errorBodyIn(
  dialect: ErrorDialect,
  status: number,
  body: OpenAIErrorBody,
): Record<string, unknown> {
  if (dialect === 'openai') return body as unknown as Record<string, unknown>;
  const { code, metadata, ...rest } = body.error;
  return {
    error: {
      ...rest,
      code: status,
      ...(code !== null || metadata !== undefined
        ? { metadata: { ...(metadata ?? {}), ...(code !== null ? { error_type: code } : {}) } }
        : {}),
    },
  };
}

/** The body to send for `error` to this request's client. */
export function errorBodyFor(req: FastifyRequest, error: ApiError): Record<string, unknown> {
  return errorBodyIn(dialectOf(req), error.status, error.toBody());
}

export function dialectOf(req: FastifyRequest): ErrorDialect {
  return (
    (req as unknown as Ctx)[kDialect] ??
    errorDialectOf(req.originalUrl ?? req.url, req.headers['user-agent'])
  );
}

/**
 * The request's span, for a handler that ends it itself (after the response, when it has
 * published what it did). Without a handler adopting it, the span ends when the response does.
 */
export function adoptRequestSpan(req: FastifyRequest): Span | undefined {
  const c = req as unknown as Ctx;
  if (c[kSpan]) c[kAdopted] = true;
  return c[kSpan];
}

/** The generation id minted for this request (`POST /v1/chat/completions` only). */
export function requestGenerationId(req: FastifyRequest): string | undefined {
  return (req as unknown as Ctx)[kGeneration];
}

function isErrorBody(v: unknown): v is OpenAIErrorBody {
  if (typeof v !== 'object' || v === null) return false;
  const e = (v as { error?: unknown }).error;
  return (
    typeof e === 'object' &&
    e !== null &&
    typeof (e as { message?: unknown }).message === 'string' &&
    typeof (e as { code?: unknown }).code !== 'number'
  );
}

export function installRequestContext(app: FastifyInstance): void {
  app.addHook('onRequest', (req, reply, done) => {
    const c = req as unknown as Ctx;
    const route = req.routeOptions.url;
    const span = tracer().startSpan(
      route ? `${req.method} ${route}` : req.method,
      {
        kind: SpanKind.SERVER,
        attributes: {
          'http.request.method': req.method,
          ...(route ? { 'http.route': route, 'url.path': route } : {}),
        },
      },
      extractContext(req.headers),
    );
    c[kSpan] = span;
    c[kDialect] = errorDialectOf(req.originalUrl ?? req.url, req.headers['user-agent']);
    const traceId = span.spanContext().traceId;
    void reply.header('x-trace-id', traceId);
    if (req.method === 'POST' && route === CHAT_COMPLETIONS) {
      c[kGeneration] = newGenerationId();
      void reply.header('x-generation-id', c[kGeneration]);
    }
    reply.raw.once('close', () => {
      if (c[kAdopted]) return;
      const status = reply.raw.statusCode;
      span.setAttribute('http.response.status_code', status);
      if (status >= 500) span.setStatus({ code: SpanStatusCode.ERROR });
      span.end();
    });
    done();
  });

  // Errors answered through Fastify (guards, parsers, filters) in the client's dialect.
  app.addHook('onSend', (req, reply, payload, done) => {
    if (reply.statusCode < 400 || dialectOf(req) === 'openai' || typeof payload !== 'string') {
      done(null, payload);
      return;
    }
    let parsed: unknown;
    try {
      parsed = JSON.parse(payload);
    } catch {
      done(null, payload);
      return;
    }
    done(
      null,
      isErrorBody(parsed)
        ? JSON.stringify(errorBodyIn('openrouter', reply.statusCode, parsed))
        : payload,
    );
  });
}
