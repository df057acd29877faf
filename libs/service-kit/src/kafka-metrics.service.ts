import { Inject, Injectable, Logger, type OnApplicationShutdown } from '@nestjs/common';
import { LagReader, liveConsumers, type KafkaClient, type PartitionLag } from '@turnpike/kafka';
import { KAFKA_CLIENT, ProducerService } from './kafka.providers.js';
import { metrics } from './metrics.js';

/** Lag read at most this often, whatever the scrape rate (each read is 2 admin requests a topic). */
const LAG_MAX_AGE_MS = 1_000;
/** A lag read that takes longer leaves the previous values in place. */
const LAG_TIMEOUT_MS = 3_000;

export interface GroupLag extends PartitionLag {
  group: string;
}

/**
 * The Kafka side of a service's metrics, computed on scrape: the lag of every consumer group of
 * the process that commits offsets (committed offsets against the topic's latest, through one
 * admin connection, read at most once a second), and the producer's queue.
 */
@Injectable()
export class KafkaMetrics implements OnApplicationShutdown {
  private readonly log = new Logger('metrics');
  private readonly reader: LagReader;
  private last: GroupLag[] = [];
  private readAt = 0;
  private reading: Promise<GroupLag[]> | null = null;
  private warned = false;

  constructor(@Inject(KAFKA_CLIENT) kafka: KafkaClient, producer: ProducerService) {
    this.reader = new LagReader(kafka);
    metrics.gauge(
      'turnpike_kafka_consumer_lag_messages',
      "Messages a consumer group of this process has not committed yet, per topic and partition (the topic's latest offset minus the group's committed offset).",
      ['group', 'topic', 'partition'],
      async (g) => {
        const lag = await this.lag();
        g.reset();
        for (const l of lag)
          g.set({ group: l.group, topic: l.topic, partition: String(l.partition) }, l.lag);
      },
    );
    metrics.gauge(
      'turnpike_kafka_producer_queued_messages',
      "Messages handed to this process's producer and not yet acknowledged by the broker.",
      [],
      (g) => g.set(producer.queued),
    );
  }

  /** The lag of every committing group of this process, at most {@link LAG_MAX_AGE_MS} old. */
  async lag(): Promise<GroupLag[]> {
    if (Date.now() - this.readAt < LAG_MAX_AGE_MS) return this.last;
    this.reading ??= this.read().finally(() => {
      this.reading = null;
    });
    return this.reading;
  }

  private async read(): Promise<GroupLag[]> {
    // One read per group (several consumers of one group share it).
    const groups = new Map<string, { topics: string[]; fromBeginning: boolean }>();
    for (const c of liveConsumers())
      if (c.options.commit !== 'none')
        groups.set(c.groupId, { topics: c.options.topics, fromBeginning: c.options.fromBeginning });
    let timer: NodeJS.Timeout | undefined;
    try {
      const read = Promise.all(
        [...groups].map(async ([group, g]) =>
          (await this.reader.lag(group, g.topics, g.fromBeginning)).map((l) => ({ group, ...l })),
        ),
      );
      const timeout = new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error('timed out')), LAG_TIMEOUT_MS);
      });
      this.last = (await Promise.race([read, timeout])).flat();
      this.readAt = Date.now();
      this.warned = false;
    } catch (e) {
      if (!this.warned) this.log.warn(`could not read consumer lag: ${(e as Error).message}`);
      this.warned = true;
    } finally {
      clearTimeout(timer);
    }
    return this.last;
  }

  async onApplicationShutdown(): Promise<void> {
    await this.reader.close();
  }
}
