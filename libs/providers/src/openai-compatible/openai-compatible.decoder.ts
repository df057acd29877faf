import type { NativeTokens } from '@turnpike/contracts';
import {
  EventTally,
  type DecodedEvent,
  type StreamDecoder,
  type StreamSummary,
} from '../core/decoder.js';
import { SseParser, sseJson } from '../core/framing/sse.js';
import { isObj, type Json } from '../core/json.js';
import { normaliseFinish, type FinishReason, type ReasoningDetail } from '../core/output.js';
import { fromOpenAIUsage, openAIUsageOf } from '../core/usage.js';

export interface OpenAIStreamOptions {
  finishReasons?: Readonly<Record<string, FinishReason>>;
  /** The `format` of the `reasoning_details` made from a server's reasoning text. */
  reasoningFormat?: string;
  /**
   * Where a server puts a stream's usage when not in `usage` (Groq: `x_groq.usage`); the chunk
   * then carries it as OpenAI's `usage` too.
   */
  usageOf?: (chunk: Json) => Json | undefined;
  /** Reads an in-stream error event (its whole data) through the error policy. */
  streamError: (event: Json) => DecodedEvent & { type: 'error' };
}

/**
 * Whether a delta carries generated output (the first token): text, a tool call, a refusal,
 * reasoning or audio.
 */
export function deltaHasOutput(delta: Json): boolean {
  return (
    (typeof delta['content'] === 'string' && delta['content'] !== '') ||
    (Array.isArray(delta['tool_calls']) && delta['tool_calls'].length > 0) ||
    (typeof delta['refusal'] === 'string' && delta['refusal'] !== '') ||
    (typeof delta['reasoning'] === 'string' && delta['reasoning'] !== '') ||
    (Array.isArray(delta['reasoning_details']) && delta['reasoning_details'].length > 0) ||
    isObj(delta['function_call']) ||
    isObj(delta['audio'])
  );
}

/**
 * Normalises a compatible server's reasoning field: DeepSeek, vLLM and others stream
 * `reasoning_content`; OpenRouter's (and our) field is `reasoning`, with `reasoning_details`
 * (one `reasoning.text` detail per piece, as OpenRouter gives them) when the server sent none.
 */
export function normaliseReasoningField(m: Json, format = 'unknown'): void {
  if (typeof m['reasoning_content'] === 'string') {
    if (typeof m['reasoning'] !== 'string') m['reasoning'] = m['reasoning_content'];
    delete m['reasoning_content'];
  }
  const text = m['reasoning'];
  if (typeof text === 'string' && text !== '' && !Array.isArray(m['reasoning_details'])) {
    const detail: ReasoningDetail = {
      type: 'reasoning.text',
      text,
      signature: null,
      format,
      index: 0,
    };
    m['reasoning_details'] = [detail];
  }
}

/** The stream decoder of OpenAI's chat completions SSE (and every compatible server's). */
export class OpenAIStreamDecoder implements StreamDecoder {
  private readonly sse = new SseParser();
  private tokens: NativeTokens | null = null;
  private finish: string | null = null;
  private nativeFinish: string | null = null;
  private done = false;
  private readonly tally = new EventTally();

  constructor(private readonly opts: OpenAIStreamOptions) {}

  get events(): number {
    return this.tally.events;
  }

  push(bytes: Uint8Array): DecodedEvent[] {
    const out: DecodedEvent[] = [];
    if (this.done) return out;
    for (const ev of sseJson(this.sse, bytes)) {
      this.tally.read();
      if (ev.type === 'done') {
        this.done = true;
        out.push({ type: 'done' });
        break;
      }
      if (ev.type === 'malformed') {
        out.push(this.tally.skip());
        continue;
      }
      const json = ev.json;
      if (ev.event === 'error' || isObj(json['error'])) {
        out.push(this.opts.streamError(json));
        continue;
      }
      out.push(this.chunk(json));
    }
    return out;
  }

  private chunk(json: Json): DecodedEvent {
    // Azure's annotation-only chunks (`prompt_filter_results` before the answer) leave
    // `object` empty; every chunk we emit is a `chat.completion.chunk`.
    if (json['object'] === '' || json['object'] === undefined)
      json['object'] = 'chat.completion.chunk';
    const choices = Array.isArray(json['choices']) ? (json['choices'] as unknown[]) : [];
    let hasOutput = false;
    for (const c of choices) {
      if (!isObj(c)) continue;
      if (isObj(c['delta'])) {
        normaliseReasoningField(c['delta'], this.opts.reasoningFormat);
        if (deltaHasOutput(c['delta'])) hasOutput = true;
      }
      const native = c['finish_reason'];
      if (typeof native === 'string' && native !== '' && this.nativeFinish === null) {
        this.nativeFinish = native;
        this.finish = normaliseFinish(native, this.opts.finishReasons);
        if (this.finish !== native) {
          c['finish_reason'] = this.finish;
          c['native_finish_reason'] = native;
        }
      }
    }
    if (isObj(json['usage'])) this.tokens = fromOpenAIUsage(json['usage']);
    else {
      const elsewhere = this.opts.usageOf?.(json);
      if (elsewhere) {
        this.tokens = fromOpenAIUsage(elsewhere);
        json['usage'] = openAIUsageOf(this.tokens);
      }
    }
    return { type: 'chunk', chunk: json, hasOutput };
  }

  end(): StreamSummary {
    return {
      tokens: this.tokens,
      finishReason: this.finish,
      nativeFinishReason: this.nativeFinish,
      // Some compatible servers omit `[DONE]`; a finish reason also ends an answer.
      complete: this.done || this.finish !== null,
      malformedEvents: this.tally.malformed,
    };
  }
}
