import { performance } from 'node:perf_hooks';
import { TOPICS } from '@turnpike/contracts';
import type { Log } from '@turnpike/kafka';
import {
  attemptRef,
  usageRef,
  type IngestResult,
  type RollupStore,
  type SourcedAttempt,
  type SourcedUsage,
} from '@turnpike/rollups';
import { dbErrorText, isDeterministicDbError, sqlState } from '@turnpike/service-kit';

/** The record as it was read, kept if it has to be parked. */
export interface Received {
  key: Buffer | null;
  value: Buffer;
}
export type ReceivedUsage = SourcedUsage & Received;
export type ReceivedAttempt = SourcedAttempt & Received;

interface Job {
  usage: ReceivedUsage[];
  attempts: ReceivedAttempt[];
  heartbeat: () => Promise<void>;
  resolve: () => void;
  reject: (e: unknown) => void;
}

type Item =
  | { topic: typeof TOPICS.usageEvents; r: ReceivedUsage }
  | { topic: typeof TOPICS.llmAttempts; r: ReceivedAttempt };

/**
 * The rollups' one writer (per process). Counts every batch waiting in ONE database transaction
 * (group commit), and only then resolves the batches (their offsets may move). When the database
 * refuses the group deterministically (the records' own fault: `isDeterministicDbError`), it
 * counts the group's records one at a time, each in its own transaction, and PARKS each record
 * refused on its own (`parked_records`, once per topic, partition and offset), so one record the
 * database cannot store never stops analytics for everyone. A transient failure fails the whole
 * group: it is redelivered and counted again, nothing twice (the processed rows).
 */
export class RollupWriter {
  readonly stats = {
    transactions: 0,
    batches: 0,
    records: 0,
    counted: 0,
    duplicates: 0,
    invalid: 0,
    /** Groups refused as a whole and counted record by record; records parked. */
    isolated: 0,
    parked: 0,
  };
  private queue: Job[] = [];
  private writing = false;

  constructor(
    private readonly store: RollupStore,
    private readonly log: Log,
  ) {}

  /**
   * Counts a batch's records with whatever else is waiting. Resolves once they are counted (or
   * parked): then the batch's offsets may move. Rejects when the batch must be redelivered.
   */
  submit(
    usage: ReceivedUsage[],
    attempts: ReceivedAttempt[],
    heartbeat: () => Promise<void> = async () => undefined,
  ): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      this.queue.push({ usage, attempts, heartbeat, resolve, reject });
      void this.drain();
    });
  }

  private async drain(): Promise<void> {
    if (this.writing) return;
    this.writing = true;
    try {
      while (this.queue.length > 0) await this.write(this.queue.splice(0));
    } finally {
      this.writing = false;
    }
  }

  private async write(jobs: Job[]): Promise<void> {
    const usage = jobs.flatMap((j) => j.usage);
    const attempts = jobs.flatMap((j) => j.attempts);
    const n = usage.length + attempts.length;
    try {
      const t0 = performance.now();
      let r: IngestResult;
      try {
        r = await this.store.ingest(usage, attempts);
        this.stats.transactions++;
      } catch (e) {
        if (!isDeterministicDbError(e)) throw e;
        this.log.warn(
          `the database refused ${n} record(s) of ${jobs.length} batch(es) as one transaction (${sqlState(e)}: ${dbErrorText(e)}): counting them one at a time`,
        );
        r = await this.isolate(jobs);
      }
      this.stats.counted += r.usage + r.attempts;
      this.stats.duplicates += r.usageDuplicates + r.attemptDuplicates;
      if (r.usageDuplicates + r.attemptDuplicates > 0)
        this.log.log(
          `${r.usageDuplicates + r.attemptDuplicates} record(s) already counted, skipped`,
        );
      this.log.debug?.(
        `counted ${n} record(s) of ${jobs.length} batch(es) into ${r.rows} bucket row(s) in ${(performance.now() - t0).toFixed(1)} ms`,
      );
      for (const j of jobs) j.resolve();
    } catch (e) {
      this.log.error(
        `counting ${jobs.length} batch(es) failed (they will be redelivered): ${dbErrorText(e)}`,
      );
      for (const j of jobs) j.reject(e);
    }
  }

  /**
   * The group's records one at a time, in the order they were read, each in its own transaction;
   * a record refused on its own is parked. Throws on a transient failure: what was counted or
   * parked so far stays (both are idempotent), and the group is redelivered.
   */
  private async isolate(jobs: Job[]): Promise<IngestResult> {
    this.stats.isolated++;
    const t0 = performance.now();
    const sum: IngestResult = {
      usage: 0,
      usageDuplicates: 0,
      attempts: 0,
      attemptDuplicates: 0,
      rows: 0,
    };
    const items: Item[] = jobs.flatMap((j) => [
      ...j.usage.map((r): Item => ({ topic: TOPICS.usageEvents, r })),
      ...j.attempts.map((r): Item => ({ topic: TOPICS.llmAttempts, r })),
    ]);
    let parked = 0;
    for (const it of items) {
      try {
        const r =
          it.topic === TOPICS.usageEvents
            ? await this.store.ingest([it.r], [])
            : await this.store.ingest([], [it.r]);
        this.stats.transactions++;
        sum.usage += r.usage;
        sum.usageDuplicates += r.usageDuplicates;
        sum.attempts += r.attempts;
        sum.attemptDuplicates += r.attemptDuplicates;
        sum.rows += r.rows;
      } catch (e) {
        if (!isDeterministicDbError(e)) throw e;
        await this.park(it, e);
        parked++;
      }
      // A long isolation must not cost the consumers their place in the group.
      await Promise.all(jobs.map((j) => j.heartbeat().catch(() => undefined)));
    }
    this.log.warn(
      `counted ${items.length - parked} and parked ${parked} of ${items.length} record(s) one at a time in ${(performance.now() - t0).toFixed(0)} ms`,
    );
    return sum;
  }

  private async park(it: Item, e: unknown): Promise<void> {
    const ref =
      it.topic === TOPICS.usageEvents
        ? usageRef(it.r.event.generationId)
        : attemptRef(it.r.record.generationId, it.r.record.attempt);
    const where = `${it.topic}/${it.r.partition}@${it.r.offset}`;
    const sqlstate = sqlState(e);
    const error = dbErrorText(e);
    const { id, created } = await this.store.park({
      topic: it.topic,
      partition: it.r.partition,
      offset: it.r.offset,
      key: it.r.key?.toString('utf8') ?? null,
      ref,
      record: it.r.value.toString('utf8'),
      sqlstate,
      error,
    });
    if (!created) {
      this.log.warn(`${where} (${ref}) is refused again: it is parked record ${id}`);
      return;
    }
    this.stats.parked++;
    this.log.error(
      `PARKED ${where} (${ref}) as parked record ${id}: the database refuses it (${sqlstate}: ${error}). ` +
        `The rest of its batch is counted; it is kept in ${this.store.schema}.parked_records.`,
    );
  }
}
