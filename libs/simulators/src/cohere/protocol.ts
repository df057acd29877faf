/**
 * The Cohere v2 wire: `POST /v2/chat` (JSON, or SSE events named after their `type`, ending with
 * `message-end`), Bearer authentication, `{id, message}` errors. The grammar, as the official SDK
 * (`cohere-ai`, `V2ChatStreamResponse`) reads it: `message-start` → per content item
 * `content-start`/`content-delta`/`content-end` (`thinking`, then `text`) → per tool call
 * `tool-call-start`/`tool-call-delta`/`tool-call-end` → `message-end` with `finish_reason`
 * (`COMPLETE`, `MAX_TOKENS`, `TOOL_CALL`, `ERROR`) and `usage {billed_units, tokens,
 * cached_tokens}`.
 */
import { randomUUID } from 'node:crypto';
import { bufferedJsonSink } from '../core/buffered-sink.js';
import { onDrain, runChat } from '../core/chat-flow.js';
import type { GenerationSink } from '../core/generation.js';
import { bearerToken, type Exchange } from '../core/http-util.js';
import { randomAlnum } from '../core/ids.js';
import { assembleChoice, type ChoicePlan } from '../core/plan.js';
import type {
  ChatDialect,
  SimChatRequest,
  SimContext,
  SimProtocol,
  SinkArgs,
} from '../core/protocol.js';
import { keyAccepted } from '../core/protocol.js';
import { SseWriter } from '../core/sse.js';
import { parseCohereRequest } from './chat-request.js';
import { cohereErrorForStatus, cohereErrors } from './errors.js';

type Obj = Record<string, unknown>;

const FINISH: Record<ChoicePlan['finishReason'], string> = {
  stop: 'COMPLETE',
  length: 'MAX_TOKENS',
  tool_calls: 'TOOL_CALL',
};

function usageOf(a: SinkArgs<SimChatRequest>): Obj {
  const output = a.plans.reduce((n, p) => n + p.steps.length, 0);
  const cached = Math.min(a.promptTokens, a.knobs.cachedTokens ?? 0);
  return {
    billed_units: { input_tokens: a.promptTokens, output_tokens: output },
    tokens: { input_tokens: a.promptTokens, output_tokens: output },
    ...(cached > 0 ? { cached_tokens: cached } : {}),
  };
}

/** Cohere names its tool calls after the function: `get_weather_hgxxmkby3wta`. */
function withCohereIds(plans: readonly ChoicePlan[]): void {
  for (const p of plans)
    for (const c of p.toolCalls) c.id = `${c.name}_${randomAlnum(12).toLowerCase()}`;
}

function streamSink(a: SinkArgs<SimChatRequest>): GenerationSink {
  const { ex, plans, meta } = a;
  withCohereIds(plans);
  const plan = plans[0]!;
  const sse = new SseWriter(ex.res);
  sse.open(ex.headers());
  const send = (type: string, body: Obj = {}) => sse.event({ type, ...body }, type);
  const message = (m: Obj) => ({ delta: { message: m } });
  /** The open content item (`thinking` or `text`) and its index, or the open tool call. */
  let open: { kind: 'thinking' | 'text'; index: number } | { kind: 'tool'; index: number } | null =
    null;
  let contentIndex = 0;
  const close = () => {
    if (open?.kind === 'tool') send('tool-call-end', { index: open.index });
    else if (open) send('content-end', { index: open.index });
    open = null;
  };
  const content = (kind: 'thinking' | 'text', piece: string) => {
    if (open?.kind !== kind) {
      close();
      open = { kind, index: contentIndex++ };
      send('content-start', {
        index: open.index,
        ...message({ content: { type: kind, [kind]: '' } }),
      });
    }
    send('content-delta', { index: open.index, ...message({ content: { [kind]: piece } }) });
  };
  const end = (finish: string, extra: Obj) => {
    close();
    send('message-end', { id: meta.id, delta: { finish_reason: finish, ...extra } });
    sse.end();
  };
  return {
    begin: () => send('message-start', { id: meta.id, ...message({ role: 'assistant' }) }),
    step(_p, step) {
      if (step.kind === 'reasoning') return content('thinking', step.text);
      if (step.kind === 'content') return content('text', step.text);
      if (step.first) {
        close();
        const c = plan.toolCalls[step.call];
        open = { kind: 'tool', index: step.call };
        send('tool-call-start', {
          index: step.call,
          ...message({
            tool_calls: { id: c?.id, type: 'function', function: { name: c?.name, arguments: '' } },
          }),
        });
      }
      send('tool-call-delta', {
        index: step.call,
        ...message({ tool_calls: { function: { arguments: step.text } } }),
      });
    },
    malformed: () =>
      sse.garbled(
        { type: 'content-delta', index: 0, ...message({ content: { text: 'garbled' } }) },
        'content-delta',
      ),
    finishChoice: () => close(),
    end: () => end(FINISH[plan.finishReason], a.silent ? {} : { usage: usageOf(a) }),
    streamError: () =>
      end('ERROR', { error: 'internal server error, this has been reported to our developers' }),
    cut() {
      sse.flush();
      a.drop();
    },
    flush: () => sse.flush(),
    onDrain: onDrain(ex),
  };
}

function bufferedSink(a: SinkArgs<SimChatRequest>): GenerationSink {
  withCohereIds(a.plans);
  const plan = a.plans[0]!;
  return bufferedJsonSink(a, () => {
    const { content, toolCalls, reasoning } = assembleChoice(plan);
    const items: Obj[] = [
      ...(reasoning ? [{ type: 'thinking', thinking: reasoning }] : []),
      ...(content ? [{ type: 'text', text: content }] : []),
    ];
    return {
      id: a.meta.id,
      message: {
        role: 'assistant',
        ...(items.length > 0 ? { content: items } : {}),
        ...(toolCalls.length > 0
          ? {
              tool_calls: toolCalls.map((c) => ({
                id: c.id,
                type: 'function',
                function: { name: c.name, arguments: c.arguments },
              })),
            }
          : {}),
      },
      finish_reason: FINISH[plan.finishReason],
      ...(a.silent ? {} : { usage: usageOf(a) }),
    };
  });
}

function authorize(ctx: Pick<SimContext, 'apiKeys'>, ex: Exchange): void {
  if (!keyAccepted(ctx, bearerToken(ex.req))) throw cohereErrors.unauthorized();
}

const chat: ChatDialect<SimChatRequest> = {
  authorize,
  parse: (body) => parseCohereRequest(body),
  invalidJson: () => cohereErrors.invalid('invalid json body'),
  badKnob: (m) => cohereErrors.invalid(m),
  modelNotFound: (m) => cohereErrors.modelNotFound(m),
  contextLengthExceeded: (max, actual) => cohereErrors.tooManyTokens(max, actual),
  errorForStatus: (status, ctx) => cohereErrorForStatus(status, ctx),
  credentialOf: (ex) => bearerToken(ex.req),
  streamSink,
  bufferedSink,
  completionId: () => randomUUID(),
};

export function cohereProtocol(): SimProtocol {
  return {
    name: 'cohere',
    basePath: '',
    responseHeaders: (ex) => ({ 'x-debug-trace-id': ex.id.replace(/^req_/, '') }),
    notFound: () => cohereErrors.notFound(),
    internalError: () => cohereErrors.serverError(),
    async route(ctx: SimContext, ex: Exchange, path: string, url: URL): Promise<boolean> {
      if (ex.method === 'POST' && path === '/v2/chat') {
        await runChat(ctx, ex, url, chat);
        return true;
      }
      if (ex.method === 'GET' && path === '/v1/models') {
        authorize(ctx, ex);
        ex.json(200, {
          models: [...ctx.models.values()].map((m) => ({
            name: m.id,
            endpoints: ['chat'],
            finetuned: false,
            context_length: m.contextLength ?? 128_000,
            features: ['tools', 'json_mode', 'json_schema', 'vision'],
          })),
        });
        return true;
      }
      return false;
    },
  };
}
