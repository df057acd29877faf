/**
 * The Gemini wire, as the Gemini API (Generative Language) and Vertex AI speak it:
 *
 * - `POST /{v1beta|v1|v1alpha}/models/{model}:generateContent` and `:streamGenerateContent`, with
 *   `x-goog-api-key` or `?key=`;
 * - `POST /{v1|v1beta1}/projects/{project}/locations/{location}/publishers/google/models/{model}:…`
 *   (Vertex AI), with `Authorization: Bearer <token>`; and Vertex's express mode
 *   `/{v1|v1beta1}/publishers/google/models/{model}:…` with an API key;
 * - `GET /{v1beta|v1|v1alpha}/models[/{model}]`.
 *
 * A stream with `alt=sse` is `data: <GenerateContentResponse>\r\n\r\n` events (no end marker),
 * without it one JSON array written as it grows. Every event repeats the usage totals so far.
 */
import { onDrain, runChat, wholeBodySink } from '../core/chat-flow.js';
import { garble } from '../core/sse.js';
import type { GenerationSink } from '../core/generation.js';
import { bearerToken, type Exchange } from '../core/http-util.js';
import type { ChoicePlan } from '../core/plan.js';
import type { ChatDialect, SimContext, SimProtocol, SinkArgs } from '../core/protocol.js';
import { keyAccepted } from '../core/protocol.js';
import {
  errorForStatus,
  errorText,
  geminiErrors,
  type ErrorContext,
  type GeminiRoute,
} from './errors.js';
import { parseGenerateContent, type GeminiChatRequest } from './request.js';
import {
  argsOf,
  candidateParts,
  countsOf,
  GEMINI_FINISH,
  googleJson,
  modelResource,
  responseId,
  thoughtSignature,
  usageMetadata,
} from './responses.js';

type Obj = Record<string, unknown>;

/** The API key of a Gemini API request: the `x-goog-api-key` header or the `key` parameter. */
function apiKeyOf(ex: Exchange, url: URL): string {
  const h = ex.req.headers['x-goog-api-key'];
  return (Array.isArray(h) ? h[0] : h) ?? url.searchParams.get('key') ?? '';
}

interface Target {
  route: GeminiRoute;
  /** How the caller authenticates: an API key, or an OAuth bearer token (Vertex). */
  auth: 'key' | 'bearer';
  model: string;
  /** The Vertex resource name of the model (messages name it). */
  resource: string;
  stream: boolean;
  sse: boolean;
}

function authorize(ctx: SimContext, ex: Exchange, url: URL, t: Target, e: ErrorContext): void {
  if (!ctx.apiKey) return;
  if (t.auth === 'key') {
    const key = apiKeyOf(ex, url);
    if (!key) throw geminiErrors.missingKey(e);
    if (!keyAccepted(ctx, key)) throw geminiErrors.invalidKey(e);
    return;
  }
  const token = bearerToken(ex.req);
  if (!token) throw geminiErrors.missingToken(e);
  if (!keyAccepted(ctx, token)) throw geminiErrors.invalidToken(e);
}

/** Per-candidate state of a streamed answer. */
class CandidateStream {
  parts: Obj[] = [];
  finish: string | undefined;
  dirty = false;
  private next = 0;
  private reasoning = '';
  private signed = false;
  private readonly args: string[] = [];
  /** The step index of each call's last argument fragment. */
  private readonly lastFragment = new Map<number, number>();

  constructor(
    private readonly plan: ChoicePlan,
    private readonly showThoughts: boolean,
    private readonly seed: string,
  ) {
    plan.steps.forEach((s, i) => {
      if (s.kind === 'tool') this.lastFragment.set(s.call, i);
    });
  }

  /** Adds a part, merging text into the last text part of the same kind. */
  private add(part: Obj): void {
    const last = this.parts[this.parts.length - 1];
    if (
      last &&
      typeof last['text'] === 'string' &&
      typeof part['text'] === 'string' &&
      last['thought'] === part['thought']
    ) {
      last['text'] += part['text'];
    } else {
      if (part['thought'] !== true && this.reasoning !== '' && !this.signed) {
        // The thinking's signature goes on the first part after the thoughts.
        part['thoughtSignature'] = thoughtSignature(this.seed + this.reasoning);
        this.signed = true;
      }
      this.parts.push(part);
    }
    this.dirty = true;
  }

  /** One step; returns what it counts as (`thought` or `candidate`). */
  step(): 'thought' | 'candidate' {
    const i = this.next++;
    const s = this.plan.steps[i]!;
    if (s.kind === 'reasoning') {
      this.reasoning += s.text;
      if (this.showThoughts) this.add({ text: s.text, thought: true });
      return 'thought';
    }
    if (s.kind === 'content') {
      this.add({ text: s.text });
      return 'candidate';
    }
    this.args[s.call] = (this.args[s.call] ?? '') + s.text;
    if (this.lastFragment.get(s.call) === i) {
      // Gemini sends a function call whole, once its arguments are complete.
      const call = this.plan.toolCalls[s.call];
      const args = argsOf(this.args[s.call] ?? '');
      if (call && args) this.add({ functionCall: { name: call.name, args } });
    }
    return 'candidate';
  }

  finishWith(reason: string): void {
    this.finish = reason;
    this.dirty = true;
  }

  /** The candidate of the next event, and a fresh start. */
  take(): Obj {
    const c: Obj = {
      content: { parts: this.parts, role: 'model' },
      ...(this.finish ? { finishReason: this.finish } : {}),
      index: this.plan.index,
    };
    this.parts = [];
    this.finish = undefined;
    this.dirty = false;
    return c;
  }
}

function meta(a: SinkArgs<GeminiChatRequest>): Obj {
  return {
    modelVersion: a.req.model,
    responseId: a.meta.id,
    ...(a.req.route === 'vertex'
      ? { createTime: new Date(a.meta.created * 1000).toISOString() }
      : {}),
  };
}

function streamSink(a: SinkArgs<GeminiChatRequest>, seed: string): GenerationSink {
  const { ex, plans, req } = a;
  const res = ex.res;
  const vertex = req.route === 'vertex';
  const counts = { candidates: 0, thoughts: 0 };
  const candidates = plans.map((p) => new CandidateStream(p, req.includeThoughts, seed));
  let pending = '';
  let opened = false;
  res.socket?.setNoDelay(true);
  res.writeHead(
    200,
    ex.headers({
      'content-type': req.sse ? 'text/event-stream' : 'application/json; charset=UTF-8',
      'content-disposition': 'attachment',
      'cache-control': 'no-cache',
      'x-accel-buffering': 'no',
    }),
  );
  res.flushHeaders();
  const queue = (obj: Obj): void => {
    if (req.sse) pending += `data: ${googleJson(obj)}\r\n\r\n`;
    else {
      pending += `${opened ? ',\r\n' : '['}${JSON.stringify(obj, null, 2)}`;
      opened = true;
    }
  };
  const event = (): void => {
    const dirty = candidates.filter((c) => c.dirty);
    if (dirty.length === 0) return;
    queue({
      candidates: dirty.map((c) => c.take()),
      ...(a.silent
        ? {}
        : {
            usageMetadata: usageMetadata(
              { prompt: a.promptTokens, ...counts, cached: a.knobs.cachedTokens },
              vertex,
            ),
          }),
      ...meta(a),
    });
  };
  const write = (): boolean => {
    event();
    if (pending === '' || res.destroyed) return true;
    const text = pending;
    pending = '';
    return res.write(text);
  };
  /** Ends the body: an SSE stream just ends; a JSON array closes (with `last` in it). */
  const close = (last?: string): void => {
    if (res.destroyed) return;
    if (req.sse) return void res.end(last ?? '');
    const tail = last === undefined ? '' : `${opened ? ',\r\n' : ''}${last}`;
    res.end(`${opened ? '' : '['}${tail}]`);
  };
  return {
    begin: () => {},
    step: (p) => {
      const kind = candidates[p.index]!.step();
      if (kind === 'thought') counts.thoughts++;
      else counts.candidates++;
    },
    // A `data:` event whose JSON is cut in half (SSE only: a JSON array has no events).
    malformed: () => {
      if (!req.sse) return;
      event();
      pending += `data: ${garble({ candidates: [{ content: { parts: [{ text: 'garbled' }], role: 'model' }, index: 0 }] })}\r\n\r\n`;
    },
    finishChoice: (p) => candidates[p.index]!.finishWith(GEMINI_FINISH[p.finishReason]),
    end() {
      write();
      close();
    },
    streamError() {
      // What came before the error is delivered; then Google writes the error into the stream
      // as bare JSON (not a `data:` event), on its own.
      write();
      const error = {
        error: {
          code: 500,
          message:
            'An internal error has occurred. Please retry or report in https://developers.generativeai.google/guide/troubleshooting',
          status: 'INTERNAL',
        },
      };
      setTimeout(
        () => close(req.sse ? errorText(error) : JSON.stringify(error, null, 2)),
        50,
      ).unref();
    },
    cut() {
      write();
      a.drop();
    },
    flush: write,
    onDrain: onDrain(ex),
  };
}

function bufferedSink(a: SinkArgs<GeminiChatRequest>, seed: string): GenerationSink {
  const { plans, req } = a;
  const body = (): Obj => ({
    candidates: plans.map((p) => ({
      content: { parts: candidateParts(p, { thoughts: req.includeThoughts, seed }), role: 'model' },
      finishReason: GEMINI_FINISH[p.finishReason],
      index: p.index,
    })),
    ...(a.silent
      ? {}
      : {
          usageMetadata: usageMetadata(
            { prompt: a.promptTokens, ...countsOf(plans), cached: a.knobs.cachedTokens },
            req.route === 'vertex',
          ),
        }),
    ...meta(a),
  });
  return wholeBodySink(a, () => ({
    payload: `${JSON.stringify(body(), null, 2)}\n`,
    contentType: 'application/json; charset=UTF-8',
  }));
}

/** The chat route of one request (its URL says the model, the route and the framing). */
function chatDialect(t: Target, url: URL, seed: string): ChatDialect<GeminiChatRequest> {
  const e: ErrorContext = { route: t.route, sse: t.sse };
  return {
    authorize: (ctx, ex) => authorize(ctx, ex, url, t, e),
    parse: (body) =>
      parseGenerateContent(body, t, {
        invalid: (m) => geminiErrors.invalidArgument(m, e),
        invalidJson: () => geminiErrors.invalidJson(e),
      }),
    invalidJson: () => geminiErrors.invalidJson(e),
    badKnob: (m) => geminiErrors.badKnob(m, e),
    modelNotFound: (m) => geminiErrors.modelNotFound(m, t.resource, e),
    contextLengthExceeded: (max, actual) => geminiErrors.contextLengthExceeded(max, actual, e),
    errorForStatus: (status, c) =>
      errorForStatus(status, {
        ...e,
        model: c.model,
        credential: c.apiKey,
        resource: t.resource,
        ...(c.retryAfterSec !== undefined ? { retryAfterSec: c.retryAfterSec } : {}),
        ...(c.message !== undefined ? { message: c.message } : {}),
      }),
    credentialOf: (ex) => (t.auth === 'key' ? apiKeyOf(ex, url) : bearerToken(ex.req)),
    streamSink: (a) => streamSink(a, seed),
    bufferedSink: (a) => bufferedSink(a, seed),
    completionId: responseId,
  };
}

const METHOD = '(generateContent|streamGenerateContent)';
const GEMINI_PATH = new RegExp(`^/(v1beta|v1|v1alpha)/models/([^/:]+):${METHOD}$`);
const VERTEX_PATH = new RegExp(
  `^/(v1|v1beta1)/projects/([^/]+)/locations/([^/]+)/publishers/google/models/([^/:]+):${METHOD}$`,
);
const EXPRESS_PATH = new RegExp(`^/(v1|v1beta1)/publishers/google/models/([^/:]+):${METHOD}$`);
const MODELS_PATH = /^\/(v1beta|v1|v1alpha)\/models(?:\/([^/:]+))?$/;

/** Which chat route a path is, or null. */
function targetOf(path: string, url: URL): Target | null {
  const sse = url.searchParams.get('alt') === 'sse';
  const dec = (s: string) => decodeURIComponent(s);
  let m = GEMINI_PATH.exec(path);
  if (m) {
    const model = dec(m[2]!);
    return {
      route: 'gemini',
      auth: 'key',
      model,
      resource: `models/${model}`,
      stream: m[3] === 'streamGenerateContent',
      sse,
    };
  }
  m = VERTEX_PATH.exec(path);
  if (m) {
    const model = dec(m[4]!);
    return {
      route: 'vertex',
      auth: 'bearer',
      model,
      resource: `projects/${dec(m[2]!)}/locations/${dec(m[3]!)}/publishers/google/models/${model}`,
      stream: m[5] === 'streamGenerateContent',
      sse,
    };
  }
  m = EXPRESS_PATH.exec(path);
  if (m) {
    const model = dec(m[2]!);
    return {
      route: 'vertex',
      auth: 'key',
      model,
      resource: `publishers/google/models/${model}`,
      stream: m[3] === 'streamGenerateContent',
      sse,
    };
  }
  return null;
}

/** Google's response headers (its front end's; Gemini sends no request id header). */
function responseHeaders(ex: Exchange): Record<string, string> {
  return {
    vary: 'Origin, X-Origin, Referer',
    server: 'scaffolding on HTTPServer2',
    'server-timing': `gfet4t7; dur=${ex.elapsedMs}`,
    'x-content-type-options': 'nosniff',
    'x-frame-options': 'SAMEORIGIN',
    'x-xss-protection': '0',
  };
}

export function geminiProtocol(name: string): SimProtocol {
  const seed = name;
  const plain: ErrorContext = { route: 'gemini', sse: false };
  return {
    name: 'gemini',
    // The SDKs add the API version themselves (`httpOptions.baseUrl` is the origin).
    basePath: '',
    responseHeaders,
    notFound: () => geminiErrors.methodNotFound(plain),
    internalError: () => geminiErrors.internal(plain),
    async route(ctx: SimContext, ex: Exchange, path: string, url: URL): Promise<boolean> {
      if (ex.method === 'POST') {
        const t = targetOf(path, url);
        if (!t) return false;
        await runChat(ctx, ex, url, chatDialect(t, url, seed));
        return true;
      }
      const m = ex.method === 'GET' ? MODELS_PATH.exec(path) : null;
      if (!m) return false;
      const t: Target = {
        route: 'gemini',
        auth: 'key',
        model: '',
        resource: '',
        stream: false,
        sse: false,
      };
      authorize(ctx, ex, url, t, plain);
      if (m[2] === undefined) {
        ex.json(200, { models: [...ctx.models.values()].map(modelResource) });
        return true;
      }
      const id = decodeURIComponent(m[2]);
      const model = ctx.models.get(id);
      if (!model) throw geminiErrors.modelNotFound(id, `models/${id}`, plain);
      ex.json(200, modelResource(model));
      return true;
    },
  };
}
