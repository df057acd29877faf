/** The arithmetic of `bench:streams`, pure: one stream's outcome, and a mode's summary of them. */
import { percentile } from '../load.js';

/** What the load generator saw of one stream. */
export interface StreamSample {
  /** The response's status; 0 when none came (connect error, timeout before the headers). */
  status: number;
  /** From sending the request to the response's headers; NaN without them. */
  ttfbMs: number;
  /** ... to the first non-empty `delta.content`; NaN without one. */
  ttftMs: number;
  /** ... to `[DONE]`, or to the failure. */
  totalMs: number;
  /** Events with a non-empty `delta.content`. */
  contentEvents: number;
  /** `usage.completion_tokens` of the last chunk that had usage; NaN when none had. */
  usageTokens: number;
  done: boolean;
  /** Epoch ms (one clock across processes) of the headers and of the stream's end; NaN if none. */
  openAt: number;
  closeAt: number;
  /** Why the stream failed, as a kind (`http 429`, `stream error: <code>`, `ECONNRESET`, ...). */
  error?: string;
}

/** Nearest-rank p50 and p99 of the finite values. */
export function p50p99(values: number[]): { p50: number; p99: number } {
  const sorted = values.filter(Number.isFinite).sort((a, b) => a - b);
  return { p50: percentile(sorted, 50), p99: percentile(sorted, 99) };
}

export interface StreamsSummary {
  /** Streams the load generator started. */
  sent: number;
  /** Streams that got a 200 and their headers. */
  opened: number;
  /** Streams that ended with `[DONE]` and every token asked for. */
  completed: number;
  /** Failed streams by kind (a stream that ended well but short of tokens is `tokens short`). */
  errors: Record<string, number>;
  /** When the failures of each kind happened: p50 and p99 of their time from start, ms. */
  errorAtMs: Record<string, { p50: number; p99: number }>;
  ttfb: { p50: number; p99: number };
  ttft: { p50: number; p99: number };
  total: { p50: number; p99: number };
  /** Every stream got `[DONE]` and exactly the tokens the knob asked for. */
  allComplete: boolean;
}

/**
 * A stream is complete when it got `[DONE]` and exactly `expectTokens` tokens: counted as content
 * events, and, when the gateway sent usage, as `usage.completion_tokens` too.
 */
export function streamComplete(s: StreamSample, expectTokens: number): boolean {
  return (
    !s.error &&
    s.done &&
    s.contentEvents === expectTokens &&
    (Number.isNaN(s.usageTokens) || s.usageTokens === expectTokens)
  );
}

/** The kind a stream is counted under in `errors`; undefined when it is complete. */
export function failureKind(s: StreamSample, expectTokens: number): string | undefined {
  if (streamComplete(s, expectTokens)) return undefined;
  if (s.error) return s.error;
  if (!s.done) return 'no [DONE]';
  return 'tokens short';
}

export function summarizeStreams(samples: StreamSample[], expectTokens: number): StreamsSummary {
  const errors: Record<string, number> = {};
  const at: Record<string, number[]> = {};
  let completed = 0;
  for (const s of samples) {
    const kind = failureKind(s, expectTokens);
    if (kind === undefined) completed++;
    else {
      errors[kind] = (errors[kind] ?? 0) + 1;
      (at[kind] ??= []).push(s.totalMs);
    }
  }
  return {
    sent: samples.length,
    opened: samples.filter((s) => s.status === 200 && Number.isFinite(s.ttfbMs)).length,
    completed,
    errors,
    errorAtMs: Object.fromEntries(Object.entries(at).map(([k, v]) => [k, p50p99(v)])),
    ttfb: p50p99(samples.map((s) => s.ttfbMs)),
    ttft: p50p99(samples.map((s) => s.ttftMs)),
    total: p50p99(samples.filter((s) => s.done).map((s) => s.totalMs)),
    allComplete: samples.length > 0 && completed === samples.length,
  };
}

/**
 * The most streams open at once, from each stream's open and close instants (ms on one clock):
 * a stream is open from its headers to its end. Closing sorts before opening at the same instant.
 */
export function peakOpen(intervals: Array<[number, number]>): number {
  const events: Array<[number, number]> = [];
  for (const [open, close] of intervals) {
    if (!Number.isFinite(open) || !Number.isFinite(close)) continue;
    events.push([open, 1], [close, -1]);
  }
  events.sort((a, b) => a[0] - b[0] || a[1] - b[1]);
  let now = 0;
  let peak = 0;
  for (const [, d] of events) {
    now += d;
    peak = Math.max(peak, now);
  }
  return peak;
}

/** Short error kinds for a table: the message's first line, ids and numbers of bytes dropped. */
export function errorKind(message: string): string {
  const first = message.split('\n')[0]!.trim();
  return first.replace(/\b[0-9a-f]{8,}\b/gi, '…').slice(0, 80);
}
