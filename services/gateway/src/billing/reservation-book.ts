/**
 * In-flight reservations of one gateway replica, per tenant and per key.
 *
 * A request is admitted with a hold of its worst-case charge. When its generation ends, the
 * hold shrinks to the actual charge (or goes, when nothing was charged) and stays until billing
 * publishes the balance update that includes that generation: from then on the balance itself
 * counts the charge. So between the end of a generation and its charge landing, the charge is
 * counted once, here, and never twice or not at all. A charge whose balance update never comes
 * (billing down for long, an event lost) is released after `landingTimeoutMs`.
 */

/** The admission rule; see {@link ReservationBook.admits}. */
export function admits(
  availableMicros: number,
  heldMicros: number,
  worstMicros: number,
  replicas: number,
): boolean {
  if (worstMicros <= 0) return true;
  const share = Math.floor(availableMicros / Math.max(1, replicas));
  return heldMicros + worstMicros <= share || (heldMicros === 0 && worstMicros <= availableMicros);
}

export class Hold {
  /** Set when the generation ended with a charge that has not landed yet. */
  generationId: string | null = null;
  settledAt = 0;
  done = false;

  constructor(
    readonly tenantId: string,
    readonly keyId: string,
    public amount: number,
  ) {}
}

export class ReservationBook {
  private readonly tenantHeld = new Map<string, number>();
  private readonly keyHeld = new Map<string, number>();
  private readonly awaitingLanding = new Map<string, Hold>();
  readonly stats = { holds: 0, released: 0, landed: 0, expired: 0 };

  constructor(private readonly landingTimeoutMs: number) {}

  held(tenantId: string): number {
    return this.tenantHeld.get(tenantId) ?? 0;
  }

  heldByKey(keyId: string): number {
    return this.keyHeld.get(keyId) ?? 0;
  }

  /** Holds waiting for their charge to land. */
  get pendingLandings(): number {
    return this.awaitingLanding.size;
  }

  hold(tenantId: string, keyId: string, amount: number): Hold {
    const h = new Hold(tenantId, keyId, amount);
    this.add(h, amount);
    this.stats.holds++;
    return h;
  }

  /**
   * The generation ended: keep its actual charge until the balance that includes it arrives,
   * or release at once when it was free. (The usage event is published after this call, so its
   * landing cannot come first.)
   */
  settle(h: Hold, generationId: string, chargedMicros: number, now = Date.now()): void {
    if (h.done || h.generationId !== null) return;
    if (chargedMicros <= 0) {
      this.release(h);
      return;
    }
    this.add(h, chargedMicros - h.amount);
    h.amount = chargedMicros;
    h.generationId = generationId;
    h.settledAt = now;
    this.awaitingLanding.set(generationId, h);
  }

  /** Releases a hold whatever its state (e.g. the request never reached an upstream). */
  release(h: Hold): void {
    if (h.done) return;
    h.done = true;
    this.add(h, -h.amount);
    if (h.generationId !== null) this.awaitingLanding.delete(h.generationId);
    this.stats.released++;
  }

  /** Billing published a balance that includes these generations: their charges have landed. */
  landed(generationIds: readonly string[]): void {
    for (const id of generationIds) {
      const h = this.awaitingLanding.get(id);
      if (h) {
        this.release(h);
        this.stats.landed++;
      }
    }
  }

  /** Releases charges that have waited too long for their landing. */
  expire(now = Date.now()): number {
    let n = 0;
    for (const h of this.awaitingLanding.values()) {
      if (now - h.settledAt >= this.landingTimeoutMs) {
        this.release(h);
        this.stats.expired++;
        n++;
      }
    }
    return n;
  }

  private add(h: Hold, delta: number): void {
    bump(this.tenantHeld, h.tenantId, delta);
    bump(this.keyHeld, h.keyId, delta);
  }
}

function bump(m: Map<string, number>, k: string, delta: number): void {
  const v = (m.get(k) ?? 0) + delta;
  if (v === 0) m.delete(k);
  else m.set(k, v);
}
