/** The OpenAI wire: `POST /v1/chat/completions` (SSE or JSON), `GET /v1/models[/{id}]`. */
import { bufferedJsonSink } from '../core/buffered-sink.js';
import { onDrain, runChat } from '../core/chat-flow.js';
import { serveModel } from '../core/models-route.js';
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

/**
 * What an OpenAI-shaped protocol adds to OpenAI's answers (Azure's content-filter annotations).
 */
export interface OpenAIFlavour {
  /** Chunks sent before the first one of the answer. */
  leadingChunks?: () => unknown[];
  /** Adds fields to a whole `chat.completion`. */
  annotateCompletion?: (completion: Record<string, unknown>) => void;
  /** Adds fields to each choice of a chunk. */
  annotateChoice?: (choice: Record<string, unknown>) => void;
}

function streamSink(
  a: SinkArgs<ChatRequest>,
  fingerprint: string,
  flavour: OpenAIFlavour = {},
): GenerationSink {
  const { ex, plans, req, promptTokens } = a;
  const includeUsage = req.includeUsage && !a.silent;
  const sse = new SseWriter(ex.res);
  const chunks = new ChunkFactory(
    { ...a.meta, systemFingerprint: fingerprint, serviceTier: servedTier(req.serviceTier) },
    {
      includeUsage,
      includeObfuscation: req.includeObfuscation,
      ...(a.knobs.reasoningField ? { reasoningField: a.knobs.reasoningField } : {}),
    },
  );
  sse.open(ex.headers(rateLimitHeaders(false)));
  const send = (chunk: { choices: unknown[] }) => {
    if (flavour.annotateChoice)
      for (const c of chunk.choices) flavour.annotateChoice(c as Record<string, unknown>);
    sse.event(chunk);
  };
  return {
    begin: () => {
      for (const c of flavour.leadingChunks?.() ?? []) sse.event(c);
      plans.forEach((p) => send(chunks.role(p)));
    },
    step: (p, s) => chunks.step(p, s).forEach(send),
    malformed: () =>
      sse.garbled({
        id: a.meta.id,
        object: 'chat.completion.chunk',
        created: a.meta.created,
        model: a.meta.model,
        choices: [{ index: 0, delta: { content: 'garbled' }, logprobs: null, finish_reason: null }],
      }),
    finishChoice: (p) => send(chunks.finish(p)),
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

function bufferedSink(
  a: SinkArgs<ChatRequest>,
  fingerprint: string,
  flavour: OpenAIFlavour = {},
): GenerationSink {
  const body = () => {
    const c: Partial<ReturnType<typeof chatCompletion>> = chatCompletion(
      { ...a.meta, systemFingerprint: fingerprint, serviceTier: servedTier(a.req.serviceTier) },
      a.plans,
      a.promptTokens,
      {
        ...(a.knobs.cachedTokens !== undefined ? { cached: a.knobs.cachedTokens } : {}),
        ...(a.knobs.reasoningField ? { reasoningField: a.knobs.reasoningField } : {}),
      },
    );
    if (a.silent) delete c.usage;
    flavour.annotateCompletion?.(c as Record<string, unknown>);
    return c;
  };
  return bufferedJsonSink(a, body, rateLimitHeaders(false));
}

/** The chat route of OpenAI's wire, reusable by OpenAI-shaped protocols (Azure). */
export function openaiChatDialect(
  fingerprint: string,
  flavour: OpenAIFlavour = {},
): ChatDialect<ChatRequest> {
  return {
    authorize,
    parse: (body) => parseChatRequest(body),
    invalidJson: () => errors.invalidJson(),
    badKnob: (m) => errors.badKnob(m),
    modelNotFound: (m) => errors.modelNotFound(m),
    contextLengthExceeded: (max, actual) => errors.contextLengthExceeded(max, actual),
    errorForStatus: (status, ctx) => errorForStatus(status, ctx),
    credentialOf: (ex) => bearerToken(ex.req),
    streamSink: (a) => streamSink(a, fingerprint, flavour),
    bufferedSink: (a) => bufferedSink(a, fingerprint, flavour),
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
      // `/beta/chat/completions`: DeepSeek's beta base (prefix completion); the compatible
      // family shares this simulator.
      if (
        method === 'POST' &&
        (path === '/v1/chat/completions' || path === '/beta/chat/completions')
      ) {
        await runChat(ctx, ex, url, chat);
        return true;
      }
      if (method === 'GET' && path === '/v1/models') {
        authorize(ctx, ex);
        ex.json(200, modelList([...ctx.models.values()]));
        return true;
      }
      return serveModel(ctx, ex, path, {
        prefix: '/v1/models',
        authorize: () => authorize(ctx, ex),
        notFound: (id) => errors.modelNotFound(id),
        render: modelObject,
      });
    },
  };
}
