/**
 * Bedrock's answers: the Converse JSON (`{output: {message}, stopReason, usage, metrics}`) and
 * ConverseStream's binary event stream (`application/vnd.amazon.eventstream`): frames with
 * `:event-type`, `:content-type: application/json` and `:message-type: event` headers, in the
 * order Bedrock sends them: `messageStart`, per content block (a `contentBlockStart` for a tool
 * call only) its `contentBlockDelta`s and `contentBlockStop`, `messageStop`, `metadata`.
 * Exceptions are `:message-type: exception` frames named by `:exception-type`. Each event's
 * payload carries Bedrock's random-length `p` padding.
 */
import { randomBytes } from 'node:crypto';
import { encodeEventStreamMessage } from '@turnpike/providers';
import { bufferedJsonSink } from '../core/buffered-sink.js';
import { onDrain } from '../core/chat-flow.js';
import type { GenerationSink } from '../core/generation.js';
import { randomAlnum } from '../core/ids.js';
import {
  assembleChoice,
  type ChoicePlan,
  type FinishReason,
  type ToolCallPlan,
} from '../core/plan.js';
import type { SinkArgs } from '../core/protocol.js';
import { garble } from '../core/sse.js';
import { STREAM_ERROR } from './errors.js';
import type { ConverseSimRequest } from './request.js';

export const EVENT_STREAM_CONTENT_TYPE = 'application/vnd.amazon.eventstream';

const STOP_REASON: Record<FinishReason, string> = {
  stop: 'end_turn',
  length: 'max_tokens',
  tool_calls: 'tool_use',
};

/** Bedrock's `tooluse_` ids, derived from the plan's. */
export const toolUseId = (c: ToolCallPlan): string =>
  `tooluse_${c.id.replace(/^call_/, '').slice(0, 22)}`;

/** A signature of Claude's thinking: opaque base64, as Claude's are. */
const signature = (): string => randomBytes(96).toString('base64');

/** Bedrock's padding field: a random-length run of letters (hides the length of each token). */
const padding = (): string =>
  'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789'.slice(
    0,
    1 + Math.floor(Math.random() * 40),
  );

export interface ConverseUsage {
  inputTokens: number;
  outputTokens: number;
  totalTokens: number;
  cacheReadInputTokens?: number;
  cacheWriteInputTokens?: number;
}

/** Usage: `inputTokens` excludes what the cache served or took; the cache fields from the knobs. */
export function usageOf(a: SinkArgs<ConverseSimRequest>): ConverseUsage {
  const output = a.plans.reduce((n, p) => n + p.steps.length, 0);
  const read = Math.min(a.knobs.cachedTokens ?? 0, a.promptTokens);
  const write = Math.min(a.knobs.cacheWriteTokens ?? 0, a.promptTokens - read);
  const input = a.promptTokens - read - write;
  return {
    inputTokens: input,
    outputTokens: output,
    totalTokens: input + output + read + write,
    ...(a.knobs.cachedTokens !== undefined ? { cacheReadInputTokens: read } : {}),
    ...(a.knobs.cacheWriteTokens !== undefined ? { cacheWriteInputTokens: write } : {}),
  };
}

const frame = (headers: Record<string, string>, payload: unknown): Buffer =>
  Buffer.from(encodeEventStreamMessage(headers, new TextEncoder().encode(JSON.stringify(payload))));

const event = (type: string, payload: Record<string, unknown>): Buffer =>
  frame(
    { ':event-type': type, ':content-type': 'application/json', ':message-type': 'event' },
    { ...payload, p: padding() },
  );

/** An exception frame of ConverseStream (`throttlingException`, `modelStreamErrorException`, ...). */
export const exceptionFrame = (type: string, body: unknown): Buffer =>
  frame(
    { ':exception-type': type, ':content-type': 'application/json', ':message-type': 'exception' },
    body,
  );

export function streamSink(a: SinkArgs<ConverseSimRequest>): GenerationSink {
  const { ex } = a;
  let pending: Buffer[] = [];
  let block = -1;
  let open: 'reasoning' | 'text' | 'tool' | null = null;
  const emit = (type: string, payload: Record<string, unknown>) =>
    pending.push(event(type, payload));
  const closeBlock = () => {
    if (open === 'reasoning')
      emit('contentBlockDelta', {
        contentBlockIndex: block,
        delta: { reasoningContent: { signature: signature() } },
      });
    if (open !== null) emit('contentBlockStop', { contentBlockIndex: block });
    open = null;
  };
  const openBlock = (kind: 'reasoning' | 'text' | 'tool') => {
    closeBlock();
    block++;
    open = kind;
  };
  const take = () => {
    const out = Buffer.concat(pending);
    pending = [];
    return out;
  };
  ex.res.socket?.setNoDelay(true);
  ex.res.writeHead(200, ex.headers({ 'content-type': EVENT_STREAM_CONTENT_TYPE }));
  ex.res.flushHeaders();
  return {
    begin: () => emit('messageStart', { role: 'assistant' }),
    step(plan, s) {
      if (s.kind === 'reasoning') {
        if (open !== 'reasoning') openBlock('reasoning');
        emit('contentBlockDelta', {
          contentBlockIndex: block,
          delta: { reasoningContent: { text: s.text } },
        });
      } else if (s.kind === 'content') {
        if (open !== 'text') openBlock('text');
        emit('contentBlockDelta', { contentBlockIndex: block, delta: { text: s.text } });
      } else {
        if (s.first) {
          openBlock('tool');
          const c = plan.toolCalls[s.call];
          emit('contentBlockStart', {
            contentBlockIndex: block,
            start: {
              toolUse: {
                toolUseId: c ? toolUseId(c) : `tooluse_${randomAlnum(22)}`,
                name: c?.name ?? '',
              },
            },
          });
        }
        emit('contentBlockDelta', {
          contentBlockIndex: block,
          delta: { toolUse: { input: s.text } },
        });
      }
    },
    // A well-framed event (its CRCs right) whose payload is JSON cut in half.
    malformed: () =>
      pending.push(
        Buffer.from(
          encodeEventStreamMessage(
            {
              ':event-type': 'contentBlockDelta',
              ':content-type': 'application/json',
              ':message-type': 'event',
            },
            new TextEncoder().encode(
              garble({ contentBlockIndex: Math.max(block, 0), delta: { text: 'garbled' } }),
            ),
          ),
        ),
      ),
    finishChoice(plan) {
      closeBlock();
      emit('messageStop', { stopReason: STOP_REASON[plan.finishReason] });
    },
    end() {
      if (!a.silent) emit('metadata', { usage: usageOf(a), metrics: { latencyMs: ex.elapsedMs } });
      ex.res.end(take());
    },
    streamError() {
      pending.push(exceptionFrame(STREAM_ERROR.type, STREAM_ERROR.body));
      ex.res.end(take());
    },
    cut() {
      if (pending.length > 0) ex.res.write(take());
      a.drop();
    },
    flush: () => (pending.length === 0 || ex.res.destroyed ? true : ex.res.write(take())),
    onDrain: onDrain(ex),
  };
}

/** The Converse response of a plan. */
export function converseResponse(a: SinkArgs<ConverseSimRequest>, plan: ChoicePlan) {
  const { content, toolCalls, reasoning } = assembleChoice(plan);
  const blocks: Record<string, unknown>[] = [];
  if (reasoning)
    blocks.push({
      reasoningContent: { reasoningText: { text: reasoning, signature: signature() } },
    });
  if (content) blocks.push({ text: content });
  for (const c of toolCalls) {
    let input: unknown = {};
    try {
      input = JSON.parse(c.arguments) as unknown;
    } catch {
      // clipped by maxTokens mid-arguments: Bedrock hands back what parsed, here nothing
    }
    blocks.push({ toolUse: { toolUseId: toolUseId(c), name: c.name, input } });
  }
  return {
    output: { message: { role: 'assistant', content: blocks } },
    stopReason: STOP_REASON[plan.finishReason],
    ...(a.silent ? {} : { usage: usageOf(a) }),
    metrics: { latencyMs: a.ex.elapsedMs },
  };
}

export function bufferedSink(a: SinkArgs<ConverseSimRequest>): GenerationSink {
  return bufferedJsonSink(a, () => converseResponse(a, a.plans[0]!));
}
