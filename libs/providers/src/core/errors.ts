import type { ReplyError } from '@turnpike/contracts';

/**
 * How an upstream failure surfaces to the tenant, when no other endpoint can serve the request:
 * - the tenant's own mistakes (400 bad request, 413) pass through with the upstream message;
 * - a context-length error passes through as 400 but is retryable: a larger window may serve it;
 * - our credentials or configuration failing upstream (401, 403, 404) are a 502: not the tenant's fault;
 * - rate limits and overload (429, 503, 529) are a 503 carrying Retry-After;
 * - timeouts (408, 504, our own deadline) are a 504;
 * - anything else 5xx, a reset connection or a cut stream is a 502.
 */
export function upstreamFailure(args: {
  upstreamStatus: number | null;
  message: string;
  code: string | null;
  param?: string | null;
  type?: string | null;
  retryAfterSec?: number | null;
}): ReplyError {
  const { upstreamStatus: s, message, code } = args;
  const base = {
    message,
    code,
    param: args.param ?? null,
    upstreamStatus: s,
    retryAfterSec: args.retryAfterSec ?? null,
  };
  if (s === 400 && code === 'context_length_exceeded')
    return { ...base, status: 400, type: 'invalid_request_error', retryable: true };
  if (s === 400 || s === 413 || s === 422)
    return {
      ...base,
      status: s === 422 ? 400 : s,
      type: 'invalid_request_error',
      retryable: false,
    };
  if (s === 408 || s === 504)
    return { ...base, code: code ?? 'timeout', status: 504, type: 'server_error', retryable: true };
  if (s === 429 || s === 503 || s === 529)
    return {
      ...base,
      code: code ?? 'service_unavailable',
      status: 503,
      type: 'server_error',
      retryable: true,
    };
  return {
    ...base,
    code: code ?? 'upstream_error',
    status: 502,
    type: 'server_error',
    retryable: true,
  };
}

/** A connection-level failure (refused, reset, DNS, TLS) before or during the response. */
export function connectionFailure(message: string): ReplyError {
  return upstreamFailure({ upstreamStatus: null, message, code: 'upstream_connection_error' });
}

export function timeoutFailure(message: string): ReplyError {
  return {
    status: 504,
    type: 'server_error',
    message,
    code: 'timeout',
    param: null,
    retryable: true,
    upstreamStatus: null,
    retryAfterSec: null,
  };
}

/** Retry-After in seconds from a header value (delta-seconds or an HTTP date). */
export function parseRetryAfter(
  value: string | string[] | undefined,
  now = Date.now(),
): number | null {
  const v = Array.isArray(value) ? value[0] : value;
  if (!v) return null;
  const secs = Number(v);
  if (Number.isFinite(secs)) return Math.max(0, secs);
  const at = Date.parse(v);
  return Number.isNaN(at) ? null : Math.max(0, Math.ceil((at - now) / 1000));
}
