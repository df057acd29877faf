/**
 * Key pools: several active accounts of one provider share its traffic (smooth weighted
 * round-robin, as nginx balances upstreams: over any window each account gets its weight's share,
 * interleaved rather than in bursts), and each account's own trouble is tracked on its own, in
 * this connector's memory:
 *
 * - a 429 cools the account down (its Retry-After, or the default): the pool skips it meanwhile;
 * - refused credentials (401/403, 402: the account's, not the endpoint's fault) count towards the
 *   account's circuit: open after `failuresToOpen` in a row, for a cool-down that doubles on each
 *   failed probe (half-open: one request at a time tries the account again);
 * - other failures (5xx, connection errors, timeouts) are the endpoint's, tracked by the router's
 *   health from the attempt records: they leave the account's state alone.
 *
 * Pure and clock-free: every method takes the time.
 */

export interface PoolPolicy {
  /** Cool-down of an account that got a 429 without Retry-After. */
  defaultCooldownMs: number;
  /** Longest Retry-After honoured. */
  maxRetryAfterMs: number;
  /** Refused credentials in a row that open the account's circuit. */
  failuresToOpen: number;
  circuitCooldownMs: number;
  maxCircuitCooldownMs: number;
}

export const DEFAULT_POOL_POLICY: PoolPolicy = {
  defaultCooldownMs: 5_000,
  maxRetryAfterMs: 300_000,
  failuresToOpen: 2,
  circuitCooldownMs: 10_000,
  maxCircuitCooldownMs: 300_000,
};

/** How an attempt with an account ended, for the account's own state. */
export type AccountOutcome =
  | { kind: 'success' }
  /** 429: the account is throttled. */
  | { kind: 'rate_limited'; retryAfterSec: number | null; errorCode: string | null }
  /** The upstream refused the account's credentials or billing (401/403/402). */
  | { kind: 'refused'; errorCode: string | null }
  /** Any other failure: the endpoint's business, counted but not held against the account. */
  | { kind: 'other'; errorCode: string | null }
  | { kind: 'cancelled' };

export type CircuitState = 'closed' | 'open' | 'half_open';

/** One account's usage and trouble, as this connector saw them. */
export class AccountState {
  inFlight = 0;
  requests = 0;
  successes = 0;
  failures = 0;
  rateLimited = 0;
  consecutiveRefusals = 0;
  coolingUntil: number | null = null;
  lastUsedAt: number | null = null;
  lastErrorCode: string | null = null;
  private state: CircuitState = 'closed';
  private openUntil: number | null = null;
  private cooldown: number;
  private probing = false;

  constructor(private readonly policy: PoolPolicy = DEFAULT_POOL_POLICY) {
    this.cooldown = policy.circuitCooldownMs;
  }

  circuit(now: number): CircuitState {
    if (this.state === 'open' && this.openUntil !== null && now >= this.openUntil)
      return 'half_open';
    return this.state;
  }

  get circuitOpenUntil(): number | null {
    return this.state === 'closed' ? null : this.openUntil;
  }

  cooling(now: number): boolean {
    return this.coolingUntil !== null && now < this.coolingUntil;
  }

  /** Can take a request now: not cooling, circuit closed (or half-open with no probe out). */
  ready(now: number): boolean {
    if (this.cooling(now)) return false;
    const c = this.circuit(now);
    return c === 'closed' || (c === 'half_open' && !this.probing);
  }

  /** When it may take a request again by itself (now when ready). */
  availableAt(now: number): number {
    let at = now;
    if (this.cooling(now)) at = Math.max(at, this.coolingUntil!);
    if (this.circuit(now) === 'open') at = Math.max(at, this.openUntil!);
    return at;
  }

  /** The account is about to be used (a half-open circuit lets this one request probe). */
  begin(now: number): void {
    if (this.circuit(now) === 'half_open') {
      this.state = 'half_open';
      this.probing = true;
    }
    this.inFlight++;
    this.requests++;
    this.lastUsedAt = now;
  }

  end(outcome: AccountOutcome, now: number): void {
    this.inFlight = Math.max(0, this.inFlight - 1);
    const probe = this.probing;
    this.probing = false;
    switch (outcome.kind) {
      case 'success':
        this.successes++;
        this.consecutiveRefusals = 0;
        this.state = 'closed';
        this.openUntil = null;
        this.cooldown = this.policy.circuitCooldownMs;
        return;
      case 'rate_limited': {
        this.rateLimited++;
        this.lastErrorCode = outcome.errorCode;
        const wait =
          outcome.retryAfterSec !== null && outcome.retryAfterSec > 0
            ? Math.min(outcome.retryAfterSec * 1000, this.policy.maxRetryAfterMs)
            : this.policy.defaultCooldownMs;
        this.coolingUntil = Math.max(this.coolingUntil ?? 0, Math.round(now + wait));
        return;
      }
      case 'refused':
        this.failures++;
        this.lastErrorCode = outcome.errorCode;
        this.consecutiveRefusals++;
        if (probe || this.circuit(now) === 'half_open') {
          this.cooldown = Math.min(this.cooldown * 2, this.policy.maxCircuitCooldownMs);
          this.open(now);
        } else if (
          this.state === 'closed' &&
          this.consecutiveRefusals >= this.policy.failuresToOpen
        ) {
          this.open(now);
        }
        return;
      case 'other':
        this.failures++;
        this.lastErrorCode = outcome.errorCode;
        return;
      case 'cancelled':
        return;
    }
  }

  private open(now: number): void {
    this.state = 'open';
    this.openUntil = now + this.cooldown;
  }
}

export interface PoolMember {
  id: string;
  weight: number;
  state: AccountState;
}

export type PoolPick =
  | { ok: true; member: PoolMember; lastResort: boolean }
  /** No account to try (none, or every one already tried). */
  | { ok: false; reason: 'empty' };

/** The smooth weighted round-robin state of one provider's accounts. */
export class KeyPool {
  private readonly currentWeight = new Map<string, number>();

  /**
   * The account the next request goes to, among `members` not in `exclude`: the ready ones by
   * smooth weighted round-robin; if none is ready, as a last resort, the one that would be ready
   * first (its cool-down or circuit ending soonest).
   */
  pick(
    members: readonly PoolMember[],
    now: number,
    exclude: ReadonlySet<string> = new Set(),
  ): PoolPick {
    const candidates = members.filter((m) => !exclude.has(m.id));
    for (const id of this.currentWeight.keys())
      if (!members.some((m) => m.id === id)) this.currentWeight.delete(id);
    if (candidates.length === 0) return { ok: false, reason: 'empty' };
    const ready = candidates.filter((m) => m.state.ready(now));
    if (ready.length > 0) return { ok: true, member: this.next(ready), lastResort: false };
    // None is ready (cooling after a 429, or its circuit open): still try the one that would be
    // ready first. A 429's Retry-After already makes the router and the gateway avoid the
    // endpoint; when they still send the request here, it is their last resort, and refusing it
    // without asking the upstream would turn one throttled answer into an outage of the provider.
    const soonest = [...candidates].sort(
      (a, b) => a.state.availableAt(now) - b.state.availableAt(now) || a.id.localeCompare(b.id),
    )[0]!;
    return { ok: true, member: soonest, lastResort: true };
  }

  private next(ready: readonly PoolMember[]): PoolMember {
    let total = 0;
    let best: PoolMember | null = null;
    let bestWeight = -Infinity;
    for (const m of ready) {
      const w = (this.currentWeight.get(m.id) ?? 0) + m.weight;
      this.currentWeight.set(m.id, w);
      total += m.weight;
      if (w > bestWeight || (w === bestWeight && best !== null && m.id < best.id)) {
        best = m;
        bestWeight = w;
      }
    }
    this.currentWeight.set(best!.id, bestWeight - total);
    return best!;
  }
}
