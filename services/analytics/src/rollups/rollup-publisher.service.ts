import {
  Injectable,
  Logger,
  type OnApplicationBootstrap,
  type OnApplicationShutdown,
} from '@nestjs/common';
import { TOPICS } from '@turnpike/contracts';
import { encode } from '@turnpike/kafka';
import { rollupKey, rollupRecord, RollupStore, type UnreadableRow } from '@turnpike/rollups';
import { dbErrorText, ProducerService } from '@turnpike/service-kit';
import { AnalyticsConfig } from '../analytics.config.js';

/** Buckets read and published per round (a round repeats while it finds a full page). */
const PAGE = 500;

/**
 * Publishes closed buckets on `usage.rollups.v1`: a bucket is closed `ANALYTICS_CLOSE_DELAY`
 * after it ends, and published when its current version is not on the topic yet (so a bucket a
 * late event or a compaction changed goes out again, with a higher version). At least once: the
 * versions are marked published after the broker acknowledged them, so a crash in between
 * publishes the same versions again, which a reader of the topic takes as the same record.
 */
@Injectable()
export class RollupPublisher implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly log = new Logger('rollup-publisher');
  private timer: NodeJS.Timeout | null = null;
  private running: Promise<number> | null = null;
  readonly stats = { published: 0, rounds: 0, failures: 0, skipped: 0 };

  constructor(
    private readonly store: RollupStore,
    private readonly producer: ProducerService,
    private readonly config: AnalyticsConfig,
  ) {}

  onApplicationBootstrap(): void {
    this.timer = setInterval(() => {
      void this.publishDue();
    }, this.config.publishIntervalMs);
    this.timer.unref();
  }

  onApplicationShutdown(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }

  /** Publishes every closed bucket due; resolves to how many were published. */
  publishDue(): Promise<number> {
    this.running ??= this.round().finally(() => {
      this.running = null;
    });
    return this.running;
  }

  private async round(): Promise<number> {
    let total = 0;
    try {
      for (;;) {
        const now = Date.now();
        const unreadable: UnreadableRow[] = [];
        const rows = await this.store.unpublished(now - this.config.closeDelayMs, PAGE, (u) =>
          unreadable.push(u),
        );
        for (const u of unreadable)
          this.log.error(
            `${u.kind} bucket ${u.id} (version ${u.version}) cannot be published and is skipped: ${u.error}`,
          );
        if (rows.length + unreadable.length === 0) break;
        if (rows.length > 0)
          await this.producer.sendAll(
            TOPICS.usageRollups,
            rows.map((r) => encode(TOPICS.usageRollups, rollupKey(r), rollupRecord(r, now))),
          );
        // Unreadable versions are marked too: they must not hold back every later bucket.
        await this.store.markPublished([...rows, ...unreadable]);
        this.stats.skipped += unreadable.length;
        total += rows.length;
        if (rows.length + unreadable.length < PAGE) break;
      }
      this.stats.rounds++;
      this.stats.published += total;
      if (total > 0) this.log.debug?.(`published ${total} closed bucket(s)`);
    } catch (e) {
      this.stats.failures++;
      this.log.warn(`publishing closed buckets failed (tried again shortly): ${dbErrorText(e)}`);
    }
    return total;
  }
}
