import {
  Inject,
  Injectable,
  Logger,
  type OnApplicationBootstrap,
  type OnApplicationShutdown,
} from '@nestjs/common';
import { TOPICS } from '@turnpike/contracts';
import {
  decode,
  startConsumer,
  type BatchPayload,
  type ConsumerHandle,
  type KafkaClient,
} from '@turnpike/kafka';
import { KAFKA_CLIENT, KafkaMetrics, metrics, Readiness } from '@turnpike/service-kit';
import { BillingConfig } from '../billing.config.js';
import { BalancePublisher } from './balance-publisher.service.js';
import { LedgerLagClock } from './ledger-lag.js';
import { LedgerStore } from './ledger.store.js';
import { LedgerWriter, type ReceivedCredit, type ReceivedUsage } from './ledger-writer.js';

/**
 * Feeds the ledger from `usage.events.v1` and `billing.credits.v1`.
 *
 * Several consumers of one group share the partitions, so batches of different partitions are
 * handled at the same time; one writer ({@link LedgerWriter}) books whatever batches are waiting
 * in ONE database transaction (group commit), then publishes the balances they moved, then lets
 * each batch commit its offsets. So offsets move only after the database commit and the balance
 * publish: a crash at any point replays the batches, which book nothing twice (generation id,
 * credit idempotency key) and republish the balances. One writer also keeps each tenant's
 * balance records in commit order. A record the ledger refuses deterministically is parked by
 * the writer, and the rest of its batch is booked.
 */
@Injectable()
export class LedgerConsumer implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly log = new Logger('ledger');
  private consumers: ConsumerHandle[] = [];
  private ready = false;
  readonly writer: LedgerWriter;
  private readonly clock = new LedgerLagClock();

  constructor(
    @Inject(KAFKA_CLIENT) private readonly kafka: KafkaClient,
    store: LedgerStore,
    publisher: BalancePublisher,
    private readonly config: BillingConfig,
    readiness: Readiness,
    kafkaMetrics: KafkaMetrics,
  ) {
    this.writer = new LedgerWriter(store, (r) => publisher.publish(r), this.log);
    readiness.register('ledger', () => this.ready || 'joining');
    // How far the ledger is behind the usage events (both read from the same lag read).
    const lagging = async (): Promise<Array<{ partition: number; lag: number }>> =>
      (await kafkaMetrics.lag()).filter(
        (l) => l.group === this.config.groupId && l.topic === TOPICS.usageEvents && l.lag > 0,
      );
    metrics.gauge(
      'turnpike_billing_ledger_lag_messages',
      'Usage events produced and not yet booked by the ledger (its consumer group is behind usage.events.v1 by this many).',
      [],
      async (g) => g.set((await lagging()).reduce((n, l) => n + l.lag, 0)),
    );
    metrics.gauge(
      'turnpike_billing_ledger_lag_seconds',
      'Seconds since the oldest usage event not yet booked by the ledger (0 when none; an upper bound while its batch is not fetched yet).',
      [],
      async (g) => {
        const s = this.clock.secondsBehind(
          (await lagging()).map((l) => l.partition),
          Date.now(),
        );
        if (s === null) g.reset();
        else g.set(s);
      },
    );
  }

  get stats(): LedgerWriter['stats'] {
    return this.writer.stats;
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
  }: BatchPayload): Promise<void> {
    const last = batch.messages[batch.messages.length - 1];
    if (!last) return;
    const usage: ReceivedUsage[] = [];
    const credits: ReceivedCredit[] = [];
    for (const m of batch.messages) {
      const at = {
        partition: batch.partition,
        offset: m.offset,
        key: m.key,
        value: m.value ?? Buffer.alloc(0),
      };
      if (batch.topic === TOPICS.usageEvents) {
        const d = decode(TOPICS.usageEvents, m.value);
        if (d.ok) usage.push({ event: d.value, ...at });
        else this.invalid(batch.topic, batch.partition, m.offset, d.error);
      } else {
        const d = decode(TOPICS.billingCredits, m.value);
        if (d.ok) credits.push({ event: d.value, ...at });
        else this.invalid(batch.topic, batch.partition, m.offset, d.error);
      }
    }
    const usageEvents = batch.topic === TOPICS.usageEvents;
    if (usageEvents) this.clock.taking(batch.partition, Number(batch.messages[0]!.timestamp));
    try {
      await this.writer.submit(usage, credits, heartbeat);
    } catch (e) {
      if (usageEvents) this.clock.dropped(batch.partition);
      throw e;
    }
    // Only now, with the batch in the ledger (or parked) and its balances published, may the
    // offsets move.
    resolveOffset(last.offset);
    await commitOffsetsIfNecessary();
    if (usageEvents) this.clock.booked(batch.partition, Number(last.timestamp));
    await heartbeat();
    this.stats.batches++;
    this.stats.events += batch.messages.length;
  }

  private invalid(topic: string, partition: number, offset: string, error: string): void {
    this.stats.invalid++;
    this.log.warn(`skipping invalid record at ${topic}/${partition}@${offset}: ${error}`);
  }
}
