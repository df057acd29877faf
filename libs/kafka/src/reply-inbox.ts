import { randomUUID } from 'node:crypto';
import type { EachBatchPayload } from 'kafkajs';
import { TOPICS, type LlmReplyV1, type ReplyAddress } from '@turnpike/contracts';
import type { KafkaClient } from './client.js';
import type { BatchingProducer } from './batching-producer.js';
import { decode, messageTypeHeader } from './codec.js';
import { startConsumer, staticPartitionAssigner, type ConsumerHandle } from './consumer.js';
import type { Log } from './logger.js';

export type ReplyHandler = (reply: LlmReplyV1, headers: Record<string, Buffer | string | undefined>) => void;

interface Sink {
  handler: ReplyHandler;
  nextSeq: number;
  /** Replies that arrived ahead of a gap, by seq. */
  early: Map<number, { reply: LlmReplyV1; headers: Record<string, Buffer | string | undefined> }>;
}

/**
 * The gateway side of the Kafka request/reply hop. One instance reads one partition of
 * `llm.replies.v1` (a consumer group of its own with a static assignment), hands each reply to
 * the generation waiting for it, in `seq` order, and ignores replies nobody waits for (late
 * replies of timed-out or cancelled generations).
 */
export class ReplyInbox {
  private readonly sinks = new Map<string, Sink>();
  private consumer: ConsumerHandle | null = null;
  private readonly pings = new Map<string, () => void>();
  readonly stats = { delivered: 0, strays: 0, invalid: 0, reordered: 0 };

  constructor(
    private readonly kafka: KafkaClient,
    private readonly producer: BatchingProducer,
    private readonly log: Log,
    private readonly self: { instance: string; partition: number },
  ) {}

  get address(): ReplyAddress {
    return { topic: TOPICS.llmReplies, partition: this.self.partition, instance: this.self.instance };
  }

  get pending(): number {
    return this.sinks.size;
  }

  /** Joins, then proves the consumer reads its partition by sending itself a ping. */
  async start(): Promise<void> {
    this.consumer = await startConsumer(this.kafka, this.log, {
      groupId: `gateway-replies-${this.self.instance}`,
      topics: [TOPICS.llmReplies],
      fromBeginning: false,
      commit: 'none',
      maxWaitTimeInMs: 20,
      partitionAssigners: [staticPartitionAssigner([this.self.partition])],
      eachBatch: (p) => this.onBatch(p),
    });
    const id = randomUUID();
    const seen = new Promise<void>((resolve) => this.pings.set(id, resolve));
    const deadline = Date.now() + 60_000;
    for (;;) {
      await this.producer.send(TOPICS.llmReplies, {
        key: id,
        value: Buffer.from('{}'),
        partition: this.self.partition,
        headers: { [messageTypeHeader]: 'ping', ping: id },
      });
      const ok = await Promise.race([seen.then(() => true), sleep(1000).then(() => false)]);
      if (ok) break;
      if (Date.now() > deadline) throw new Error('reply inbox never saw its own ping');
    }
    this.pings.delete(id);
  }

  async stop(): Promise<void> {
    await this.consumer?.stop();
    this.consumer = null;
  }

  /** Registers the handler of one attempt's replies; returns the function that unregisters it. */
  register(generationId: string, attempt: number, handler: ReplyHandler): () => void {
    const key = `${generationId}#${attempt}`;
    this.sinks.set(key, { handler, nextSeq: 0, early: new Map() });
    return () => {
      this.sinks.delete(key);
    };
  }

  private async onBatch({ batch, heartbeat }: EachBatchPayload): Promise<void> {
    for (const message of batch.messages) {
      const headers = message.headers ?? {};
      if (headers[messageTypeHeader]?.toString() === 'ping') {
        this.pings.get(headers['ping']?.toString() ?? '')?.();
        continue;
      }
      const decoded = decode(TOPICS.llmReplies, message.value);
      if (!decoded.ok) {
        this.stats.invalid += 1;
        this.log.warn(`invalid reply at offset ${message.offset}: ${decoded.error}`);
        continue;
      }
      this.deliver(decoded.value, headers as Record<string, Buffer | string | undefined>);
    }
    await heartbeat();
  }

  private deliver(reply: LlmReplyV1, headers: Record<string, Buffer | string | undefined>): void {
    const sink = this.sinks.get(`${reply.generationId}#${reply.attempt}`);
    if (!sink) {
      this.stats.strays += 1;
      return;
    }
    if (reply.seq < sink.nextSeq) return; // duplicate
    if (reply.seq > sink.nextSeq) {
      this.stats.reordered += 1;
      sink.early.set(reply.seq, { reply, headers });
      return;
    }
    sink.nextSeq += 1;
    this.stats.delivered += 1;
    sink.handler(reply, headers);
    for (let next = sink.early.get(sink.nextSeq); next; next = sink.early.get(sink.nextSeq)) {
      sink.early.delete(sink.nextSeq);
      sink.nextSeq += 1;
      sink.handler(next.reply, next.headers);
    }
  }
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
