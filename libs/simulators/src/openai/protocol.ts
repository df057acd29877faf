/** The OpenAI wire: `POST /v1/chat/completions` (SSE or JSON), `GET /v1/models[/{id}]`. */
import { onDrain, runChat } from '../core/chat-flow.js';
import type { GenerationSink } from '../core/generation.js';
import { bearerToken, type Exchange } from '../core/http-util.js';
import { completionId, systemFingerprint } from '../core/ids.js';
import {
  keyAccepted,
  type ChatDialect,
  type SimContext,
  type SimProtocol,
  type SinkArgs,
} from '../core/protocol.js';
import { parseChatRequest, type ChatRequest } from './chat-request.js';
import { errorForStatus, errors, rateLimitHeaders } from './errors.js';
import {
  chatCompletion,
  ChunkFactory,
  modelList,
  modelObject,
  servedTier,
  usageOf,
} from './responses.js';
import { SseWriter } from '../core/sse.js';

/** Checks the bearer token against the accepted keys; throws the 401 OpenAI would send. */
export function authorize(ctx: Pick<SimContext, 'apiKeys'>, ex: Exchange): void {
  if (ctx.apiKeys.length === 0) return;
  const token = bearerToken(ex.req);
  if (!token) throw errors.missingApiKey();
  if (!keyAccepted(ctx, token)) throw errors.invalidApiKey(token);
}

function streamSink(a: SinkArgs<ChatRequest>, fingerprint: string): GenerationSink {
  const { ex, plans, req, promptTokens } = a;
  const includeUsage = req.includeUsage && !a.silent;
  const sse = new SseWriter(ex.res);
  const chunks = new ChunkFactory(
    { ...a.meta, systemFingerprint: fingerprint, serviceTier: servedTier(req.serviceTier) },
    { includeUsage, includeObfuscation: req.includeObfuscation },
  );
  sse.open(ex.headers(rateLimitHeaders(false)));
  return {
    begin: () => plans.forEach((p) => sse.event(chunks.role(p))),
    step: (p, s) => chunks.step(p, s).forEach((c) => sse.event(c)),
    finishChoice: (p) => sse.event(chunks.finish(p)),
    end() {
      if (includeUsage) sse.event(chunks.usage(usageOf(plans, promptTokens, a.knobs.cachedTokens)));
      sse.done();
    },
    streamError() {
      sse.event({
        error: {
          message: 'The server had an error while processing your request. Sorry about that!',
          type: 'server_error',
          param: null,
          code: 'server_error',
        },
      });
      sse.end();
    },
    cut() {
      sse.flush();
      a.drop();
    },
    flush: () => sse.flush(),
    onDrain: onDrain(ex),
  };
}

function bufferedSink(a: SinkArgs<ChatRequest>, fingerprint: string): GenerationSink {
  const { ex, plans } = a;
  const body = () => {
    const c: Partial<ReturnType<typeof chatCompletion>> = chatCompletion(
      { ...a.meta, systemFingerprint: fingerprint, serviceTier: servedTier(a.req.serviceTier) },
      plans,
      a.promptTokens,
      { ...(a.knobs.cachedTokens !== undefined ? { cached: a.knobs.cachedTokens } : {}) },
    );
    if (a.silent) delete c.usage;
    return c;
  };
  let begun = false;
  return {
    begin: () => {
      begun = true;
    },
    step: () => {},
    finishChoice: () => {},
    end: () => ex.json(200, body(), rateLimitHeaders(false)),
    cut() {
      // before the first token: headers only; after it: half of the body.
      const payload = JSON.stringify(body());
      ex.res.writeHead(200, {
        ...ex.headers(rateLimitHeaders(false)),
        'content-type': 'application/json',
        'content-length': String(Buffer.byteLength(payload)),
      });
      if (begun) ex.res.write(payload.slice(0, Math.floor(payload.length / 2)));
      else ex.res.flushHeaders();
      a.drop();
    },
    flush: () => true,
    onDrain: onDrain(ex),
  };
}

/** The chat route of OpenAI's wire, reusable by OpenAI-shaped protocols (Azure). */
export function openaiChatDialect(fingerprint: string): ChatDialect<ChatRequest> {
  return {
    authorize,
    parse: (body) => parseChatRequest(body),
    invalidJson: () => errors.invalidJson(),
    badKnob: (m) => errors.badKnob(m),
    modelNotFound: (m) => errors.modelNotFound(m),
    contextLengthExceeded: (max, actual) => errors.contextLengthExceeded(max, actual),
    errorForStatus: (status, ctx) => errorForStatus(status, ctx),
    credentialOf: (ex) => bearerToken(ex.req),
    streamSink: (a) => streamSink(a, fingerprint),
    bufferedSink: (a) => bufferedSink(a, fingerprint),
    completionId,
  };
}

/** OpenAI's common response headers. */
export function openaiResponseHeaders(ex: Exchange): Record<string, string> {
  return {
    'x-request-id': ex.id,
    'openai-processing-ms': String(ex.elapsedMs),
    'openai-version': '2020-10-01',
    'openai-organization': 'org-sim',
  };
}

export function openaiProtocol(name: string): SimProtocol {
  const chat = openaiChatDialect(systemFingerprint(name));
  return {
    name: 'openai',
    basePath: '/v1',
    responseHeaders: openaiResponseHeaders,
    notFound: (method, path) => errors.invalidUrl(method, path),
    internalError: () => errors.serverError(),
    async route(ctx: SimContext, ex: Exchange, path: string, url: URL): Promise<boolean> {
      const method = ex.method;
      if (method === 'POST' && path === '/v1/chat/completions') {
        await runChat(ctx, ex, url, chat);
        return true;
      }
      if (method === 'GET' && path === '/v1/models') {
        authorize(ctx, ex);
        ex.json(200, modelList([...ctx.models.values()]));
        return true;
      }
      const modelPath = /^\/v1\/models\/(.+)$/.exec(path);
      if (method === 'GET' && modelPath?.[1]) {
        authorize(ctx, ex);
        const id = decodeURIComponent(modelPath[1]);
        const model = ctx.models.get(id);
        if (!model) throw errors.modelNotFound(id);
        ex.json(200, modelObject(model));
        return true;
      }
      return false;
    },
  };
}
