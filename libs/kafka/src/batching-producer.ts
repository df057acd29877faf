import kafkajs from 'kafkajs';
import type { Producer, TopicMessages } from 'kafkajs';
import type { KafkaClient } from './client.js';
import type { OutgoingMessage } from './codec.js';
import type { Log } from './logger.js';

const { Partitioners } = kafkajs;

interface Pending {
  topic: string;
  message: OutgoingMessage;
  resolve: () => void;
  reject: (e: unknown) => void;
}

export interface BatchingProducerOptions {
  /** How long the first message of a batch waits for company. 0 = next event-loop turn. */
  lingerMs: number;
  /** Flush at once when this many messages are waiting. */
  maxBatch: number;
}

/**
 * kafkajs sends one produce request per `send` call and does not linger. With hundreds of
 * streams emitting tokens, that is tens of thousands of requests per second. This producer
 * coalesces every message handed to it within `lingerMs` (or until `maxBatch`) into one
 * `sendBatch` request, across topics and partitions. Ordering per partition is preserved:
 * batches go out one at a time, in the order messages were handed in.
 */
export class BatchingProducer {
  private readonly producer: Producer;
  private queue: Pending[] = [];
  private timer: NodeJS.Timeout | null = null;
  private immediate: NodeJS.Immediate | null = null;
  private flushing: Promise<void> = Promise.resolve();
  private connected = false;
  /** Counters for benchmarks and health. */
  readonly stats = { batches: 0, messages: 0 };

  constructor(
    kafka: KafkaClient,
    private readonly log: Log,
    private readonly opts: BatchingProducerOptions = { lingerMs: 1, maxBatch: 500 },
  ) {
    this.producer = kafka.producer({
      createPartitioner: Partitioners.DefaultPartitioner,
      allowAutoTopicCreation: false,
      idempotent: false,
      maxInFlightRequests: 1,
      retry: { retries: 5, initialRetryTime: 50 },
    });
  }

  async connect(): Promise<void> {
    await this.producer.connect();
    this.connected = true;
  }

  /** Queues one message; resolves once the broker has acknowledged the batch holding it. */
  send(topic: string, message: OutgoingMessage): Promise<void> {
    if (!this.connected) return Promise.reject(new Error('producer is not connected'));
    return new Promise<void>((resolve, reject) => {
      this.queue.push({ topic, message, resolve, reject });
      this.schedule();
    });
  }

  /** Queues several messages of one topic as a unit. */
  sendAll(topic: string, messages: OutgoingMessage[]): Promise<void> {
    return Promise.all(messages.map((m) => this.send(topic, m))).then(() => undefined);
  }

  private schedule(): void {
    if (this.queue.length >= this.opts.maxBatch) {
      this.flushSoon(true);
      return;
    }
    if (this.timer || this.immediate) return;
    if (this.opts.lingerMs <= 0) this.immediate = setImmediate(() => this.flushSoon(true));
    else this.timer = setTimeout(() => this.flushSoon(true), this.opts.lingerMs);
  }

  private flushSoon(_now: boolean): void {
    if (this.timer) clearTimeout(this.timer);
    if (this.immediate) clearImmediate(this.immediate);
    this.timer = null;
    this.immediate = null;
    const batch = this.queue;
    if (batch.length === 0) return;
    this.queue = [];
    // Chain so that batches reach the broker in order.
    this.flushing = this.flushing.then(() => this.sendBatch(batch));
  }

  private async sendBatch(batch: Pending[]): Promise<void> {
    const byTopic = new Map<string, TopicMessages>();
    for (const p of batch) {
      let t = byTopic.get(p.topic);
      if (!t) byTopic.set(p.topic, (t = { topic: p.topic, messages: [] }));
      t.messages.push(p.message);
    }
    try {
      await this.producer.sendBatch({ topicMessages: [...byTopic.values()], acks: -1 });
      this.stats.batches += 1;
      this.stats.messages += batch.length;
      for (const p of batch) p.resolve();
    } catch (e) {
      this.log.error(`produce of ${batch.length} messages failed: ${(e as Error).message}`);
      for (const p of batch) p.reject(e);
    }
  }

  /** Sends whatever is queued and waits for it. */
  async flush(): Promise<void> {
    this.flushSoon(true);
    await this.flushing;
  }

  async disconnect(): Promise<void> {
    if (!this.connected) return;
    await this.flush();
    this.connected = false;
    await this.producer.disconnect();
  }
}
