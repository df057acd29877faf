import type { KafkaClient } from './client.js';
import type { OutgoingMessage } from './codec.js';
import type { Log } from './logger.js';
import { platformaticSender, type BatchSender, type TopicMessages } from './producer-sender.js';

export type { BatchSender, TopicMessages };

/** A message larger than its topic accepts: it fails alone, before anything is sent. */
export class MessageTooLargeError extends Error {
  constructor(
    readonly topic: string,
    readonly bytes: number,
    readonly limit: number,
  ) {
    super(`a ${bytes}-byte message exceeds ${topic}'s limit of ${limit} bytes`);
    this.name = 'MessageTooLargeError';
  }
}

/** The broker cannot be reached (fail-fast sends, full buffer, retry budget spent). */
export class BrokerUnavailableError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'BrokerUnavailableError';
  }
}

export interface SendOptions {
  /**
   * Reject at once, without queueing, while the broker is known to be unreachable; and do not
   * retry a failed produce beyond the client's own retries. For requests whose caller would
   * rather answer 503 than wait (the gateway's generation requests, RPC calls).
   */
  failFast?: boolean;
  /** How long a failed message is retried after it was handed in (default: `retryMs`). */
  retryMs?: number;
}

interface Pending {
  topic: string;
  message: OutgoingMessage;
  /** Ordering unit: messages of one unit go out in order, one batch at a time. */
  unit: string;
  bytes: number;
  retryUntil: number;
  failFast: boolean;
  /** Sent in a batch of its own (after a batch failed for its size). */
  solo: boolean;
  resolve: () => void;
  reject: (e: unknown) => void;
}

export interface BatchingProducerOptions {
  /** How long the first message of a batch waits for company. 0 = next event-loop turn. */
  lingerMs: number;
  /** Flush at once when this many messages are waiting; never more in one batch. */
  maxBatch: number;
  /**
   * Bytes in one batch (estimated record sizes). Kafka checks each partition's record batch
   * against the topic's `max.message.bytes`; keeping whole batches below the smallest topic
   * limit means a batch of small messages can never be refused for its size. A message larger
   * than this travels in a batch of its own.
   */
  maxBatchBytes?: number;
  /** The largest message each topic accepts (its `max.message.bytes`); `defaultMaxMessageBytes` otherwise. */
  maxMessageBytes?: Record<string, number>;
  defaultMaxMessageBytes?: number;
  /**
   * Batches in flight at once. Order is kept per ordering unit (topic + key, or topic +
   * partition for keyless messages): a unit never has two batches in flight.
   */
  maxInFlight?: number;
  /** Default retry budget of a message after a transient failure (broker down). */
  retryMs?: number;
  /** Bytes queued (not yet acknowledged) at most; beyond it sends are refused. */
  maxQueuedBytes?: number;
  /**
   * Topics whose consumers restore order themselves (replies carry `seq`, the inbox reorders):
   * their messages need not wait for the previous batch of their key, so a generation's
   * tokens are not held back by the acknowledgement of its previous tokens.
   */
  unorderedTopics?: string[];
}

const DEFAULTS = {
  maxBatchBytes: 900 * 1024,
  defaultMaxMessageBytes: 1024 * 1024 - 1024,
  maxInFlight: 5,
  retryMs: 60_000,
  maxQueuedBytes: 64 * 1024 * 1024,
};

/** Record overhead in a v2 record batch, roughly (varints, attributes, header framing). */
const RECORD_OVERHEAD = 32;

export function estimateMessageBytes(m: OutgoingMessage): number {
  let n = RECORD_OVERHEAD + (m.key ? Buffer.byteLength(m.key) : 0) + (m.value?.length ?? 0);
  for (const [k, v] of Object.entries(m.headers))
    n += 8 + Buffer.byteLength(k) + Buffer.byteLength(v);
  return n;
}

function isSizeError(e: unknown): boolean {
  for (let x: unknown = e, depth = 0; x && depth < 5; depth++) {
    const err = x as { apiId?: string; message?: string; cause?: unknown; errors?: unknown[] };
    if (err.apiId === 'MESSAGE_TOO_LARGE' || err.apiId === 'RECORD_LIST_TOO_LARGE') return true;
    if (/too large/i.test(err.message ?? '')) return true;
    // The client reports a batch's failures together (an AggregateError).
    if (err.errors?.some(isSizeError)) return true;
    x = err.cause;
  }
  return false;
}

/**
 * The client sends one produce request per `send` call and does not linger. With hundreds of
 * streams emitting tokens, that is tens of thousands of requests per second. This producer
 * coalesces every message handed to it within `lingerMs` (or until `maxBatch` messages or
 * `maxBatchBytes`) into one `sendBatch` request, across topics and partitions.
 *
 * - Several batches may be in flight (`maxInFlight`), so a slow acknowledgement does not hold
 *   every later message back; order is kept per ordering unit (topic + key, or topic +
 *   partition): a unit's next messages wait until its batch in flight is acknowledged.
 * - A message larger than its topic accepts fails alone, at once, with MessageTooLargeError.
 * - A batch that fails never fails unrelated messages: after a size error its messages are
 *   sent again one by one (only the culprit fails); after a transient error (broker down) they
 *   are queued again, in order, and retried with backoff within their retry budget, while
 *   `unavailableSince` tells callers the broker is unreachable.
 */
export class BatchingProducer {
  private readonly producer: BatchSender;
  private queue: Pending[] = [];
  private queuedBytes = 0;
  private timer: NodeJS.Timeout | null = null;
  private immediate: NodeJS.Immediate | null = null;
  private retryTimer: NodeJS.Timeout | null = null;
  private readonly inFlightUnits = new Set<string>();
  private readonly inFlight = new Set<Promise<void>>();
  private connected = false;
  private failingSince: number | null = null;
  private lastError = '';
  private backoffMs = 0;
  private nextProbeAt = 0;
  private readonly o: Required<
    Omit<BatchingProducerOptions, 'maxMessageBytes' | 'unorderedTopics'>
  > & {
    maxMessageBytes: Record<string, number>;
  };
  private readonly unordered: Set<string>;
  private seq = 0;
  /** Counters for benchmarks and health. */
  readonly stats = { batches: 0, messages: 0, failedBatches: 0, retried: 0, rejected: 0 };

  constructor(
    kafka: KafkaClient | { sender: BatchSender },
    private readonly log: Log,
    opts: BatchingProducerOptions = { lingerMs: 1, maxBatch: 500 },
  ) {
    this.o = { ...DEFAULTS, maxMessageBytes: {}, ...opts } as typeof this.o;
    this.unordered = new Set(opts.unorderedTopics ?? []);
    this.producer =
      'sender' in kafka
        ? kafka.sender
        : // Our own batches may overlap (different ordering units): they share the connection.
          platformaticSender(kafka, { maxInFlight: this.o.maxInFlight });
  }

  async connect(): Promise<void> {
    await this.producer.connect();
    this.connected = true;
  }

  /** Since when (epoch ms) produce requests have failed with no success since; null if healthy. */
  get unavailableSince(): number | null {
    return this.failingSince;
  }

  get lastFailure(): string {
    return this.lastError;
  }

  /** Messages handed in and not yet acknowledged or failed. */
  get queued(): number {
    return this.queue.length;
  }

  /** The largest message `topic` accepts. */
  maxMessageBytes(topic: string): number {
    return this.o.maxMessageBytes[topic] ?? this.o.defaultMaxMessageBytes;
  }

  /** Queues one message; resolves once the broker has acknowledged it. */
  send(topic: string, message: OutgoingMessage, opts: SendOptions = {}): Promise<void> {
    if (!this.connected) return Promise.reject(new Error('producer is not connected'));
    const bytes = estimateMessageBytes(message);
    const limit = this.maxMessageBytes(topic);
    if (bytes > limit) {
      this.stats.rejected++;
      return Promise.reject(new MessageTooLargeError(topic, bytes, limit));
    }
    const failFast = opts.failFast === true;
    if (failFast && this.failingSince !== null && !this.probeDue()) {
      return Promise.reject(
        new BrokerUnavailableError(`the Kafka broker is unreachable: ${this.lastError}`),
      );
    }
    if (this.queuedBytes + bytes > this.o.maxQueuedBytes) {
      this.stats.rejected++;
      return Promise.reject(
        new BrokerUnavailableError(
          `the producer holds ${this.queuedBytes} unacknowledged bytes (limit ${this.o.maxQueuedBytes})`,
        ),
      );
    }
    const unit = this.unordered.has(topic)
      ? `\u0000${this.seq++}`
      : message.key !== null
        ? `${topic}\u0000k${message.key}`
        : `${topic}\u0000p${message.partition ?? '*'}`;
    // The record's CreateTime is when it was handed in, not when its batch left.
    message.timestamp ??= String(Date.now());
    return new Promise<void>((resolve, reject) => {
      this.queuedBytes += bytes;
      this.queue.push({
        topic,
        message,
        unit,
        bytes,
        retryUntil: Date.now() + (failFast ? 0 : (opts.retryMs ?? this.o.retryMs)),
        failFast,
        solo: false,
        resolve,
        reject,
      });
      this.schedule();
    });
  }

  /** Queues several messages of one topic as a unit. */
  sendAll(topic: string, messages: OutgoingMessage[], opts?: SendOptions): Promise<void> {
    return Promise.all(messages.map((m) => this.send(topic, m, opts))).then(() => undefined);
  }

  /**
   * While the broker is unreachable, fail-fast sends are refused, except one a second that
   * goes through as a probe: something must find out that the broker is back.
   */
  private probeDue(): boolean {
    const now = Date.now();
    if (now < this.nextProbeAt || this.inFlight.size > 0) return false;
    this.nextProbeAt = now + 1000;
    return true;
  }

  private schedule(): void {
    if (this.retryTimer) return; // backing off: the retry timer flushes
    if (this.queue.length >= this.o.maxBatch) {
      this.flushNow();
      return;
    }
    if (this.timer || this.immediate) return;
    if (this.o.lingerMs <= 0) this.immediate = setImmediate(() => this.flushNow());
    else this.timer = setTimeout(() => this.flushNow(), this.o.lingerMs);
  }

  private flushNow(): void {
    if (this.timer) clearTimeout(this.timer);
    if (this.immediate) clearImmediate(this.immediate);
    this.timer = null;
    this.immediate = null;
    // While the broker is unreachable, one probing batch at a time.
    const slots = this.failingSince !== null ? 1 : this.o.maxInFlight;
    while (this.inFlight.size < slots) {
      const batch = this.take();
      if (batch.length === 0) break;
      const p = this.sendBatch(batch).finally(() => {
        this.inFlight.delete(p);
        for (const m of batch) this.inFlightUnits.delete(m.unit);
        if (this.queue.length > 0 && !this.retryTimer) this.flushNow();
      });
      this.inFlight.add(p);
    }
  }

  /** Takes the next batch off the queue: in order, skipping units that have a batch in flight. */
  private take(): Pending[] {
    const batch: Pending[] = [];
    const skipped = new Set<string>();
    const rest: Pending[] = [];
    let bytes = 0;
    let full = false;
    for (const p of this.queue) {
      if (
        full ||
        this.inFlightUnits.has(p.unit) ||
        skipped.has(p.unit) ||
        (p.solo && batch.length > 0) ||
        (batch.length > 0 && bytes + p.bytes > this.o.maxBatchBytes)
      ) {
        // A unit that waits keeps its order: none of its later messages may overtake it.
        skipped.add(p.unit);
        rest.push(p);
        continue;
      }
      batch.push(p);
      bytes += p.bytes;
      if (p.solo || batch.length >= this.o.maxBatch) full = true;
    }
    this.queue = rest;
    for (const p of batch) this.inFlightUnits.add(p.unit);
    return batch;
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
      if (this.failingSince !== null) {
        this.log.log(`produce works again after ${Date.now() - this.failingSince} ms of failures`);
      }
      this.failingSince = null;
      this.backoffMs = 0;
      for (const p of batch) this.settle(p, null);
    } catch (e) {
      this.stats.failedBatches += 1;
      const message = (e as Error).message;
      if (isSizeError(e)) {
        if (batch.length === 1) {
          const p = batch[0]!;
          this.log.error(
            `produce of one ${p.bytes}-byte message to ${p.topic} refused: ${message}`,
          );
          this.settle(p, new MessageTooLargeError(p.topic, p.bytes, this.maxMessageBytes(p.topic)));
        } else {
          // Whatever was too large fails alone: the others go again, one per batch.
          this.log.warn(
            `a batch of ${batch.length} was refused for its size; sending them one by one`,
          );
          this.requeue(batch.map((p) => ({ ...p, solo: true })));
        }
        return;
      }
      this.lastError = message;
      if (this.failingSince === null) {
        this.failingSince = Date.now();
        this.nextProbeAt = this.failingSince + 1000;
      }
      const now = Date.now();
      const retry = batch.filter((p) => !p.failFast && p.retryUntil > now);
      for (const p of batch) {
        if (!retry.includes(p)) {
          this.settle(
            p,
            new BrokerUnavailableError(`produce to ${p.topic} failed: ${message}`, { cause: e }),
          );
        }
      }
      this.log.error(
        `produce of ${batch.length} messages failed: ${message}` +
          (retry.length > 0 ? ` (${retry.length} will be retried)` : ''),
      );
      if (retry.length > 0) {
        this.stats.retried += retry.length;
        this.requeue(retry);
        this.backoff();
      }
    }
  }

  /** Puts messages back at the head of the queue, in their order. */
  private requeue(ps: Pending[]): void {
    this.queue = [...ps, ...this.queue];
  }

  private backoff(): void {
    if (this.retryTimer) return;
    this.backoffMs = Math.min(2000, Math.max(100, this.backoffMs * 2));
    this.retryTimer = setTimeout(() => {
      this.retryTimer = null;
      this.expire();
      this.flushNow();
    }, this.backoffMs);
  }

  /** Fails queued messages whose retry budget is spent (only while the broker is failing). */
  private expire(): void {
    if (this.failingSince === null) return;
    const now = Date.now();
    const keep: Pending[] = [];
    for (const p of this.queue) {
      if (p.retryUntil <= now) {
        this.settle(
          p,
          new BrokerUnavailableError(`produce to ${p.topic} failed: ${this.lastError}`),
        );
      } else keep.push(p);
    }
    this.queue = keep;
  }

  private settle(p: Pending, error: unknown): void {
    this.queuedBytes -= p.bytes;
    if (error === null) p.resolve();
    else {
      this.stats.rejected++;
      p.reject(error);
    }
  }

  /**
   * Sends whatever is queued and waits for it, retries included, for at most `timeoutMs`;
   * what is still unsent then fails (BrokerUnavailableError).
   */
  async flush(timeoutMs = 15_000): Promise<void> {
    const until = Date.now() + timeoutMs;
    if (!this.retryTimer) this.flushNow();
    while ((this.inFlight.size > 0 || this.queue.length > 0) && Date.now() < until) {
      await Promise.race([
        Promise.allSettled([...this.inFlight]),
        new Promise((r) => setTimeout(r, 20)),
      ]);
      if (this.retryTimer === null) this.flushNow();
    }
    for (const p of this.queue.splice(0)) {
      this.settle(
        p,
        new BrokerUnavailableError(`produce to ${p.topic} abandoned: ${this.lastError}`),
      );
    }
  }

  async disconnect(): Promise<void> {
    if (!this.connected) return;
    await this.flush();
    this.connected = false;
    if (this.retryTimer) clearTimeout(this.retryTimer);
    this.retryTimer = null;
    await this.producer.disconnect();
  }
}
