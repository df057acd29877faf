/**
 * The Mistral wire: `POST /v1/chat/completions` (JSON, or SSE `data:` chunks ending in
 * `data: [DONE]`), `GET /v1/models`, Bearer authentication. What differs from OpenAI's, as the
 * official SDK (`@mistralai/mistralai`) reads it:
 * - 32-hex completion ids, 9-character tool call ids; a tool call streams whole in one delta;
 * - thinking (Magistral, or `reasoning_effort`) as `{type: 'thinking', thinking: [{type:
 *   'text', text}]}` content chunks;
 * - usage on the last chunk, with the finish reason; no `stream_options`;
 * - the stream's failure (the `stream_error` knob) is a final chunk with `finish_reason: error`.
 */
import { randomBytes } from 'node:crypto';
import { bufferedJsonSink } from '../core/buffered-sink.js';
import { onDrain, runChat } from '../core/chat-flow.js';
import type { GenerationSink } from '../core/generation.js';
import { bearerToken, type Exchange } from '../core/http-util.js';
import { randomAlnum } from '../core/ids.js';
import { assembleChoice, type ChoicePlan, type Step } from '../core/plan.js';
import type {
  ChatDialect,
  SimChatRequest,
  SimContext,
  SimProtocol,
  SinkArgs,
} from '../core/protocol.js';
import { keyAccepted } from '../core/protocol.js';
import { SseWriter } from '../core/sse.js';
import { parseMistralRequest } from './chat-request.js';
import { mistralErrorForStatus, mistralErrors } from './errors.js';

type Obj = Record<string, unknown>;

const thinkingChunk = (text: string) => ({ type: 'thinking', thinking: [{ type: 'text', text }] });

function usageOf(a: SinkArgs<SimChatRequest>): Obj {
  const completion = a.plans.reduce((n, p) => n + p.steps.length, 0);
  const cached = Math.min(a.promptTokens, a.knobs.cachedTokens ?? 0);
  return {
    prompt_tokens: a.promptTokens,
    completion_tokens: completion,
    total_tokens: a.promptTokens + completion,
    ...(cached > 0 ? { prompt_tokens_details: { cached_tokens: cached } } : {}),
  };
}

const toolCallJson = (calls: Array<{ id: string; name: string; arguments: string }>) =>
  calls.map((c, i) => ({
    id: c.id,
    type: 'function',
    function: { name: c.name, arguments: c.arguments },
    index: i,
  }));

/** Mistral's tool call ids are 9 alphanumerics (the plan's are OpenAI's `call_...`). */
function withMistralIds(plans: readonly ChoicePlan[]): void {
  for (const p of plans) for (const c of p.toolCalls) c.id = randomAlnum(9);
}

function message(plan: ChoicePlan): Obj {
  const { content, toolCalls, reasoning } = assembleChoice(plan);
  const text = content ?? '';
  return {
    role: 'assistant',
    tool_calls: toolCalls.length > 0 ? toolCallJson(toolCalls) : null,
    content: reasoning ? [thinkingChunk(reasoning), { type: 'text', text }] : text,
  };
}

function streamSink(a: SinkArgs<SimChatRequest>): GenerationSink {
  const { ex, plans, meta } = a;
  withMistralIds(plans);
  const sse = new SseWriter(ex.res);
  sse.open(ex.headers());
  const chunk = (choices: unknown[], extra: Obj = {}) => ({
    id: meta.id,
    object: 'chat.completion.chunk',
    created: meta.created,
    model: meta.model,
    choices,
    ...extra,
  });
  const delta = (index: number, d: Obj, finish: string | null = null) =>
    sse.event(chunk([{ index, delta: d, finish_reason: finish }]));
  /** Tool-call arguments so far, per choice and call. */
  const args = new Map<number, string[]>();
  const sent = new Map<number, Set<number>>();
  const finished: ChoicePlan[] = [];
  const flushCalls = (plan: ChoicePlan, upTo: number) => {
    const done = sent.get(plan.index) ?? new Set<number>();
    sent.set(plan.index, done);
    plan.toolCalls.forEach((c, i) => {
      if (i > upTo || done.has(i)) return;
      done.add(i);
      const text = args.get(plan.index)?.[i] ?? '';
      delta(plan.index, {
        tool_calls: [
          { id: c.id, type: 'function', function: { name: c.name, arguments: text }, index: i },
        ],
      });
    });
  };
  const lastOfCall = (plan: ChoicePlan, step: Step): boolean => {
    if (step.kind !== 'tool') return false;
    const i = plan.steps.indexOf(step);
    return !plan.steps.slice(i + 1).some((s) => s.kind === 'tool' && s.call === step.call);
  };
  return {
    begin: () => plans.forEach((p) => delta(p.index, { role: 'assistant', content: '' })),
    step(plan, step) {
      if (step.kind === 'content') delta(plan.index, { content: step.text });
      else if (step.kind === 'reasoning')
        delta(plan.index, { content: [thinkingChunk(step.text)] });
      else {
        const list = args.get(plan.index) ?? [];
        list[step.call] = (list[step.call] ?? '') + step.text;
        args.set(plan.index, list);
        if (lastOfCall(plan, step)) flushCalls(plan, step.call);
      }
    },
    malformed: () =>
      sse.garbled(chunk([{ index: 0, delta: { content: 'garbled' }, finish_reason: null }])),
    finishChoice(plan) {
      flushCalls(plan, plan.toolCalls.length);
      finished.push(plan);
    },
    end() {
      finished.forEach((p, i) =>
        sse.event(
          chunk(
            [{ index: p.index, delta: { content: '' }, finish_reason: p.finishReason }],
            i === finished.length - 1 && !a.silent ? { usage: usageOf(a) } : {},
          ),
        ),
      );
      sse.done();
    },
    streamError() {
      delta(0, { content: '' }, 'error');
      sse.done();
    },
    cut() {
      sse.flush();
      a.drop();
    },
    flush: () => sse.flush(),
    onDrain: onDrain(ex),
  };
}

function bufferedSink(a: SinkArgs<SimChatRequest>): GenerationSink {
  const { plans, meta } = a;
  withMistralIds(plans);
  const body = () => ({
    id: meta.id,
    object: 'chat.completion',
    model: meta.model,
    created: meta.created,
    choices: plans.map((p) => ({
      index: p.index,
      message: message(p),
      finish_reason: p.finishReason,
    })),
    // A silent upstream still sends the (required) field, empty.
    usage: a.silent ? {} : usageOf(a),
  });
  return bufferedJsonSink(a, body);
}

function authorize(ctx: Pick<SimContext, 'apiKeys'>, ex: Exchange): void {
  if (!keyAccepted(ctx, bearerToken(ex.req))) throw mistralErrors.unauthorized();
}

const chat: ChatDialect<SimChatRequest> = {
  authorize,
  parse: (body) => parseMistralRequest(body),
  invalidJson: () => mistralErrors.invalid('Invalid JSON body'),
  badKnob: (m) => mistralErrors.invalid(m),
  modelNotFound: (m) => mistralErrors.invalidModel(m),
  contextLengthExceeded: (max, actual) => mistralErrors.contextLength(max, actual),
  errorForStatus: (status, ctx) => mistralErrorForStatus(status, ctx),
  credentialOf: (ex) => bearerToken(ex.req),
  streamSink,
  bufferedSink,
  completionId: () => randomBytes(16).toString('hex'),
};

export function mistralProtocol(): SimProtocol {
  return {
    name: 'mistral',
    basePath: '',
    responseHeaders: (ex) => ({ 'mistral-correlation-id': ex.id, 'x-kong-request-id': ex.id }),
    notFound: () => mistralErrors.notFound(),
    internalError: () => mistralErrors.serverError(),
    async route(ctx: SimContext, ex: Exchange, path: string, url: URL): Promise<boolean> {
      if (ex.method === 'POST' && path === '/v1/chat/completions') {
        await runChat(ctx, ex, url, chat);
        return true;
      }
      if (ex.method === 'GET' && path === '/v1/models') {
        authorize(ctx, ex);
        ex.json(200, {
          object: 'list',
          data: [...ctx.models.values()].map((m) => ({
            id: m.id,
            object: 'model',
            created: 1_700_000_000,
            owned_by: 'mistralai',
            type: 'base',
            capabilities: { completion_chat: true, function_calling: true, vision: true },
            max_context_length: m.contextLength ?? 32_768,
          })),
        });
        return true;
      }
      return false;
    },
  };
}
