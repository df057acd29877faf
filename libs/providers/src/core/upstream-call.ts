import { Agent, request } from 'undici';
import type { NativeTokens, ProviderConnection } from '@turnpike/contracts';
import { deadlineError, protocolError, transportError, UpstreamError } from '../errors/index.js';
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
  const deadline = AbortSignal.timeout(remaining);
  const signal = AbortSignal.any([opts.signal, deadline]);
  const failure = (e: unknown): Error => {
    if (opts.signal.aborted) return new UpstreamAborted();
    if (deadline.aborted) return deadlineError();
    return withoutSecrets(e instanceof UpstreamError ? e : transportError(e), secrets);
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
    let done = false;
    for await (const bytes of res.body) {
      for (const ev of decoder.push(bytes as Buffer)) {
        if (ev.type === 'done') {
          done = true;
          break;
        }
        if (ev.type === 'error') throw ev.error;
        yield { type: 'chunk', chunk: ev.chunk, hasOutput: ev.hasOutput };
      }
      if (done) break;
    }
    const summary = decoder.end();
    if (!summary.complete) throw protocolError('stream_cut');
    yield {
      type: 'end',
      tokens: summary.tokens,
      finishReason: summary.finishReason,
      nativeFinishReason: safeNativeReason(summary.nativeFinishReason),
    };
  } catch (e) {
    throw failure(e);
  } finally {
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
