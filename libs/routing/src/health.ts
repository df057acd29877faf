import type { CircuitState, EndpointHealth, LlmAttemptV1, Percentiles } from '@turnpike/contracts';
import { UPSTREAM_ERROR_CODES, unknownHealth } from '@turnpike/contracts';

/** How the router turns attempt records into endpoint health. */
export interface HealthPolicy {
  /** Weight of the newest sample in the latency, TTFT and throughput EWMAs. */
  ewmaAlpha: number;
  /** Consecutive failures that open a closed circuit. */
  consecutiveFailures: number;
  /** Failure share of the recent window that opens a closed circuit... */
  errorRateToOpen: number;
  /** ...once the window holds at least this many attempts. */
  minSamplesForRate: number;
  /** Recent window for the error rate: the last N classified attempts no older than windowMs. */
  recentSamples: number;
  recentWindowMs: number;
  /** First cool-down of an open circuit before a half-open probe; doubles on a failed probe. */
  cooldownMs: number;
  maxCooldownMs: number;
  /** Longest Retry-After honoured (a bogus header must not take an endpoint out for a day). */
  maxRetryAfterMs: number;
}

export const DEFAULT_HEALTH_POLICY: HealthPolicy = {
  ewmaAlpha: 0.2,
  consecutiveFailures: 5,
  errorRateToOpen: 0.5,
  minSamplesForRate: 10,
  recentSamples: 20,
  recentWindowMs: 60_000,
  cooldownMs: 5_000,
  maxCooldownMs: 60_000,
  maxRetryAfterMs: 300_000,
};

/**
 * What an attempt says about its endpoint:
 * - `success`;
 * - `failure`: the endpoint (or our access to it) is at fault: connection errors, timeouts, 408,
 *   5xx, 529, and every 4xx that is not the request's own fault (401/402/403/404/410...: our
 *   credentials, account or configuration upstream);
 * - `rate_limited`: 429; counted for the circuit and the error rate, but not against uptime
 *   (as OpenRouter counts uptime);
 * - `ignored`: says nothing about the endpoint: the client went away, the request itself was
 *   refused (400, 413, 422, context length), or the connector has no usable account for the
 *   endpoint's provider (`provider_not_configured`: a configuration error of ours, reported to
 *   the operator, not an outage of the endpoint: it must not open its circuit or lower its
 *   uptime, and the endpoint is healthy again the moment an account is added).
 *
 * The connector's error policy (`libs/providers/src/errors`) names the meaning of a failure in
 * `errorCode`; where a provider's meaning differs from its status (a quota error sent as a 429,
 * a throttle sent as a 400), that code decides, so health agrees with what the client was told.
 */
export type AttemptClass = 'success' | 'failure' | 'rate_limited' | 'ignored';

const CODE_CLASS: Readonly<Record<string, AttemptClass>> = {
  [UPSTREAM_ERROR_CODES.contextLength]: 'ignored',
  [UPSTREAM_ERROR_CODES.notConfigured]: 'ignored',
  [UPSTREAM_ERROR_CODES.rateLimited]: 'rate_limited',
  [UPSTREAM_ERROR_CODES.auth]: 'failure',
  [UPSTREAM_ERROR_CODES.payment]: 'failure',
  [UPSTREAM_ERROR_CODES.notFound]: 'failure',
  [UPSTREAM_ERROR_CODES.overloaded]: 'failure',
  [UPSTREAM_ERROR_CODES.timeout]: 'failure',
  [UPSTREAM_ERROR_CODES.error]: 'failure',
};

export function classifyAttempt(
  a: Pick<LlmAttemptV1, 'outcome' | 'upstreamStatus'> & { errorCode?: string | null },
): AttemptClass {
  if (a.outcome === 'success') return 'success';
  if (a.outcome === 'cancelled') return 'ignored';
  if (a.outcome === 'timeout') return 'failure';
  const byCode = a.errorCode ? CODE_CLASS[a.errorCode] : undefined;
  if (byCode) return byCode;
  const s = a.upstreamStatus;
  if (s === null) return 'failure';
  if (s === 429) return 'rate_limited';
  if (s === 400 || s === 413 || s === 422) return 'ignored';
  return 'failure';
}

/** What an observation changed: `state` (circuit or Retry-After) should be published at once. */
export type HealthChange = 'state' | 'metrics' | 'none';

const MINUTE = 60_000;
const DAY_MINUTES = 1440;
const PERCENTILE_SAMPLES = 256;
const PERCENTILE_WINDOW_MS = 30 * MINUTE;

interface Sample {
  at: number;
  latencyMs: number;
  ttftMs: number | null;
  tps: number | null;
}

/**
 * The health of one endpoint, from the attempts it served. Pure and clock-free: every method
 * takes the time, so it is unit-testable and replayable.
 *
 * Circuit breaker: closed → open after `consecutiveFailures` failures in a row, or when at least
 * `errorRateToOpen` of the recent window failed; open → half-open once the cool-down has passed
 * (the gateways then send it occasional probes); half-open → closed on a success, or back to
 * open with twice the cool-down (up to `maxCooldownMs`) on a failure. A success seen while open
 * (an attempt that was already in flight, or a last-resort try) closes it too.
 */
export class EndpointHealthTracker {
  private state: CircuitState = 'closed';
  private openUntil: number | null = null;
  private cooldown: number;
  private consecutive = 0;
  private retryAfterUntil: number | null = null;
  private lastAttemptAt: number | null = null;
  private latencyEwma: number | null = null;
  private ttftEwma: number | null = null;
  private tpsEwma: number | null = null;
  /** The recent window, oldest first: true = failed (rate limits included). */
  private recent: Array<{ at: number; failed: boolean }> = [];
  private samples: Sample[] = [];
  /** Per-minute success/failure counts over the last day (ring indexed by minute). */
  private readonly minuteStamp = new Float64Array(DAY_MINUTES).fill(-1);
  private readonly minuteOk = new Uint32Array(DAY_MINUTES);
  private readonly minuteFail = new Uint32Array(DAY_MINUTES);
  /** Attempts (any class but ignored) per minute, for `attempts30m`. */
  private readonly minuteAll = new Uint32Array(DAY_MINUTES);

  constructor(private readonly policy: HealthPolicy = DEFAULT_HEALTH_POLICY) {
    this.cooldown = policy.cooldownMs;
  }

  /** The circuit as of `now` (an open circuit past its cool-down is half-open). */
  circuit(now: number): CircuitState {
    if (this.state === 'open' && this.openUntil !== null && now >= this.openUntil)
      return 'half_open';
    return this.state;
  }

  /** When the circuit will next change by itself (open → half-open), if it will. */
  nextTransitionAt(now: number): number | null {
    return this.state === 'open' && this.openUntil !== null && this.openUntil > now
      ? this.openUntil
      : null;
  }

  /** Brings the stored state up to `now`; returns true when the circuit changed. */
  tick(now: number): boolean {
    if (this.state === 'open' && this.openUntil !== null && now >= this.openUntil) {
      this.state = 'half_open';
      return true;
    }
    return false;
  }

  observe(a: LlmAttemptV1, now: number): HealthChange {
    const cls = classifyAttempt(a);
    if (cls === 'ignored') return 'none';
    const before = { circuit: this.circuit(now), retryAfterUntil: this.retryAfterUntil };
    this.tick(now);
    const at = a.endedAt;
    this.lastAttemptAt = Math.max(this.lastAttemptAt ?? 0, at);
    this.count(at, cls);
    this.recent.push({ at, failed: cls !== 'success' });
    if (this.recent.length > this.policy.recentSamples) this.recent.shift();

    if (a.retryAfterSec !== null && a.retryAfterSec !== undefined && cls !== 'success') {
      const until = at + Math.min(a.retryAfterSec * 1000, this.policy.maxRetryAfterMs);
      this.retryAfterUntil = Math.max(this.retryAfterUntil ?? 0, Math.round(until));
    }

    if (cls === 'success') {
      this.onSuccess(a, at);
    } else {
      this.onFailure(now);
    }
    if (this.retryAfterUntil !== null && this.retryAfterUntil <= now) this.retryAfterUntil = null;
    const changed =
      before.circuit !== this.circuit(now) || before.retryAfterUntil !== this.retryAfterUntil;
    return changed ? 'state' : 'metrics';
  }

  private onSuccess(a: LlmAttemptV1, at: number): void {
    this.consecutive = 0;
    if (this.state !== 'closed') {
      this.state = 'closed';
      this.openUntil = null;
      this.cooldown = this.policy.cooldownMs;
    }
    const alpha = this.policy.ewmaAlpha;
    const ewma = (prev: number | null, v: number) =>
      prev === null ? v : prev + alpha * (v - prev);
    this.latencyEwma = ewma(this.latencyEwma, a.latencyMs);
    if (a.ttftMs !== null) this.ttftEwma = ewma(this.ttftEwma, a.ttftMs);
    const tps = throughput(a);
    if (tps !== null) this.tpsEwma = ewma(this.tpsEwma, tps);
    this.samples.push({ at, latencyMs: a.latencyMs, ttftMs: a.ttftMs, tps });
    if (this.samples.length > PERCENTILE_SAMPLES) this.samples.shift();
  }

  private onFailure(now: number): void {
    this.consecutive++;
    if (this.state === 'half_open') {
      this.cooldown = Math.min(this.cooldown * 2, this.policy.maxCooldownMs);
      this.open(now);
      return;
    }
    if (this.state === 'open') return;
    const recent = this.recentWindow(now);
    const failed = recent.filter((r) => r.failed).length;
    const rateTrips =
      recent.length >= this.policy.minSamplesForRate &&
      failed / recent.length >= this.policy.errorRateToOpen;
    if (this.consecutive >= this.policy.consecutiveFailures || rateTrips) this.open(now);
  }

  private open(now: number): void {
    this.state = 'open';
    this.openUntil = now + this.cooldown;
  }

  private recentWindow(now: number): Array<{ at: number; failed: boolean }> {
    return this.recent.filter((r) => r.at > now - this.policy.recentWindowMs);
  }

  private count(at: number, cls: AttemptClass): void {
    const minute = Math.floor(at / MINUTE);
    const i = minute % DAY_MINUTES;
    if (this.minuteStamp[i] !== minute) {
      this.minuteStamp[i] = minute;
      this.minuteOk[i] = 0;
      this.minuteFail[i] = 0;
      this.minuteAll[i] = 0;
    }
    this.minuteAll[i]!++;
    if (cls === 'success') this.minuteOk[i]!++;
    else if (cls === 'failure') this.minuteFail[i]!++;
  }

  /** Success share over the last `minutes` minutes (the current one included); null if none. */
  uptime(now: number, minutes: number): number | null {
    const { ok, fail } = this.sum(now, minutes);
    return ok + fail === 0 ? null : ok / (ok + fail);
  }

  private sum(now: number, minutes: number): { ok: number; fail: number; all: number } {
    const current = Math.floor(now / MINUTE);
    let ok = 0;
    let fail = 0;
    let all = 0;
    for (let m = current - minutes + 1; m <= current; m++) {
      const i = ((m % DAY_MINUTES) + DAY_MINUTES) % DAY_MINUTES;
      if (this.minuteStamp[i] !== m) continue;
      ok += this.minuteOk[i]!;
      fail += this.minuteFail[i]!;
      all += this.minuteAll[i]!;
    }
    return { ok, fail, all };
  }

  snapshot(now: number): EndpointHealth {
    const recent = this.recentWindow(now);
    const windowed = this.samples.filter((s) => s.at > now - PERCENTILE_WINDOW_MS);
    const circuit = this.circuit(now);
    return {
      ...unknownHealth(),
      circuit,
      errorRate:
        recent.length === 0 ? 0 : round(recent.filter((r) => r.failed).length / recent.length, 4),
      latencyMsEwma: roundOrNull(this.latencyEwma),
      ttftMsEwma: roundOrNull(this.ttftEwma),
      tokensPerSecondEwma: roundOrNull(this.tpsEwma),
      latencyMsP50: roundOrNull(percentiles(windowed.map((s) => s.latencyMs))?.p50 ?? null),
      ttftMs: percentiles(windowed.flatMap((s) => (s.ttftMs === null ? [] : [s.ttftMs]))),
      tokensPerSecond: percentiles(windowed.flatMap((s) => (s.tps === null ? [] : [s.tps]))),
      uptime: {
        last5m: this.uptimeRounded(now, 5),
        last30m: this.uptimeRounded(now, 30),
        last1d: this.uptimeRounded(now, DAY_MINUTES),
      },
      attempts30m: this.sum(now, 30).all,
      consecutiveFailures: this.consecutive,
      circuitOpenUntil: circuit === 'closed' ? null : this.openUntil,
      retryAfterUntil:
        this.retryAfterUntil !== null && this.retryAfterUntil > now ? this.retryAfterUntil : null,
      lastAttemptAt: this.lastAttemptAt,
    };
  }

  private uptimeRounded(now: number, minutes: number): number | null {
    const u = this.uptime(now, minutes);
    return u === null ? null : round(u, 4);
  }
}

/**
 * Output tokens per second after the first token. Only streamed attempts tell: a non-streamed
 * one arrives whole (its first output is its end), and dividing by its latency would mix the
 * time to first token into the speed.
 */
export function throughput(
  a: Pick<LlmAttemptV1, 'latencyMs' | 'ttftMs' | 'tokens'>,
): number | null {
  const n = a.tokens.completion;
  if (n < 2 || a.ttftMs === null) return null;
  const generating = a.latencyMs - a.ttftMs;
  return generating >= 5 ? round((n - 1) / (generating / 1000), 2) : null;
}

/** Nearest-rank percentiles; null for no values. */
export function percentiles(values: readonly number[]): Percentiles | null {
  if (values.length === 0) return null;
  const sorted = [...values].sort((x, y) => x - y);
  const at = (p: number) =>
    round(
      sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!,
      2,
    );
  return { p50: at(50), p75: at(75), p90: at(90), p99: at(99) };
}

const round = (v: number, digits: number): number => {
  const f = 10 ** digits;
  return Math.round(v * f) / f;
};
const roundOrNull = (v: number | null): number | null => (v === null ? null : round(v, 2));

/** The health of every endpoint, keyed by endpoint id. */
export class HealthBook {
  private readonly trackers = new Map<string, EndpointHealthTracker>();

  constructor(private readonly policy: HealthPolicy = DEFAULT_HEALTH_POLICY) {}

  observe(a: LlmAttemptV1, now: number): HealthChange {
    let t = this.trackers.get(a.endpointId);
    if (!t) {
      t = new EndpointHealthTracker(this.policy);
      this.trackers.set(a.endpointId, t);
    }
    return t.observe(a, now);
  }

  health(endpointId: string, now: number): EndpointHealth {
    return this.trackers.get(endpointId)?.snapshot(now) ?? unknownHealth();
  }

  /** Moves every circuit up to `now`; returns the endpoints whose circuit changed. */
  tick(now: number): string[] {
    const changed: string[] = [];
    for (const [id, t] of this.trackers) if (t.tick(now)) changed.push(id);
    return changed;
  }

  /** The earliest time a circuit changes by itself, if any. */
  nextTransitionAt(now: number): number | null {
    let next: number | null = null;
    for (const t of this.trackers.values()) {
      const at = t.nextTransitionAt(now);
      if (at !== null && (next === null || at < next)) next = at;
    }
    return next;
  }

  forget(endpointId: string): void {
    this.trackers.delete(endpointId);
  }
}
