/**
 * A closed-loop load generator for Chat Completions endpoints: `concurrency` workers each send
 * the next request as soon as their previous one is done, until `requests` have been sent.
 * The same client (one undici Agent) serves both sides of the comparison.
 */
import { performance } from 'node:perf_hooks';
import { Agent, request, type Dispatcher } from 'undici';

/** One side of the comparison: the simulator called directly, or a gateway in front of it. */
export interface Target {
  /** `direct`, `gateway`, or (`bench:peers`) the system's name. */
  side: string;
  url: string;
  apiKey: string;
  model: string;
  /** Extra request headers (Portkey's `x-portkey-provider` and `x-portkey-custom-host`). */
  headers?: Record<string, string>;
}

export interface Sample {
  ok: boolean;
  /** Streaming: time to the first non-empty `delta.content`; non-streaming: equals totalMs. */
  ttftMs: number;
  /** Streaming: time to `[DONE]`; non-streaming: time to the end of the body. */
  totalMs: number;
  error?: string;
  /** The gateway's Server-Timing split (non-streaming only), ms by name. */
  timing?: Record<string, number>;
}

export interface LoadRun {
  samples: Sample[];
  wallMs: number;
}

export interface LoadOptions {
  target: Target;
  stream: boolean;
  concurrency: number;
  requests: number;
  /** The last user message (carries the `[[sim ...]]` directive). */
  prompt: string;
  /** Stops sending, and aborts the requests in flight. */
  signal?: AbortSignal;
  /** Starts no request after this many ms (those in flight finish): bounds a run on a system that collapses. */
  stopStartingAfterMs?: number;
  /** Default: `agent`. */
  dispatcher?: Dispatcher;
}

/** Enough sockets per origin for the highest concurrency; no pipelining; a stuck request fails after 15 s. */
export const agent = new Agent({
  connections: 512,
  pipelining: 1,
  keepAliveTimeout: 60_000,
  headersTimeout: 15_000,
  bodyTimeout: 15_000,
});

export async function runLoad(opts: LoadOptions): Promise<LoadRun> {
  const samples: Sample[] = [];
  const body = JSON.stringify({
    model: opts.target.model,
    stream: opts.stream,
    messages: [{ role: 'user', content: opts.prompt }],
  });
  let next = 0;
  const until = performance.now() + (opts.stopStartingAfterMs ?? Infinity);
  const worker = async () => {
    while (next < opts.requests && !opts.signal?.aborted && performance.now() < until) {
      next++;
      samples.push(
        await once(opts.target, opts.stream, body, opts.dispatcher ?? agent, opts.signal),
      );
    }
  };
  const t0 = performance.now();
  await Promise.all(Array.from({ length: Math.min(opts.concurrency, opts.requests) }, worker));
  return { samples, wallMs: performance.now() - t0 };
}

async function once(
  target: Target,
  stream: boolean,
  body: string,
  dispatcher: Dispatcher,
  signal?: AbortSignal,
): Promise<Sample> {
  const t0 = performance.now();
  const fail = (error: string): Sample => ({
    ok: false,
    ttftMs: NaN,
    totalMs: performance.now() - t0,
    error,
  });
  try {
    const res = await request(`${target.url}/v1/chat/completions`, {
      method: 'POST',
      dispatcher,
      headers: {
        ...target.headers,
        authorization: `Bearer ${target.apiKey}`,
        'content-type': 'application/json',
      },
      body,
      signal,
    });
    if (res.statusCode !== 200) {
      const text = await res.body.text();
      return fail(`HTTP ${res.statusCode}: ${text.slice(0, 200)}`);
    }
    if (!stream) {
      const json = (await res.body.json()) as {
        choices?: Array<{ message?: { content?: string } }>;
      };
      const totalMs = performance.now() - t0;
      if (!json.choices?.[0]?.message?.content) return fail('no content in the completion');
      const header = res.headers['server-timing'];
      const sample: Sample = { ok: true, ttftMs: totalMs, totalMs };
      if (typeof header === 'string') sample.timing = parseServerTiming(header);
      return sample;
    }
    return await readSse(res.body, t0, fail);
  } catch (e) {
    return fail((e as Error).message);
  }
}

/**
 * Minimal SSE reading: split on blank lines, time the first content delta and `[DONE]`, then read
 * the body to its end so that the socket goes back to the pool.
 */
async function readSse(
  body: AsyncIterable<Buffer> & { setEncoding(enc: 'utf8'): unknown },
  t0: number,
  fail: (error: string) => Sample,
): Promise<Sample> {
  body.setEncoding('utf8');
  let buf = '';
  let ttftMs = NaN;
  let totalMs = NaN;
  for await (const chunk of body as AsyncIterable<string>) {
    if (!Number.isNaN(totalMs)) continue;
    buf += chunk;
    let end: number;
    while (Number.isNaN(totalMs) && (end = buf.indexOf('\n\n')) >= 0) {
      const event = buf.slice(0, end);
      buf = buf.slice(end + 2);
      if (!event.startsWith('data: ')) continue;
      const data = event.slice(6);
      if (data === '[DONE]') {
        totalMs = performance.now() - t0;
      } else if (Number.isNaN(ttftMs)) {
        const parsed = JSON.parse(data) as {
          choices?: Array<{ delta?: { content?: string } }>;
          error?: unknown;
        };
        if (parsed.error)
          return fail(`stream error: ${JSON.stringify(parsed.error).slice(0, 200)}`);
        if (parsed.choices?.[0]?.delta?.content) ttftMs = performance.now() - t0;
      } else if (data.includes('"finish_reason":"error"')) {
        return fail(`stream error: ${data.slice(0, 200)}`);
      }
    }
  }
  if (Number.isNaN(totalMs)) return fail('stream ended without [DONE]');
  if (Number.isNaN(ttftMs)) return fail('[DONE] before any content');
  return { ok: true, ttftMs, totalMs };
}

/** `gateway;dur=1.2, kafka;dur=3.4` → `{ gateway: 1.2, kafka: 3.4 }`. */
export function parseServerTiming(header: string): Record<string, number> {
  const out: Record<string, number> = {};
  for (const part of header.split(',')) {
    const [name, ...params] = part.trim().split(';');
    const dur = params.find((p) => p.trim().startsWith('dur='));
    if (name && dur) out[name] = Number(dur.trim().slice(4));
  }
  return out;
}

/** Nearest-rank percentile of an ascending array; NaN when empty. */
export function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length, Math.max(1, rank)) - 1]!;
}

export interface Summary {
  requests: number;
  errors: number;
  /** Completed requests per second of wall time. */
  throughput: number;
  ttft: { p50: number; p99: number };
  total: { p50: number; p99: number };
  /** Means of the Server-Timing parts over the successful samples that had one. */
  serverTiming?: Record<string, number>;
  firstErrors: string[];
}

/** Summarises the rounds of one side of one cell. */
export function summarize(runs: LoadRun[]): Summary {
  const samples = runs.flatMap((r) => r.samples);
  const ok = samples.filter((s) => s.ok);
  const sorted = (pick: (s: Sample) => number) => ok.map(pick).sort((a, b) => a - b);
  const ttft = sorted((s) => s.ttftMs);
  const total = sorted((s) => s.totalMs);
  const wallMs = runs.reduce((a, r) => a + r.wallMs, 0);
  const summary: Summary = {
    requests: samples.length,
    errors: samples.length - ok.length,
    throughput: wallMs > 0 ? (ok.length * 1000) / wallMs : 0,
    ttft: { p50: percentile(ttft, 50), p99: percentile(ttft, 99) },
    total: { p50: percentile(total, 50), p99: percentile(total, 99) },
    firstErrors: [...new Set(samples.filter((s) => !s.ok).map((s) => s.error ?? '?'))].slice(0, 5),
  };
  const timed = ok.filter((s) => s.timing);
  if (timed.length > 0) {
    const sums: Record<string, number> = {};
    for (const s of timed)
      for (const [k, v] of Object.entries(s.timing!)) sums[k] = (sums[k] ?? 0) + v;
    summary.serverTiming = Object.fromEntries(
      Object.entries(sums).map(([k, v]) => [k, v / timed.length]),
    );
  }
  return summary;
}
