/**
 * Cohere v2's chat stream: SSE events named after their `type`, each `data` a JSON object with
 * that `type` (no end marker; `message-end` is the last event). Grammar (official SDK
 * `V2ChatStreamResponse`; wire examples in its `tests/wire/v2.test.ts`):
 * `message-start` (id) → `content-start`/`content-delta`/`content-end` per content item (`text`,
 * or `thinking`) → `tool-plan-delta` (the plan before tool calls) → `tool-call-start` (id, name,
 * index) / `tool-call-delta` (argument text) / `tool-call-end` → `citation-start`/`-end` →
 * `message-end` (`finish_reason`, `usage {billed_units, tokens}`, or `error`). `debug` events
 * are skipped.
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
import { isObj, str, type Json } from '../core/json.js';
import { ChunkWriter, normaliseFinish, nowSeconds, type FinishReason } from '../core/output.js';
import { fromCohereUsage } from '../core/usage.js';
import { COHERE_ERROR_DIALECT } from './cohere.errors.js';
import { COHERE_REASONING_FORMAT } from './cohere.request.js';

export const COHERE_FINISH: Readonly<Record<string, FinishReason>> = {
  COMPLETE: 'stop',
  STOP_SEQUENCE: 'stop',
  MAX_TOKENS: 'length',
  TOOL_CALL: 'tool_calls',
  ERROR: 'error',
  TIMEOUT: 'error',
};

/** `delta.message` of an event. */
const messageOf = (json: Json): Json => {
  const d = isObj(json['delta']) ? json['delta'] : {};
  return isObj(d['message']) ? d['message'] : {};
};

export class CohereStreamDecoder implements StreamDecoder {
  private readonly sse = new SseParser();
  private writer: ChunkWriter;
  private tokens: NativeTokens | null = null;
  private finish: string | null = null;
  private nativeFinish: string | null = null;
  private done = false;
  private readonly tally = new EventTally();
  private reasoningPieces = 0;

  constructor(private readonly model: string) {
    this.writer = this.writerFor('');
  }

  private writerFor(id: string): ChunkWriter {
    return new ChunkWriter(
      { id, model: this.model, created: nowSeconds() },
      COHERE_REASONING_FORMAT,
    );
  }

  get events(): number {
    return this.tally.events;
  }

  push(bytes: Uint8Array): DecodedEvent[] {
    const out: DecodedEvent[] = [];
    for (const ev of sseJson(this.sse, bytes)) {
      if (this.done) break;
      this.tally.read();
      if (ev.type === 'done') continue;
      if (ev.type === 'malformed') {
        out.push(this.tally.skip());
        continue;
      }
      out.push(...this.event(ev.json));
    }
    return out;
  }

  private event(json: Json): DecodedEvent[] {
    const w = this.writer;
    const chunk = (c: Json, hasOutput: boolean): DecodedEvent => ({
      type: 'chunk',
      chunk: c,
      hasOutput,
    });
    const m = messageOf(json);
    const index = typeof json['index'] === 'number' ? json['index'] : 0;
    switch (json['type']) {
      case 'message-start': {
        this.writer = this.writerFor(str(json['id']) ?? '');
        return [chunk(this.writer.role(), false)];
      }
      case 'content-start':
      case 'content-delta': {
        const c = isObj(m['content']) ? m['content'] : {};
        const out: DecodedEvent[] = [];
        if (typeof c['thinking'] === 'string' && c['thinking'] !== '')
          out.push(
            chunk(w.reasoning({ text: c['thinking'], detailIndex: this.reasoningPieces++ }), true),
          );
        if (typeof c['text'] === 'string' && c['text'] !== '')
          out.push(chunk(w.text(c['text']), true));
        return out;
      }
      case 'tool-plan-delta':
        return typeof m['tool_plan'] === 'string' && m['tool_plan'] !== ''
          ? [chunk(w.text(m['tool_plan']), true)]
          : [];
      case 'tool-call-start': {
        const t = isObj(m['tool_calls']) ? m['tool_calls'] : {};
        const f = isObj(t['function']) ? t['function'] : {};
        return [
          chunk(
            w.toolCallStart(
              index,
              str(t['id']) ?? '',
              str(f['name']) ?? '',
              str(f['arguments']) ?? '',
            ),
            true,
          ),
        ];
      }
      case 'tool-call-delta': {
        const t = isObj(m['tool_calls']) ? m['tool_calls'] : {};
        const args = isObj(t['function']) ? str(t['function']['arguments']) : undefined;
        return args ? [chunk(w.toolCallArgs(index, args), true)] : [];
      }
      case 'message-end': {
        this.done = true;
        const d = isObj(json['delta']) ? json['delta'] : {};
        const native = str(d['finish_reason']) ?? null;
        const error = str(d['error']);
        if (native === 'ERROR' || error !== undefined) {
          return [
            {
              type: 'error',
              error: upstreamStreamError(
                { message: error ?? 'The generation failed.' },
                COHERE_ERROR_DIALECT,
              ),
            },
          ];
        }
        const out: DecodedEvent[] = [];
        this.nativeFinish = native;
        this.finish = normaliseFinish(native, COHERE_FINISH);
        if (this.finish) out.push(chunk(w.finish(this.finish as FinishReason, native), false));
        if (isObj(d['usage'])) {
          this.tokens = fromCohereUsage(d['usage']);
          out.push(chunk(w.usage(this.tokens), false));
        }
        out.push({ type: 'done' });
        return out;
      }
      default:
        // content-end, tool-call-end, citation-start/-end, debug: nothing to relay.
        return [];
    }
  }

  end(): StreamSummary {
    return {
      tokens: this.tokens,
      finishReason: this.finish,
      nativeFinishReason: this.nativeFinish,
      complete: this.done,
      malformedEvents: this.tally.malformed,
    };
  }
}
