import { randomUUID } from 'node:crypto';
import {
  Inject,
  Injectable,
  Logger,
  type BeforeApplicationShutdown,
  type OnApplicationBootstrap,
  type OnApplicationShutdown,
} from '@nestjs/common';
import { performance } from 'node:perf_hooks';
import { TOPICS, type LlmCancelV1, type LlmGenerateV1 } from '@turnpike/contracts';
import {
  decode,
  startConsumer,
  type BatchPayload,
  type ConsumerHandle,
  type KafkaClient,
  type MessageHeaders,
} from '@turnpike/kafka';
import { KAFKA_CLIENT, Readiness } from '@turnpike/service-kit';
import { extractContext } from '@turnpike/telemetry';
import { ConnectorConfig } from '../connector.config.js';
import { AttemptExecutorService } from './attempt-executor.service.js';
import { dedupeEvictionsTotal, generationsInFlight } from './connector-metrics.js';
import { RecentIds } from './recent-ids.js';

interface InFlight {
  abort: AbortController;
  done: Promise<void>;
}

/** How long a generation id is remembered to drop redeliveries of its request. */
const SEEN_TTL_MS = 15 * 60_000;
/**
 * At most this many ids are remembered (the oldest go first): every instance also remembers the
 * cancels of the whole cluster, and a flood must not grow the map without bound (~100 bytes
 * each).
 */
export const SEEN_MAX = 200_000;
/**
 * A connector that starts reads the cancels of this far back: a request waits in Kafka at most
 * until its deadline (5 minutes at most), and its cancel may have come before this instance was
 * given its partition.
 */
export const CANCEL_LOOKBACK_MS = 6 * 60_000;
/**
 * Requests: a fetch returns as soon as a request arrives, so this long-poll costs no latency; it
 * is also how long a paused consumer sleeps before it checks again (resuming after saturation).
 */
const REQUESTS_MAX_WAIT_MS = 250;
/** Partitions of `llm.requests.v1` handled at once (their batches start generations only). */
const PARTITIONS_CONCURRENTLY = 4;

/**
 * Consumes `llm.requests.v1` without ever blocking a partition on a generation: each request is
 * started as it is decoded, and the batch's offsets are committed in the background (in order).
 * At-most-once: an id seen is remembered (size- and time-bounded), so a redelivery to this
 * instance never calls the upstream twice, and an expired request is dropped; a crash in the few
 * milliseconds between a start and its commit may let the next owner run it again.
 *
 * Cancels come on `llm.cancels.v1`, which every instance reads in full (a private group, never
 * paused): a saturated instance (requests paused at CONNECTOR_MAX_IN_FLIGHT) still hears them,
 * as does a draining one, and an instance whose request partition moved in a rebalance still
 * hears the cancels of the generations it runs. A cancel of a request not started yet marks its
 * id, so the request is dropped when it comes.
 */
@Injectable()
export class GenerationWorker
  implements OnApplicationBootstrap, BeforeApplicationShutdown, OnApplicationShutdown
{
  private readonly log = new Logger(GenerationWorker.name);
  private readonly inFlight = new Map<string, InFlight>();
  private readonly seen = new RecentIds(SEEN_TTL_MS, SEEN_MAX, (n) => dedupeEvictionsTotal.inc(n));
  private consumer: ConsumerHandle | null = null;
  private cancels: ConsumerHandle | null = null;
  private paused = false;
  private pruneTimer: NodeJS.Timeout | null = null;
  readonly stats = {
    started: 0,
    duplicates: 0,
    expired: 0,
    cancelled: 0,
    cancelledBeforeStart: 0,
    invalid: 0,
  };

  constructor(
    @Inject(KAFKA_CLIENT) private readonly kafka: KafkaClient,
    private readonly runner: AttemptExecutorService,
    private readonly config: ConnectorConfig,
    private readonly readiness: Readiness,
  ) {
    readiness.register('requests-consumer', () => this.consumer !== null || 'joining');
  }

  get inFlightCount(): number {
    return this.inFlight.size;
  }

  /** Ids remembered by the dedupe map, and how many were forgotten early (it was full). */
  get dedupe(): { size: number; evicted: number } {
    return { size: this.seen.size, evicted: this.seen.evicted };
  }

  async onApplicationBootstrap(): Promise<void> {
    // Cancels first: every request this instance takes has its cancel heard.
    this.cancels = await startConsumer(this.kafka, this.log, {
      groupId: `${this.config.groupId}-cancels-${this.config.instanceId}-${randomUUID()}`,
      topics: [TOPICS.llmCancels],
      fromBeginning: false,
      fromTimestamp: Date.now() - CANCEL_LOOKBACK_MS,
      commit: 'none',
      eachBatch: (p) => this.onCancels(p),
    });
    this.consumer = await startConsumer(this.kafka, this.log, {
      groupId: this.config.groupId,
      topics: [TOPICS.llmRequests],
      fromBeginning: false,
      commit: 'background',
      partitionsConcurrently: PARTITIONS_CONCURRENTLY,
      maxWaitTimeInMs: REQUESTS_MAX_WAIT_MS,
      eachBatch: (p) => this.onBatch(p),
    });
    this.pruneTimer = setInterval(() => this.seen.prune(), 60_000);
    this.pruneTimer.unref();
    this.log.log(
      `consuming ${TOPICS.llmRequests} as ${this.config.groupId}, and every ${TOPICS.llmCancels}`,
    );
  }

  /**
   * Stop taking work (leaving the group hands its partitions to the other replicas at once),
   * keep hearing the cancels of the generations still running, and let them finish within the
   * drain deadline; their replies, attempt records and usage are sent by the runner before it
   * resolves, and the producer is flushed last (onApplicationShutdown).
   */
  async beforeApplicationShutdown(): Promise<void> {
    this.readiness.startDraining();
    await this.consumer?.stop();
    this.consumer = null;
    const started = Date.now();
    const deadline = started + this.config.shutdownGraceMs;
    this.log.log(`draining ${this.inFlight.size} in-flight generations`);
    while (this.inFlight.size > 0 && Date.now() < deadline) {
      await Promise.race([
        Promise.allSettled([...this.inFlight.values()].map((f) => f.done)),
        new Promise((r) => setTimeout(r, 250)),
      ]);
    }
    const left = this.inFlight.size;
    for (const f of this.inFlight.values()) f.abort.abort();
    await Promise.allSettled([...this.inFlight.values()].map((f) => f.done));
    await this.cancels?.stop();
    this.cancels = null;
    this.log.log(
      `drained in ${Date.now() - started} ms${left > 0 ? ` (${left} cut at the deadline)` : ''}`,
    );
  }

  onApplicationShutdown(): void {
    if (this.pruneTimer) clearInterval(this.pruneTimer);
  }

  /**
   * A cancel: aborts the generation if it runs here (the reason tells cancelled from timed out);
   * otherwise marks its id, so its request is dropped if it comes later (to any instance: they
   * all hear every cancel).
   */
  cancel(m: LlmCancelV1, now = Date.now()): void {
    const key = `${m.generationId}#${m.attempt}`;
    const running = this.inFlight.get(key);
    if (running) {
      running.abort.abort(m.reason);
      this.stats.cancelled++;
    }
    this.seen.add(key, now);
  }

  private async onCancels({ batch, heartbeat }: BatchPayload): Promise<void> {
    const now = Date.now();
    for (const message of batch.messages) {
      const decoded = decode(TOPICS.llmCancels, message.value);
      if (decoded.ok) this.cancel(decoded.value, now);
      else {
        this.stats.invalid++;
        this.log.warn(`dropping invalid cancel at ${message.offset}: ${decoded.error}`);
      }
    }
    await heartbeat();
  }

  private async onBatch({ batch, resolveOffset, heartbeat }: BatchPayload): Promise<void> {
    const now = Date.now();
    for (const message of batch.messages) {
      resolveOffset(message.offset);
      const decoded = decode(TOPICS.llmRequests, message.value);
      if (!decoded.ok) {
        this.stats.invalid++;
        this.log.warn(
          `dropping invalid request at ${batch.partition}/${message.offset}: ${decoded.error}`,
        );
        continue;
      }
      const m = decoded.value;
      // A cancel on the requests topic: sent by a gateway of the previous release.
      if (m.kind === 'cancel') {
        this.cancel(m, now);
        continue;
      }
      const key = `${m.generationId}#${m.attempt}`;
      if (this.seen.has(key, now)) {
        this.stats.duplicates++;
        continue;
      }
      this.seen.add(key, now);
      if (m.deadlineAt <= now) {
        this.stats.expired++;
        continue;
      }
      this.start(m, message.headers);
    }
    // The offsets are committed in the background (commit: 'background'), in order.
    this.applyBackpressure();
    await heartbeat();
  }

  private start(req: LlmGenerateV1, headers: MessageHeaders | undefined): void {
    const key = `${req.generationId}#${req.attempt}`;
    const abort = new AbortController();
    const receivedAt = performance.now();
    const parent = extractContext(headers as Record<string, Buffer | string | undefined>);
    this.stats.started++;
    const done = this.runner
      .run(req, abort.signal, parent, receivedAt)
      .catch((e: unknown) =>
        this.log.error(`generation ${key} failed: ${(e as Error).stack ?? String(e)}`),
      )
      .finally(() => {
        this.inFlight.delete(key);
        generationsInFlight.set(this.inFlight.size);
        if (this.paused) this.applyBackpressure();
      });
    this.inFlight.set(key, { abort, done });
    generationsInFlight.set(this.inFlight.size);
  }

  /** Pauses fetching requests while the instance holds its maximum of generations. */
  private applyBackpressure(): void {
    const c = this.consumer;
    if (!c) return;
    if (!this.paused && this.inFlight.size >= this.config.maxInFlight) {
      this.paused = true;
      c.pause([TOPICS.llmRequests]);
      this.log.warn(`holding ${this.inFlight.size} generations: pausing ${TOPICS.llmRequests}`);
    } else if (this.paused && this.inFlight.size < this.config.maxInFlight * 0.8) {
      this.paused = false;
      c.resume([TOPICS.llmRequests]);
    }
  }
}
