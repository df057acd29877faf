import { performance } from 'node:perf_hooks';
import { TOPICS, type ParkedRetryResult } from '@turnpike/contracts';
import { decode, type Log } from '@turnpike/kafka';
import { dbErrorText, isDeterministicDbError, sqlState } from '@turnpike/service-kit';
import {
  creditRef,
  emptyIngestResult,
  NotParked,
  UnbookableRecord,
  usageRef,
  type IngestResult,
  type LedgerStore,
  type SourcedCredit,
  type SourcedUsage,
} from './ledger.store.js';

/** The record as it was read, kept if it has to be parked. */
export interface Received {
  key: Buffer | null;
  value: Buffer;
}
export type ReceivedUsage = SourcedUsage & Received;
export type ReceivedCredit = SourcedCredit & Received;

export type PublishBalances = (r: Pick<IngestResult, 'tenants' | 'keys'>) => Promise<void>;

const LEDGER_TOPICS = { usage: TOPICS.usageEvents, credits: TOPICS.billingCredits };

/**
 * Whether a booking failure is the records' own: the same records fail again however often
 * they are retried (a value the database refuses, see `isDeterministicDbError`, or the posting
 * rules). Anything else (the database unreachable, restarting, a deadlock) is retried whole.
 */
export function isDeterministic(e: unknown): boolean {
  return e instanceof UnbookableRecord || isDeterministicDbError(e);
}

/** A refused retry of a parked record: gone, still refused, or no longer valid. */
export class RetryRefused extends Error {
  constructor(
    readonly id: string,
    readonly reason: 'not_parked' | 'unbookable' | 'invalid',
    message: string,
  ) {
    super(message);
    this.name = 'RetryRefused';
  }
}

/** An error as operators read it: Postgres' message and detail, bounded. */
const errorText = dbErrorText;

type Item =
  | { topic: typeof TOPICS.usageEvents; r: ReceivedUsage }
  | { topic: typeof TOPICS.billingCredits; r: ReceivedCredit };

interface Job {
  usage: ReceivedUsage[];
  credits: ReceivedCredit[];
  heartbeat: () => Promise<void>;
  resolve: () => void;
  reject: (e: unknown) => void;
}

interface RetryJob {
  id: string;
  resolve: (r: ParkedRetryResult) => void;
  reject: (e: unknown) => void;
}

/** Sums of single-record results into the result of their group. */
class Merged {
  readonly result = emptyIngestResult();
  private readonly generations = new Map<string, Set<string>>();

  add(r: IngestResult): void {
    const m = this.result;
    m.inserted += r.inserted;
    m.duplicates += r.duplicates;
    m.credits += r.credits;
    m.creditDuplicates += r.creditDuplicates;
    for (const [t, gens] of r.tenants) {
      let g = this.generations.get(t);
      if (!g) this.generations.set(t, (g = new Set()));
      for (const x of gens) g.add(x);
      m.tenants.set(t, [...g]);
    }
    for (const [k, t] of r.keys) m.keys.set(k, t);
  }
}

/**
 * The ledger's one writer. Books every batch waiting in ONE database transaction (group
 * commit), publishes the balances they moved, and only then resolves the batches (their offsets
 * may move). When the group is refused deterministically (see {@link isDeterministic}), it
 * books the group's records one at a time, each in its own transaction, in the order they were
 * read, and PARKS each record refused on its own (`parked_records`, once per topic, partition
 * and offset), so one record the ledger cannot book never stops billing for everyone: the rest
 * is booked, its balances published, and the offsets move. A transient failure, of the group or
 * of any record on its own, fails the whole group: it is redelivered and booked again (nothing
 * twice: generation ids and credit idempotency keys). Retries of parked records go through the
 * same writer, one at a time between groups.
 */
export class LedgerWriter {
  readonly stats = {
    transactions: 0,
    batches: 0,
    events: 0,
    booked: 0,
    duplicates: 0,
    credits: 0,
    invalid: 0,
    /** Groups refused as a whole and booked record by record. */
    isolated: 0,
    /** Records parked (new rows of `parked_records`), and parked records booked by a retry. */
    parked: 0,
    unparked: 0,
  };
  private queue: Job[] = [];
  private retries: RetryJob[] = [];
  private writing = false;

  constructor(
    private readonly store: LedgerStore,
    private readonly publish: PublishBalances,
    private readonly log: Log,
  ) {}

  /**
   * Books a batch's records with whatever else is waiting. Resolves once they are in the ledger
   * (booked, or parked) and their balances published: then the batch's offsets may move.
   * Rejects when the batch must be redelivered. `heartbeat` keeps its consumer in its group
   * while a refused group is booked record by record.
   */
  submit(
    usage: ReceivedUsage[],
    credits: ReceivedCredit[],
    heartbeat: () => Promise<void> = async () => undefined,
  ): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      this.queue.push({ usage, credits, heartbeat, resolve, reject });
      void this.drain();
    });
  }

  /**
   * Books a parked record now, if the ledger takes it, and removes it from `parked_records` in
   * the same transaction. {@link RetryRefused} if it is not parked (any more), is still refused
   * (it stays parked, with the new reason) or no longer passes its contract; any other error is
   * transient (try again).
   */
  retry(id: string): Promise<ParkedRetryResult> {
    return new Promise<ParkedRetryResult>((resolve, reject) => {
      this.retries.push({ id, resolve, reject });
      void this.drain();
    });
  }

  private async drain(): Promise<void> {
    if (this.writing) return;
    this.writing = true;
    try {
      while (this.queue.length > 0 || this.retries.length > 0) {
        for (const r of this.retries.splice(0)) {
          try {
            r.resolve(await this.reapply(r.id));
          } catch (e) {
            if (!(e instanceof RetryRefused))
              this.log.warn(`retrying parked record ${r.id} failed: ${errorText(e)}`);
            r.reject(e);
          }
        }
        const jobs = this.queue.splice(0);
        if (jobs.length > 0) await this.book(jobs);
      }
    } finally {
      this.writing = false;
    }
  }

  private async book(jobs: Job[]): Promise<void> {
    const usage = jobs.flatMap((j) => j.usage);
    const credits = jobs.flatMap((j) => j.credits);
    const n = usage.length + credits.length;
    try {
      const t0 = performance.now();
      let r: IngestResult;
      try {
        r = await this.store.ingest(usage, credits, LEDGER_TOPICS);
        this.stats.transactions++;
      } catch (e) {
        if (!isDeterministic(e)) throw e;
        this.log.warn(
          `the ledger refused ${n} record(s) of ${jobs.length} batch(es) as one transaction (${sqlState(e) ?? 'posting rules'}: ${errorText(e)}): booking them one at a time`,
        );
        r = await this.isolate(jobs);
      }
      const t1 = performance.now();
      await this.publish(r);
      this.stats.booked += r.inserted;
      this.stats.duplicates += r.duplicates + r.creditDuplicates;
      this.stats.credits += r.credits;
      this.log.debug?.(
        `booked ${n} record(s) of ${jobs.length} batch(es) in ${(t1 - t0).toFixed(1)} ms, published in ${(performance.now() - t1).toFixed(1)} ms`,
      );
      if (r.duplicates + r.creditDuplicates > 0)
        this.log.log(`${r.duplicates + r.creditDuplicates} redelivered record(s) skipped`);
      for (const j of jobs) j.resolve();
    } catch (e) {
      this.log.error(
        `booking ${jobs.length} batch(es) failed (they will be redelivered): ${errorText(e)}`,
      );
      for (const j of jobs) j.reject(e);
    }
  }

  /**
   * The group's records one at a time, in the order they were read (each batch is one
   * partition's records in offset order, so each tenant's records keep their order), each in
   * its own transaction; a record refused on its own is parked. Throws on a transient failure:
   * what was booked or parked so far stays (both are idempotent), the group is redelivered.
   */
  private async isolate(jobs: Job[]): Promise<IngestResult> {
    this.stats.isolated++;
    const t0 = performance.now();
    const merged = new Merged();
    const items: Item[] = jobs.flatMap((j) => [
      ...j.usage.map((r): Item => ({ topic: TOPICS.usageEvents, r })),
      ...j.credits.map((r): Item => ({ topic: TOPICS.billingCredits, r })),
    ]);
    let parked = 0;
    for (const it of items) {
      try {
        merged.add(
          it.topic === TOPICS.usageEvents
            ? await this.store.ingest([it.r], [], LEDGER_TOPICS)
            : await this.store.ingest([], [it.r], LEDGER_TOPICS),
        );
        this.stats.transactions++;
      } catch (e) {
        if (!isDeterministic(e)) throw e;
        await this.park(it, e);
        parked++;
      }
      // A long isolation must not cost the consumers their place in the group.
      await Promise.all(jobs.map((j) => j.heartbeat().catch(() => undefined)));
    }
    this.log.warn(
      `booked ${items.length - parked} and parked ${parked} of ${items.length} record(s) one at a time in ${(performance.now() - t0).toFixed(0)} ms`,
    );
    return merged.result;
  }

  private async park(it: Item, e: unknown): Promise<void> {
    const ref =
      it.topic === TOPICS.usageEvents
        ? usageRef(it.r.event.generationId)
        : creditRef(it.r.event.tenantId, it.r.event.idempotencyKey);
    const tenantId = it.r.event.tenantId;
    const sqlstate = sqlState(e);
    const error = errorText(e);
    const where = `${it.topic}/${it.r.partition}@${it.r.offset}`;
    const { id, created } = await this.store.park({
      topic: it.topic,
      partition: it.r.partition,
      offset: it.r.offset,
      key: it.r.key?.toString('utf8') ?? null,
      tenantId,
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
      `PARKED ${where} (${ref}, tenant ${tenantId}) as parked record ${id}: the ledger refuses it ` +
        `(${sqlstate ?? 'posting rules'}: ${error}). The rest of its batch is booked. It is kept in ` +
        `parked_records (GET /admin/billing/parked); after a fix, POST /admin/billing/parked/${id}/retry books it.`,
    );
  }

  private async reapply(id: string): Promise<ParkedRetryResult> {
    const p = await this.store.parked(id);
    const gone = () =>
      new RetryRefused(id, 'not_parked', `No parked record ${id} (it may have been retried).`);
    if (!p) throw gone();
    const invalid = (why: string) =>
      new RetryRefused(id, 'invalid', `Parked record ${id} no longer passes its contract: ${why}`);
    const value = Buffer.from(p.record, 'utf8');
    const at = { partition: p.partition, offset: p.offset };
    let usage: SourcedUsage[] = [];
    let credits: SourcedCredit[] = [];
    if (p.topic === TOPICS.usageEvents) {
      const d = decode(TOPICS.usageEvents, value);
      if (!d.ok) throw invalid(d.error);
      usage = [{ event: d.value, ...at }];
    } else if (p.topic === TOPICS.billingCredits) {
      const d = decode(TOPICS.billingCredits, value);
      if (!d.ok) throw invalid(d.error);
      credits = [{ event: d.value, ...at }];
    } else throw invalid(`unknown topic ${p.topic}`);

    let r: IngestResult;
    try {
      r = await this.store.ingest(usage, credits, LEDGER_TOPICS, { unpark: id });
    } catch (e) {
      if (e instanceof NotParked) throw gone();
      if (!isDeterministic(e)) throw e;
      const sqlstate = sqlState(e);
      const error = errorText(e);
      await this.store.parkedRetryFailed(id, sqlstate, error);
      this.log.warn(`parked record ${id} (${p.ref}) is still refused: ${sqlstate}: ${error}`);
      throw new RetryRefused(
        id,
        'unbookable',
        `The ledger still refuses parked record ${id} (${sqlstate ?? 'posting rules'}: ${error}); it stays parked.`,
      );
    }
    this.stats.transactions++;
    this.stats.unparked++;
    this.stats.booked += r.inserted;
    this.stats.credits += r.credits;
    const outcome = r.inserted + r.credits > 0 ? 'booked' : 'duplicate';
    this.log.log(
      `parked record ${id} (${p.topic}/${p.partition}@${p.offset}, ${p.ref}) retried: ${outcome}, unparked`,
    );
    // Booked and unparked: a failed publication must not make the call look failed (a second
    // retry would find nothing). The tenant's next booking publishes its balance again.
    await this.publish(r).catch((e: unknown) =>
      this.log.warn(`balances after parked record ${id} not published: ${errorText(e)}`),
    );
    return { id, ref: p.ref, outcome };
  }
}
