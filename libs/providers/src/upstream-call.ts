import { Agent, request } from 'undici';
import type { NativeTokens } from '@turnpike/contracts';
import { deadlineError, protocolError, transportError, UpstreamError } from './errors/index.js';
import type { ParsedCompletion, ProviderAdapter, ProviderCredentials } from './provider.js';
import { SseParser } from './sse.js';

export type UpstreamEvent =
  | { type: 'chunk'; chunk: Record<string, unknown>; hasOutput: boolean }
  | { type: 'completion'; parsed: ParsedCompletion }
  | {
      type: 'end';
      tokens: NativeTokens | null;
      finishReason: string | null;
      nativeFinishReason: string | null;
    };

/** Raised when the caller's signal aborted the call (client gone, superseded). */
export class UpstreamAborted extends Error {
  constructor() {
    super('upstream call aborted');
    this.name = 'UpstreamAborted';
  }
}

export interface UpstreamCallOptions {
  adapter: ProviderAdapter;
  credentials: ProviderCredentials;
  body: Record<string, unknown>;
  upstreamModel: string;
  stream: boolean;
  /** Aborts the call (client disconnected). */
  signal: AbortSignal;
  /** Epoch ms by which the whole call must be over. */
  deadlineAt: number;
  dispatcher: Agent;
  /** Longest silence allowed between two stream events. */
  idleTimeoutMs?: number;
}

/** A keep-alive connection pool sized for hundreds of concurrent streams per origin. */
export function createUpstreamAgent(): Agent {
  return new Agent({
    keepAliveTimeout: 30_000,
    keepAliveMaxTimeout: 120_000,
    connect: { timeout: 5_000 },
    pipelining: 1,
  });
}

const MAX_ERROR_BODY = 64 * 1024;

/**
 * Calls one upstream and yields its output as events: a `completion`, or `chunk`s then `end`.
 * Throws `UpstreamError` for anything that went wrong upstream (HTTP error, reset, stream cut,
 * timeout), always through the error policy and with the provider key removed from both of its
 * views, and `UpstreamAborted` when `signal` fired. Aborting closes the upstream socket.
 */
export async function* callUpstream(opts: UpstreamCallOptions): AsyncGenerator<UpstreamEvent> {
  const { adapter } = opts;
  const req = adapter.buildRequest(opts.body, opts.upstreamModel, opts.stream, opts.credentials);
  const remaining = opts.deadlineAt - Date.now();
  if (remaining <= 0) throw deadlineError(true);
  const deadline = AbortSignal.timeout(remaining);
  const signal = AbortSignal.any([opts.signal, deadline]);
  const failure = (e: unknown): Error => {
    if (opts.signal.aborted) return new UpstreamAborted();
    if (deadline.aborted) return deadlineError();
    return (e instanceof UpstreamError ? e : transportError(e)).without(opts.credentials.apiKey);
  };

  let res: Awaited<ReturnType<typeof request>>;
  try {
    res = await request(req.url, {
      method: 'POST',
      headers: req.headers,
      body: req.body,
      signal,
      dispatcher: opts.dispatcher,
      headersTimeout: remaining,
      bodyTimeout: opts.idleTimeoutMs ?? 60_000,
    });
  } catch (e) {
    throw failure(e);
  }

  try {
    if (res.statusCode < 200 || res.statusCode >= 300) {
      const text = await readLimited(res.body, MAX_ERROR_BODY);
      throw adapter.mapError(res.statusCode, text, res.headers);
    }
    if (!opts.stream) {
      const text = await res.body.text();
      let json: unknown;
      try {
        json = JSON.parse(text);
      } catch {
        throw protocolError('bad_response', res.statusCode);
      }
      yield { type: 'completion', parsed: adapter.parseCompletion(json) };
      return;
    }

    const parser = new SseParser();
    let tokens: NativeTokens | null = null;
    let finishReason: string | null = null;
    let nativeFinishReason: string | null = null;
    let done = false;
    for await (const bytes of res.body) {
      for (const ev of parser.push(bytes as Buffer)) {
        const parsed = adapter.parseStreamEvent(ev);
        if (parsed === null) {
          done = true;
          break;
        }
        if (parsed.error) throw parsed.error;
        if (parsed.tokens) tokens = parsed.tokens;
        if (parsed.finishReason) {
          finishReason = parsed.finishReason;
          nativeFinishReason = parsed.nativeFinishReason;
        }
        if (parsed.chunk) yield { type: 'chunk', chunk: parsed.chunk, hasOutput: parsed.hasOutput };
      }
      if (done) break;
    }
    if (!done && finishReason === null) {
      throw protocolError('stream_cut');
    }
    yield { type: 'end', tokens, finishReason, nativeFinishReason };
  } catch (e) {
    throw failure(e);
  } finally {
    // Closes the socket if we stop early (abort, error, consumer gone).
    if (!res.body.destroyed) res.body.destroy();
  }
}

async function readLimited(
  body: AsyncIterable<unknown> & { destroy(): void },
  limit: number,
): Promise<string> {
  const parts: Buffer[] = [];
  let size = 0;
  for await (const chunk of body) {
    const b = chunk as Buffer;
    parts.push(b);
    size += b.length;
    if (size >= limit) {
      body.destroy();
      break;
    }
  }
  return Buffer.concat(parts).toString('utf8').slice(0, limit);
}
