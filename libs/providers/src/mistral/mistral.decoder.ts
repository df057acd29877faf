/**
 * Mistral's chat stream: SSE `data:` chunks shaped like OpenAI's, ending in `data: [DONE]`, with
 * these differences (re-emitted through the shared ChunkWriter):
 * - `delta.content` is a string or a list of chunks: `{type: 'text', text}` and, from reasoning
 *   models (Magistral), `{type: 'thinking', thinking: [{type: 'text', text}]}` → reasoning;
 * - a tool call arrives whole in one delta (id, name and all its arguments, which may be a JSON
 *   object rather than text); its `index` defaults to 0, so calls are numbered by id;
 * - usage rides on the last chunk, with the finish reason (no `stream_options`);
 * - finish reasons `model_length` (the model's context ran out) → `length`, `error` → an error.
 */
import type { NativeTokens } from '@turnpike/contracts';
import { upstreamStreamError } from '../errors/index.js';
import {
  EventTally,
  type DecodedEvent,
  type StreamDecoder,
  type StreamSummary,
} from '../core/decoder.js';
import { SseParser, sseJson } from '../core/framing/sse.js';
import { isObj, type Json } from '../core/json.js';
import { ChunkWriter, normaliseFinish, nowSeconds, type FinishReason } from '../core/output.js';
import { fromOpenAIUsage } from '../core/usage.js';
import { MISTRAL_ERROR_DIALECT } from './mistral.errors.js';
import { MISTRAL_REASONING_FORMAT } from './mistral.request.js';

export const MISTRAL_FINISH: Readonly<Record<string, FinishReason>> = {
  model_length: 'length',
  error: 'error',
};

/** Text and thinking of a Mistral `content` (a string or chunks). */
export function contentParts(content: unknown): { text: string; thinking: string } {
  if (typeof content === 'string') return { text: content, thinking: '' };
  let text = '';
  let thinking = '';
  if (Array.isArray(content)) {
    for (const c of content) {
      if (!isObj(c)) continue;
      if (c['type'] === 'text' && typeof c['text'] === 'string') text += c['text'];
      else if (c['type'] === 'thinking' && Array.isArray(c['thinking']))
        for (const t of c['thinking'])
          if (isObj(t) && typeof t['text'] === 'string') thinking += t['text'];
    }
  }
  return { text, thinking };
}

/** Arguments as JSON text (Mistral may send them as an object). */
export const argumentsText = (v: unknown): string =>
  typeof v === 'string' ? v : JSON.stringify(v ?? {});

export class MistralStreamDecoder implements StreamDecoder {
  private readonly sse = new SseParser();
  private writer: ChunkWriter | undefined;
  private tokens: NativeTokens | null = null;
  private finish: string | null = null;
  private nativeFinish: string | null = null;
  private done = false;
  private failed = false;
  private readonly tally = new EventTally();
  /** Per choice: tool call ids → their index, in order of arrival. */
  private readonly toolIndexes = new Map<number, Map<string, number>>();
  private reasoningPieces = 0;

  get events(): number {
    return this.tally.events;
  }

  push(bytes: Uint8Array): DecodedEvent[] {
    const out: DecodedEvent[] = [];
    if (this.done || this.failed) return out;
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
      if (json['object'] === 'error' || isObj(json['error'])) {
        this.failed = true;
        out.push({ type: 'error', error: upstreamStreamError(json, MISTRAL_ERROR_DIALECT) });
        break;
      }
      out.push(...this.chunk(json));
      if (this.failed) break;
    }
    return out;
  }

  private writerFor(json: Json): ChunkWriter {
    this.writer ??= new ChunkWriter(
      {
        id: typeof json['id'] === 'string' ? json['id'] : '',
        model: typeof json['model'] === 'string' ? json['model'] : '',
        created: typeof json['created'] === 'number' ? json['created'] : nowSeconds(),
      },
      MISTRAL_REASONING_FORMAT,
    );
    return this.writer;
  }

  private toolIndex(choice: number, id: string | undefined, given: number): number {
    let ids = this.toolIndexes.get(choice);
    if (!ids) this.toolIndexes.set(choice, (ids = new Map()));
    if (id === undefined || id === 'null') return given;
    let i = ids.get(id);
    if (i === undefined) ids.set(id, (i = ids.size));
    return i;
  }

  private chunk(json: Json): DecodedEvent[] {
    const w = this.writerFor(json);
    const out: DecodedEvent[] = [];
    const emit = (chunk: Json, hasOutput: boolean) => out.push({ type: 'chunk', chunk, hasOutput });
    const choices = Array.isArray(json['choices']) ? json['choices'] : [];
    for (const c of choices) {
      if (!isObj(c)) continue;
      const index = typeof c['index'] === 'number' ? c['index'] : 0;
      const delta = isObj(c['delta']) ? c['delta'] : {};
      if (delta['role'] === 'assistant') emit(w.role(index), false);
      const { text, thinking } = contentParts(delta['content']);
      if (thinking)
        emit(w.reasoning({ text: thinking, detailIndex: this.reasoningPieces++ }, index), true);
      if (text) emit(w.text(text, index), true);
      if (Array.isArray(delta['tool_calls'])) {
        for (const t of delta['tool_calls']) {
          if (!isObj(t) || !isObj(t['function'])) continue;
          const id = typeof t['id'] === 'string' ? t['id'] : undefined;
          const i = this.toolIndex(index, id, typeof t['index'] === 'number' ? t['index'] : 0);
          const f = t['function'];
          const args = argumentsText(f['arguments']);
          emit(
            typeof f['name'] === 'string' && id
              ? w.toolCallStart(i, id, f['name'], args, index)
              : w.toolCallArgs(i, args, index),
            true,
          );
        }
      }
      const native = c['finish_reason'];
      if (typeof native === 'string' && native !== '') {
        if (native === 'error') {
          this.failed = true;
          out.push({
            type: 'error',
            error: upstreamStreamError(
              { message: 'The model stopped with an error.', type: 'model_error' },
              MISTRAL_ERROR_DIALECT,
            ),
          });
          return out;
        }
        const finish = normaliseFinish(native, MISTRAL_FINISH) ?? 'stop';
        if (this.nativeFinish === null) {
          this.nativeFinish = native;
          this.finish = finish;
        }
        emit(w.finish(finish, native, index), false);
      }
    }
    const usage = json['usage'];
    if (isObj(usage) && usage['prompt_tokens'] !== undefined) {
      this.tokens = fromOpenAIUsage(usage);
      emit(w.usage(this.tokens), false);
    }
    return out;
  }

  end(): StreamSummary {
    return {
      tokens: this.tokens,
      finishReason: this.finish,
      nativeFinishReason: this.nativeFinish,
      complete: this.done || this.finish !== null,
      malformedEvents: this.tally.malformed,
    };
  }
}
