import {
  Inject,
  Injectable,
  Logger,
  type OnApplicationBootstrap,
  type OnApplicationShutdown,
} from '@nestjs/common';
import type { EachBatchPayload } from 'kafkajs';
import { performance } from 'node:perf_hooks';
import { TOPICS } from '@turnpike/contracts';
import { decode, startConsumer, type ConsumerHandle, type KafkaClient } from '@turnpike/kafka';
import { KAFKA_CLIENT, Readiness } from '@turnpike/service-kit';
import { BillingConfig } from '../billing.config.js';
import { BalancePublisher } from './balance-publisher.service.js';
import { LedgerStore, type SourcedCredit, type SourcedUsage } from './ledger.store.js';

interface Job {
  usage: SourcedUsage[];
  credits: SourcedCredit[];
  resolve: () => void;
  reject: (e: unknown) => void;
}

/**
 * Feeds the ledger from `usage.events.v1` and `billing.credits.v1`.
 *
 * Several consumers of one group share the partitions, so batches of different partitions are
 * handled at the same time; one writer books whatever batches are waiting in ONE database
 * transaction (group commit), then publishes the balances they moved, then lets each batch
 * commit its offsets. So offsets move only after the database commit and the balance publish:
 * a crash at any point replays the batches, which book nothing twice (generation id, credit
 * idempotency key) and republish the balances. One writer also keeps each tenant's balance
 * records in commit order.
 */
@Injectable()
export class LedgerConsumer implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly log = new Logger('ledger');
  private consumers: ConsumerHandle[] = [];
  private ready = false;
  private queue: Job[] = [];
  private writing = false;
  readonly stats = {
    transactions: 0,
    batches: 0,
    events: 0,
    booked: 0,
    duplicates: 0,
    credits: 0,
    invalid: 0,
  };

  constructor(
    @Inject(KAFKA_CLIENT) private readonly kafka: KafkaClient,
    private readonly store: LedgerStore,
    private readonly publisher: BalancePublisher,
    private readonly config: BillingConfig,
    readiness: Readiness,
  ) {
    readiness.register('ledger', () => this.ready || 'joining');
  }

  async onApplicationBootstrap(): Promise<void> {
    // Started together: the group settles in one rebalance.
    this.consumers = await Promise.all(
      Array.from({ length: this.config.ledgerConsumers }, () =>
        startConsumer(this.kafka, this.log, {
          groupId: this.config.groupId,
          topics: [TOPICS.usageEvents, TOPICS.billingCredits],
          fromBeginning: true,
          commit: 'manual',
          maxWaitTimeInMs: 20,
          eachBatch: (p) => this.onBatch(p),
        }),
      ),
    );
    this.ready = true;
    this.log.log(
      `ledger in schema ${this.config.schema} (${this.config.mode}), group ${this.config.groupId} x${this.consumers.length}`,
    );
  }

  async onApplicationShutdown(): Promise<void> {
    this.ready = false;
    await Promise.all(this.consumers.map((c) => c.stop()));
    this.consumers = [];
  }

  private async onBatch({
    batch,
    resolveOffset,
    commitOffsetsIfNecessary,
    heartbeat,
  }: EachBatchPayload): Promise<void> {
    const last = batch.messages[batch.messages.length - 1];
    if (!last) return;
    const usage: SourcedUsage[] = [];
    const credits: SourcedCredit[] = [];
    for (const m of batch.messages) {
      if (batch.topic === TOPICS.usageEvents) {
        const d = decode(TOPICS.usageEvents, m.value);
        if (d.ok) usage.push({ event: d.value, partition: batch.partition, offset: m.offset });
        else this.invalid(batch.topic, batch.partition, m.offset, d.error);
      } else {
        const d = decode(TOPICS.billingCredits, m.value);
        if (d.ok) credits.push({ event: d.value, partition: batch.partition, offset: m.offset });
        else this.invalid(batch.topic, batch.partition, m.offset, d.error);
      }
    }
    await new Promise<void>((resolve, reject) => {
      this.queue.push({ usage, credits, resolve, reject });
      if (!this.writing) void this.write();
    });
    // Only now, with the batch in the ledger and its balances published, may the offsets move.
    resolveOffset(last.offset);
    await commitOffsetsIfNecessary();
    await heartbeat();
    this.stats.batches++;
    this.stats.events += batch.messages.length;
  }

  /** The one writer: books every waiting batch in one database transaction, then publishes. */
  private async write(): Promise<void> {
    this.writing = true;
    try {
      while (this.queue.length > 0) {
        const jobs = this.queue;
        this.queue = [];
        try {
          const t0 = performance.now();
          const r = await this.store.ingest(
            jobs.flatMap((j) => j.usage),
            jobs.flatMap((j) => j.credits),
            { usage: TOPICS.usageEvents, credits: TOPICS.billingCredits },
          );
          const t1 = performance.now();
          await this.publisher.publish(r);
          this.stats.transactions++;
          this.stats.booked += r.inserted;
          this.stats.duplicates += r.duplicates + r.creditDuplicates;
          this.stats.credits += r.credits;
          const events = jobs.reduce((n, j) => n + j.usage.length + j.credits.length, 0);
          this.log.debug(
            `booked ${events} record(s) of ${jobs.length} batch(es) in ${(t1 - t0).toFixed(1)} ms, published in ${(performance.now() - t1).toFixed(1)} ms`,
          );
          if (r.duplicates + r.creditDuplicates > 0)
            this.log.log(`${r.duplicates + r.creditDuplicates} redelivered record(s) skipped`);
          for (const j of jobs) j.resolve();
        } catch (e) {
          this.log.error(
            `booking ${jobs.length} batch(es) failed (they will be redelivered): ${(e as Error).message}`,
          );
          for (const j of jobs) j.reject(e);
        }
      }
    } finally {
      this.writing = false;
    }
  }

  private invalid(topic: string, partition: number, offset: string, error: string): void {
    this.stats.invalid++;
    this.log.warn(`skipping invalid record at ${topic}/${partition}@${offset}: ${error}`);
  }
}
