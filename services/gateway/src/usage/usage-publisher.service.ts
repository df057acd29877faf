import { Injectable, Logger, type BeforeApplicationShutdown } from '@nestjs/common';
import { TOPICS, type UsageEventV1 } from '@turnpike/contracts';
import { encode } from '@turnpike/kafka';
import { ProducerService } from '@turnpike/service-kit';

/**
 * How many usage events wait in memory, at most, for the broker to come back. An event is
 * about 1-2 KB, so the bound is about 20-40 MB. Beyond it the oldest waiting event is given
 * up (logged in full, so it can be replayed by hand).
 */
export const USAGE_RETRY_LIMIT = 20_000;

/**
 * Publishes the one `usage.events.v1` record of each generation (the billing fact). The
 * producer retries a failed send for a minute; an event that still fails waits here and is
 * sent again every few seconds until the broker takes it, so an outage of any length that
 * the process survives loses no revenue (within USAGE_RETRY_LIMIT events).
 */
@Injectable()
export class UsagePublisher implements BeforeApplicationShutdown {
  private readonly log = new Logger(UsagePublisher.name);
  private readonly waiting: UsageEventV1[] = [];
  private timer: NodeJS.Timeout | null = null;
  private retrying = false;
  readonly stats = { published: 0, failed: 0, retried: 0, dropped: 0 };

  constructor(private readonly producer: ProducerService) {}

  get backlog(): number {
    return this.waiting.length;
  }

  /** Never rejects. */
  publish(event: UsageEventV1): Promise<void> {
    return this.send(event).then((ok) => {
      if (!ok) this.hold(event);
    });
  }

  private send(event: UsageEventV1): Promise<boolean> {
    return this.producer
      .send(TOPICS.usageEvents, encode(TOPICS.usageEvents, event.generationId, event))
      .then(() => {
        this.stats.published++;
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
    this.waiting.push(event);
    while (this.waiting.length > USAGE_RETRY_LIMIT) {
      const lost = this.waiting.shift()!;
      this.stats.dropped++;
      this.log.error(`usage event ${lost.generationId} NOT published: ${JSON.stringify(lost)}`);
    }
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
      if (this.waiting.length > 0) this.timer ??= setTimeout(() => void this.retry(), 2000);
      else this.log.log(`${batch.length} held usage event(s) published`);
    } finally {
      this.retrying = false;
    }
  }

  /** At shutdown, one last try; what still fails is logged in full. */
  async beforeApplicationShutdown(): Promise<void> {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    const batch = this.waiting.splice(0);
    const results = await Promise.all(batch.map((e) => this.send(e)));
    batch.forEach((e, i) => {
      if (!results[i]) {
        this.stats.dropped++;
        this.log.error(`usage event ${e.generationId} NOT published: ${JSON.stringify(e)}`);
      }
    });
  }
}
