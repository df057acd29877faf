/**
 * ConverseStream: the binary AWS event stream (`application/vnd.amazon.eventstream`, CRC-checked
 * frames, `core/framing/aws-event-stream.ts`) into OpenAI chunks.
 *
 * Grammar: `messageStart {role}`; per content block `contentBlockStart` (tool use only: its
 * `toolUseId` and `name`), `contentBlockDelta` (`text`, `toolUse.input` argument fragments,
 * `reasoningContent.text` / `.signature` / `.redactedContent`), `contentBlockStop`; then
 * `messageStop {stopReason}` and `metadata {usage, metrics}`. An exception is a frame of
 * `:message-type: exception` (`:exception-type: throttlingException`, ...), or an event whose
 * type names the exception (as the SDK's own fixtures write it); `:message-type: error` carries
 * `:error-code`/`:error-message`. The stream is complete once `messageStop` came (usage may not).
 *
 * Content blocks are indexed by `contentBlockIndex`; tool calls get OpenAI indexes in the order
 * they start, reasoning blocks `reasoning_details` indexes in the order they start. The tool
 * that carries a `response_format` (see `structuredOutputTool`) streams as message content.
 */
import type { NativeTokens } from '@turnpike/contracts';
import {
  EventTally,
  type DecodedEvent,
  type StreamDecoder,
  type StreamSummary,
} from '../core/decoder.js';
import {
  EventStreamDecoder,
  EventStreamFramingError,
  type EventStreamMessage,
} from '../core/framing/aws-event-stream.js';
import { isObj, tryParse, type Json } from '../core/json.js';
import { ChunkWriter, normaliseFinish, type FinishReason } from '../core/output.js';
import { streamFailure } from '../core/stream-errors.js';
import { fromBedrockUsage } from '../core/usage.js';
import { countTokens } from '../estimate.js';
import { bedrockStreamError } from './bedrock.errors.js';

/** Converse stop reasons in OpenAI's vocabulary (the native one is kept as well). */
export const BEDROCK_FINISH: Readonly<Record<string, FinishReason>> = {
  end_turn: 'stop',
  stop_sequence: 'stop',
  max_tokens: 'length',
  model_context_window_exceeded: 'length',
  tool_use: 'tool_calls',
  guardrail_intervened: 'content_filter',
  content_filtered: 'content_filter',
};

/**
 * The finish of an answer: a `tool_use` stop that only called the structured-output tool is
 * an answer (`stop`), not a tool call.
 */
export function bedrockFinish(native: string, realToolCalls: number, structured: boolean) {
  if (native === 'tool_use' && realToolCalls === 0 && structured) return 'stop' as const;
  return normaliseFinish(native, BEDROCK_FINISH);
}

interface Block {
  kind: 'text' | 'tool' | 'json' | 'reasoning';
  toolIndex?: number;
  detailIndex?: number;
}

export interface BedrockDecoderOptions {
  meta: { id: string; model: string; created: number };
  /** The name of the structured-output tool of this call, if any. */
  structuredTool: string | null;
  reasoningFormat: string;
}

const str = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);

export class BedrockStreamDecoder implements StreamDecoder {
  private readonly frames = new EventStreamDecoder();
  private readonly out: ChunkWriter;
  private readonly blocks = new Map<number, Block>();
  private toolCalls = 0;
  private structuredSeen = false;
  private reasoningDetails = 0;
  private reasoningText = '';
  private tokens: NativeTokens | null = null;
  private finish: string | null = null;
  private nativeFinish: string | null = null;
  private stopped = false;
  private done = false;
  private broken = false;
  private readonly tally = new EventTally();

  constructor(private readonly opts: BedrockDecoderOptions) {
    this.out = new ChunkWriter(opts.meta, opts.reasoningFormat);
  }

  /** Event-stream frames read so far. */
  get events(): number {
    return this.tally.events;
  }

  push(bytes: Uint8Array): DecodedEvent[] {
    if (this.done || this.broken) return [];
    let messages: EventStreamMessage[];
    try {
      messages = this.frames.push(bytes);
    } catch (e) {
      if (!(e instanceof EventStreamFramingError)) throw e;
      // A corrupt frame (CRC, lengths) is not an event that can be skipped: where the next
      // frame starts is lost with it. The stream fails at once.
      this.broken = true;
      this.tally.read();
      this.tally.malformed++;
      return [streamFailure()];
    }
    const out: DecodedEvent[] = [];
    for (const m of messages) {
      out.push(...this.message(m));
      if (this.done) break;
    }
    return out;
  }

  private message(m: EventStreamMessage): DecodedEvent[] {
    this.tally.read();
    const messageType = str(m.headers[':message-type']) ?? 'event';
    const payload = m.payload.length === 0 ? {} : tryParse(new TextDecoder().decode(m.payload));
    if (messageType === 'exception')
      return this.exception(str(m.headers[':exception-type']) ?? null, payload);
    if (messageType === 'error') {
      return this.exception(str(m.headers[':error-code']) ?? null, {
        message: str(m.headers[':error-message']) ?? null,
      });
    }
    const type = str(m.headers[':event-type']) ?? '';
    if (/Exception$/.test(type)) return this.exception(type, payload);
    // A well-framed event whose payload is not JSON: skipped.
    if (!isObj(payload)) return [this.tally.skip()];
    switch (type) {
      case 'messageStart':
        return [{ type: 'chunk', chunk: this.out.role(), hasOutput: false }];
      case 'contentBlockStart':
        return this.blockStart(payload);
      case 'contentBlockDelta':
        return this.delta(payload);
      case 'messageStop':
        return this.messageStop(payload);
      case 'metadata':
        return this.metadata(payload);
      default:
        // contentBlockStop, and events a newer API may add: nothing to say.
        return [];
    }
  }

  private exception(type: string | null, data: unknown): DecodedEvent[] {
    this.done = true;
    return [{ type: 'error', error: bedrockStreamError(type, data) }];
  }

  private index(p: Json): number {
    return typeof p['contentBlockIndex'] === 'number' ? p['contentBlockIndex'] : 0;
  }

  private blockStart(p: Json): DecodedEvent[] {
    const start = isObj(p['start']) ? p['start'] : {};
    const toolUse = isObj(start['toolUse']) ? start['toolUse'] : null;
    if (!toolUse) return [];
    const name = str(toolUse['name']) ?? '';
    if (this.opts.structuredTool !== null && name === this.opts.structuredTool) {
      this.structuredSeen = true;
      this.blocks.set(this.index(p), { kind: 'json' });
      return [];
    }
    const toolIndex = this.toolCalls++;
    this.blocks.set(this.index(p), { kind: 'tool', toolIndex });
    const chunk = this.out.toolCallStart(toolIndex, str(toolUse['toolUseId']) ?? '', name);
    return [{ type: 'chunk', chunk, hasOutput: true }];
  }

  private delta(p: Json): DecodedEvent[] {
    const d = isObj(p['delta']) ? p['delta'] : {};
    const index = this.index(p);
    const text = str(d['text']);
    if (text !== undefined) {
      if (!this.blocks.has(index)) this.blocks.set(index, { kind: 'text' });
      return text === '' ? [] : [{ type: 'chunk', chunk: this.out.text(text), hasOutput: true }];
    }
    if (isObj(d['toolUse'])) {
      const input = str(d['toolUse']['input']) ?? '';
      const block = this.blocks.get(index);
      if (!block || (block.kind !== 'tool' && block.kind !== 'json')) {
        // Arguments of a tool call that never started: nothing to attach them to, skipped.
        return [this.tally.skip()];
      }
      if (input === '') return [];
      const chunk =
        block.kind === 'json'
          ? this.out.text(input)
          : this.out.toolCallArgs(block.toolIndex ?? 0, input);
      return [{ type: 'chunk', chunk, hasOutput: true }];
    }
    if (isObj(d['reasoningContent'])) {
      const r = d['reasoningContent'];
      let block = this.blocks.get(index);
      if (!block || block.kind !== 'reasoning') {
        block = { kind: 'reasoning', detailIndex: this.reasoningDetails++ };
        this.blocks.set(index, block);
      }
      const detailIndex = block.detailIndex ?? 0;
      const piece =
        typeof r['text'] === 'string'
          ? { text: r['text'], detailIndex }
          : typeof r['signature'] === 'string'
            ? { signature: r['signature'], detailIndex }
            : typeof r['redactedContent'] === 'string'
              ? { data: r['redactedContent'], detailIndex }
              : null;
      if (!piece || piece.text === '') return [];
      if (piece.text) this.reasoningText += piece.text;
      return [{ type: 'chunk', chunk: this.out.reasoning(piece), hasOutput: true }];
    }
    return [];
  }

  private messageStop(p: Json): DecodedEvent[] {
    this.stopped = true;
    const native = str(p['stopReason']) ?? '';
    this.nativeFinish = native === '' ? null : native;
    const finish = bedrockFinish(native, this.toolCalls, this.structuredSeen) ?? 'stop';
    this.finish = finish;
    return [{ type: 'chunk', chunk: this.out.finish(finish, this.nativeFinish), hasOutput: false }];
  }

  private metadata(p: Json): DecodedEvent[] {
    this.done = true;
    const out: DecodedEvent[] = [];
    if (isObj(p['usage'])) {
      this.tokens = fromBedrockUsage(p['usage'], countTokens(this.reasoningText));
      out.push({ type: 'chunk', chunk: this.out.usage(this.tokens), hasOutput: false });
    }
    out.push({ type: 'done' });
    return out;
  }

  end(): StreamSummary {
    return {
      tokens: this.tokens,
      finishReason: this.finish,
      nativeFinishReason: this.nativeFinish,
      complete: this.stopped && !this.broken && !this.frames.hasPartial,
      malformedEvents: this.tally.malformed,
    };
  }
}
