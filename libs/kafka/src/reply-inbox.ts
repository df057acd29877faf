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

/** Called once when a reply of the attempt is missing: `seq` never came within the gap timeout. */
export type GapHandler = (missingSeq: number) => void;

interface Sink {
  handler: ReplyHandler;
  onGap: GapHandler | null;
  nextSeq: number;
  /** Replies that arrived ahead of a gap, by seq. */
  early: Map<number, { reply: LlmReplyV1; headers: Record<string, Buffer | string | undefined> }>;
  /** Running while a gap is open. */
  gapTimer: NodeJS.Timeout | null;
  /** The gap was reported: nothing more is delivered. */
  broken: boolean;
}

/**
 * How long a gap in an attempt's replies may stay open before the missing reply is taken as
 * lost. Replies of one attempt travel on one partition from one producer, in order: a gap
 * means a message was lost or reordered by a retry, and the next one fills it within
 * milliseconds if it is coming at all.
 */
export const DEFAULT_GAP_TIMEOUT_MS = 2_000;
/** Replies held ahead of a gap, per attempt, before the gap is taken as lost at once. */
const MAX_EARLY = 1024;

/**
 * The gateway side of the Kafka request/reply hop. One instance reads one partition of
 * `llm.replies.v1` (a consumer group of its own with a static assignment), hands each reply to
 * the generation waiting for it, in `seq` order, and ignores replies nobody waits for (late
 * replies of timed-out or cancelled generations).
 */
export class ReplyInbox {
  private readonly sinks = new Map<string, Sink>();
  private consumer: ConsumerHandle | null = null;
  readonly stats = { delivered: 0, strays: 0, invalid: 0, reordered: 0, gaps: 0 };

  constructor(
    private readonly kafka: KafkaClient,
    private readonly producer: BatchingProducer,
    private readonly log: Log,
    private readonly self: { instance: string; partition: number; gapTimeoutMs?: number },
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

  /**
   * Registers the handler of one attempt's replies; returns the function that unregisters it.
   * `onGap` hears of a reply that never came (a later one did, and the gap stayed open for the
   * gap timeout): the attempt's replies are incomplete; only its final reply is delivered after.
   */
  register(
    generationId: string,
    attempt: number,
    handler: ReplyHandler,
    onGap: GapHandler | null = null,
  ): () => void {
    const key = `${generationId}#${attempt}`;
    const sink: Sink = {
      handler,
      onGap,
      nextSeq: 0,
      early: new Map(),
      gapTimer: null,
      broken: false,
    };
    this.sinks.set(key, sink);
    return () => {
      if (sink.gapTimer) clearTimeout(sink.gapTimer);
      if (this.sinks.get(key) === sink) this.sinks.delete(key);
    };
  }

  /** Test hook: handles one reply as if it had been read from the partition. */
  receive(reply: LlmReplyV1, headers: Record<string, Buffer | string | undefined> = {}): void {
    this.deliver(reply, headers);
  }

  private gap(sink: Sink): void {
    if (sink.gapTimer) clearTimeout(sink.gapTimer);
    sink.gapTimer = null;
    sink.broken = true;
    // The attempt's final reply (what it consumed, for billing) still counts if it came.
    for (const { reply, headers } of sink.early.values())
      if (isFinal(reply)) sink.handler(reply, headers);
    sink.early.clear();
    this.stats.gaps += 1;
    this.log.warn(`a reply was lost (seq ${sink.nextSeq} never came)`);
    sink.onGap?.(sink.nextSeq);
  }

  private deliver(reply: LlmReplyV1, headers: Record<string, Buffer | string | undefined>): void {
    const sink = this.sinks.get(`${reply.generationId}#${reply.attempt}`);
    if (!sink) {
      this.stats.strays += 1;
      return;
    }
    if (sink.broken) {
      // After a gap only the final reply is handed on: its count of what the attempt consumed.
      if (isFinal(reply)) sink.handler(reply, headers);
      return;
    }
    if (reply.seq < sink.nextSeq) return; // a duplicate
    if (reply.seq > sink.nextSeq) {
      this.stats.reordered += 1;
      sink.early.set(reply.seq, { reply, headers });
      if (sink.early.size > MAX_EARLY) return this.gap(sink);
      sink.gapTimer ??= setTimeout(
        () => this.gap(sink),
        this.self.gapTimeoutMs ?? DEFAULT_GAP_TIMEOUT_MS,
      );
      return;
    }
    sink.nextSeq += 1;
    this.stats.delivered += 1;
    sink.handler(reply, headers);
    for (let next = sink.early.get(sink.nextSeq); next; next = sink.early.get(sink.nextSeq)) {
      sink.early.delete(sink.nextSeq);
      sink.nextSeq += 1;
      this.stats.delivered += 1;
      sink.handler(next.reply, next.headers);
    }
    // The gap closed: its clock stops (a later gap starts its own).
    if (sink.gapTimer) {
      clearTimeout(sink.gapTimer);
      sink.gapTimer = null;
      if (sink.early.size > 0)
        sink.gapTimer = setTimeout(
          () => this.gap(sink),
          this.self.gapTimeoutMs ?? DEFAULT_GAP_TIMEOUT_MS,
        );
    }
  }
}

const isFinal = (r: LlmReplyV1): boolean =>
  r.type !== 'chunk' && r.type !== 'chunks' && r.type !== 'alive';
