/**
 * What one conformance case observed, the same whoever ran it: a provider adapter called directly
 * against its simulator (unit tier), or the whole platform through the gateway with the official
 * `openai` client (e2e tier). Checks read only this.
 */
export type Json = Record<string, unknown>;

export interface ObservedToolCall {
  id: string;
  name: string;
  arguments: string;
}

export interface ObservedUsage {
  prompt: number;
  completion: number;
  cachedRead: number;
  cacheWrite: number;
  reasoning: number;
}

export interface ObservedAnswer {
  ok: true;
  stream: boolean;
  text: string;
  reasoning: string;
  reasoningDetails: Json[];
  toolCalls: ObservedToolCall[];
  /** Choices seen (n > 1). */
  choices: number;
  finishReason: string | null;
  /** Usage as reported (null when the upstream reported none). */
  usage: ObservedUsage | null;
  /** Every OpenAI object received (chunks, or the one completion). */
  objects: Json[];
}

export interface ObservedError {
  ok: false;
  stream: boolean;
  /** The status the gateway would answer with (direct) or answered with (e2e). */
  status: number;
  code: string | null;
  message: string;
  /** Whether a fallback may try another endpoint (direct tier only). */
  retryable?: boolean;
  /** The provider's own HTTP status, when it answered (direct tier only). */
  upstreamStatus?: number | null;
  retryAfterSec?: number | null;
  /** Chunks received before the error (a failure mid-stream). */
  chunksBefore: number;
  /** The whole error as the client saw it, serialised (leak checks read it). */
  raw: string;
}

export type Observed = ObservedAnswer | ObservedError;

const isObj = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Folds OpenAI chunks into one answer: text, reasoning, tool calls reassembled by index. */
export function foldChunks(chunks: Json[]): Omit<ObservedAnswer, 'ok' | 'stream' | 'usage'> & {
  usage: Json | null;
} {
  let text = '';
  let reasoning = '';
  const reasoningDetails: Json[] = [];
  const calls: ObservedToolCall[] = [];
  const choiceIdx = new Set<number>();
  let finishReason: string | null = null;
  let usage: Json | null = null;
  for (const c of chunks) {
    if (isObj(c['usage'])) usage = c['usage'];
    const choices = Array.isArray(c['choices']) ? c['choices'] : [];
    for (const ch of choices) {
      if (!isObj(ch)) continue;
      const index = typeof ch['index'] === 'number' ? ch['index'] : 0;
      choiceIdx.add(index);
      if (typeof ch['finish_reason'] === 'string' && index === 0)
        finishReason = ch['finish_reason'];
      const d = isObj(ch['delta']) ? ch['delta'] : {};
      if (index !== 0) continue;
      if (typeof d['content'] === 'string') text += d['content'];
      if (typeof d['reasoning'] === 'string') reasoning += d['reasoning'];
      if (Array.isArray(d['reasoning_details']))
        for (const r of d['reasoning_details']) if (isObj(r)) reasoningDetails.push(r);
      if (Array.isArray(d['tool_calls'])) {
        for (const t of d['tool_calls']) {
          if (!isObj(t)) continue;
          const i = typeof t['index'] === 'number' ? t['index'] : 0;
          const f = isObj(t['function']) ? t['function'] : {};
          calls[i] ??= { id: '', name: '', arguments: '' };
          if (typeof t['id'] === 'string') calls[i]!.id = t['id'];
          if (typeof f['name'] === 'string') calls[i]!.name += f['name'];
          if (typeof f['arguments'] === 'string') calls[i]!.arguments += f['arguments'];
        }
      }
    }
  }
  return {
    text,
    reasoning,
    reasoningDetails,
    toolCalls: calls.filter(Boolean),
    choices: choiceIdx.size,
    finishReason,
    usage,
    objects: chunks,
  };
}

/** Reads a `chat.completion` into an answer. */
export function fromCompletion(c: Json): Omit<ObservedAnswer, 'ok' | 'stream' | 'usage'> & {
  usage: Json | null;
} {
  const choices = Array.isArray(c['choices']) ? c['choices'].filter(isObj) : [];
  const first = choices.find((ch) => ch['index'] === 0) ?? choices[0] ?? {};
  const m = isObj(first['message']) ? first['message'] : {};
  const calls = Array.isArray(m['tool_calls']) ? m['tool_calls'].filter(isObj) : [];
  return {
    text: typeof m['content'] === 'string' ? m['content'] : '',
    reasoning: typeof m['reasoning'] === 'string' ? m['reasoning'] : '',
    reasoningDetails: Array.isArray(m['reasoning_details'])
      ? m['reasoning_details'].filter(isObj)
      : [],
    toolCalls: calls.map((t) => {
      const f = isObj(t['function']) ? t['function'] : {};
      return {
        id: typeof t['id'] === 'string' ? t['id'] : '',
        name: typeof f['name'] === 'string' ? f['name'] : '',
        arguments: typeof f['arguments'] === 'string' ? f['arguments'] : '',
      };
    }),
    choices: choices.length,
    finishReason: typeof first['finish_reason'] === 'string' ? first['finish_reason'] : null,
    usage: isObj(c['usage']) ? c['usage'] : null,
    objects: [c],
  };
}

const n = (v: unknown): number => (typeof v === 'number' && Number.isFinite(v) ? v : 0);

/** OpenAI's usage object in normalised terms. */
export function usageOf(u: Json | null): ObservedUsage | null {
  if (!u) return null;
  const p = isObj(u['prompt_tokens_details']) ? u['prompt_tokens_details'] : {};
  const c = isObj(u['completion_tokens_details']) ? u['completion_tokens_details'] : {};
  return {
    prompt: n(u['prompt_tokens']),
    completion: n(u['completion_tokens']),
    cachedRead: n(p['cached_tokens']),
    cacheWrite: n(p['cache_write_tokens']),
    reasoning: n(c['reasoning_tokens']),
  };
}
