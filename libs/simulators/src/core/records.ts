/** The log of chat-completion requests a simulator received, with change notifications. */
import type { SimRequestRecord } from './types.js';

interface Waiter {
  predicate: (r: SimRequestRecord) => boolean;
  resolve: (r: SimRequestRecord) => void;
  reject: (e: Error) => void;
  timer: NodeJS.Timeout;
}

const snapshot = (r: SimRequestRecord): SimRequestRecord => ({
  ...r,
  headers: { ...r.headers },
  knobs: { ...r.knobs },
  tokenTimes: [...r.tokenTimes],
});

/** How many records a simulator keeps by default (the oldest go first). */
export const DEFAULT_MAX_RECORDS = 10_000;

export class RecordStore {
  private records: SimRequestRecord[] = [];
  private readonly waiters = new Set<Waiter>();

  /**
   * @param maxRecords the most records kept: a long-running simulator (the `npm run up` demo, a
   *   bench) would otherwise keep every request body it ever received. Past it the oldest record
   *   that has ended is dropped (the oldest of all when every one is still running).
   */
  constructor(private readonly maxRecords = DEFAULT_MAX_RECORDS) {
    if (!Number.isInteger(maxRecords) || maxRecords < 1)
      throw new RangeError(`maxRecords must be a positive integer, got ${maxRecords}`);
  }

  add(record: SimRequestRecord): SimRequestRecord {
    this.records.push(record);
    if (this.records.length > this.maxRecords) {
      const ended = this.records.findIndex((r) => r.outcome !== 'in_progress');
      this.records.splice(ended === -1 ? 0 : ended, 1);
    }
    this.changed(record);
    return record;
  }

  get size(): number {
    return this.records.length;
  }

  /** Applies `patch` to a live record and wakes the waiters it satisfies. */
  update(record: SimRequestRecord, patch: Partial<SimRequestRecord>): void {
    Object.assign(record, patch);
    this.changed(record);
  }

  list(): SimRequestRecord[] {
    return this.records.map(snapshot);
  }

  clear(): void {
    this.records = [];
  }

  /** The first record, present or future, that satisfies `predicate`. */
  waitFor(
    predicate: (r: SimRequestRecord) => boolean,
    timeoutMs: number,
  ): Promise<SimRequestRecord> {
    const found = this.records.find(predicate);
    if (found) return Promise.resolve(snapshot(found));
    return new Promise((resolve, reject) => {
      const waiter: Waiter = {
        predicate,
        resolve,
        reject,
        timer: setTimeout(() => {
          this.waiters.delete(waiter);
          reject(new Error(`simulator: no matching request within ${timeoutMs}ms`));
        }, timeoutMs),
      };
      this.waiters.add(waiter);
    });
  }

  /** Rejects pending waiters (simulator closing). */
  abandonWaiters(): void {
    for (const w of this.waiters) {
      clearTimeout(w.timer);
      w.reject(new Error('simulator closed'));
    }
    this.waiters.clear();
  }

  private changed(record: SimRequestRecord): void {
    if (this.waiters.size === 0) return;
    for (const w of this.waiters) {
      if (!w.predicate(record)) continue;
      clearTimeout(w.timer);
      this.waiters.delete(w);
      w.resolve(snapshot(record));
    }
  }
}
