import { UPSTREAM_ERROR_CODES } from '@turnpike/contracts';

/**
 * Same-endpoint retry (docs/architecture.md, "Routing and fallback"): a transient failure before
 * the first token retries the same endpoint once, after the upstream's Retry-After or a short
 * jittered wait, when that is no slower than the alternatives; a per-endpoint budget keeps
 * retries from amplifying an outage. Pure: the clock and the random source are parameters.
 */

/** The jittered wait before a retry when the upstream named none (ms). */
export const RETRY_JITTER_MS = { min: 100, max: 300 } as const;

/** Failures that may pass on their own: one 5xx, a 429, a reset or refused connection, a cut. */
const TRANSIENT: ReadonlySet<string> = new Set([
  UPSTREAM_ERROR_CODES.error,
  UPSTREAM_ERROR_CODES.overloaded,
  UPSTREAM_ERROR_CODES.rateLimited,
  UPSTREAM_ERROR_CODES.timeout,
  UPSTREAM_ERROR_CODES.connection,
  UPSTREAM_ERROR_CODES.streamCut,
]);

export interface RetryQuestion {
  error: {
    code: string | null;
    retryable: boolean;
    retryAfterSec: number | null;
    upstreamStatus: number | null;
  };
  /** Chunks the failed attempt had produced (a retry is only for failures before any output). */
  chunksSent: number;
  /** This endpoint was retried already for this request. */
  retriedAlready: boolean;
  /** Time left before the request's deadline (ms). */
  timeLeftMs: number;
  /** The next candidate, if any: usable right now, and its expected time to first token. */
  next: { usable: boolean; expectedTtftMs: number | null } | null;
  /** Uniform in [0, 1). */
  random: () => number;
}

export type RetryDecision = { retry: true; waitMs: number } | { retry: false; reason: string };

/** Whether to retry the endpoint that just failed, and after how long. */
export function sameEndpointRetry(q: RetryQuestion): RetryDecision {
  if (q.retriedAlready) return { retry: false, reason: 'retried once already' };
  const { code, retryable, retryAfterSec, upstreamStatus } = q.error;
  if (!retryable || code === null || !TRANSIENT.has(code))
    return { retry: false, reason: 'not a transient failure' };
  // `upstream_error` is any status the policy did not name: only its 5xx are transient.
  if (code === UPSTREAM_ERROR_CODES.error && upstreamStatus !== null && upstreamStatus < 500)
    return { retry: false, reason: 'not a transient failure' };
  if (q.chunksSent > 0) return { retry: false, reason: 'output had begun' };
  const waitMs =
    retryAfterSec !== null
      ? Math.ceil(retryAfterSec * 1000)
      : Math.round(RETRY_JITTER_MS.min + q.random() * (RETRY_JITTER_MS.max - RETRY_JITTER_MS.min));
  // The retry itself needs time too: the wait may take at most half of what is left.
  if (waitMs > q.timeLeftMs / 2)
    return { retry: false, reason: `the wait (${waitMs} ms) does not fit the deadline` };
  if (q.next?.usable && !(q.next.expectedTtftMs !== null && waitMs < q.next.expectedTtftMs))
    return { retry: false, reason: 'another endpoint is available now' };
  return { retry: true, waitMs };
}

/**
 * Retries an endpoint may take: a token bucket per endpoint, filled by 10 % of the requests sent
 * to it and by 1 token a second, holding at most {@link RetryBudget.capacity} tokens (a fresh
 * endpoint starts with one). A retry takes a whole token; when the bucket cannot pay, the retry is
 * skipped: under an outage retries add at most ~10 % of the traffic plus one a second.
 */
export class RetryBudget {
  static readonly ratio = 0.1;
  static readonly perSecond = 1;
  static readonly capacity = 10;
  /** Thousandths of a retry, so that ten requests make exactly one (no float drift). */
  private static readonly unit = 1000;
  private readonly buckets = new Map<string, { milli: number; at: number }>();

  constructor(private readonly now: () => number = Date.now) {}

  private bucket(endpointId: string): { milli: number; at: number } {
    const t = this.now();
    let b = this.buckets.get(endpointId);
    if (!b) {
      b = { milli: RetryBudget.unit, at: t };
      this.buckets.set(endpointId, b);
    }
    // perSecond retries a second: perSecond thousandths a millisecond.
    b.milli = Math.min(
      RetryBudget.capacity * RetryBudget.unit,
      b.milli + Math.max(0, t - b.at) * RetryBudget.perSecond,
    );
    b.at = t;
    return b;
  }

  /** A request (a first attempt, a fallback, a continuation) was sent to this endpoint. */
  noteRequest(endpointId: string): void {
    const b = this.bucket(endpointId);
    b.milli = Math.min(
      RetryBudget.capacity * RetryBudget.unit,
      b.milli + RetryBudget.ratio * RetryBudget.unit,
    );
  }

  /** Takes the token of one retry; false when the endpoint's budget is spent. */
  tryAcquire(endpointId: string): boolean {
    const b = this.bucket(endpointId);
    if (b.milli < RetryBudget.unit) return false;
    b.milli -= RetryBudget.unit;
    return true;
  }
}
