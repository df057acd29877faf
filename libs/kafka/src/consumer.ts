import kafkajs from 'kafkajs';
import type { Consumer, EachBatchPayload, PartitionAssigner } from 'kafkajs';
import { TOPIC_SPECS } from '@turnpike/contracts';
import type { KafkaClient } from './client.js';
import type { Log } from './logger.js';

const { AssignerProtocol } = kafkajs;

export interface ConsumerOptions {
  groupId: string;
  topics: string[];
  fromBeginning: boolean;
  /**
   * `auto`: offsets of handled batches are committed by kafkajs.
   * `manual`: the handler resolves offsets and calls `commitOffsetsIfNecessary()` itself, when it
   * decides (e.g. before starting work, for at-most-once).
   * `none`: nothing is committed (private groups that always start at the end).
   */
  commit: 'auto' | 'manual' | 'none';
  eachBatch: (payload: EachBatchPayload) => Promise<void>;
  partitionAssigners?: PartitionAssigner[];
  /** Long-poll wait when a fetch finds nothing. Small on the hot path (kafkajs default is 5 s). */
  maxWaitTimeInMs?: number;
  /** First delay before restarting a crashed consumer (doubles up to `restartMaxMs`). */
  restartInitialMs?: number;
  restartMaxMs?: number;
  /** How long the first start keeps retrying to join its group (default 60 s). */
  startTimeoutMs?: number;
}

export interface ConsumerHandle {
  /** The kafkajs consumer running now (a new one after each restart). */
  readonly consumer: Consumer;
  readonly groupId: string;
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

  get consumer(): Consumer {
    return this.current;
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
      heartbeatInterval: 1_000,
      maxWaitTimeInMs: opts.maxWaitTimeInMs ?? 50,
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
      ...(opts.partitionAssigners ? { partitionAssigners: opts.partitionAssigners } : {}),
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
    await consumer.run({
      autoCommit: opts.commit !== 'none',
      // kafkajs advances its fetch position only past resolved offsets: without resolving, the
      // same batch would be fetched again and again. Only `manual` resolves by itself.
      eachBatchAutoResolve: opts.commit !== 'manual',
      ...(opts.commit === 'manual' ? { autoCommitThreshold: 1 } : {}),
      eachBatch: async (payload) => {
        this.inBatch++;
        try {
          await opts.eachBatch(payload);
        } finally {
          this.inBatch--;
          this.lastFetchAt = Date.now();
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
    try {
      for (const p of this.positions.values()) consumer.seek(p);
    } catch (e) {
      this.log.warn(
        `consumer ${opts.groupId}: could not resume its positions: ${(e as Error).message}`,
      );
    }
    await withTimeout(joined, 60_000, `consumer group ${opts.groupId} did not join`);
    if (!this.isStopped()) this.state = 'running';
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
    this.state = 'stopped';
    live.delete(this);
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
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
export function staticPartitionAssigner(partitions: number[]): PartitionAssigner {
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
