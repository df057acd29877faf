import {
  Inject,
  Injectable,
  Logger,
  type BeforeApplicationShutdown,
  type OnApplicationBootstrap,
  type OnApplicationShutdown,
} from '@nestjs/common';
import { performance } from 'node:perf_hooks';
import type { EachBatchPayload } from 'kafkajs';
import { TOPICS, type LlmCancelV1, type LlmGenerateV1 } from '@turnpike/contracts';
import {
  decode,
  startConsumer,
  staticPartitionAssigner,
  type ConsumerHandle,
  type KafkaClient,
} from '@turnpike/kafka';
import { KAFKA_CLIENT, Readiness } from '@turnpike/service-kit';
import { extractContext } from '@turnpike/telemetry';
import { ConnectorConfig } from '../connector.config.js';
import { generationsInFlight } from './connector-metrics.js';
import { AttemptExecutorService } from './attempt-executor.service.js';

interface InFlight {
  abort: AbortController;
  done: Promise<void>;
}

/** How long a generation id is remembered to drop redeliveries of its request. */
const SEEN_TTL_MS = 15 * 60_000;

/**
 * Consumes `llm.requests.v1` without ever blocking a partition on a generation: each batch is
 * decoded, its offsets are committed, and only then are its generations started in the
 * background (at-most-once: a redelivered request never calls the upstream twice). Cancels
 * travel on the same partition as their request, so they reach the instance running it.
 */
@Injectable()
export class GenerationWorker
  implements OnApplicationBootstrap, BeforeApplicationShutdown, OnApplicationShutdown
{
  private readonly log = new Logger(GenerationWorker.name);
  private readonly inFlight = new Map<string, InFlight>();
  private readonly seen = new Map<string, number>();
  private consumer: ConsumerHandle | null = null;
  private paused = false;
  private pruneTimer: NodeJS.Timeout | null = null;
  readonly stats = { started: 0, duplicates: 0, expired: 0, cancelled: 0, invalid: 0 };

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

  async onApplicationBootstrap(): Promise<void> {
    this.consumer = await startConsumer(this.kafka, this.log, {
      groupId: this.config.groupId,
      topics: [TOPICS.llmRequests],
      fromBeginning: false,
      commit: 'manual',
      maxWaitTimeInMs: 20,
      eachBatch: (p) => this.onBatch(p),
    });
    this.pruneTimer = setInterval(() => this.pruneSeen(), 60_000);
    this.pruneTimer.unref();
    this.log.log(`consuming ${TOPICS.llmRequests} as ${this.config.groupId}`);
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
    const cancels =
      this.inFlight.size > 0
        ? await this.listenForCancels().catch((e: unknown) => {
            this.log.warn(`draining without hearing cancels: ${(e as Error).message}`);
            return null;
          })
        : null;
    while (this.inFlight.size > 0 && Date.now() < deadline) {
      await Promise.race([
        Promise.allSettled([...this.inFlight.values()].map((f) => f.done)),
        new Promise((r) => setTimeout(r, 250)),
      ]);
    }
    const left = this.inFlight.size;
    for (const f of this.inFlight.values()) f.abort.abort();
    await Promise.allSettled([...this.inFlight.values()].map((f) => f.done));
    await cancels?.stop();
    this.log.log(
      `drained in ${Date.now() - started} ms${left > 0 ? ` (${left} cut at the deadline)` : ''}`,
    );
  }

  /**
   * While draining: reads `llm.requests.v1` in a group of this instance alone, from where the
   * connectors' group had committed (every message before was handled by the consumer that just
   * stopped), applying only the cancels of generations running here. New requests are left to
   * the replica that now owns their partition.
   */
  private async listenForCancels(): Promise<ConsumerHandle> {
    const admin = this.kafka.admin();
    await admin.connect();
    let committed: Array<{ partition: number; offset: string }>;
    try {
      const offsets = await admin.fetchOffsets({
        groupId: this.config.groupId,
        topics: [TOPICS.llmRequests],
      });
      committed = offsets.find((o) => o.topic === TOPICS.llmRequests)?.partitions ?? [];
    } finally {
      await admin.disconnect();
    }
    const handle = await startConsumer(this.kafka, this.log, {
      groupId: `${this.config.groupId}-drain-${this.config.instanceId}-${Date.now()}`,
      topics: [TOPICS.llmRequests],
      fromBeginning: false,
      commit: 'none',
      maxWaitTimeInMs: 20,
      partitionAssigners: [staticPartitionAssigner(committed.map((c) => c.partition))],
      eachBatch: async ({ batch }) => {
        for (const message of batch.messages) {
          const decoded = decode(TOPICS.llmRequests, message.value);
          if (decoded.ok && decoded.value.kind === 'cancel') this.cancel(decoded.value);
        }
      },
    });
    for (const c of committed)
      if (Number(c.offset) >= 0)
        handle.consumer.seek({
          topic: TOPICS.llmRequests,
          partition: c.partition,
          offset: c.offset,
        });
    return handle;
  }

  /** A cancel of a generation running here: abort it (the reason tells cancelled from timed out). */
  private cancel(m: LlmCancelV1): boolean {
    const running = this.inFlight.get(`${m.generationId}#${m.attempt}`);
    running?.abort.abort(m.reason);
    return running !== undefined;
  }

  onApplicationShutdown(): void {
    if (this.pruneTimer) clearInterval(this.pruneTimer);
  }

  private async onBatch({
    batch,
    resolveOffset,
    commitOffsetsIfNecessary,
    heartbeat,
  }: EachBatchPayload): Promise<void> {
    const toStart: Array<{
      req: LlmGenerateV1;
      headers: EachBatchPayload['batch']['messages'][number]['headers'];
    }> = [];
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
      const key = `${m.generationId}#${m.attempt}`;
      if (m.kind === 'cancel') {
        const queued = toStart.findIndex(
          (s) => s.req.generationId === m.generationId && s.req.attempt === m.attempt,
        );
        if (queued >= 0) toStart.splice(queued, 1);
        if (this.cancel(m) || queued >= 0) this.stats.cancelled++;
        this.seen.set(key, now + SEEN_TTL_MS);
        continue;
      }
      if (this.seen.has(key)) {
        this.stats.duplicates++;
        continue;
      }
      this.seen.set(key, now + SEEN_TTL_MS);
      if (m.deadlineAt <= now) {
        this.stats.expired++;
        continue;
      }
      toStart.push({ req: m, headers: message.headers });
    }
    // At-most-once: the offsets are committed before any upstream call starts.
    await commitOffsetsIfNecessary();
    for (const { req, headers } of toStart) this.start(req, headers);
    this.applyBackpressure(batch.topic);
    await heartbeat();
  }

  private start(req: LlmGenerateV1, headers: Record<string, unknown> | undefined): void {
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
        if (this.paused) this.applyBackpressure(TOPICS.llmRequests);
      });
    this.inFlight.set(key, { abort, done });
    generationsInFlight.set(this.inFlight.size);
  }

  /** Pauses fetching while the instance holds its maximum of generations. */
  private applyBackpressure(topic: string): void {
    const c = this.consumer?.consumer;
    if (!c) return;
    if (!this.paused && this.inFlight.size >= this.config.maxInFlight) {
      this.paused = true;
      c.pause([{ topic }]);
      this.log.warn(`holding ${this.inFlight.size} generations: pausing ${topic}`);
    } else if (this.paused && this.inFlight.size < this.config.maxInFlight * 0.8) {
      this.paused = false;
      c.resume([{ topic }]);
    }
  }

  private pruneSeen(): void {
    const now = Date.now();
    for (const [k, exp] of this.seen) if (exp < now) this.seen.delete(k);
  }
}
