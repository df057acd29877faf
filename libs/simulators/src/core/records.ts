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

export class RecordStore {
  private records: SimRequestRecord[] = [];
  private readonly waiters = new Set<Waiter>();

  add(record: SimRequestRecord): SimRequestRecord {
    this.records.push(record);
    this.changed(record);
    return record;
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
