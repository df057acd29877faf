/**
 * The generation attempts a connector has seen (started, or cancelled before they came), to drop
 * redeliveries of their requests: each id is kept for `ttlMs`, and at most `max` ids are kept
 * (the oldest go first), so a flood of requests or cancels cannot grow it without bound.
 *
 * A Map keeps insertion order and every id lives equally long, so its oldest entries are also
 * the first to expire: pruning stops at the first live one.
 */
export class RecentIds {
  private readonly expiries = new Map<string, number>();
  /** Ids dropped before their time because the set was full. */
  evicted = 0;

  constructor(
    private readonly ttlMs: number,
    private readonly max: number,
    private readonly onEvict: (n: number) => void = () => undefined,
  ) {
    if (max < 1) throw new Error('RecentIds: max must be at least 1');
  }

  get size(): number {
    return this.expiries.size;
  }

  has(id: string, now = Date.now()): boolean {
    const exp = this.expiries.get(id);
    return exp !== undefined && exp >= now;
  }

  /** Remembers `id` for `ttlMs` from `now` (again, if it was known: it becomes the newest). */
  add(id: string, now = Date.now()): void {
    this.expiries.delete(id);
    this.expiries.set(id, now + this.ttlMs);
    if (this.expiries.size > this.max) {
      let over = this.expiries.size - this.max;
      const n = over;
      for (const k of this.expiries.keys()) {
        this.expiries.delete(k);
        if (--over === 0) break;
      }
      this.evicted += n;
      this.onEvict(n);
    }
  }

  /** Forgets the ids that expired by `now`. */
  prune(now = Date.now()): void {
    for (const [k, exp] of this.expiries) {
      if (exp >= now) break;
      this.expiries.delete(k);
    }
  }
}
