import { Injectable, Logger, type OnApplicationShutdown } from '@nestjs/common';
import { RollupStore } from '@turnpike/rollups';
import { dbErrorText } from '@turnpike/service-kit';
import { AnalyticsConfig } from '../analytics.config.js';

/**
 * Compacts minute buckets older than `ANALYTICS_MINUTE_RETENTION` into hour buckets, at boot
 * (before the consumers start) and then every `ANALYTICS_COMPACTION_INTERVAL`. A failed run is
 * logged and tried again at the next interval: nothing is lost meanwhile (minutes are only
 * deleted in the transaction that merges them into their hours).
 */
@Injectable()
export class Compactor implements OnApplicationShutdown {
  private readonly log = new Logger('compaction');
  private timer: NodeJS.Timeout | null = null;
  private running: Promise<void> | null = null;
  readonly stats = { runs: 0, minuteRows: 0, hourRows: 0, failures: 0, watermark: -Infinity };

  constructor(
    private readonly store: RollupStore,
    private readonly config: AnalyticsConfig,
  ) {}

  /** Compacts what is due now, then keeps doing so on the interval. */
  async compactNow(): Promise<void> {
    this.running ??= this.run().finally(() => {
      this.running = null;
    });
    await this.running;
    this.schedule();
  }

  private schedule(): void {
    if (this.timer) return;
    this.timer = setInterval(() => {
      void this.compactNow();
    }, this.config.compactionIntervalMs);
    this.timer.unref();
  }

  private async run(): Promise<void> {
    const cutoff = Date.now() - this.config.minuteRetentionMs;
    try {
      for (;;) {
        const r = await this.store.compact(cutoff);
        this.stats.minuteRows += r.minuteRows;
        this.stats.hourRows += r.hourRows;
        this.stats.watermark = r.watermark;
        if (r.minuteRows > 0)
          this.log.log(
            `compacted ${r.minuteRows} minute bucket(s) into ${r.hourRows} hour bucket(s), up to ${new Date(r.watermark).toISOString()}`,
          );
        if (r.watermark >= Math.floor(cutoff / 3_600_000) * 3_600_000) break;
      }
      this.stats.runs++;
    } catch (e) {
      this.stats.failures++;
      this.log.warn(
        `compaction failed (tried again in ${this.config.compactionIntervalMs} ms): ${dbErrorText(e)}`,
      );
    }
  }

  onApplicationShutdown(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }
}
