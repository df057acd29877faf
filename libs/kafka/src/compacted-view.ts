import { randomUUID } from 'node:crypto';
import { topicOffsets } from './admin.js';
import { withAdmin, type KafkaClient } from './client.js';
import { decode, type MessageOf, type TopicWithSchema } from './codec.js';
import { startConsumer, withTimeout, type BatchPayload, type ConsumerHandle } from './consumer.js';
import type { Log } from './logger.js';

export interface CompactedViewOptions<T extends TopicWithSchema> {
  topic: T;
  /** Names the private consumer group (a random suffix is added: every instance reads it all). */
  name: string;
  /** A key's new value, or null when it was deleted (tombstone). */
  apply: (key: string, value: MessageOf<T> | null) => void;
}

/**
 * Keeps a compacted topic in memory: reads it from the beginning in a private consumer group,
 * resolves `start()` once it has caught up with the end offsets read at start, and then keeps
 * applying updates. This is how the gateway holds routing tables, keys and balances with no
 * database or network call on the hot path.
 */
export class CompactedView<T extends TopicWithSchema> {
  private consumer: ConsumerHandle | null = null;
  private caughtUp = false;
  private waiting = new Map<number, bigint>();
  private onCaughtUp: (() => void) | null = null;
  readonly stats = { applied: 0, invalid: 0 };

  constructor(
    private readonly kafka: KafkaClient,
    private readonly log: Log,
    private readonly opts: CompactedViewOptions<T>,
  ) {}

  get ready(): boolean {
    return this.caughtUp;
  }

  async start(timeoutMs = 60_000): Promise<void> {
    const ends = await withAdmin(this.kafka, (admin) => topicOffsets(admin, this.opts.topic));
    for (const p of ends) {
      const high = BigInt(p.high);
      const low = BigInt(p.low);
      if (high > low) this.waiting.set(p.partition, high);
    }
    const caughtUp = new Promise<void>((resolve) => {
      this.onCaughtUp = resolve;
    });
    this.checkCaughtUp();
    this.consumer = await startConsumer(this.kafka, this.log, {
      groupId: `${this.opts.name}-${randomUUID()}`,
      topics: [this.opts.topic],
      fromBeginning: true,
      commit: 'none',
      positionBatches: true,
      eachBatch: (p) => this.onBatch(p),
    });
    await withTimeout(caughtUp, timeoutMs, `${this.opts.topic} view did not catch up`);
  }

  async stop(): Promise<void> {
    await this.consumer?.stop();
    this.consumer = null;
  }

  private async onBatch({ batch, heartbeat }: BatchPayload): Promise<void> {
    for (const m of batch.messages) {
      const key = m.key?.toString() ?? '';
      if (m.value === null) {
        this.opts.apply(key, null);
        this.stats.applied++;
      } else {
        const decoded = decode(this.opts.topic, m.value);
        if (decoded.ok) {
          this.opts.apply(key, decoded.value);
          this.stats.applied++;
        } else {
          this.stats.invalid++;
          this.log.warn(
            `${this.opts.topic}: skipping invalid record at ${batch.partition}/${m.offset}: ${decoded.error}`,
          );
        }
      }
      const target = this.waiting.get(batch.partition);
      if (target !== undefined && BigInt(m.offset) + 1n >= target)
        this.waiting.delete(batch.partition);
    }
    // Compaction may have removed the last offsets: the consumer's position tells us too.
    const target = this.waiting.get(batch.partition);
    if (target !== undefined && BigInt(batch.highWatermark) >= target && batch.isEmpty()) {
      this.waiting.delete(batch.partition);
    }
    this.checkCaughtUp();
    await heartbeat();
  }

  private checkCaughtUp(): void {
    if (!this.caughtUp && this.waiting.size === 0) {
      this.caughtUp = true;
      this.onCaughtUp?.();
    }
  }
}
