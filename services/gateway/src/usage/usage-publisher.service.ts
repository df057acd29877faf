import {
  Injectable,
  Logger,
  type BeforeApplicationShutdown,
  type OnApplicationBootstrap,
} from '@nestjs/common';
import { TOPICS, type UsageEventV1 } from '@turnpike/contracts';
import { encode } from '@turnpike/kafka';
import { metrics, ProducerService } from '@turnpike/service-kit';
import { GatewayConfig } from '../gateway.config.js';
import { UsageSpool } from './usage-spool.js';

/**
 * How many usage events wait in memory, at most, for the broker to come back (about 1-2 KB
 * each). Beyond it an event waits on disk only (in the spool), and is read back once the ones
 * in memory went out.
 */
export const USAGE_RETRY_LIMIT = 20_000;

/** How long shutdown waits for the sends under way. */
const SHUTDOWN_SEND_WAIT_MS = 10_000;

/** Usage events on the spool (or in memory) the broker has not acknowledged yet. */
let current: UsagePublisher | null = null;
metrics.gauge(
  'turnpike_gateway_usage_events_unpublished',
  'Usage events the broker has not acknowledged yet (spooled on disk or held in memory).',
  [],
  (g) => g.set(current?.unpublished ?? 0),
);

/**
 * Publishes the one `usage.events.v1` record of each generation (the billing fact). Each event
 * is first written to the gateway's spool on disk (GATEWAY_USAGE_SPOOL_DIR, see UsageSpool),
 * then produced; the producer retries a failed send for a minute, and an event that still
 * fails waits here and is sent again every few seconds until the broker takes it. Only then is
 * it forgotten. A process that dies with events unsent leaves them in the spool, and the next
 * gateway started on the host produces them at boot: an outage of any length, a crash or a
 * kill loses no revenue (billing books each generation id once).
 */
@Injectable()
export class UsagePublisher implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly log = new Logger(UsagePublisher.name);
  private readonly waiting: UsageEventV1[] = [];
  private timer: NodeJS.Timeout | null = null;
  private retrying = false;
  /** Events that did not fit in memory wait on disk only. */
  private overflowed = false;
  private spool: UsageSpool | null = null;
  private readonly inFlight = new Set<Promise<void>>();
  readonly stats = { published: 0, failed: 0, retried: 0, recovered: 0, unspooled: 0 };

  constructor(
    private readonly producer: ProducerService,
    private readonly config: GatewayConfig,
  ) {}

  get backlog(): number {
    return this.waiting.length;
  }

  /** Events not acknowledged by the broker yet: on the spool, or held in memory without one. */
  get unpublished(): number {
    return this.spool ? this.spool.size : this.waiting.length;
  }

  /** Opens the spool and produces what an earlier process left in it. */
  onApplicationBootstrap(): void {
    // The gauge reads the live publisher of this process (one per process).
    // eslint-disable-next-line @typescript-eslint/no-this-alias
    current = this;
    if (this.config.usageSpoolDir === null) return;
    try {
      const { spool, pending, skippedLines } = UsageSpool.open(
        this.config.usageSpoolDir,
        this.config.instanceId,
      );
      this.spool = spool;
      if (skippedLines > 0)
        this.log.warn(`usage spool ${spool.dir}: ${skippedLines} torn line(s) skipped`);
      if (pending.length > 0) {
        this.stats.recovered += pending.length;
        this.log.log(`usage spool ${spool.dir}: ${pending.length} unsent event(s) to produce`);
        for (const e of pending.slice(0, USAGE_RETRY_LIMIT)) this.hold(e);
        if (pending.length > USAGE_RETRY_LIMIT) this.overflowed = true;
      }
    } catch (e) {
      this.log.error(
        `usage spool ${this.config.usageSpoolDir} unusable, events are held in memory only: ${(e as Error).message}`,
      );
    }
  }

  /** Never rejects. */
  publish(event: UsageEventV1): Promise<void> {
    const p = this.publishOne(event);
    this.inFlight.add(p);
    return p.finally(() => this.inFlight.delete(p));
  }

  private async publishOne(event: UsageEventV1): Promise<void> {
    if (this.spool) {
      try {
        await this.spool.append(event);
      } catch (e) {
        this.stats.unspooled++;
        this.log.error(
          `usage event ${event.generationId} not written to the spool: ${(e as Error).message}`,
        );
      }
    }
    if (!(await this.send(event))) this.hold(event);
  }

  private send(event: UsageEventV1): Promise<boolean> {
    return this.producer
      .send(TOPICS.usageEvents, encode(TOPICS.usageEvents, event.generationId, event))
      .then(() => {
        this.stats.published++;
        this.spool?.ack(event.generationId);
        return true;
      })
      .catch((e: unknown) => {
        this.stats.failed++;
        this.log.warn(
          `usage event ${event.generationId} not published yet: ${(e as Error).message}`,
        );
        return false;
      });
  }

  private hold(event: UsageEventV1): void {
    if (this.waiting.length >= USAGE_RETRY_LIMIT) {
      if (this.spool?.has(event.generationId)) this.overflowed = true;
      else
        this.log.error(`usage event ${event.generationId} NOT published: ${JSON.stringify(event)}`);
    } else this.waiting.push(event);
    this.timer ??= setTimeout(() => void this.retry(), 2000);
  }

  private async retry(): Promise<void> {
    this.timer = null;
    if (this.retrying) return;
    this.retrying = true;
    try {
      const batch = this.waiting.splice(0);
      this.stats.retried += batch.length;
      const results = await Promise.all(batch.map((e) => this.send(e)));
      batch.forEach((e, i) => {
        if (!results[i]) this.waiting.push(e);
      });
      if (this.waiting.length === 0 && this.overflowed && this.spool) {
        // What did not fit in memory waited on disk: read the next part of it back.
        this.overflowed = false;
        const next = this.spool.readPending(new Set(), USAGE_RETRY_LIMIT);
        this.waiting.push(...next);
        if (this.spool.size > next.length) this.overflowed = true;
      }
      if (this.waiting.length > 0) this.timer ??= setTimeout(() => void this.retry(), 2000);
      else if (batch.length > 0) this.log.log(`${batch.length} held usage event(s) published`);
    } finally {
      this.retrying = false;
    }
  }

  /**
   * At shutdown, one last try; what still fails stays in the spool for the next gateway on this
   * host (without a spool it is logged in full, so it can be replayed by hand).
   */
  async beforeApplicationShutdown(): Promise<void> {
    // Sends under way finish first (bounded), so what they deliver is acknowledged on the spool
    // and not produced again by the next start.
    await Promise.race([
      Promise.allSettled([...this.inFlight]),
      new Promise((r) => setTimeout(r, SHUTDOWN_SEND_WAIT_MS).unref()),
    ]);
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    const batch = this.waiting.splice(0);
    const results = await Promise.all(batch.map((e) => this.send(e)));
    const unsent = batch.filter((_, i) => !results[i]);
    if (this.spool) {
      if (this.spool.size > 0)
        this.log.warn(
          `${this.spool.size} usage event(s) unsent: kept in ${this.spool.dir} for the next start`,
        );
      this.spool.close();
    } else
      for (const e of unsent)
        this.log.error(`usage event ${e.generationId} NOT published: ${JSON.stringify(e)}`);
  }
}
