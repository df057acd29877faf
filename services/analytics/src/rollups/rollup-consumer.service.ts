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
import { RollupStore } from '@turnpike/rollups';
import { KAFKA_CLIENT, Readiness } from '@turnpike/service-kit';
import { AnalyticsConfig } from '../analytics.config.js';
import { Compactor } from './compactor.service.js';
import { RollupWriter, type ReceivedAttempt, type ReceivedUsage } from './rollup-writer.js';

/**
 * Feeds the rollups from `usage.events.v1` and `llm.attempts.v1`.
 *
 * Several consumers of one group share the partitions; one writer ({@link RollupWriter}) counts
 * whatever batches are waiting in ONE database transaction, then lets each batch commit its
 * offsets: offsets move only after the database commit, so a crash replays the batches, which
 * count nothing twice (the processed rows). The compaction runs once before the consumers
 * start, so that a fresh schema (a replay) knows which minutes are already past their retention.
 */
@Injectable()
export class RollupConsumer implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly log = new Logger('rollups');
  private consumers: ConsumerHandle[] = [];
  private ready = false;
  readonly writer: RollupWriter;

  constructor(
    @Inject(KAFKA_CLIENT) private readonly kafka: KafkaClient,
    store: RollupStore,
    private readonly compactor: Compactor,
    private readonly config: AnalyticsConfig,
    readiness: Readiness,
  ) {
    this.writer = new RollupWriter(store, this.log);
    readiness.register('rollups', () => this.ready || 'joining');
  }

  get stats(): RollupWriter['stats'] {
    return this.writer.stats;
  }

  async onApplicationBootstrap(): Promise<void> {
    await this.compactor.compactNow();
    this.consumers = await Promise.all(
      Array.from({ length: this.config.consumers }, () =>
        startConsumer(this.kafka, this.log, {
          groupId: this.config.groupId,
          topics: [TOPICS.usageEvents, TOPICS.llmAttempts],
          fromBeginning: true,
          commit: 'manual',
          eachBatch: (p) => this.onBatch(p),
        }),
      ),
    );
    this.ready = true;
    this.log.log(
      `rollups in schema ${this.config.schema} (${this.config.mode}), group ${this.config.groupId} x${this.consumers.length}`,
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
    const attempts: ReceivedAttempt[] = [];
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
        const d = decode(TOPICS.llmAttempts, m.value);
        if (d.ok) attempts.push({ record: d.value, ...at });
        else this.invalid(batch.topic, batch.partition, m.offset, d.error);
      }
    }
    await this.writer.submit(usage, attempts, heartbeat);
    // Only now, with the batch counted (or parked), may the offsets move.
    resolveOffset(last.offset);
    await commitOffsetsIfNecessary();
    await heartbeat();
    this.stats.batches++;
    this.stats.records += batch.messages.length;
  }

  private invalid(topic: string, partition: number, offset: string, error: string): void {
    this.stats.invalid++;
    this.log.warn(`skipping invalid record at ${topic}/${partition}@${offset}: ${error}`);
  }
}
