import { TOPICS, type LlmReplyV1, type ReplyAddress } from '@turnpike/contracts';
import type { KafkaClient } from './client.js';
import type { BatchingProducer } from './batching-producer.js';
import { decode } from './codec.js';
import type { ConsumerHandle } from './consumer.js';
import { startPrivatePartitionConsumer } from './private-partition.js';
import type { Log } from './logger.js';

export type ReplyHandler = (
  reply: LlmReplyV1,
  headers: Record<string, Buffer | string | undefined>,
) => void;

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
  readonly stats = { delivered: 0, strays: 0, invalid: 0, reordered: 0 };

  constructor(
    private readonly kafka: KafkaClient,
    private readonly producer: BatchingProducer,
    private readonly log: Log,
    private readonly self: { instance: string; partition: number },
  ) {}

  get address(): ReplyAddress {
    return {
      topic: TOPICS.llmReplies,
      partition: this.self.partition,
      instance: this.self.instance,
    };
  }

  get pending(): number {
    return this.sinks.size;
  }

  /** true when the inbox's consumer runs and has fetched within `stallMs`, else why not. */
  consumerStatus(stallMs: number): true | string {
    return this.consumer?.status(stallMs) ?? 'not started';
  }

  /** Joins its private partition; ready once it has proved its position. */
  async start(): Promise<void> {
    this.consumer = await startPrivatePartitionConsumer(this.kafka, this.producer, this.log, {
      topic: TOPICS.llmReplies,
      partition: this.self.partition,
      groupId: `gateway-replies-${this.self.instance}`,
      onMessage: (message) => {
        const decoded = decode(TOPICS.llmReplies, message.value);
        if (!decoded.ok) {
          this.stats.invalid += 1;
          this.log.warn(`invalid reply at offset ${message.offset}: ${decoded.error}`);
          return;
        }
        this.deliver(
          decoded.value,
          (message.headers ?? {}) as Record<string, Buffer | string | undefined>,
        );
      },
    });
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
