import { Logger } from '@nestjs/common';
import type { DataSource } from 'typeorm';
import { RpcFailure } from '@turnpike/kafka';
import type { UsageEventV1 } from '@turnpike/contracts';
import { aggregateAttempts, aggregateUsage, attemptFacts } from './in-memory-rollups.js';
import type {
  AttemptQuery,
  AttemptRow,
  RollupReader,
  UsageQuery,
  UsageResult,
} from './rollup-reader.js';

/** The most events one query may read (the interim reader aggregates them in memory). */
const MAX_EVENTS = 200_000;

/**
 * INTERIM `RollupReader`, until the rollups' own reader is merged: it reads the usage events
 * this service already stores (`analytics.usage_events`, written by `UsageEventsSink`, its own
 * table) for the query's window and tenants, and aggregates them with the same in-memory code
 * as the unit specs' fake. Exact, idempotent on the generation id (the table's key), and slow
 * on large windows (bounded: a query over more than 200,000 events is refused with a 503).
 * It writes nothing and keeps no copy: replacing it is one provider in `analytics.module.ts`.
 */
export class RawEventsRollupReader implements RollupReader {
  private readonly log = new Logger(RawEventsRollupReader.name);

  constructor(
    private readonly db: DataSource,
    private readonly schema: string,
  ) {}

  async query(q: UsageQuery): Promise<UsageResult> {
    return aggregateUsage(await this.events(q.from, q.to, q.tenantIds), q);
  }

  async attempts(q: AttemptQuery): Promise<AttemptRow[]> {
    return aggregateAttempts(attemptFacts(await this.events(q.from, q.to, 'all')), q);
  }

  private async events(
    from: Date,
    to: Date,
    tenantIds: readonly string[] | 'all',
  ): Promise<UsageEventV1[]> {
    if (tenantIds !== 'all' && tenantIds.length === 0) return [];
    // A day of margin before `from`: the aggregation keeps exactly the buckets in the window.
    const rows: Array<{ event: UsageEventV1 }> = await this.db.query(
      `SELECT event FROM "${this.schema}".usage_events
        WHERE created_at >= $1 AND created_at < $2
          AND ($3::text[] IS NULL OR tenant_id = ANY($3::text[]))
        LIMIT ${MAX_EVENTS + 1}`,
      [
        new Date(from.getTime() - 86_400_000).toISOString(),
        to.toISOString(),
        tenantIds === 'all' ? null : [...tenantIds],
      ],
    );
    if (rows.length > MAX_EVENTS) {
      this.log.warn(
        `a query over ${from.toISOString()}..${to.toISOString()} reads too many events`,
      );
      throw RpcFailure.of(
        503,
        'This window holds too many events for the interim reader; ask for a shorter one.',
        'query_too_large',
      );
    }
    return rows.map((r) => r.event);
  }
}
