import { Agent, request } from 'undici';
import type { NativeTokens, ReplyError } from '@turnpike/contracts';
import { connectionFailure, timeoutFailure, upstreamFailure } from './errors.js';
import type { ProviderConnection } from '@turnpike/contracts';
import type { GenerationCall, ParsedCompletion, ProviderAdapter } from './adapter.js';
import { RequestMappingError } from './param-map.js';

export type UpstreamEvent =
  | { type: 'chunk'; chunk: Record<string, unknown>; hasOutput: boolean }
  | { type: 'completion'; parsed: ParsedCompletion }
  | {
      type: 'end';
      tokens: NativeTokens | null;
      finishReason: string | null;
      nativeFinishReason: string | null;
    };

/** An attempt that failed, with the error mapped for the gateway. */
export class UpstreamError extends Error {
  constructor(readonly reply: ReplyError) {
    super(reply.message);
    this.name = 'UpstreamError';
  }
}

/** Raised when the caller's signal aborted the call (client gone, superseded). */
export class UpstreamAborted extends Error {
  constructor() {
    super('upstream call aborted');
    this.name = 'UpstreamAborted';
  }
}

export interface UpstreamCallOptions {
  adapter: ProviderAdapter;
  connection: ProviderConnection;
  call: GenerationCall;
  /** `provider.require_parameters` of the request. */
  requireParameters: boolean;
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
 * timeout) and `UpstreamAborted` when `signal` fired. Aborting closes the upstream socket.
 */
export async function* callUpstream(opts: UpstreamCallOptions): AsyncGenerator<UpstreamEvent> {
  const { adapter, call } = opts;
  let req;
  try {
    req = await adapter.prepareRequest(call, opts.connection, {
      requireParameters: opts.requireParameters,
      now: new Date(),
    });
  } catch (e) {
    if (e instanceof RequestMappingError) throw new UpstreamError(e.reply);
    throw e;
  }
  const remaining = opts.deadlineAt - Date.now();
  if (remaining <= 0)
    throw new UpstreamError(timeoutFailure('The request timed out before the upstream call.'));
  const deadline = AbortSignal.timeout(remaining);
  const signal = AbortSignal.any([opts.signal, deadline]);
  const failure = (e: unknown): Error => {
    if (opts.signal.aborted) return new UpstreamAborted();
    if (deadline.aborted || isUndiciTimeout(e)) {
      return new UpstreamError(timeoutFailure('The upstream did not answer in time.'));
    }
    if (e instanceof UpstreamError) return e;
    return new UpstreamError(
      connectionFailure(`Upstream connection failed: ${(e as Error).message}`),
    );
  };

  let res: Awaited<ReturnType<typeof request>>;
  try {
    res = await request(req.url, {
      method: req.method,
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
      throw new UpstreamError(adapter.mapError(res.statusCode, text, res.headers));
    }
    if (!call.stream) {
      const text = await res.body.text();
      let json: unknown;
      try {
        json = JSON.parse(text);
      } catch {
        throw new UpstreamError(
          upstreamFailure({
            upstreamStatus: res.statusCode,
            message: 'The upstream returned invalid JSON.',
            code: 'upstream_bad_response',
          }),
        );
      }
      try {
        yield { type: 'completion', parsed: adapter.parseCompletion(json, call) };
      } catch (e) {
        if (e && typeof e === 'object' && 'retryable' in e)
          throw new UpstreamError(e as ReplyError);
        throw e;
      }
      return;
    }

    const decoder = adapter.openStream(call);
    let done = false;
    for await (const bytes of res.body) {
      for (const ev of decoder.push(bytes as Buffer)) {
        if (ev.type === 'done') {
          done = true;
          break;
        }
        if (ev.type === 'error') throw new UpstreamError(ev.error);
        yield { type: 'chunk', chunk: ev.chunk, hasOutput: ev.hasOutput };
      }
      if (done) break;
    }
    const summary = decoder.end();
    if (!summary.complete) {
      throw new UpstreamError(
        upstreamFailure({
          upstreamStatus: null,
          message: 'The upstream stream ended unexpectedly.',
          code: 'upstream_stream_cut',
        }),
      );
    }
    const { tokens, finishReason, nativeFinishReason } = summary;
    yield { type: 'end', tokens, finishReason, nativeFinishReason };
  } catch (e) {
    throw failure(e);
  } finally {
    // Closes the socket if we stop early (abort, error, consumer gone).
    if (!res.body.destroyed) res.body.destroy();
  }
}

function isUndiciTimeout(e: unknown): boolean {
  const code = (e as { code?: string } | null)?.code;
  return (
    code === 'UND_ERR_HEADERS_TIMEOUT' ||
    code === 'UND_ERR_BODY_TIMEOUT' ||
    code === 'UND_ERR_CONNECT_TIMEOUT'
  );
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
