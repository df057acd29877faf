/**
 * The Anthropic wire: `POST /v1/messages` (a `Message`, or the SSE event grammar with
 * `stream: true`), `GET /v1/models[/{id}]`. Authentication by `x-api-key` (or, as SDKs since
 * API version 2026-10-21 send it, `Authorization: Bearer`); `anthropic-version` required.
 */
import { bufferedJsonSink } from '../core/buffered-sink.js';
import { onDrain, runChat } from '../core/chat-flow.js';
import { serveModel } from '../core/models-route.js';
import type { GenerationSink } from '../core/generation.js';
import { bearerToken, type Exchange } from '../core/http-util.js';
import type { ChatDialect, SimContext, SimProtocol, SinkArgs } from '../core/protocol.js';
import { keyAccepted } from '../core/protocol.js';
import { SseWriter } from '../core/sse.js';
import { errorForStatus, errors, OVERLOADED_EVENT, rateLimitHeaders } from './errors.js';
import {
  API_VERSIONS,
  parseMessagesRequest,
  type ApiVersion,
  type MessagesRequest,
} from './messages-request.js';
import {
  EventFactory,
  message,
  messageId,
  modelInfo,
  thinkingSteps,
  toolIds,
  usageOf,
  type AnthropicUsage,
} from './responses.js';

/** The key the request carries: `x-api-key`, else a bearer token. */
export function apiKeyOf(ex: Exchange): string {
  const h = ex.req.headers['x-api-key'];
  const key = (Array.isArray(h) ? h[0] : h)?.trim();
  return key || bearerToken(ex.req);
}

/** Checks the key, then the API version; throws Anthropic's 401 or 400. */
export function authorize(
  ctx: { apiKey?: string; apiKeys: readonly string[] },
  ex: Exchange,
): ApiVersion {
  if (ctx.apiKey) {
    const key = apiKeyOf(ex);
    if (!key) throw errors.missingApiKey();
    if (!keyAccepted(ctx, key)) throw errors.invalidApiKey();
  }
  return versionOf(ex);
}

function versionOf(ex: Exchange): ApiVersion {
  const h = ex.req.headers['anthropic-version'];
  const v = (Array.isArray(h) ? h[0] : h)?.trim();
  if (!v) throw errors.missingVersion();
  if (!(API_VERSIONS as readonly string[]).includes(v)) throw errors.invalidVersion(v);
  return v as ApiVersion;
}

/** Usage so far: at `message_start` one output token and no thinking yet; at the end, all. */
function usage(a: SinkArgs<MessagesRequest>, atStart = false): AnthropicUsage | undefined {
  if (a.silent) return undefined;
  const plan = a.plans[0]!;
  return atStart
    ? usageOf(a.promptTokens, 1, a.knobs, 0)
    : usageOf(a.promptTokens, plan.steps.length, a.knobs, thinkingSteps(plan));
}

/** `message_delta`'s usage: cumulative, as the API sends it. */
function deltaUsage(u: AnthropicUsage | undefined) {
  if (!u) return undefined;
  const { service_tier: _tier, cache_creation: _c, ...rest } = u;
  return rest;
}

function streamSink(a: SinkArgs<MessagesRequest>): GenerationSink {
  const { ex, meta } = a;
  const plan = a.plans[0]!;
  const sse = new SseWriter(ex.res);
  const events = new EventFactory(plan, toolIds(plan));
  const send = (list: Array<[string, unknown]>) =>
    list.forEach(([name, data]) => sse.event(data, name));
  sse.open(ex.headers(rateLimitHeaders(false)));
  return {
    begin: () => {
      send(events.start(meta, usage(a, true)));
    },
    step: (_p, s) => send(events.step(s)),
    malformed: () =>
      sse.garbled(
        { type: 'content_block_delta', index: 0, delta: { type: 'text_delta', text: 'garbled' } },
        'content_block_delta',
      ),
    finishChoice: () => send(events.finish(deltaUsage(usage(a)))),
    end() {
      send([['message_stop', { type: 'message_stop' }]]);
      sse.end();
    },
    streamError() {
      send([['error', OVERLOADED_EVENT]]);
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

function bufferedSink(a: SinkArgs<MessagesRequest>): GenerationSink {
  const plan = a.plans[0]!;
  const ids = toolIds(plan);
  const body = () => message(a.meta, plan, ids, usage(a));
  return bufferedJsonSink(a, body, rateLimitHeaders(false));
}

export const anthropicChatDialect: ChatDialect<MessagesRequest> = {
  authorize: (ctx, ex) => {
    authorize(ctx, ex);
  },
  parse: (body, ex) => parseMessagesRequest(body, versionOf(ex)),
  invalidJson: () => errors.invalidJson(),
  badKnob: (m) => errors.badKnob(m),
  modelNotFound: (m) => errors.modelNotFound(m),
  contextLengthExceeded: (max, actual) => errors.contextLengthExceeded(max, actual),
  errorForStatus: (status, ctx) => errorForStatus(status, ctx),
  credentialOf: apiKeyOf,
  streamSink,
  bufferedSink,
  completionId: messageId,
};

/** Anthropic's common response headers. */
export function anthropicResponseHeaders(ex: Exchange): Record<string, string> {
  return {
    'request-id': ex.id,
    'anthropic-organization-id': '00000000-0000-4000-8000-00000000a51d',
  };
}

/** `GET /v1/models`: newest first, paged by `limit` (default 20) and `after_id` / `before_id`. */
function listModels(ctx: SimContext, url: URL) {
  const all = [...ctx.models.values()].map(modelInfo);
  const limit = Math.min(1000, Math.max(1, Number(url.searchParams.get('limit') ?? 20) || 20));
  const after = url.searchParams.get('after_id');
  const before = url.searchParams.get('before_id');
  let start = 0;
  let end = all.length;
  if (after) start = all.findIndex((m) => m.id === after) + 1;
  if (before)
    end = Math.max(
      0,
      all.findIndex((m) => m.id === before),
    );
  const page = before
    ? all.slice(Math.max(start, end - limit), end)
    : all.slice(start, start + limit);
  const hasMore = before ? end - limit > start : start + limit < end;
  return {
    data: page,
    has_more: hasMore,
    first_id: page[0]?.id ?? null,
    last_id: page[page.length - 1]?.id ?? null,
  };
}

export function anthropicProtocol(): SimProtocol {
  return {
    name: 'anthropic',
    // The SDKs take the origin and add `/v1/...` themselves.
    basePath: '',
    responseHeaders: anthropicResponseHeaders,
    errorBody: (ex, body) =>
      typeof body === 'object' && body !== null && (body as { type?: unknown }).type === 'error'
        ? { ...body, request_id: ex.id }
        : body,
    notFound: () => errors.notFound(),
    internalError: () => errors.apiError(),
    async route(ctx: SimContext, ex: Exchange, path: string, url: URL): Promise<boolean> {
      const method = ex.method;
      if (method === 'POST' && path === '/v1/messages') {
        await runChat(ctx, ex, url, anthropicChatDialect);
        return true;
      }
      if (method === 'GET' && path === '/v1/models') {
        authorize(ctx, ex);
        ex.json(200, listModels(ctx, url));
        return true;
      }
      return serveModel(ctx, ex, path, {
        prefix: '/v1/models',
        authorize: () => authorize(ctx, ex),
        notFound: (id) => errors.modelNotFound(id),
        render: modelInfo,
      });
    },
  };
}
