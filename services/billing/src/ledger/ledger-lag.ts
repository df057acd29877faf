/**
 * How far the ledger is behind `usage.events.v1`, for its metrics: per partition, the timestamp
 * of the oldest event of a batch being booked, and of the last event booked.
 */
export class LedgerLagClock {
  private readonly inHand = new Map<number, number>();
  private readonly lastBooked = new Map<number, number>();

  /** A batch of `partition` whose first event was produced at `firstTimestamp` is being booked. */
  taking(partition: number, firstTimestamp: number): void {
    this.inHand.set(partition, firstTimestamp);
  }

  /** That batch is booked; its last event was produced at `lastTimestamp`. */
  booked(partition: number, lastTimestamp: number): void {
    this.inHand.delete(partition);
    this.lastBooked.set(partition, Math.max(lastTimestamp, this.lastBooked.get(partition) ?? 0));
  }

  /** A batch that failed to book is no longer in hand (it will be fetched again). */
  dropped(partition: number): void {
    this.inHand.delete(partition);
  }

  /**
   * Seconds since the oldest event not booked yet, given which partitions have lag: a batch in
   * hand gives its first event's time; a partition whose next events were not fetched yet gives
   * its last booked event's time (an upper bound: the next event was produced after it). 0 with
   * no lag; null when a lagging partition has booked nothing yet here (unknown).
   */
  secondsBehind(lagging: ReadonlyArray<number>, now: number): number | null {
    let oldest = Infinity;
    for (const p of lagging) {
      const t = this.inHand.get(p) ?? this.lastBooked.get(p);
      if (t === undefined) return null;
      oldest = Math.min(oldest, t);
    }
    return oldest === Infinity ? 0 : Math.max(0, (now - oldest) / 1000);
  }
}
