/**
 * Gemini's answers (`GenerateContentResponse`) as OpenAI chunks and completions; the same code
 * reads a `streamGenerateContent?alt=sse` stream, event by event, and a `generateContent` answer,
 * once.
 *
 * - `candidates[i]` is choice `i`; its `content.parts` are text, thoughts (`thought: true` →
 *   `reasoning`), and WHOLE function calls (a tool call starts with its full arguments: Gemini
 *   does not stream arguments). A `thoughtSignature` (on a thought, a text or a function call
 *   part) becomes a `reasoning_details` entry (`reasoning.encrypted`, or the `signature` of the
 *   thought it is on), tied by `id` to the tool call it belongs to, so that a client sending the
 *   details back gives Gemini the signature where it expects it.
 * - `finishReason` → OpenAI's (native kept): STOP → `stop` (`tool_calls` when the candidate
 *   called functions: Gemini says STOP), MAX_TOKENS → `length`, the safety family →
 *   `content_filter`; MALFORMED_FUNCTION_CALL and UNEXPECTED_TOOL_CALL → `error` (the model
 *   failed to produce a usable call: the answer is what it is, the fallback is not asked to retry
 *   a stream already delivered).
 * - `usageMetadata` is CUMULATIVE: every event repeats the totals so far, so the last one that
 *   carries counts wins (Vertex sends some without counts), never a sum.
 * - There is no end marker: a stream is complete when every candidate it started carried a
 *   finish reason (or the prompt was blocked) and the body ended.
 * - `promptFeedback.blockReason` (the prompt itself refused, no candidates) → an empty answer with
 *   `finish_reason: content_filter` and the block reason as the native one.
 * - Errors inside the stream: `{error: {...}}` as a data event, or as bare JSON lines (how Google
 *   writes an error into an event stream; Google's own SDKs read both).
 */
import { randomBytes } from 'node:crypto';
import type { NativeTokens } from '@turnpike/contracts';
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
import { fromGeminiUsage } from '../core/usage.js';
import { protocolError } from '../errors/index.js';
import { geminiStreamError, isGeminiError } from './gemini.errors.js';
import { GEMINI_REASONING_FORMAT } from './gemini.request.js';

export const GEMINI_FINISH_REASONS: Readonly<Record<string, FinishReason>> = {
  STOP: 'stop',
  FINISH_REASON_UNSPECIFIED: 'stop',
  OTHER: 'stop',
  MAX_TOKENS: 'length',
  SAFETY: 'content_filter',
  RECITATION: 'content_filter',
  BLOCKLIST: 'content_filter',
  PROHIBITED_CONTENT: 'content_filter',
  SPII: 'content_filter',
  IMAGE_SAFETY: 'content_filter',
  IMAGE_PROHIBITED_CONTENT: 'content_filter',
  IMAGE_RECITATION: 'content_filter',
  LANGUAGE: 'content_filter',
  MALFORMED_FUNCTION_CALL: 'error',
  UNEXPECTED_TOOL_CALL: 'error',
  TOO_MANY_TOOL_CALLS: 'error',
};

/** `call_` + 24 alphanumerics, for a function call Gemini gave no id. */
function newCallId(): string {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
  return `call_${[...randomBytes(24)].map((b) => alphabet[b % alphabet.length]).join('')}`;
}

/** What one candidate (choice) said so far. */
class Candidate {
  started = false;
  text = '';
  reasoning = '';
  details: ReasoningDetail[] = [];
  calls: ToolCallOut[] = [];
  native: string | null = null;
  /** The reasoning detail index of the thought block being written, or -1. */
  private thoughtBlock = -1;
  private nextDetail = 0;

  constructor(readonly index: number) {}

  /** A reasoning detail index: the open thought block's, or a new one. */
  detailIndex(thought: boolean): number {
    if (thought && this.thoughtBlock >= 0) return this.thoughtBlock;
    const i = this.nextDetail++;
    this.thoughtBlock = thought ? i : -1;
    return i;
  }

  endThought(): void {
    this.thoughtBlock = -1;
  }

  get finish(): FinishReason | null {
    if (this.native === null) return null;
    const f = normaliseFinish(this.native, GEMINI_FINISH_REASONS);
    return f === 'stop' && this.calls.length > 0 ? 'tool_calls' : f;
  }
}

/** The parts of one answer that a chunk or a completion is built from. */
type Piece =
  | { kind: 'text'; text: string }
  | { kind: 'reasoning'; text: string; signature?: string; detailIndex: number }
  | { kind: 'signature'; data: string; detailIndex: number; id?: string }
  | { kind: 'call'; toolIndex: number; call: ToolCallOut };

/**
 * The state of one Gemini answer: candidates, the latest usage, the block reason. Fed the
 * response objects in order (one for `generateContent`, one per event for a stream).
 */
export class GeminiAnswer {
  readonly candidates = new Map<number, Candidate>();
  usage: Json | null = null;
  blockReason: string | null = null;
  id: string | null = null;
  model: string | null = null;
  created: number | null = null;

  constructor(private readonly upstreamModel: string) {}

  candidate(index: number): Candidate {
    let c = this.candidates.get(index);
    if (!c) {
      c = new Candidate(index);
      this.candidates.set(index, c);
    }
    return c;
  }

  /** Reads one response object; returns what it added, per candidate, in order. */
  read(json: Json): { candidate: Candidate; pieces: Piece[]; finished: boolean }[] {
    this.id ??= str(json['responseId']) ?? null;
    this.model ??= str(json['modelVersion']) ?? null;
    if (this.created === null) {
      const t = Date.parse(str(json['createTime']) ?? '');
      if (!Number.isNaN(t)) this.created = Math.floor(t / 1000);
    }
    const u = json['usageMetadata'];
    if (
      isObj(u) &&
      ['promptTokenCount', 'candidatesTokenCount', 'totalTokenCount'].some((k) => k in u)
    )
      this.usage = u;
    const feedback = json['promptFeedback'];
    if (isObj(feedback) && typeof feedback['blockReason'] === 'string')
      this.blockReason = feedback['blockReason'];
    const out: { candidate: Candidate; pieces: Piece[]; finished: boolean }[] = [];
    const list = Array.isArray(json['candidates']) ? json['candidates'] : [];
    list.forEach((raw, position) => {
      if (!isObj(raw)) return;
      const c = this.candidate(typeof raw['index'] === 'number' ? raw['index'] : position);
      const pieces: Piece[] = [];
      const content = isObj(raw['content']) ? raw['content'] : {};
      const parts = Array.isArray(content['parts']) ? content['parts'] : [];
      for (const p of parts) if (isObj(p)) pieces.push(...this.part(c, p));
      let finished = false;
      if (typeof raw['finishReason'] === 'string' && c.native === null) {
        c.native = raw['finishReason'];
        finished = true;
      }
      out.push({ candidate: c, pieces, finished });
    });
    return out;
  }

  private part(c: Candidate, p: Json): Piece[] {
    const signature = str(p['thoughtSignature']);
    if (p['thought'] === true) {
      const text = str(p['text']) ?? '';
      if (text === '' && !signature) return [];
      const detailIndex = c.detailIndex(true);
      c.reasoning += text;
      const detail = c.details.find((d) => d.index === detailIndex && d.type === 'reasoning.text');
      if (detail) {
        detail.text = (detail.text ?? '') + text;
        if (signature) detail.signature = signature;
      } else {
        c.details.push({
          type: 'reasoning.text',
          text,
          signature: signature ?? null,
          format: GEMINI_REASONING_FORMAT,
          index: detailIndex,
        });
      }
      return [{ kind: 'reasoning', text, ...(signature ? { signature } : {}), detailIndex }];
    }
    c.endThought();
    const pieces: Piece[] = [];
    let callId: string | undefined;
    if (isObj(p['functionCall'])) {
      const f = p['functionCall'];
      const call: ToolCallOut = {
        id: str(f['id']) ?? newCallId(),
        name: str(f['name']) ?? '',
        arguments: JSON.stringify(isObj(f['args']) ? f['args'] : {}),
      };
      callId = call.id;
      c.calls.push(call);
      pieces.push({ kind: 'call', toolIndex: c.calls.length - 1, call });
    } else if (typeof p['text'] === 'string' && p['text'] !== '') {
      c.text += p['text'];
      pieces.push({ kind: 'text', text: p['text'] });
    }
    if (signature) {
      const detailIndex = c.detailIndex(false);
      c.details.push({
        type: 'reasoning.encrypted',
        data: signature,
        format: GEMINI_REASONING_FORMAT,
        index: detailIndex,
        ...(callId ? { id: callId } : {}),
      });
      pieces.push({
        kind: 'signature',
        data: signature,
        detailIndex,
        ...(callId ? { id: callId } : {}),
      });
    }
    return pieces;
  }

  /** Whether every candidate seen has finished (or the prompt was blocked). */
  get finished(): boolean {
    if (this.blockReason !== null && this.candidates.size === 0) return true;
    if (this.candidates.size === 0) return false;
    return [...this.candidates.values()].every((c) => c.native !== null);
  }

  get tokens(): NativeTokens | null {
    return this.usage ? fromGeminiUsage(this.usage) : null;
  }

  /** The finish reason of the answer (the first candidate's), ours and Gemini's. */
  get finish(): { reason: FinishReason | null; native: string | null } {
    const first = this.candidates.get(0) ?? [...this.candidates.values()][0];
    if (!first && this.blockReason !== null)
      return { reason: 'content_filter', native: this.blockReason };
    return { reason: first?.finish ?? null, native: first?.native ?? null };
  }

  meta(): { id: string; model: string; created: number } {
    return {
      id: this.id ?? `gen-${randomBytes(12).toString('hex')}`,
      model: this.model ?? this.upstreamModel,
      created: this.created ?? nowSeconds(),
    };
  }
}

/**
 * Collects bare JSON lines (not SSE fields) until their braces balance (counted outside JSON
 * strings): Google writes an error into an event stream as plain, often pretty-printed, JSON.
 */
class JsonLines {
  private text = '';
  private depth = 0;
  private inString = false;
  private escaped = false;

  /** Adds a line; returns the text of a complete value once its brackets balance. */
  add(line: string): string | null {
    for (const ch of line) {
      if (this.inString) {
        if (this.escaped) this.escaped = false;
        else if (ch === '\\') this.escaped = true;
        else if (ch === '"') this.inString = false;
      } else if (ch === '"') this.inString = true;
      else if (ch === '{' || ch === '[') this.depth++;
      else if (ch === '}' || ch === ']') this.depth--;
    }
    this.text += `${line}\n`;
    if (this.depth > 0) return null;
    const done = this.text;
    this.text = '';
    this.depth = 0;
    this.inString = false;
    return done.trim() === '' ? null : done;
  }

  /** The lines collected so far, with `tail` (an unterminated last line). */
  peek(tail: string): string {
    return this.text + tail;
  }

  get pending(): boolean {
    return this.text.trim() !== '';
  }
}

/** The stream decoder of `streamGenerateContent?alt=sse`. */
export class GeminiStreamDecoder implements StreamDecoder {
  private readonly lines = new JsonLines();
  /** Bare lines of the current push, with how many events came before each. */
  private readonly pendingOther: { line: string; at: number }[] = [];
  private readonly sse = new SseParser({
    onOtherLine: (line, at) => this.pendingOther.push({ line, at }),
  });
  private readonly answer: GeminiAnswer;
  private writer: ChunkWriter | null = null;
  private readonly tally = new EventTally();
  private usageSent = false;
  private failed = false;

  constructor(upstreamModel: string) {
    this.answer = new GeminiAnswer(upstreamModel);
  }

  /** SSE events and bare JSON values read so far. */
  get events(): number {
    return this.tally.events;
  }

  push(bytes: Uint8Array): DecodedEvent[] {
    const out: DecodedEvent[] = [];
    if (this.failed) return out;
    const events = this.sse.push(bytes);
    // Nothing follows an error: stop at the first.
    const add = (evs: DecodedEvent[]): boolean => {
      for (const e of evs) {
        out.push(e);
        if (e.type === 'error') {
          this.failed = true;
          return false;
        }
      }
      return true;
    };
    // Events and bare JSON lines, in the order they arrived.
    const lines = this.pendingOther.splice(0);
    for (let i = 0; i <= events.length; i++) {
      while (lines.length > 0 && lines[0]!.at <= i) {
        const text = this.lines.add(lines.shift()!.line);
        if (text !== null && !add(this.object(tryParse(text), true))) return out;
      }
      const ev = events[i];
      if (ev && !add(this.object(tryParse(ev.data.trim()), false))) return out;
    }
    // A bare error may end the body without a line break: read it now, end() cannot.
    const tail = this.sse.partialLine;
    if (this.lines.pending || tail.trimStart().startsWith('{')) {
      const json = tryParse(this.lines.peek(tail));
      if (isGeminiError(json)) {
        this.tally.read();
        add([{ type: 'error', error: geminiStreamError(json) }]);
      }
    }
    return out;
  }

  private object(json: unknown, bare: boolean): DecodedEvent[] {
    this.tally.read();
    if (isGeminiError(json)) return [{ type: 'error', error: geminiStreamError(json) }];
    // Not JSON, or bare JSON that is no error (which has no place in an event stream): skipped.
    if (!isObj(json) || bare) return [this.tally.skip()];
    return this.chunks(json);
  }

  private chunks(json: Json): DecodedEvent[] {
    const out: DecodedEvent[] = [];
    const read = this.answer.read(json);
    const w = (this.writer ??= new ChunkWriter(this.answer.meta(), GEMINI_REASONING_FORMAT));
    const chunk = (c: Json, hasOutput = true) => out.push({ type: 'chunk', chunk: c, hasOutput });
    for (const { candidate: c, pieces, finished } of read) {
      if (!c.started) {
        c.started = true;
        chunk(w.role(c.index), false);
      }
      for (const p of pieces) {
        if (p.kind === 'text') chunk(w.text(p.text, c.index));
        else if (p.kind === 'reasoning')
          chunk(
            w.reasoning(
              {
                text: p.text,
                detailIndex: p.detailIndex,
                ...(p.signature ? { signature: p.signature } : {}),
              },
              c.index,
            ),
          );
        else if (p.kind === 'signature')
          chunk(
            w.reasoning(
              { data: p.data, detailIndex: p.detailIndex, ...(p.id ? { id: p.id } : {}) },
              c.index,
            ),
          );
        else chunk(w.toolCallStart(p.toolIndex, p.call.id, p.call.name, p.call.arguments, c.index));
      }
      if (finished) chunk(w.finish(c.finish ?? 'stop', c.native, c.index), false);
    }
    if (this.answer.blockReason !== null && this.answer.candidates.size === 0 && !this.usageSent) {
      const c = this.answer.candidate(0);
      c.started = true;
      c.native = this.answer.blockReason;
      chunk(w.role(0), false);
      chunk(w.finish('content_filter', this.answer.blockReason, 0), false);
    }
    if (this.answer.finished && !this.usageSent && this.answer.tokens) {
      this.usageSent = true;
      chunk(w.usage(this.answer.tokens), false);
    }
    return out;
  }

  end(): StreamSummary {
    const { reason, native } = this.answer.finish;
    return {
      tokens: this.answer.tokens,
      finishReason: reason,
      nativeFinishReason: native,
      complete: !this.failed && this.answer.finished && !this.sse.hasPartial && !this.lines.pending,
      malformedEvents: this.tally.malformed,
    };
  }
}

/** A whole `generateContent` answer as a `chat.completion` (one choice per candidate). */
export function geminiCompletion(
  json: unknown,
  upstreamModel: string,
): {
  completion: Json;
  tokens: NativeTokens | null;
  finishReason: FinishReason | null;
  nativeFinishReason: string | null;
} {
  if (!isObj(json) || (!Array.isArray(json['candidates']) && !isObj(json['promptFeedback'])))
    throw protocolError('bad_response', 200);
  const answer = new GeminiAnswer(upstreamModel);
  answer.read(json);
  const meta = answer.meta();
  const tokens = answer.tokens;
  const zero = { prompt: 0, completion: 0, cachedRead: 0, cacheWrite: 0, reasoning: 0 };
  const candidates = [...answer.candidates.values()].sort((a, b) => a.index - b.index);
  if (candidates.length === 0) {
    const { reason, native } = answer.finish;
    return {
      completion: buildCompletion({
        ...meta,
        text: '',
        finishReason: reason ?? 'stop',
        nativeFinishReason: native,
        tokens: tokens ?? zero,
      }),
      tokens,
      finishReason: reason,
      nativeFinishReason: native,
    };
  }
  const choices = candidates.map((c) => {
    const one = buildCompletion({
      ...meta,
      text: c.calls.length > 0 && c.text === '' ? null : c.text,
      ...(c.reasoning ? { reasoning: c.reasoning } : {}),
      reasoningDetails: c.details,
      toolCalls: c.calls,
      finishReason: c.finish,
      nativeFinishReason: c.native,
      tokens: tokens ?? zero,
    });
    const choice = (one['choices'] as Json[])[0]!;
    return { ...choice, index: c.index };
  });
  const completion = buildCompletion({
    ...meta,
    text: '',
    finishReason: null,
    nativeFinishReason: null,
    tokens: tokens ?? zero,
  });
  completion['choices'] = choices;
  const { reason, native } = answer.finish;
  return { completion, tokens, finishReason: reason, nativeFinishReason: native };
}
