import { Agent, request } from 'undici';
import type { NativeTokens, ProviderConnection } from '@turnpike/contracts';
import {
  deadlineError,
  errorCodes,
  protocolError,
  stallError,
  transportError,
  UpstreamError,
} from '../errors/index.js';
import type { GenerationCall, ParsedCompletion, ProviderAdapter } from './adapter.js';
import { RequestMappingError } from './param-map.js';
import { MalformedTolerance } from './stream-tolerance.js';

export type UpstreamEvent =
  | { type: 'chunk'; chunk: Record<string, unknown>; hasOutput: boolean }
  /** A stream event that could not be parsed was skipped (within the tolerance). */
  | { type: 'malformed' }
  | { type: 'completion'; parsed: ParsedCompletion }
  | {
      type: 'end';
      tokens: NativeTokens | null;
      finishReason: string | null;
      nativeFinishReason: string | null;
      /** Events skipped as malformed over the whole stream. */
      malformedEvents: number;
    };

/** The stall limit when the caller gives none (the connector's `CONNECTOR_STALL_MS` default). */
export const DEFAULT_STALL_TIMEOUT_MS = 10_000;

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
  /**
   * The stall limit: the longest silence allowed between two events of the stream, from its
   * first event on, and for an error body from the headers on. The wait before a stream's first
   * event is not a stall: a reasoning model may think for a minute before it says anything, and
   * that wait is bounded by the caller's first-token limit and deadline instead. A non-streamed
   * body, once its headers came, may not pause for longer between two reads. Past it:
   * `upstream_stalled`.
   */
  stallTimeoutMs?: number;
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

/** Every secret of a connection: none of them may reach a client or a log. */
export function secretsOf(connection: ProviderConnection): string[] {
  const c = connection.credentials;
  const out: string[] = [];
  switch (c.type) {
    case 'api_key':
    case 'azure':
      out.push(c.apiKey);
      break;
    case 'aws':
      out.push(c.secretAccessKey, c.accessKeyId);
      if (c.sessionToken) out.push(c.sessionToken);
      break;
    case 'vertex':
      out.push(c.accessToken);
      break;
  }
  for (const v of Object.values(connection.headers ?? {})) if (v.length >= 16) out.push(v);
  return out;
}

const withoutSecrets = (e: UpstreamError, secrets: readonly string[]): UpstreamError =>
  secrets.reduce((err, s) => err.without(s), e);

/**
 * Calls one upstream and yields its output as events: a `completion`, or `chunk`s then `end`.
 * Drives any adapter the same way: it prepares (maps and signs) the request, sends it, and feeds
 * the response body to the adapter's stream decoder as bytes arrive. Throws `UpstreamError` for
 * anything that went wrong upstream (HTTP error, reset, stream cut, timeout), always through the
 * error policy and with every secret of the connection removed from both of its views, and
 * `UpstreamAborted` when `signal` fired. Aborting closes the upstream socket.
 */
export async function* callUpstream(opts: UpstreamCallOptions): AsyncGenerator<UpstreamEvent> {
  const { adapter, call } = opts;
  const secrets = secretsOf(opts.connection);
  let req;
  try {
    req = await adapter.prepareRequest(call, opts.connection, {
      requireParameters: opts.requireParameters,
      now: new Date(),
    });
  } catch (e) {
    if (e instanceof RequestMappingError) throw withoutSecrets(e.error, secrets);
    throw e;
  }
  const remaining = opts.deadlineAt - Date.now();
  if (remaining <= 0) throw deadlineError(true);
  const stallMs = opts.stallTimeoutMs ?? DEFAULT_STALL_TIMEOUT_MS;
  const deadline = AbortSignal.timeout(remaining);
  // Fired by the stream's watchdog when no event came for `stallMs`.
  const stalled = new AbortController();
  const signal = AbortSignal.any([opts.signal, deadline, stalled.signal]);
  const failure = (e: unknown): Error => {
    if (opts.signal.aborted) return new UpstreamAborted();
    if (deadline.aborted) return deadlineError();
    if (stalled.signal.aborted || errorCodes(e).includes('UND_ERR_BODY_TIMEOUT'))
      return stallError(stallMs);
    return withoutSecrets(e instanceof UpstreamError ? e : transportError(e), secrets);
  };

  let res: Awaited<ReturnType<typeof request>>;
  let watchdog: NodeJS.Timeout | undefined;
  try {
    res = await request(req.url, {
      method: req.method,
      headers: req.headers,
      body: req.body,
      signal,
      dispatcher: opts.dispatcher,
      headersTimeout: remaining,
      // A stream's silence is measured between EVENTS by the watchdog below: undici's body
      // timeout is refreshed by any bytes (a keep-alive comment, a trickle of a never-finished
      // event) and runs on a coarse clock (it can fire ~0.5 s early or late). A whole body has
      // no events: there the byte-level timeout is what there is.
      bodyTimeout: call.stream ? 0 : stallMs,
    });
  } catch (e) {
    throw failure(e);
  }

  // The stall watchdog of a stream: armed by its first event (or at once for an error body, which
  // must come within the limit), re-armed whenever an event of the protocol was read (not on
  // bytes alone); firing aborts the call.
  const arm = () => {
    if (watchdog) watchdog.refresh();
    else watchdog = setTimeout(() => stalled.abort(), stallMs);
  };
  try {
    if (res.statusCode < 200 || res.statusCode >= 300) {
      if (call.stream) arm();
      const text = await readLimited(res.body, MAX_ERROR_BODY);
      throw adapter.mapError(res.statusCode, text, res.headers);
    }
    if (!call.stream) {
      const text = await res.body.text();
      let json: unknown;
      try {
        json = JSON.parse(text);
      } catch {
        throw protocolError('bad_response', res.statusCode);
      }
      const parsed = adapter.parseCompletion(json, call);
      yield {
        type: 'completion',
        parsed: { ...parsed, nativeFinishReason: safeNativeReason(parsed.nativeFinishReason) },
      };
      return;
    }

    const decoder = adapter.openStream(call);
    const tolerance = new MalformedTolerance();
    let seen = 0;
    let done = false;
    for await (const bytes of res.body) {
      const events = decoder.push(bytes as Buffer);
      if (decoder.events !== seen) {
        seen = decoder.events;
        arm();
      }
      for (const ev of events) {
        if (ev.type === 'done') {
          done = true;
          break;
        }
        if (ev.type === 'error') throw ev.error;
        if (ev.type === 'malformed') {
          if (tolerance.malformedAt(ev.event)) throw protocolError('bad_stream');
          yield { type: 'malformed' };
          continue;
        }
        yield { type: 'chunk', chunk: ev.chunk, hasOutput: ev.hasOutput };
      }
      if (tolerance.readUpTo(decoder.events)) throw protocolError('bad_stream');
      if (done) break;
    }
    const summary = decoder.end();
    if (!summary.complete) throw protocolError('stream_cut');
    yield {
      type: 'end',
      tokens: summary.tokens,
      finishReason: summary.finishReason,
      nativeFinishReason: safeNativeReason(summary.nativeFinishReason),
      malformedEvents: summary.malformedEvents,
    };
  } catch (e) {
    throw failure(e);
  } finally {
    if (watchdog) clearTimeout(watchdog);
    // Closes the socket if we stop early (abort, error, consumer gone).
    if (!res.body.destroyed) res.body.destroy();
  }
}

/**
 * The provider's own finish reason as we keep it (usage events, ledger, analytics): printable,
 * at most 64 characters. An upstream can send anything there, and a NUL byte, for one, is a
 * value Postgres refuses.
 */
export function safeNativeReason(reason: string | null): string | null {
  if (reason === null) return null;
  // eslint-disable-next-line no-control-regex
  const clean = reason.replace(/[\u0000-\u001f\u007f]/g, '').slice(0, 64);
  return clean === '' ? null : clean;
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
