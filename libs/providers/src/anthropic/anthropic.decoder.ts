/**
 * Anthropic's Messages answers in OpenAI's shapes: the stream decoder of the SSE grammar, and the
 * mapping of a whole `Message`.
 *
 * The stream (`2023-06-01`): `message_start` (id, model, input usage incl. cache reads and
 * writes) → per content block `content_block_start` / `content_block_delta`* /
 * `content_block_stop` → `message_delta` (stop reason, cumulative usage) → `message_stop`; `ping`
 * anywhere; `error` instead of the rest when the API fails mid-stream. Block deltas: `text_delta`,
 * `input_json_delta` (a tool call's arguments, in pieces), `thinking_delta`, `signature_delta`
 * (the thinking block's signature, just before its stop), `citations_delta`. The decoder keeps
 * the state across events: the block index → tool-call index and reasoning-detail index, the
 * usage of `message_start` until `message_delta` completes it, the stop reason.
 */
import type { NativeTokens } from '@turnpike/contracts';
import type { ParsedCompletion } from '../core/adapter.js';
import {
  EventTally,
  type DecodedEvent,
  type StreamDecoder,
  type StreamSummary,
} from '../core/decoder.js';
import { SseParser } from '../core/framing/sse.js';
import { isObj, str, tryParse, type Json } from '../core/json.js';
import {
  buildCompletion,
  ChunkWriter,
  normaliseFinish,
  nowSeconds,
  type FinishReason,
  type ReasoningDetail,
  type ToolCallOut,
} from '../core/output.js';
import { fromAnthropicUsage } from '../core/usage.js';
import { countTokens } from '../estimate.js';
import { protocolError, upstreamStreamError } from '../errors/index.js';
import { ANTHROPIC_ERROR_DIALECT } from './anthropic.errors.js';

/** The `format` of Anthropic's reasoning details (OpenRouter's name). */
export const ANTHROPIC_REASONING_FORMAT = 'anthropic-claude-v1';

/** Anthropic's stop reasons in OpenAI's vocabulary (the native one is kept beside it). */
export const ANTHROPIC_FINISH: Readonly<Record<string, FinishReason>> = {
  end_turn: 'stop',
  stop_sequence: 'stop',
  max_tokens: 'length',
  model_context_window_exceeded: 'length',
  tool_use: 'tool_calls',
  refusal: 'content_filter',
  // A long server-tool turn paused; the client continues it with the content as it is.
  pause_turn: 'stop',
};

type Usage = Parameters<typeof fromAnthropicUsage>[0];

/** Reads the usage fields Anthropic sends (null ones are unknown, so left as they were). */
function mergeUsage(into: Json, usage: Json): void {
  for (const k of [
    'input_tokens',
    'output_tokens',
    'cache_read_input_tokens',
    'cache_creation_input_tokens',
  ]) {
    if (typeof usage[k] === 'number') into[k] = usage[k];
  }
  const details = usage['output_tokens_details'];
  if (isObj(details) && typeof details['thinking_tokens'] === 'number')
    into['thinking_tokens'] = details['thinking_tokens'];
}

/**
 * Normalised usage: Anthropic's `thinking_tokens` when it reports them, else the thinking text
 * counted (Anthropic bills thinking as output and, without that field, does not split it out).
 */
function tokensOf(usage: Json, thinkingText: string): NativeTokens {
  const reported = typeof usage['thinking_tokens'] === 'number' ? usage['thinking_tokens'] : null;
  const estimate = reported ?? (thinkingText === '' ? 0 : countTokens(thinkingText));
  return fromAnthropicUsage(usage as Usage, estimate);
}

interface BlockState {
  type: string;
  /** OpenAI tool-call index of a `tool_use` block. */
  tool?: number;
  /** `reasoning_details` index of a thinking block. */
  detail?: number;
}

export class AnthropicStreamDecoder implements StreamDecoder {
  private readonly sse = new SseParser();
  private writer: ChunkWriter | null = null;
  private readonly blocks = new Map<number, BlockState>();
  private tools = 0;
  private details = 0;
  private usage: Json | null = null;
  private thinking = '';
  private finish: FinishReason | null = null;
  private nativeFinish: string | null = null;
  private done = false;
  private readonly tally = new EventTally();

  constructor(private readonly fallbackModel: string) {}

  get events(): number {
    return this.tally.events;
  }

  push(bytes: Uint8Array): DecodedEvent[] {
    const out: DecodedEvent[] = [];
    if (this.done) return out;
    for (const ev of this.sse.push(bytes)) {
      this.tally.read();
      const json = tryParse(ev.data);
      if (!isObj(json)) {
        out.push(this.tally.skip());
        continue;
      }
      // The data's `type` names the event (the SSE event name is the same, by the grammar).
      const type = str(json['type']) ?? ev.event;
      if (type === 'error' || ev.event === 'error') {
        out.push({ type: 'error', error: upstreamStreamError(json, ANTHROPIC_ERROR_DIALECT) });
        continue;
      }
      // An event that breaks the grammar (a block delta for a block that never started, a
      // second message_start) is skipped like one that does not parse.
      const event = this.event(type, json);
      if (event === 'bad') {
        out.push(this.tally.skip());
        continue;
      }
      out.push(...event);
      if (this.done) break;
    }
    return out;
  }

  private chunk(chunk: Json, hasOutput = true): DecodedEvent {
    return { type: 'chunk', chunk, hasOutput };
  }

  /** The events of one SSE event; 'bad' when it breaks the grammar. */
  private event(type: string, json: Json): DecodedEvent[] | 'bad' {
    if (type === 'message_start') return this.start(json);
    // Everything else belongs to a message that started.
    const w = this.writer;
    if (type === 'ping') return [];
    if (!w)
      return type === 'message_stop' || type === 'message_delta' || type.startsWith('content_block')
        ? 'bad'
        : [];
    switch (type) {
      case 'content_block_start':
        return this.blockStart(w, json);
      case 'content_block_delta':
        return this.blockDelta(w, json);
      case 'content_block_stop':
        return [];
      case 'message_delta': {
        if (isObj(json['usage'])) mergeUsage((this.usage ??= {}), json['usage']);
        const delta = isObj(json['delta']) ? json['delta'] : {};
        const native = str(delta['stop_reason']);
        if (!native) return [];
        this.nativeFinish = native;
        this.finish = normaliseFinish(native, ANTHROPIC_FINISH);
        return [this.chunk(w.finish(this.finish ?? 'stop', native), false)];
      }
      case 'message_stop': {
        this.done = true;
        const out: DecodedEvent[] = [];
        if (this.usage) out.push(this.chunk(w.usage(tokensOf(this.usage, this.thinking)), false));
        out.push({ type: 'done' });
        return out;
      }
      default:
        // New event types may be added within a version: skipped.
        return [];
    }
  }

  private start(json: Json): DecodedEvent[] | 'bad' {
    const m = json['message'];
    if (!isObj(m) || this.writer) return 'bad';
    this.writer = new ChunkWriter(
      {
        id: str(m['id']) ?? 'msg',
        model: str(m['model']) ?? this.fallbackModel,
        created: nowSeconds(),
      },
      ANTHROPIC_REASONING_FORMAT,
    );
    if (isObj(m['usage'])) mergeUsage((this.usage ??= {}), m['usage']);
    return [this.chunk(this.writer.role(), false)];
  }

  private blockStart(w: ChunkWriter, json: Json): DecodedEvent[] | 'bad' {
    const index = json['index'];
    const b = json['content_block'];
    if (typeof index !== 'number' || !isObj(b) || typeof b['type'] !== 'string') return 'bad';
    const state: BlockState = { type: b['type'] };
    this.blocks.set(index, state);
    switch (b['type']) {
      case 'text': {
        const text = str(b['text']) ?? '';
        return text === '' ? [] : [this.chunk(w.text(text))];
      }
      case 'tool_use': {
        state.tool = this.tools++;
        // Streamed input arrives as `input_json_delta`s; a start that already holds the whole
        // input (never seen in practice) gives it as the first arguments.
        const input = isObj(b['input']) ? b['input'] : {};
        const args = Object.keys(input).length > 0 ? JSON.stringify(input) : '';
        return [
          this.chunk(w.toolCallStart(state.tool, str(b['id']) ?? '', str(b['name']) ?? '', args)),
        ];
      }
      case 'thinking': {
        state.detail = this.details++;
        const text = str(b['thinking']) ?? '';
        this.thinking += text;
        const signature = str(b['signature']);
        return text === '' && !signature
          ? []
          : [
              this.chunk(
                w.reasoning({
                  text,
                  detailIndex: state.detail,
                  ...(signature ? { signature } : {}),
                }),
              ),
            ];
      }
      case 'redacted_thinking': {
        state.detail = this.details++;
        return [this.chunk(w.reasoning({ data: str(b['data']) ?? '', detailIndex: state.detail }))];
      }
      default:
        // Server tools' blocks (web search, code execution) are not part of an OpenAI answer.
        return [];
    }
  }

  private blockDelta(w: ChunkWriter, json: Json): DecodedEvent[] | 'bad' {
    const index = json['index'];
    const d = json['delta'];
    if (typeof index !== 'number' || !isObj(d)) return 'bad';
    const state = this.blocks.get(index);
    if (!state) return 'bad';
    switch (d['type']) {
      case 'text_delta': {
        const text = str(d['text']) ?? '';
        return text === '' ? [] : [this.chunk(w.text(text))];
      }
      case 'input_json_delta': {
        const piece = str(d['partial_json']) ?? '';
        // A server tool's input (`server_tool_use`) is not an OpenAI tool call.
        if (state.tool === undefined || piece === '') return [];
        return [this.chunk(w.toolCallArgs(state.tool, piece))];
      }
      case 'thinking_delta': {
        const text = str(d['thinking']) ?? '';
        if (state.detail === undefined) return [];
        this.thinking += text;
        return text === '' ? [] : [this.chunk(w.reasoning({ text, detailIndex: state.detail }))];
      }
      case 'signature_delta': {
        const signature = str(d['signature']) ?? '';
        if (state.detail === undefined) return [];
        return signature === ''
          ? []
          : [this.chunk(w.reasoning({ signature, detailIndex: state.detail }))];
      }
      default:
        // `citations_delta` and future delta types carry no OpenAI output.
        return [];
    }
  }

  end(): StreamSummary {
    return {
      tokens: this.usage ? tokensOf(this.usage, this.thinking) : null,
      finishReason: this.finish,
      nativeFinishReason: this.nativeFinish,
      complete: this.done,
      malformedEvents: this.tally.malformed,
    };
  }
}

/** A whole (non-streamed) `Message` as a `chat.completion`. */
export function parseMessage(json: unknown, fallbackModel: string): ParsedCompletion {
  if (isObj(json) && json['type'] === 'error')
    throw upstreamStreamError(json, ANTHROPIC_ERROR_DIALECT);
  if (!isObj(json) || !Array.isArray(json['content'])) throw protocolError('bad_response');
  let text: string | null = null;
  let reasoning = '';
  const details: ReasoningDetail[] = [];
  const toolCalls: ToolCallOut[] = [];
  for (const b of json['content']) {
    if (!isObj(b)) continue;
    switch (b['type']) {
      case 'text':
        text = (text ?? '') + (str(b['text']) ?? '');
        break;
      case 'thinking': {
        const t = str(b['thinking']) ?? '';
        reasoning += t;
        details.push({
          type: 'reasoning.text',
          text: t,
          signature: str(b['signature']) ?? null,
          format: ANTHROPIC_REASONING_FORMAT,
          index: details.length,
        });
        break;
      }
      case 'redacted_thinking':
        details.push({
          type: 'reasoning.encrypted',
          data: str(b['data']) ?? '',
          format: ANTHROPIC_REASONING_FORMAT,
          index: details.length,
        });
        break;
      case 'tool_use':
        toolCalls.push({
          id: str(b['id']) ?? `toolu_${toolCalls.length}`,
          name: str(b['name']) ?? '',
          arguments: JSON.stringify(isObj(b['input']) ? b['input'] : {}),
        });
        break;
      default:
        break;
    }
  }
  const native = str(json['stop_reason']) ?? null;
  const finish = normaliseFinish(native, ANTHROPIC_FINISH);
  const usage: Json = {};
  if (isObj(json['usage'])) mergeUsage(usage, json['usage']);
  const usageReported = isObj(json['usage']);
  const tokens = tokensOf(usage, reasoning);
  return {
    completion: buildCompletion({
      id: str(json['id']) ?? 'msg',
      model: str(json['model']) ?? fallbackModel,
      created: nowSeconds(),
      text,
      ...(reasoning ? { reasoning } : {}),
      reasoningDetails: details,
      toolCalls,
      finishReason: finish,
      nativeFinishReason: native,
      tokens,
    }),
    tokens,
    usageReported,
    finishReason: finish,
    nativeFinishReason: native,
  };
}
