import { countTokens as bpeCount } from 'gpt-tokenizer/encoding/o200k_base';
import type { NativeTokens } from '@turnpike/contracts';

/**
 * The project's one token estimator, for when an upstream reports no usage (a silent upstream,
 * a cancelled or failed attempt) and for the hot path's prompt bounds (402 admission, the
 * routing table's context-window filter). It counts with a real BPE tokenizer, `o200k_base`
 * (GPT-4o and later; pure JS, `gpt-tokenizer`); for other model families it is an estimate.
 *
 * Cost is bounded whatever the input:
 * - BPE is quadratic in the length of one pre-token, so a long run without whitespace (CJK
 *   text, base64, minified code) is counted in pieces of at most RUN characters (at most one
 *   extra token per piece);
 * - a text longer than EXACT_CHARS is not counted in full: evenly spaced windows of it are,
 *   and the count is extrapolated (`exact: false`), with a margin for the bounds.
 * Measured figures and the reasoning are in docs/architecture.md ("Token estimates").
 */
export const TOKENIZER = 'o200k_base';

/** Texts up to this many UTF-16 units are counted exactly. */
export const EXACT_CHARS = 32_768;
/** Longer texts: this many windows of WINDOW_CHARS are counted. */
const WINDOWS = 8;
const WINDOW_CHARS = 2_048;
/** Segments handed to the tokenizer; runs without whitespace are cut at RUN. */
const SEGMENT = 4_096;
const RUN = 256;
const LONG_RUN = new RegExp(`\\S{${RUN},}`);
/** Margins of the bounds on an extrapolated count. */
const HIGH_MARGIN = 1.25;
const LOW_MARGIN = 0.8;

/** Chat formatting overhead (OpenAI's published rule): per message, per name, reply priming. */
const PER_MESSAGE = 3;
const PER_NAME = 1;
const REPLY_PRIMING = 3;
/** Image inputs: typical (1024x1024, high detail) and most (OpenAI's tiling) tokens per image. */
const IMAGE_TOKENS = 765;
const IMAGE_TOKENS_MAX = 1_105;

const isSpace = (c: number) => c === 32 || c === 10 || c === 13 || c === 9;
const isHighSurrogate = (c: number) => c >= 0xd800 && c <= 0xdbff;

function countSegment(s: string): number {
  if (!LONG_RUN.test(s)) return bpeCount(s);
  let n = 0;
  for (let i = 0; i < s.length;) {
    let end = Math.min(s.length, i + RUN);
    if (end < s.length && isHighSurrogate(s.charCodeAt(end - 1))) end--;
    n += bpeCount(s.slice(i, end));
    i = end;
  }
  return n;
}

/** BPE tokens of a text, in time linear in its length (see above). */
export function countTokens(text: string): number {
  const n = text.length;
  let total = 0;
  for (let start = 0; start < n;) {
    let end = Math.min(n, start + SEGMENT);
    if (end < n) {
      // Cut just before a whitespace (the next segment then starts with " word", as BPE sees it).
      let cut = end;
      while (cut > start + SEGMENT / 2 && !isSpace(text.charCodeAt(cut))) cut--;
      if (cut > start + SEGMENT / 2) end = cut;
      else if (isHighSurrogate(text.charCodeAt(end - 1))) end--;
    }
    total += countSegment(text.slice(start, end));
    start = end;
  }
  return total;
}

export interface TextEstimate {
  tokens: number;
  /** Counted in full (true), or extrapolated from windows of the text. */
  exact: boolean;
}

/** Tokens of a text: exact up to EXACT_CHARS, extrapolated from evenly spaced windows above. */
export function estimateText(text: string): TextEstimate {
  if (text.length <= EXACT_CHARS) return { tokens: countTokens(text), exact: true };
  const span = text.length - WINDOW_CHARS;
  let tokens = 0;
  let chars = 0;
  for (let w = 0; w < WINDOWS; w++) {
    let start = Math.floor((span * w) / (WINDOWS - 1));
    // Start on a word boundary when there is one nearby.
    for (let k = 0; k < 64 && start > 0 && !isSpace(text.charCodeAt(start)); k++) start--;
    const piece = text.slice(start, start + WINDOW_CHARS);
    tokens += countTokens(piece);
    chars += piece.length;
  }
  return { tokens: Math.ceil((tokens / chars) * text.length), exact: false };
}

type Json = Record<string, unknown>;
const isObj = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);
const str = (v: unknown): string => (typeof v === 'string' ? v : '');

export interface PromptEstimate {
  /** Best estimate of the prompt tokens an upstream bills (text, formatting, tools, images). */
  tokens: number;
  /**
   * A deliberately low figure for the context-window filter: message text only, no formatting,
   * no tools, no images, and below the extrapolation when the prompt is long. An endpoint is
   * left out only when the prompt clearly cannot fit.
   */
  low: number;
  /** A high figure for the worst case of 402 admission: the estimate, plus a margin when extrapolated. */
  high: number;
  exact: boolean;
}

const promptCache = new WeakMap<object, PromptEstimate>();

/**
 * The prompt of a chat request: its messages (text parts, names, tool calls and results,
 * images), tool definitions and response schema. Cached per body object: the gateway's planner,
 * admission and settlement share one computation.
 */
export function estimatePrompt(body: Record<string, unknown>): PromptEstimate {
  const cached = promptCache.get(body);
  if (cached) return cached;
  const text: string[] = [];
  const extra: string[] = [];
  let overhead = REPLY_PRIMING;
  let images = 0;
  const messages = Array.isArray(body['messages']) ? body['messages'] : [];
  for (const m of messages) {
    if (!isObj(m)) continue;
    overhead += PER_MESSAGE;
    extra.push(str(m['role']));
    if (typeof m['name'] === 'string') {
      overhead += PER_NAME;
      extra.push(m['name']);
    }
    const content = m['content'];
    if (typeof content === 'string') text.push(content);
    else if (Array.isArray(content)) {
      for (const part of content) {
        if (!isObj(part)) continue;
        if (typeof part['text'] === 'string') text.push(part['text']);
        else if (typeof part['refusal'] === 'string') text.push(part['refusal']);
        else if (part['type'] === 'image_url' || isObj(part['image_url'])) images++;
      }
    }
    if (typeof m['refusal'] === 'string') text.push(m['refusal']);
    if (Array.isArray(m['tool_calls'])) {
      for (const t of m['tool_calls']) {
        const f = isObj(t) && isObj(t['function']) ? t['function'] : null;
        if (f) text.push(str(f['name']), str(f['arguments']));
      }
    }
    if (isObj(m['function_call']))
      text.push(str(m['function_call']['name']), str(m['function_call']['arguments']));
  }
  for (const k of ['tools', 'functions', 'response_format'] as const) {
    if (body[k] !== undefined && body[k] !== null) extra.push(JSON.stringify(body[k]));
  }
  const main = estimateText(text.join('\n'));
  const rest = estimateText(extra.join('\n'));
  const exact = main.exact && rest.exact;
  const tokens = main.tokens + rest.tokens + overhead + images * IMAGE_TOKENS;
  const estimate: PromptEstimate = {
    tokens,
    low: main.exact ? main.tokens : Math.floor(main.tokens * LOW_MARGIN),
    high: exact
      ? tokens + images * (IMAGE_TOKENS_MAX - IMAGE_TOKENS)
      : Math.ceil((main.tokens + rest.tokens) * HIGH_MARGIN) + overhead + images * IMAGE_TOKENS_MAX,
    exact,
  };
  promptCache.set(body, estimate);
  return estimate;
}

/**
 * The generated output of one attempt, as it streams (chunks) or arrives whole (a completion):
 * content, refusals, reasoning and tool calls (names and arguments), over every choice.
 */
export class OutputTally {
  private readonly parts: string[] = [];
  private readonly reasoningParts: string[] = [];
  private size = 0;

  /** Characters of output seen so far. */
  get chars(): number {
    return this.size;
  }

  private push(target: string[], v: unknown): void {
    if (typeof v !== 'string' || v === '') return;
    target.push(v);
    this.size += v.length;
  }

  private addMessage(m: Json): void {
    this.push(this.parts, m['content']);
    this.push(this.parts, m['refusal']);
    this.push(this.reasoningParts, m['reasoning']);
    this.push(this.reasoningParts, m['reasoning_content']);
    if (Array.isArray(m['tool_calls'])) {
      for (const t of m['tool_calls']) {
        const f = isObj(t) && isObj(t['function']) ? t['function'] : null;
        if (f) {
          this.push(this.parts, f['name']);
          this.push(this.parts, f['arguments']);
        }
      }
    }
    if (isObj(m['function_call'])) {
      this.push(this.parts, m['function_call']['name']);
      this.push(this.parts, m['function_call']['arguments']);
    }
  }

  /** A `chat.completion.chunk`: its choices' deltas. */
  addChunk(chunk: Json): void {
    const choices = Array.isArray(chunk['choices']) ? chunk['choices'] : [];
    for (const c of choices) if (isObj(c) && isObj(c['delta'])) this.addMessage(c['delta']);
  }

  /** A whole `chat.completion`: its choices' messages. */
  addCompletion(completion: Json): void {
    const choices = Array.isArray(completion['choices']) ? completion['choices'] : [];
    for (const c of choices) if (isObj(c) && isObj(c['message'])) this.addMessage(c['message']);
  }

  /** Completion tokens (reasoning included, as OpenAI counts them) and reasoning tokens. */
  tokens(): { completion: number; reasoning: number } {
    const reasoning =
      this.reasoningParts.length === 0 ? 0 : estimateText(this.reasoningParts.join('')).tokens;
    const rest = this.parts.length === 0 ? 0 : estimateText(this.parts.join('')).tokens;
    return { completion: rest + reasoning, reasoning };
  }
}

/** Estimated native tokens of an attempt: the request's prompt and the output seen. */
export function estimateUsage(
  body: Record<string, unknown>,
  output: OutputTally | null,
  opts: { prompt?: boolean } = {},
): NativeTokens {
  const out = output ? output.tokens() : { completion: 0, reasoning: 0 };
  return {
    prompt: opts.prompt === false ? 0 : estimatePrompt(body).tokens,
    completion: out.completion,
    cachedRead: 0,
    cacheWrite: 0,
    reasoning: out.reasoning,
  };
}
