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

/**
 * A send's deadline passed before the broker acknowledged it (the message may still be written
 * if its batch was in flight: the caller must treat it as unknown, as after a timeout).
 */
export class ProduceDeadlineError extends BrokerUnavailableError {
  constructor(topic: string, waitedMs: number, where: 'queued' | 'in flight' | 'waiting for room') {
    super(`produce to ${topic} not acknowledged by its deadline (${where} for ${waitedMs} ms)`);
    this.name = 'ProduceDeadlineError';
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
  /**
   * Epoch ms after which the send fails with ProduceDeadlineError instead of waiting longer:
   * queued, in flight, or waiting for room in a full queue (a send with a deadline waits for
   * room until then; one without is refused at once when the queue is full). Typically the
   * request's own deadline.
   */
  deadlineAt?: number;
}

/**
 * A lane: its own queue, its own producer(s) and its own flush policy. Hot-path messages
 * (generation requests, replies, cancels, RPC) take the `hot` lane, flushed on the next
 * event-loop turn; usage, attempt and state records take the `bulk` lane, which lingers to
 * batch. Neither waits for the other: separate queues, separate connections.
 */
export type ProducerLane = 'hot' | 'bulk';

export interface LaneOptions {
  /** How long the first message of a batch waits for company. 0 = next event-loop turn. */
  lingerMs: number;
  /** Flush at once when this many messages are waiting; never more in one batch. */
  maxBatch: number;
  /**
   * Batches in flight at once. Order is kept per ordering unit (topic + key, or topic +
   * partition for keyless messages): a unit never has two batches in flight. With idempotent
   * producers this is also the number of producers of the lane (an idempotent producer has one
   * request in flight).
   */
  maxInFlight: number;
  /** Bytes queued or in flight (not yet acknowledged) at most; beyond it sends wait or are refused. */
  maxQueuedBytes: number;
}

export interface Pending {
  topic: string;
  message: OutgoingMessage;
  /** Ordering unit: messages of one unit go out in order, one batch at a time. */
  unit: string;
  bytes: number;
  handedAt: number;
  retryUntil: number;
  /** Epoch ms; Infinity without a deadline. */
  deadlineAt: number;
  failFast: boolean;
  /** Sent in a batch of its own (after a batch failed for its size). */
  solo: boolean;
  /** The caller has its answer (acknowledged, failed, or past its deadline). */
  answered: boolean;
  /** Its bytes were given back to the lane (acknowledged or failed for good). */
  released: boolean;
  resolve: () => void;
  reject: (e: unknown) => void;
}

export interface BatchingProducerOptions {
  /** The bulk lane's linger (and the only lane's, without `hotTopics`). */
  lingerMs: number;
  /** The bulk lane's batch size. */
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
  /** The bulk lane's batches in flight. */
  maxInFlight?: number;
  /** Default retry budget of a message after a transient failure (broker down). */
  retryMs?: number;
  /** The bulk lane's bound on unacknowledged bytes. */
  maxQueuedBytes?: number;
  /**
   * Topics whose consumers restore order themselves (replies carry `seq`, the inbox reorders):
   * their messages need not wait for the previous batch of their key, so a generation's
   * tokens are not held back by the acknowledgement of its previous tokens.
   */
  unorderedTopics?: string[];
  /** Topics whose messages take the hot lane (no linger, a queue and producers of their own). */
  hotTopics?: string[];
  /** The hot lane's settings (default: no linger, 1,000 a batch, 5 in flight, 64 MiB). */
  hot?: Partial<LaneOptions>;
  /**
   * Idempotent producers (default): the broker drops the duplicates of the client's own retries.
   * An idempotent producer of the client has one request in flight, so each lane gets
   * `maxInFlight` of them to keep several batches in flight. false: one non-idempotent producer
   * per lane with `maxInFlight` requests on its connection.
   */
  idempotent?: boolean;
  /** Makes each producer of a lane (default: the Kafka client's, see producer-sender.ts). */
  makeSender?: (o: { lane: ProducerLane; maxInFlight: number; idempotent: boolean }) => BatchSender;
}

const DEFAULTS = {
  maxBatchBytes: 900 * 1024,
  defaultMaxMessageBytes: 1024 * 1024 - 1024,
  maxInFlight: 2,
  retryMs: 60_000,
  maxQueuedBytes: 64 * 1024 * 1024,
};

/**
 * The hot lane carries every token of every stream: 1,000 streams at 50 tokens/s are 50,000
 * replies a second. 5 batches of up to 1,000 in flight, and 64 MiB before it refuses (measured:
 * 3 in flight and 32 MiB filled up under that load on a busy machine, and replies were lost).
 */
const HOT_DEFAULTS: LaneOptions = {
  lingerMs: 0,
  maxBatch: 1000,
  maxInFlight: 5,
  maxQueuedBytes: 64 * 1024 * 1024,
};

/** Record overhead in a v2 record batch, roughly (varints, attributes, header framing). */
const RECORD_OVERHEAD = 32;

/** Deadlines are checked at most this often (one timer per lane, not one per message). */
const DEADLINE_GRAIN_MS = 5;

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

interface ProducerStats {
  batches: number;
  messages: number;
  failedBatches: number;
  retried: number;
  rejected: number;
  /** Sends that failed at their deadline. */
  expired: number;
  /** Sends that waited for room in a full queue. */
  waitedForRoom: number;
}

interface Waiter {
  bytes: number;
  topic: string;
  since: number;
  deadlineAt: number;
  admit: () => void;
  reject: (e: unknown) => void;
}

/**
 * One lane of the producer: a queue flushed into `sendBatch` requests over a pool of senders.
 *
 * - Several batches may be in flight (`maxInFlight`), so a slow acknowledgement does not hold
 *   every later message back; order is kept per ordering unit (topic + key, or topic +
 *   partition): a unit's next messages wait until its batch in flight is acknowledged.
 * - A batch that fails never fails unrelated messages: after a size error its messages are
 *   sent again one by one (only the culprit fails); after a transient error (broker down) they
 *   are queued again, in order, and retried with backoff within their retry budget, while
 *   `unavailableSince` tells callers the broker is unreachable.
 * - Bounded: at most `maxQueuedBytes` unacknowledged; a send with a deadline waits for room
 *   until its deadline, one without is refused at once. Every send with a deadline is answered
 *   by it, queued or in flight.
 */
class Lane {
  private queue: Pending[] = [];
  private queuedBytes = 0;
  private readonly waiters: Waiter[] = [];
  private timer: NodeJS.Timeout | null = null;
  private immediate: NodeJS.Immediate | null = null;
  private retryTimer: NodeJS.Timeout | null = null;
  private deadlineTimer: NodeJS.Timeout | null = null;
  private deadlineArmedAt = Infinity;
  private readonly inFlightUnits = new Set<string>();
  private readonly inFlight = new Map<Promise<void>, Pending[]>();
  /** Batches in flight per sender. */
  private readonly load: number[];
  failingSince: number | null = null;
  lastError = '';
  private backoffMs = 0;
  private nextProbeAt = 0;

  constructor(
    readonly name: ProducerLane,
    private readonly senders: BatchSender[],
    /** Batches one sender may carry at once (1 for an idempotent producer). */
    private readonly perSender: number,
    private readonly o: LaneOptions & {
      maxBatchBytes: number;
      maxMessageBytes: (topic: string) => number;
    },
    private readonly log: Log,
    private readonly stats: ProducerStats,
  ) {
    this.load = senders.map(() => 0);
  }

  get queued(): number {
    return this.queue.length;
  }

  get bytes(): number {
    return this.queuedBytes;
  }

  get busy(): boolean {
    return this.inFlight.size > 0 || this.queue.length > 0 || this.waiters.length > 0;
  }

  async connect(): Promise<void> {
    await Promise.all(this.senders.map((s) => s.connect()));
  }

  async disconnect(): Promise<void> {
    this.clearTimers();
    await Promise.all(this.senders.map((s) => s.disconnect()));
  }

  private clearTimers(): void {
    if (this.retryTimer) clearTimeout(this.retryTimer);
    if (this.deadlineTimer) clearTimeout(this.deadlineTimer);
    this.retryTimer = null;
    this.deadlineTimer = null;
    this.deadlineArmedAt = Infinity;
  }

  /**
   * While the broker is unreachable, fail-fast sends are refused, except one a second that
   * goes through as a probe: something must find out that the broker is back.
   */
  probeDue(): boolean {
    const now = Date.now();
    if (now < this.nextProbeAt || this.inFlight.size > 0) return false;
    this.nextProbeAt = now + 1000;
    return true;
  }

  enqueue(p: Pending): void {
    if (this.queuedBytes + p.bytes <= this.o.maxQueuedBytes) {
      this.admit(p);
      return;
    }
    const full = `the producer's ${this.name} lane holds ${this.queuedBytes} unacknowledged bytes (limit ${this.o.maxQueuedBytes})`;
    if (p.deadlineAt === Infinity || p.bytes > this.o.maxQueuedBytes) {
      this.stats.rejected++;
      p.answered = p.released = true;
      p.reject(new BrokerUnavailableError(full));
      return;
    }
    // Full: wait for room (first come, first served) until the deadline.
    this.stats.waitedForRoom++;
    this.waiters.push({
      bytes: p.bytes,
      topic: p.topic,
      since: Date.now(),
      deadlineAt: p.deadlineAt,
      admit: () => this.admit(p),
      reject: (e) => {
        p.answered = p.released = true;
        p.reject(e);
      },
    });
    this.armDeadline(p.deadlineAt);
  }

  private admit(p: Pending): void {
    this.queuedBytes += p.bytes;
    this.queue.push(p);
    if (p.deadlineAt !== Infinity) this.armDeadline(p.deadlineAt);
    this.schedule();
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

  /** The sender carrying the fewest batches, if one has room. */
  private freeSender(): number {
    let best = -1;
    for (let i = 0; i < this.load.length; i++)
      if (this.load[i]! < this.perSender && (best < 0 || this.load[i]! < this.load[best]!))
        best = i;
    return best;
  }

  flushNow(): void {
    if (this.timer) clearTimeout(this.timer);
    if (this.immediate) clearImmediate(this.immediate);
    this.timer = null;
    this.immediate = null;
    // While the broker is unreachable, one probing batch at a time.
    const slots = this.failingSince !== null ? 1 : this.o.maxInFlight;
    while (this.inFlight.size < slots) {
      const s = this.freeSender();
      if (s < 0) break;
      const batch = this.take();
      if (batch.length === 0) break;
      this.load[s]!++;
      const p = this.sendBatch(this.senders[s]!, batch).finally(() => {
        this.load[s]!--;
        this.inFlight.delete(p);
        for (const m of batch) this.inFlightUnits.delete(m.unit);
        if (this.queue.length > 0 && !this.retryTimer) this.flushNow();
      });
      this.inFlight.set(p, batch);
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

  private async sendBatch(sender: BatchSender, batch: Pending[]): Promise<void> {
    const byTopic = new Map<string, TopicMessages>();
    for (const p of batch) {
      let t = byTopic.get(p.topic);
      if (!t) byTopic.set(p.topic, (t = { topic: p.topic, messages: [] }));
      t.messages.push(p.message);
    }
    try {
      await sender.sendBatch({ topicMessages: [...byTopic.values()], acks: -1 });
      this.stats.batches += 1;
      this.stats.messages += batch.length;
      if (this.failingSince !== null) {
        this.log.log(
          `produce (${this.name}) works again after ${Date.now() - this.failingSince} ms of failures`,
        );
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
          this.settle(
            p,
            new MessageTooLargeError(p.topic, p.bytes, this.o.maxMessageBytes(p.topic)),
          );
        } else {
          // Whatever was too large fails alone: the others go again, one per batch.
          this.log.warn(
            `a batch of ${batch.length} was refused for its size; sending them one by one`,
          );
          const again = batch.filter((p) => !p.answered);
          for (const p of batch) if (p.answered) this.settle(p, null);
          for (const p of again) p.solo = true;
          this.requeue(again);
        }
        return;
      }
      this.lastError = message;
      if (this.failingSince === null) {
        this.failingSince = Date.now();
        this.nextProbeAt = this.failingSince + 1000;
      }
      const now = Date.now();
      const retry = batch.filter((p) => !p.answered && !p.failFast && p.retryUntil > now);
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

  /** One timer per lane, at the earliest deadline of what it holds. */
  private armDeadline(at: number): void {
    if (at >= this.deadlineArmedAt) return;
    if (this.deadlineTimer) clearTimeout(this.deadlineTimer);
    this.deadlineArmedAt = at;
    this.deadlineTimer = setTimeout(
      () => this.sweepDeadlines(),
      Math.max(DEADLINE_GRAIN_MS, at - Date.now()),
    );
    // What is queued or in flight keeps the process busy; a deadline alone need not.
    this.deadlineTimer.unref();
  }

  /**
   * Answers every send past its deadline: queued ones leave the queue (their bytes are given
   * back), in-flight ones are answered now and their bytes given back when their batch returns,
   * and waiters for room give up.
   */
  private sweepDeadlines(): void {
    this.deadlineTimer = null;
    this.deadlineArmedAt = Infinity;
    const now = Date.now() + 1; // a timer may fire a hair early
    let next = Infinity;
    const late = (d: number): boolean => {
      if (d <= now) return true;
      if (d < next) next = d;
      return false;
    };
    if (this.queue.some((p) => p.deadlineAt <= now)) {
      const keep: Pending[] = [];
      for (const p of this.queue) {
        if (p.deadlineAt <= now) {
          this.stats.expired++;
          this.settle(p, new ProduceDeadlineError(p.topic, now - p.handedAt, 'queued'));
        } else {
          late(p.deadlineAt);
          keep.push(p);
        }
      }
      this.queue = keep;
    } else for (const p of this.queue) late(p.deadlineAt);
    for (const batch of this.inFlight.values())
      for (const p of batch) {
        if (p.answered || !late(p.deadlineAt)) continue;
        this.stats.expired++;
        this.answer(p, new ProduceDeadlineError(p.topic, now - p.handedAt, 'in flight'));
      }
    for (let i = 0; i < this.waiters.length;) {
      const w = this.waiters[i]!;
      if (late(w.deadlineAt)) {
        this.waiters.splice(i, 1);
        this.stats.expired++;
        w.reject(new ProduceDeadlineError(w.topic, now - w.since, 'waiting for room'));
      } else i++;
    }
    if (next !== Infinity) this.armDeadline(next);
  }

  private answer(p: Pending, error: unknown): void {
    if (p.answered) return;
    p.answered = true;
    if (error === null) p.resolve();
    else {
      this.stats.rejected++;
      p.reject(error);
    }
  }

  /** The message is done with (acknowledged, or failed for good): bytes back, caller answered. */
  private settle(p: Pending, error: unknown): void {
    if (!p.released) {
      p.released = true;
      this.queuedBytes -= p.bytes;
    }
    this.answer(p, error);
    this.admitWaiters();
  }

  private admitWaiters(): void {
    while (this.waiters.length > 0) {
      const w = this.waiters[0]!;
      if (this.queuedBytes + w.bytes > this.o.maxQueuedBytes) break;
      this.waiters.shift();
      w.admit();
    }
  }

  /** Sends whatever is queued and waits for it until `until`; what is still unsent then fails. */
  async flush(until: number): Promise<void> {
    if (!this.retryTimer) this.flushNow();
    while (this.busy && Date.now() < until) {
      await Promise.race([
        Promise.allSettled([...this.inFlight.keys()]),
        new Promise((r) => setTimeout(r, 20)),
      ]);
      if (this.retryTimer === null) this.flushNow();
    }
    for (const w of this.waiters.splice(0))
      w.reject(new BrokerUnavailableError(`produce to ${w.topic} abandoned: ${this.lastError}`));
    for (const p of this.queue.splice(0)) {
      this.settle(
        p,
        new BrokerUnavailableError(`produce to ${p.topic} abandoned: ${this.lastError}`),
      );
    }
  }
}

/**
 * The client sends one produce request per `send` call and does not linger. With hundreds of
 * streams emitting tokens, that is tens of thousands of requests per second. This producer
 * coalesces every message handed to it into `sendBatch` requests, across topics and
 * partitions, in two lanes (see {@link ProducerLane}): the hot lane flushes on the next
 * event-loop turn, the bulk lane within `lingerMs` (or at `maxBatch` messages or
 * `maxBatchBytes`). A message larger than its topic accepts fails alone, at once, with
 * MessageTooLargeError. See {@link Lane} for order, retries, bounds and deadlines.
 */
export class BatchingProducer {
  private readonly lanes: { hot: Lane; bulk: Lane };
  private connected = false;
  private readonly maxBytes: Record<string, number>;
  private readonly defaultMaxBytes: number;
  private readonly retryMs: number;
  private readonly unordered: Set<string>;
  private readonly hot: Set<string>;
  private seq = 0;
  /** Counters for benchmarks and health. */
  readonly stats: ProducerStats = {
    batches: 0,
    messages: 0,
    failedBatches: 0,
    retried: 0,
    rejected: 0,
    expired: 0,
    waitedForRoom: 0,
  };

  constructor(
    kafka: KafkaClient | { sender: BatchSender | ((lane: ProducerLane) => BatchSender) },
    log: Log,
    opts: BatchingProducerOptions = { lingerMs: 1, maxBatch: 500 },
  ) {
    this.maxBytes = opts.maxMessageBytes ?? {};
    this.defaultMaxBytes = opts.defaultMaxMessageBytes ?? DEFAULTS.defaultMaxMessageBytes;
    this.retryMs = opts.retryMs ?? DEFAULTS.retryMs;
    this.unordered = new Set(opts.unorderedTopics ?? []);
    this.hot = new Set(opts.hotTopics ?? []);
    const idempotent = opts.idempotent ?? true;
    const maxBatchBytes = opts.maxBatchBytes ?? DEFAULTS.maxBatchBytes;
    const bulk: LaneOptions = {
      lingerMs: opts.lingerMs,
      maxBatch: opts.maxBatch,
      maxInFlight: opts.maxInFlight ?? DEFAULTS.maxInFlight,
      maxQueuedBytes: opts.maxQueuedBytes ?? DEFAULTS.maxQueuedBytes,
    };
    const hot: LaneOptions = { ...HOT_DEFAULTS, ...opts.hot };
    const laneOptions = (o: LaneOptions) => ({
      ...o,
      maxBatchBytes,
      maxMessageBytes: (topic: string) => this.maxMessageBytes(topic),
    });
    const lane = (name: ProducerLane, o: LaneOptions): Lane => {
      if ('sender' in kafka) {
        const sender = typeof kafka.sender === 'function' ? kafka.sender(name) : kafka.sender;
        return new Lane(name, [sender], o.maxInFlight, laneOptions(o), log, this.stats);
      }
      // An idempotent producer has one request in flight (the client's rule, as kafkajs'): a
      // lane keeps several batches in flight with a producer (a connection) per batch.
      const count = idempotent ? o.maxInFlight : 1;
      const make =
        opts.makeSender ??
        ((x: { maxInFlight: number; idempotent: boolean }) => platformaticSender(kafka, x));
      const senders = Array.from({ length: count }, () =>
        make({ lane: name, maxInFlight: idempotent ? 1 : o.maxInFlight, idempotent }),
      );
      return new Lane(
        name,
        senders,
        idempotent ? 1 : o.maxInFlight,
        laneOptions(o),
        log,
        this.stats,
      );
    };
    const bulkLane = lane('bulk', bulk);
    this.lanes = { bulk: bulkLane, hot: this.hot.size > 0 ? lane('hot', hot) : bulkLane };
  }

  private get allLanes(): Lane[] {
    return this.lanes.hot === this.lanes.bulk
      ? [this.lanes.bulk]
      : [this.lanes.hot, this.lanes.bulk];
  }

  async connect(): Promise<void> {
    await Promise.all(this.allLanes.map((l) => l.connect()));
    this.connected = true;
  }

  /** The lane a topic's messages take. */
  laneOf(topic: string): ProducerLane {
    return this.hot.has(topic) ? 'hot' : 'bulk';
  }

  /** Since when (epoch ms) produce requests have failed with no success since; null if healthy. */
  get unavailableSince(): number | null {
    const since = this.allLanes.map((l) => l.failingSince).filter((s): s is number => s !== null);
    return since.length > 0 ? Math.min(...since) : null;
  }

  get lastFailure(): string {
    return this.allLanes.find((l) => l.failingSince !== null)?.lastError ?? '';
  }

  /** Messages handed in and not yet sent (queued, both lanes). */
  get queued(): number {
    return this.allLanes.reduce((n, l) => n + l.queued, 0);
  }

  /** Unacknowledged bytes per lane (queued or in flight). */
  get queuedBytes(): Record<ProducerLane, number> {
    return { hot: this.lanes.hot.bytes, bulk: this.lanes.bulk.bytes };
  }

  /** The largest message `topic` accepts. */
  maxMessageBytes(topic: string): number {
    return this.maxBytes[topic] ?? this.defaultMaxBytes;
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
    const lane = this.hot.has(topic) ? this.lanes.hot : this.lanes.bulk;
    const failFast = opts.failFast === true;
    if (failFast && lane.failingSince !== null && !lane.probeDue()) {
      return Promise.reject(
        new BrokerUnavailableError(`the Kafka broker is unreachable: ${lane.lastError}`),
      );
    }
    const now = Date.now();
    const deadlineAt = opts.deadlineAt ?? Infinity;
    if (deadlineAt <= now) {
      this.stats.expired++;
      return Promise.reject(new ProduceDeadlineError(topic, 0, 'queued'));
    }
    const unit = this.unordered.has(topic)
      ? `\u0000${this.seq++}`
      : message.key !== null
        ? `${topic}\u0000k${message.key}`
        : `${topic}\u0000p${message.partition ?? '*'}`;
    // The record's CreateTime is when it was handed in, not when its batch left.
    message.timestamp ??= String(now);
    return new Promise<void>((resolve, reject) => {
      lane.enqueue({
        topic,
        message,
        unit,
        bytes,
        handedAt: now,
        retryUntil: Math.min(deadlineAt, now + (failFast ? 0 : (opts.retryMs ?? this.retryMs))),
        deadlineAt,
        failFast,
        solo: false,
        answered: false,
        released: false,
        resolve,
        reject,
      });
    });
  }

  /** Queues several messages of one topic as a unit. */
  sendAll(topic: string, messages: OutgoingMessage[], opts?: SendOptions): Promise<void> {
    return Promise.all(messages.map((m) => this.send(topic, m, opts))).then(() => undefined);
  }

  /**
   * Sends whatever is queued and waits for it, retries included, for at most `timeoutMs`;
   * what is still unsent then fails (BrokerUnavailableError).
   */
  async flush(timeoutMs = 15_000): Promise<void> {
    const until = Date.now() + timeoutMs;
    await Promise.all(this.allLanes.map((l) => l.flush(until)));
  }

  async disconnect(): Promise<void> {
    if (!this.connected) return;
    await this.flush();
    this.connected = false;
    await Promise.all(this.allLanes.map((l) => l.disconnect()));
  }
}
