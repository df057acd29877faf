import kafkajs from 'kafkajs';
import type { Consumer, EachBatchPayload as KafkaJsBatchPayload, PartitionAssigner } from 'kafkajs';
import { TOPIC_SPECS } from '@turnpike/contracts';
import type { KafkaClient } from './client.js';
import type { Log } from './logger.js';

const { AssignerProtocol } = kafkajs;

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
   * `auto`: offsets of handled batches are committed by kafkajs.
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
   * private groups of one instance (see `staticPartitionAssigner`).
   */
  staticPartitions?: number[];
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
 * A consumer that restarts itself. kafkajs restarts a crashed consumer only after retriable
 * errors; after a non-retriable one (e.g. `Failed to find group coordinator` after a broker
 * restart) it just emits `consumer.crash` and stays dead. Here every crash, whatever its
 * error, disconnects the consumer and starts a new one with the same options after a backoff
 * (doubling, capped), until `stop()`. A group that commits nothing resumes where it was (it
 * seeks to the offsets after the last batch it handled), so no message is skipped or re-read.
 */
class SupervisedConsumer implements ConsumerHandle {
  private current!: Consumer;
  private state: 'starting' | 'running' | 'crashed' | 'stopped' = 'starting';
  private lastError = '';
  private lastFetchAt = Date.now();
  private inBatch = 0;
  private timer: NodeJS.Timeout | null = null;
  private restarting = false;
  private delayMs: number;
  private readonly paused = new Set<string>();
  /** `background` commits: the latest resolved position of each partition not committed yet. */
  private readonly toCommit = new Map<string, TopicPartitionOffset>();
  private committing: Promise<void> | null = null;
  private readonly positions = new Map<
    string,
    { topic: string; partition: number; offset: string }
  >();
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

  pause(topics: string[]): void {
    for (const t of topics) this.paused.add(t);
    this.applyPaused(() => this.current.pause(topics.map((topic) => ({ topic }))));
  }

  resume(topics: string[]): void {
    for (const t of topics) this.paused.delete(t);
    this.applyPaused(() => this.current.resume(topics.map((topic) => ({ topic }))));
  }

  /**
   * A consumer between a crash and its restart (or stopped) cannot pause: the intent is kept
   * and the next consumer starts with it (see `run`).
   */
  private applyPaused(apply: () => void): void {
    try {
      apply();
    } catch (e) {
      if (this.state === 'running')
        this.log.warn(`consumer ${this.opts.groupId}: ${(e as Error).message}`);
    }
  }

  seek(position: TopicPartitionOffset): void {
    this.current.seek(position);
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
    return this.inBatch > 0 ? 0 : Date.now() - this.lastFetchAt;
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
        await this.current.disconnect().catch(() => undefined);
        this.state = 'starting';
        await new Promise((r) => setTimeout(r, this.delayMs));
        this.delayMs = Math.min(this.opts.restartMaxMs ?? 5_000, this.delayMs * 2);
      }
    }
  }

  private async run(): Promise<void> {
    const opts = this.opts;
    const consumer = this.kafka.consumer({
      groupId: opts.groupId,
      sessionTimeout: 10_000,
      rebalanceTimeout: 20_000,
      // Every second: a group shared by replicas hears of a rebalance promptly. (3 s in the
      // private groups made broker-restart.e2e fail three runs in a row: a stream in flight
      // across the outage never ended; not understood yet, so not done.)
      heartbeatInterval: 1_000,
      maxWaitTimeInMs: opts.maxWaitTimeInMs ?? DEFAULT_MAX_WAIT_MS,
      minBytes: 1,
      maxBytesPerPartition: MAX_BYTES_PER_PARTITION,
      maxBytes: 2 * MAX_BYTES_PER_PARTITION,
      allowAutoTopicCreation: false,
      // Restarts are ours (below), for every kind of crash: kafkajs gives up after a few
      // seconds of failures (not minutes), and the supervisor starts a new consumer.
      retry: {
        retries: 5,
        initialRetryTime: 100,
        maxRetryTime: 2000,
        restartOnFailure: async () => false,
      },
      ...(opts.staticPartitions
        ? { partitionAssigners: [staticPartitionAssigner(opts.staticPartitions)] }
        : {}),
    });
    this.current = consumer;
    const joined = new Promise<void>((resolve, reject) => {
      const offJoin = consumer.on(consumer.events.GROUP_JOIN, () => {
        offJoin();
        offCrash();
        resolve();
      });
      const offCrash = consumer.on(consumer.events.CRASH, (e) => {
        offJoin();
        offCrash();
        reject(new Error(`crashed before joining: ${String(e.payload.error)}`));
      });
    });
    joined.catch(() => undefined);
    consumer.on(consumer.events.GROUP_JOIN, () => {
      if (this.current !== consumer || this.state === 'stopped') return;
      this.state = 'running';
      this.lastFetchAt = Date.now();
    });
    consumer.on(consumer.events.FETCH, () => {
      this.lastFetchAt = Date.now();
    });
    consumer.on(consumer.events.CRASH, (e) => {
      if (this.current !== consumer) return;
      this.onCrash(String(e.payload.error));
    });
    await consumer.connect();
    await consumer.subscribe({ topics: opts.topics, fromBeginning: opts.fromBeginning });
    const resolvesItself = opts.commit === 'manual' || opts.commit === 'background';
    await consumer.run({
      autoCommit: opts.commit === 'auto' || opts.commit === 'manual',
      // kafkajs advances its fetch position only past resolved offsets: without resolving, the
      // same batch would be fetched again and again. `manual` and `background` resolve by
      // themselves.
      eachBatchAutoResolve: !resolvesItself,
      ...(opts.commit === 'manual' ? { autoCommitThreshold: 1 } : {}),
      partitionsConsumedConcurrently: opts.partitionsConcurrently ?? 1,
      eachBatch: async (payload: KafkaJsBatchPayload) => {
        this.inBatch++;
        try {
          await opts.eachBatch(
            opts.commit === 'background' ? this.committingInBackground(consumer, payload) : payload,
          );
        } finally {
          this.inBatch--;
          this.lastFetchAt = Date.now();
          if (opts.commit === 'background') void this.commitInBackground(consumer);
        }
        const last = payload.batch.messages[payload.batch.messages.length - 1];
        if (opts.commit === 'none' && last) {
          const { topic, partition } = payload.batch;
          this.positions.set(`${topic}/${partition}`, {
            topic,
            partition,
            offset: (BigInt(last.offset) + 1n).toString(),
          });
        }
      },
    });
    // Resume where the previous consumer of this handle stopped (groups that commit nothing).
    // A consumer that already crashed again cannot seek: its own restart will.
    // A paused topic stays paused in the new consumer.
    if (this.paused.size > 0) consumer.pause([...this.paused].map((topic) => ({ topic })));
    try {
      for (const p of this.positions.values()) consumer.seek(p);
    } catch (e) {
      this.log.warn(
        `consumer ${opts.groupId}: could not resume its positions: ${(e as Error).message}`,
      );
    }
    await withTimeout(joined, 60_000, `consumer group ${opts.groupId} did not join`);
    if (opts.fromTimestamp !== undefined && !opts.fromBeginning && this.positions.size === 0)
      await this.seekToTimestamp(consumer, opts.topics, opts.fromTimestamp);
    if (!this.isStopped()) this.state = 'running';
  }

  private async seekToTimestamp(consumer: Consumer, topics: string[], at: number): Promise<void> {
    const admin = this.kafka.admin();
    await admin.connect();
    try {
      for (const topic of topics)
        for (const p of await admin.fetchTopicOffsetsByTimestamp(topic, at))
          consumer.seek({ topic, partition: p.partition, offset: p.offset });
    } finally {
      await admin.disconnect();
    }
  }

  /** The payload of a `background` consumer: resolved offsets are noted for the commit. */
  private committingInBackground(consumer: Consumer, payload: KafkaJsBatchPayload): BatchPayload {
    const { topic, partition } = payload.batch;
    return {
      batch: payload.batch,
      heartbeat: () => payload.heartbeat(),
      resolveOffset: (offset) => {
        payload.resolveOffset(offset);
        this.toCommit.set(`${topic}/${partition}`, {
          topic,
          partition,
          offset: (BigInt(offset) + 1n).toString(),
        });
      },
      commitOffsetsIfNecessary: () => this.commitInBackground(consumer),
    };
  }

  /**
   * Commits what was resolved, one commit at a time (a commit started while one is in flight
   * is folded into the next). A failed commit is not retried: the partition's next commit
   * carries a later offset, and a partition that moved to another member must not be
   * committed by this one.
   */
  private commitInBackground(consumer: Consumer): Promise<void> {
    if (this.committing || this.toCommit.size === 0) return this.committing ?? Promise.resolve();
    const loop = async () => {
      while (this.toCommit.size > 0 && this.current === consumer) {
        const offsets = [...this.toCommit.values()];
        this.toCommit.clear();
        try {
          await consumer.commitOffsets(offsets);
        } catch (e) {
          this.log.warn(
            `consumer ${this.opts.groupId}: commit of ${offsets.map((o) => `${o.topic}/${o.partition}@${o.offset}`).join(', ')} failed: ${(e as Error).message}`,
          );
        }
      }
    };
    this.committing = loop().finally(() => {
      this.committing = null;
    });
    return this.committing;
  }

  private onCrash(error: string): void {
    // While starting, `start()` retries by itself (the crash rejects its join).
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

  private async restartOnce(): Promise<void> {
    const old = this.current;
    await old.disconnect().catch(() => undefined);
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
      await this.current.disconnect().catch(() => undefined);
    }
  }

  async stop(): Promise<void> {
    const wasRunning = this.state === 'running';
    this.state = 'stopped';
    live.delete(this);
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    if (this.opts.commit === 'background' && wasRunning) {
      // Nothing new is handed over; what was handled is committed before the group is left.
      this.applyPaused(() => this.current.pause(this.opts.topics.map((topic) => ({ topic }))));
      const until = Date.now() + 5_000;
      while (this.inBatch > 0 && Date.now() < until) await new Promise((r) => setTimeout(r, 10));
      await this.commitInBackground(this.current);
    }
    await this.current.stop().catch(() => undefined);
    await this.current.disconnect().catch(() => undefined);
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

/**
 * An assigner that gives every member of the group the same fixed partitions of each topic.
 * Each gateway instance reads its replies from its own partition of `llm.replies.v1` in a
 * group of its own, so it never sees another instance's replies and never rebalances.
 */
function staticPartitionAssigner(partitions: number[]): PartitionAssigner {
  return () => ({
    name: 'TurnpikeStaticAssigner',
    version: 1,
    async assign({ members, topics }) {
      return members.map((m) => ({
        memberId: m.memberId,
        memberAssignment: AssignerProtocol.MemberAssignment.encode({
          version: 1,
          assignment: Object.fromEntries(topics.map((t) => [t, partitions])),
          userData: Buffer.alloc(0),
        }),
      }));
    },
    protocol({ topics }) {
      return {
        name: 'TurnpikeStaticAssigner',
        metadata: AssignerProtocol.MemberMetadata.encode({
          version: 1,
          topics,
          userData: Buffer.alloc(0),
        }),
      };
    },
  });
}

export function withTimeout<T>(p: Promise<T>, ms: number, message: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(message)), ms);
  });
  return Promise.race([p, timeout]).finally(() => clearTimeout(timer));
}
