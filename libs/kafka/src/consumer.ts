import {
  Consumer,
  type Message,
  type MessagesStream,
  type TopicWithPartitionAndOffset,
} from '@platformatic/kafka';
import { TOPIC_SPECS } from '@turnpike/contracts';
import { offsetsAt } from './admin.js';
import { withAdmin, type KafkaClient } from './client.js';
import type { Log } from './logger.js';

/**
 * What a consumer hands its handler: the Kafka client's own types stay inside libs/kafka, so
 * services depend only on these (and the client can change under them).
 */
export type MessageHeaders = Record<string, Buffer | string | Array<Buffer | string> | undefined>;

export interface ConsumedMessage {
  key: Buffer | null;
  value: Buffer | null;
  headers?: MessageHeaders;
  offset: string;
  /** Epoch ms, as a string (the record's timestamp). */
  timestamp: string;
}

export interface ConsumedBatch {
  topic: string;
  partition: number;
  /**
   * The consumer's position after this batch: the offset of the next record it will fetch (at
   * most the partition's high watermark).
   */
  highWatermark: string;
  messages: ConsumedMessage[];
  isEmpty(): boolean;
}

export interface BatchPayload {
  batch: ConsumedBatch;
  /** Marks a message handled: the consumer's position (and the next commit) moves past it. */
  resolveOffset(offset: string): void;
  /** Commits the resolved offsets (`commit: 'manual'`). */
  commitOffsetsIfNecessary(): Promise<void>;
  /** Tells the group coordinator this member is alive (call during long batches). */
  heartbeat(): Promise<void>;
}

export interface TopicPartitionOffset {
  topic: string;
  partition: number;
  offset: string;
}

export interface ConsumerOptions {
  groupId: string;
  topics: string[];
  fromBeginning: boolean;
  /**
   * `auto`: offsets of handled batches are committed after each batch (in the background, as
   * `background` does).
   * `manual`: the handler resolves offsets and calls `commitOffsetsIfNecessary()` itself, when it
   * decides (e.g. before starting work, for at-most-once).
   * `background`: the handler resolves offsets (the consumer's position moves past them at
   * once) and they are committed after its batch without holding up the handler or the next
   * fetch: one commit at a time, in order, each carrying the latest resolved offset of every
   * partition. What was handled but not yet committed when the process dies (a few ms) is
   * delivered again to the partition's next owner.
   * `none`: nothing is committed (private groups that always start at the end).
   */
  commit: 'auto' | 'manual' | 'background' | 'none';
  eachBatch: (payload: BatchPayload) => Promise<void>;
  /**
   * Every member of the group reads these partitions of each topic (no rebalancing): the
   * private groups of one instance (the gateway's reply inbox, RPC inboxes).
   */
  staticPartitions?: number[];
  /**
   * Also hand over an empty batch when the consumer's position in a partition moves past
   * records it did not deliver (compacted away, transaction markers): `highWatermark` is then
   * the new position (the compacted views' catch-up).
   */
  positionBatches?: boolean;
  /**
   * How many partitions' batches are handled at once (default 1: one after another). Batches of
   * one partition are always handled in order.
   */
  partitionsConcurrently?: number;
  /**
   * With `fromBeginning: false`, on its first start: read from the first message at or after
   * this time (epoch ms) instead of from the end (a private group reading back a window).
   */
  fromTimestamp?: number;
  /**
   * Long-poll wait when a fetch finds nothing. A fetch returns as soon as one message arrives
   * (minBytes 1), so this costs no latency on data: it sets how often an idle consumer wakes up
   * (and how long `stop()` may wait for the fetch in flight). Default 1 s; hot-path consumers
   * that pause take less (a paused consumer's fetch loop sleeps this long between checks).
   */
  maxWaitTimeInMs?: number;
  /** First delay before restarting a crashed consumer (doubles up to `restartMaxMs`). */
  restartInitialMs?: number;
  restartMaxMs?: number;
  /** How long the first start keeps retrying to join its group (default 60 s). */
  startTimeoutMs?: number;
}

export interface ConsumerHandle {
  readonly groupId: string;
  /**
   * Stops fetching these topics until `resume` (kept across the consumer's restarts). Batches
   * already fetched are still handed over.
   */
  pause(topics: string[]): void;
  resume(topics: string[]): void;
  /** Moves the consumer's position in one partition it is assigned (the next fetch reads there). */
  seek(position: TopicPartitionOffset): void;
  /** What it was started with (the lag metrics read them). */
  readonly options: Readonly<Pick<ConsumerOptions, 'topics' | 'commit' | 'fromBeginning'>>;
  /** True while the consumer is joined and fetching. */
  readonly running: boolean;
  /** Milliseconds since the last completed fetch (0 while a batch is being handled). */
  readonly idleMs: number;
  /** true when running and fetching, else what is wrong (for readiness). */
  status(stallMs?: number): true | string;
  readonly restarts: number;
  stop(): Promise<void>;
}

/** Every consumer of this process that has not been stopped (readiness reports them all). */
const live = new Set<ConsumerHandle>();

export function liveConsumers(): ConsumerHandle[] {
  return [...live];
}

/** See `ConsumerOptions.maxWaitTimeInMs`. */
export const DEFAULT_MAX_WAIT_MS = 1_000;

/** A consumer not fetching for this long (outside its handler) is reported stalled. */
export const DEFAULT_STALL_MS = 15_000;

/** Topics with large messages: fetch up to their limit (see TOPIC_SPECS maxMessageBytes). */
const MAX_BYTES_PER_PARTITION = Math.max(
  1024 * 1024,
  ...TOPIC_SPECS.map((t) => t.maxMessageBytes ?? 0),
);

/**
 * Messages fetched and not yet handed to the handler, beyond which fetching pauses until the
 * handlers catch up (the client's stream fetches on while we handle).
 */
const MAX_BUFFERED = 2_000;

type Stream = MessagesStream<Buffer, Buffer, Buffer, Buffer>;

/** One partition's messages waiting for its handler, handled one batch at a time. */
interface PartitionQueue {
  topic: string;
  partition: number;
  messages: ConsumedMessage[];
  /** The position after the last message delivered (or announced). */
  position: bigint | null;
  busy: boolean;
  waiting: boolean;
}

const keyOf = (topic: string, partition: number): string => `${topic}:${partition}`;

function consumed(m: Message<Buffer, Buffer, Buffer, Buffer>): ConsumedMessage {
  const headers: MessageHeaders = {};
  for (const [k, v] of m.headers) headers[k.toString()] = v;
  return {
    key: m.key ?? null,
    value: m.value ?? null,
    headers,
    offset: m.offset.toString(),
    timestamp: m.timestamp.toString(),
  };
}

/**
 * A consumer that restarts itself. The client's message stream ends (an `error`, then `close`)
 * once its own retries are spent, e.g. through a broker outage, and does not come back by
 * itself. Here every end of the stream, whatever its error, closes the consumer and starts a
 * new one with the same options after a backoff (doubling, capped), until `stop()`. A group
 * that commits nothing resumes where it was (a new stream starts at the offsets after the last
 * batch it handled), so no message is skipped or re-read.
 *
 * The client hands messages one at a time; they are handed on in batches per partition (what
 * arrived together), one batch of a partition at a time, `partitionsConcurrently` partitions
 * at once. Fetching pauses while more than MAX_BUFFERED messages wait for their handlers.
 */
class SupervisedConsumer implements ConsumerHandle {
  private current: Consumer<Buffer, Buffer, Buffer, Buffer> | null = null;
  private stream: Stream | null = null;
  private state: 'starting' | 'running' | 'crashed' | 'stopped' = 'starting';
  private lastError = '';
  private lastFetchAt = Date.now();
  private inBatch = 0;
  private timer: NodeJS.Timeout | null = null;
  private restarting = false;
  private delayMs: number;
  private readonly paused = new Set<string>();
  /** `background` and `auto` commits: the latest handled position of each partition not committed yet. */
  private readonly toCommit = new Map<string, TopicPartitionOffset>();
  private committing: Promise<void> | null = null;
  /** Groups that commit nothing: where each partition resumes after a restart. */
  private readonly positions = new Map<string, TopicPartitionOffset>();
  /** Seeks not yet seen through: messages of the partition before this offset are dropped. */
  private readonly seeks = new Map<string, bigint>();
  private readonly queues = new Map<string, PartitionQueue>();
  /** Partitions with messages waiting for a free slot (partitionsConcurrently). */
  private readonly ready: PartitionQueue[] = [];
  private active = 0;
  private buffered = 0;
  private overloaded = false;
  private flushScheduled = false;
  /** Incremented for every new stream: messages of an older one are dropped. */
  private generation = 0;
  restarts = 0;

  constructor(
    private readonly kafka: KafkaClient,
    private readonly log: Log,
    private readonly opts: ConsumerOptions,
  ) {
    this.delayMs = opts.restartInitialMs ?? 500;
  }

  private isStopped(): boolean {
    return this.state === 'stopped';
  }

  /** The stream fetches unless every topic is paused or the handlers are behind. */
  private holding(): boolean {
    return this.overloaded || this.opts.topics.every((t) => this.paused.has(t));
  }

  private applyFlow(): void {
    const s = this.stream;
    if (!s) return;
    const hold = this.holding();
    if (hold && !s.isPaused()) s.pause();
    else if (!hold && s.isPaused()) s.resume();
  }

  /**
   * Per topic as the interface promises; the client pauses a whole stream, so a consumer of
   * several topics stops fetching once all of them are paused (the services pause consumers of
   * one topic).
   */
  pause(topics: string[]): void {
    for (const t of topics) this.paused.add(t);
    this.applyFlow();
  }

  resume(topics: string[]): void {
    for (const t of topics) this.paused.delete(t);
    this.applyFlow();
  }

  seek(position: TopicPartitionOffset): void {
    const key = keyOf(position.topic, position.partition);
    const offset = BigInt(position.offset);
    this.seeks.set(key, offset);
    const q = this.queues.get(key);
    if (q) {
      this.buffered -= q.messages.length;
      q.messages = [];
    }
    if (this.opts.commit === 'none') this.positions.set(key, { ...position });
    this.stream?.offsetsToFetch.set(key, offset);
  }

  get groupId(): string {
    return this.opts.groupId;
  }

  get options(): ConsumerHandle['options'] {
    return this.opts;
  }

  get running(): boolean {
    return this.state === 'running';
  }

  get idleMs(): number {
    // A stream we paused does not fetch: it is not stalled.
    return this.inBatch > 0 || this.stream?.isPaused() ? 0 : Date.now() - this.lastFetchAt;
  }

  status(stallMs = DEFAULT_STALL_MS): true | string {
    if (this.state === 'crashed')
      return `restarting (${this.restarts} restarts) after: ${this.lastError}`;
    if (this.state !== 'running') return this.state;
    const idle = this.idleMs;
    if (idle > stallMs) return `not fetching for ${Math.round(idle / 1000)} s`;
    return true;
  }

  /**
   * First start: joins the group, retrying with backoff while the broker is not ready for it
   * (a fresh broker's group coordinator is still loading, a broker restarting) for up to
   * `startTimeoutMs` (60 s); fails after that, so a service that cannot reach Kafka at all does
   * not pretend to start.
   */
  async start(): Promise<void> {
    const until = Date.now() + (this.opts.startTimeoutMs ?? 60_000);
    for (;;) {
      try {
        await this.run();
        this.delayMs = this.opts.restartInitialMs ?? 500;
        return;
      } catch (e) {
        if (this.isStopped() || Date.now() + this.delayMs >= until) throw e;
        this.log.warn(
          `consumer ${this.opts.groupId} could not join yet (${(e as Error).message}); retrying in ${this.delayMs} ms`,
        );
        await this.closeCurrent();
        this.state = 'starting';
        await new Promise((r) => setTimeout(r, this.delayMs));
        this.delayMs = Math.min(this.opts.restartMaxMs ?? 5_000, this.delayMs * 2);
      }
    }
  }

  /** Where a new stream starts: `manual` offsets when we know them, else the group's or an end. */
  private async startingPoint(): Promise<{
    mode: 'latest' | 'earliest' | 'committed' | 'manual';
    offsets?: TopicWithPartitionAndOffset[];
  }> {
    const o = this.opts;
    const known = [...this.positions.values(), ...this.seekPositions()];
    if (o.commit !== 'none') {
      // Seeks of a committing group are live only (see seek): a new stream reads its commits.
      return { mode: 'committed' };
    }
    if (known.length > 0)
      return {
        mode: 'manual',
        offsets: known.map((p) => ({ ...p, offset: BigInt(p.offset) })),
      };
    if (o.fromTimestamp !== undefined && !o.fromBeginning) {
      const offsets: TopicWithPartitionAndOffset[] = [];
      await withAdmin(this.kafka, async (admin) => {
        for (const topic of o.topics) {
          const at = await offsetsAt(admin, topic, BigInt(o.fromTimestamp!));
          const end = await offsetsAt(admin, topic, -1n);
          for (const [partition, offset] of at)
            offsets.push({
              topic,
              partition,
              offset: offset >= 0n ? offset : (end.get(partition) ?? 0n),
            });
        }
      });
      return { mode: 'manual', offsets };
    }
    return { mode: o.fromBeginning ? 'earliest' : 'latest' };
  }

  private seekPositions(): TopicPartitionOffset[] {
    return [...this.seeks].map(([key, offset]) => {
      const i = key.lastIndexOf(':');
      return {
        topic: key.slice(0, i),
        partition: Number(key.slice(i + 1)),
        offset: offset.toString(),
      };
    });
  }

  private async run(): Promise<void> {
    const opts = this.opts;
    const maxWait = opts.maxWaitTimeInMs ?? DEFAULT_MAX_WAIT_MS;
    const consumer = new Consumer<Buffer, Buffer, Buffer, Buffer>({
      ...this.kafka.options,
      groupId: opts.groupId,
      sessionTimeout: 10_000,
      rebalanceTimeout: 20_000,
      heartbeatInterval: 1_000,
      maxWaitTime: maxWait,
      minBytes: 1,
      maxBytesPerPartition: MAX_BYTES_PER_PARTITION,
      maxBytes: 2 * MAX_BYTES_PER_PARTITION,
      autocommit: false,
      // Restarts are ours (below), for every kind of failure: the client gives up after a few
      // seconds of failures (not minutes), and the supervisor starts a new consumer.
      retries: 5,
      retryDelay: (_c: unknown, _op: string, attempt: number) =>
        Math.min(2_000, 100 * 2 ** Math.max(0, attempt - 1)),
    });
    this.current = consumer;
    const generation = ++this.generation;
    if (opts.staticPartitions) {
      // The client skips a custom assigner in a group of one member (its leader takes every
      // partition): these private groups have one member by construction, so the member keeps
      // the fixed partitions of what it was given, before its stream (listening to the same
      // event, registered later) fetches.
      const fixed = new Set(opts.staticPartitions);
      consumer.on('consumer:group:join', () => {
        consumer.assignments =
          consumer.assignments?.map((a) => ({
            topic: a.topic,
            partitions: a.partitions.filter((p) => fixed.has(p)),
          })) ?? null;
      });
    }
    consumer.on('consumer:heartbeat:error', (p) => {
      if (this.current === consumer)
        this.log.debug?.(`consumer ${opts.groupId} heartbeat failed: ${p.error.message}`);
    });
    const start = await this.startingPoint();
    const stream = await withTimeout(
      consumer.consume({
        topics: opts.topics,
        mode: start.mode,
        fallbackMode: opts.fromBeginning ? 'earliest' : 'latest',
        ...(start.offsets ? { offsets: start.offsets } : {}),
        autocommit: false,
        maxWaitTime: maxWait,
      }),
      60_000,
      `consumer group ${opts.groupId} did not join`,
    );
    if (this.current !== consumer || this.isStopped()) {
      await stream.close().catch(() => undefined);
      return;
    }
    this.stream = stream;
    stream.on('fetch', () => {
      this.lastFetchAt = Date.now();
      if (opts.positionBatches) this.schedule(generation);
    });
    stream.on('data', (m: Message<Buffer, Buffer, Buffer, Buffer>) =>
      this.onMessage(generation, m),
    );
    // The client pauses its streams during a rebalance and resumes them after: one we hold
    // stays paused (the 'resume' event comes before the fetch its resume schedules).
    stream.on('resume', () => {
      if (this.stream === stream && this.holding()) stream.pause();
    });
    stream.on('error', (e: Error) => {
      if (this.current === consumer) this.onCrash(e.message);
    });
    stream.on('close', () => {
      if (this.current === consumer) this.onCrash(this.lastError || 'its message stream ended');
    });
    this.applyFlow();
    this.lastFetchAt = Date.now();
    if (!this.isStopped()) this.state = 'running';
  }

  private onMessage(generation: number, m: Message<Buffer, Buffer, Buffer, Buffer>): void {
    if (generation !== this.generation) return;
    const key = keyOf(m.topic, m.partition);
    const seek = this.seeks.get(key);
    if (seek !== undefined) {
      // A fetch sent before the seek: dropped, and the seek's position set again.
      if (m.offset !== seek) {
        this.stream?.offsetsToFetch.set(key, seek);
        return;
      }
      this.seeks.delete(key);
    }
    let q = this.queues.get(key);
    if (!q) {
      q = {
        topic: m.topic,
        partition: m.partition,
        messages: [],
        position: null,
        busy: false,
        waiting: false,
      };
      this.queues.set(key, q);
    }
    q.messages.push(consumed(m));
    this.buffered++;
    if (this.buffered > MAX_BUFFERED && !this.overloaded) {
      this.overloaded = true;
      this.applyFlow();
    }
    this.schedule(generation);
  }

  /** What one fetch pushed arrives within a tick: it is handed on as one batch per partition. */
  private schedule(generation: number): void {
    if (this.flushScheduled) return;
    this.flushScheduled = true;
    setImmediate(() => {
      this.flushScheduled = false;
      if (generation !== this.generation) return;
      if (this.opts.positionBatches) this.announcePositions();
      for (const q of this.queues.values()) this.enqueue(q);
      this.pump();
    });
  }

  /** Partitions whose position moved past records never delivered get an empty batch. */
  private announcePositions(): void {
    const s = this.stream;
    if (!s) return;
    for (const [key, next] of s.offsetsToFetch) {
      const q = this.queues.get(key);
      if (q && (q.messages.length > 0 || q.busy)) continue;
      if (q && q.position !== null && q.position >= next) continue;
      const i = key.lastIndexOf(':');
      const target =
        q ??
        ({
          topic: key.slice(0, i),
          partition: Number(key.slice(i + 1)),
          messages: [],
          position: null,
          busy: false,
          waiting: false,
        } satisfies PartitionQueue);
      this.queues.set(key, target);
      if (target.position === null && next === 0n) continue;
      target.position = next;
      void this.handle(target, [], next, this.generation);
    }
  }

  private enqueue(q: PartitionQueue): void {
    if (q.busy || q.waiting || q.messages.length === 0) return;
    q.waiting = true;
    this.ready.push(q);
  }

  private pump(): void {
    const max = this.opts.partitionsConcurrently ?? 1;
    while (this.active < max && this.ready.length > 0) {
      const q = this.ready.shift()!;
      q.waiting = false;
      if (q.messages.length === 0) continue;
      const messages = q.messages;
      q.messages = [];
      this.buffered -= messages.length;
      const next = BigInt(messages[messages.length - 1]!.offset) + 1n;
      void this.handle(q, messages, next, this.generation);
    }
    if (this.overloaded && this.buffered <= MAX_BUFFERED / 2) {
      this.overloaded = false;
      this.applyFlow();
    }
  }

  private async handle(
    q: PartitionQueue,
    messages: ConsumedMessage[],
    next: bigint,
    generation: number,
  ): Promise<void> {
    const opts = this.opts;
    const { topic, partition } = q;
    q.busy = true;
    this.active++;
    this.inBatch++;
    let resolved: bigint | null = null;
    const resolve = (offset: string) => {
      const position = BigInt(offset) + 1n;
      if (resolved === null || position > resolved) resolved = position;
      if (opts.commit === 'background' || opts.commit === 'manual')
        this.toCommit.set(keyOf(topic, partition), {
          topic,
          partition,
          offset: position.toString(),
        });
    };
    const payload: BatchPayload = {
      batch: {
        topic,
        partition,
        highWatermark: next.toString(),
        messages,
        isEmpty: () => messages.length === 0,
      },
      resolveOffset: resolve,
      commitOffsetsIfNecessary: () =>
        opts.commit === 'manual' ? this.commitNow() : this.commitInBackground(),
      // The client heartbeats by itself, on its own timer.
      heartbeat: () => Promise.resolve(),
    };
    try {
      await opts.eachBatch(payload);
      if (generation !== this.generation) return;
      q.position = next;
      if (opts.commit === 'auto' && messages.length > 0)
        this.toCommit.set(keyOf(topic, partition), { topic, partition, offset: next.toString() });
      if (opts.commit === 'none' && messages.length > 0)
        this.positions.set(keyOf(topic, partition), { topic, partition, offset: next.toString() });
      if (opts.commit === 'background' || opts.commit === 'auto') void this.commitInBackground();
    } catch (e) {
      // As kafkajs did: a failing handler restarts the consumer, which reads the batch again
      // from the last commit (or the last position handled).
      if (generation === this.generation) {
        this.log.error(
          `consumer ${opts.groupId}: handler failed on ${topic}/${partition}: ${(e as Error).message}`,
        );
        this.onCrash(`handler failed: ${(e as Error).message}`);
      }
    } finally {
      q.busy = false;
      this.active--;
      this.inBatch--;
      this.lastFetchAt = Date.now();
      if (generation === this.generation) {
        this.enqueue(q);
        this.pump();
      }
    }
  }

  /** `manual`: commits what was resolved now (the handler waits for it). */
  private async commitNow(): Promise<void> {
    await this.committing;
    await this.commitInBackground();
  }

  /**
   * Commits what was resolved, one commit at a time (a commit started while one is in flight
   * is folded into the next). A failed commit is not retried: the partition's next commit
   * carries a later offset, and a partition that moved to another member must not be
   * committed by this one.
   */
  private commitInBackground(): Promise<void> {
    const consumer = this.current;
    if (this.committing || this.toCommit.size === 0 || !consumer)
      return this.committing ?? Promise.resolve();
    const loop = async () => {
      while (this.toCommit.size > 0 && this.current === consumer) {
        const offsets = [...this.toCommit.values()];
        this.toCommit.clear();
        try {
          await consumer.commit({
            offsets: offsets.map((o) => ({
              topic: o.topic,
              partition: o.partition,
              offset: BigInt(o.offset),
              leaderEpoch: -1,
            })),
          });
        } catch (e) {
          this.log.warn(
            `consumer ${this.opts.groupId}: commit of ${offsets.map((o) => `${o.topic}/${o.partition}@${o.offset}`).join(', ')} failed: ${(e as Error).message}`,
          );
          if (this.opts.commit === 'manual') throw e;
        }
      }
    };
    this.committing = loop().finally(() => {
      this.committing = null;
    });
    return this.committing;
  }

  private onCrash(error: string): void {
    // While starting, `start()` retries by itself.
    if (this.state === 'stopped' || this.state === 'crashed' || this.state === 'starting') return;
    this.state = 'crashed';
    this.lastError = error;
    this.log.error(
      `consumer ${this.opts.groupId} crashed: ${error}; restarting in ${this.delayMs} ms`,
    );
    this.scheduleRestart();
  }

  private scheduleRestart(): void {
    if (this.timer || this.restarting) return;
    const delay = this.delayMs;
    this.delayMs = Math.min(this.opts.restartMaxMs ?? 5_000, this.delayMs * 2);
    this.timer = setTimeout(() => {
      this.timer = null;
      void this.restart();
    }, delay);
  }

  private async restart(): Promise<void> {
    if (this.isStopped()) return;
    this.restarting = true;
    try {
      await this.restartOnce();
    } finally {
      this.restarting = false;
    }
    if (this.state === 'crashed') this.scheduleRestart();
  }

  /** Closes the consumer and drops what it fetched and did not hand over. */
  private async closeCurrent(): Promise<void> {
    const consumer = this.current;
    const stream = this.stream;
    this.current = null;
    this.stream = null;
    this.generation++;
    for (const q of this.queues.values()) {
      q.messages = [];
      q.waiting = false;
    }
    this.ready.length = 0;
    this.buffered = 0;
    this.overloaded = false;
    await stream?.close().catch(() => undefined);
    await consumer?.close(true).catch(() => undefined);
  }

  private async restartOnce(): Promise<void> {
    await this.closeCurrent();
    if (this.isStopped()) return;
    this.restarts++;
    try {
      await this.run();
      this.delayMs = this.opts.restartInitialMs ?? 500;
      this.log.log(`consumer ${this.opts.groupId} restarted (restart ${this.restarts})`);
    } catch (e) {
      if (this.isStopped()) return;
      this.lastError = (e as Error).message;
      this.state = 'crashed';
      this.log.error(
        `consumer ${this.opts.groupId} restart failed: ${this.lastError}; retrying in ${this.delayMs} ms`,
      );
      await this.closeCurrent();
    }
  }

  async stop(): Promise<void> {
    const wasRunning = this.state === 'running';
    this.state = 'stopped';
    live.delete(this);
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    if (wasRunning) {
      // Nothing new is handed over; the batches in hand finish (a `manual` handler commits its
      // own) and what was handled is committed before the group is left.
      this.stream?.pause();
      this.ready.length = 0;
      const until = Date.now() + 5_000;
      while (this.inBatch > 0 && Date.now() < until) await new Promise((r) => setTimeout(r, 10));
      if (this.opts.commit === 'background' || this.opts.commit === 'auto')
        await this.commitInBackground().catch(() => undefined);
    }
    const consumer = this.current;
    const stream = this.stream;
    this.current = null;
    this.stream = null;
    this.generation++;
    await stream?.close().catch(() => undefined);
    // Leaves the group at once (its partitions go to the other members without waiting for
    // the session to expire).
    await consumer?.close().catch(() => consumer.close(true).catch(() => undefined));
  }

  register(): void {
    live.add(this);
  }
}

/**
 * Starts a consumer and resolves once it has joined its group and been assigned partitions.
 * Settings follow the broker: sessionTimeout above group.min.session.timeout.ms (6 s). The
 * consumer restarts itself after any crash (see SupervisedConsumer) until it is stopped, and
 * is listed by `liveConsumers()` for readiness meanwhile.
 */
export async function startConsumer(
  kafka: KafkaClient,
  log: Log,
  opts: ConsumerOptions,
): Promise<ConsumerHandle> {
  const handle = new SupervisedConsumer(kafka, log, opts);
  try {
    await handle.start();
  } catch (e) {
    await handle.stop().catch(() => undefined);
    throw e;
  }
  handle.register();
  return handle;
}

export function withTimeout<T>(p: Promise<T>, ms: number, message: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(message)), ms);
  });
  return Promise.race([p, timeout]).finally(() => clearTimeout(timer));
}
