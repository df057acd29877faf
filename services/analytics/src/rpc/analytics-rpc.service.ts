import { performance } from 'node:perf_hooks';
import { Injectable, type OnModuleInit } from '@nestjs/common';
import type { z } from 'zod';
import {
  ANALYTICS_LIMITS,
  ANALYTICS_RPC,
  AnalyticsQueryParams,
  FILTER_OPERATORS,
  GRANULARITY_LABELS,
  ListActivityParams,
  SKETCH_RELATIVE_ACCURACY,
  USAGE_DIMENSIONS,
  USAGE_METRICS,
  type AnalyticsMeta,
  type AnalyticsQueryResult,
  type QueryGranularity,
} from '@turnpike/contracts';
import { RpcFailure, rpcParams as parse } from '@turnpike/kafka';
import { DAY_MS, QueryRefused, RollupReader } from '@turnpike/rollups';
import { RpcServerService } from '@turnpike/service-kit';
import { AnalyticsConfig } from '../analytics.config.js';

const isoDay = (ms: number) => new Date(ms).toISOString().slice(0, 10);

/**
 * A reply must fit its topic (`rpc.replies.v1`, the broker's 1 MiB): rows beyond this many bytes
 * of JSON are cut, and the answer says it is truncated.
 */
export const MAX_REPLY_BYTES = 900_000;

export function analyticsMeta(minuteRetentionMs: number): AnalyticsMeta {
  return {
    metrics: USAGE_METRICS.map((m) => ({ ...m })),
    dimensions: USAGE_DIMENSIONS.map((d) => ({ ...d })),
    operators: FILTER_OPERATORS.map((o) => ({ ...o })),
    granularities: (Object.keys(GRANULARITY_LABELS) as QueryGranularity[]).map((name) => ({
      name,
      label: GRANULARITY_LABELS[name],
    })),
    minuteRetentionHours: minuteRetentionMs / 3_600_000,
    sketchRelativeAccuracy: SKETCH_RELATIVE_ACCURACY,
    limits: ANALYTICS_LIMITS,
  };
}

/** Cuts the rows of an answer until its JSON fits `maxBytes` (then it is truncated). */
export function fitReply(
  r: AnalyticsQueryResult,
  maxBytes = MAX_REPLY_BYTES,
): AnalyticsQueryResult {
  let size = Buffer.byteLength(JSON.stringify(r));
  if (size <= maxBytes) return r;
  let rows = r.data;
  while (size > maxBytes && rows.length > 0) {
    rows = rows.slice(0, Math.max(0, Math.floor((rows.length * maxBytes) / size) - 1));
    size = Buffer.byteLength(JSON.stringify({ ...r, data: rows }));
  }
  return {
    ...r,
    data: rows,
    rowCount: rows.length,
    truncated: true,
    warnings: [
      ...r.warnings,
      `The answer was cut to ${rows.length} rows to fit one reply: lower 'limit' or narrow the query.`,
    ],
  };
}

/** Analytics' answers over `rpc.analytics.v1`: the query API's metadata and queries, activity. */
@Injectable()
export class AnalyticsRpcService implements OnModuleInit {
  constructor(
    private readonly rpc: RpcServerService,
    private readonly reader: RollupReader,
    private readonly config: AnalyticsConfig,
  ) {}

  onModuleInit(): void {
    this.rpc.handle(ANALYTICS_RPC.meta, async () => analyticsMeta(this.config.minuteRetentionMs));
    this.rpc.handle(ANALYTICS_RPC.query, (p) => this.query(parse(AnalyticsQueryParams, p)));
    this.rpc.handle(ANALYTICS_RPC.listActivity, async (p) => {
      const q = parse(ListActivityParams, p);
      const today = Date.parse(`${isoDay(Date.now())}T00:00:00Z`);
      const [from, to] = q.date
        ? [q.date, isoDay(Date.parse(`${q.date}T00:00:00Z`) + DAY_MS)]
        : [isoDay(today - (q.days - 1) * DAY_MS), isoDay(today + DAY_MS)];
      return this.reader.activity(q.tenantId, from, to, q.keyId);
    });
  }

  /** One tenant's query: the tenant comes from the caller's key, never from the query. */
  async query(q: z.output<typeof AnalyticsQueryParams>): Promise<AnalyticsQueryResult> {
    const t0 = performance.now();
    const now = Date.now();
    const to = q.timeRange ? Date.parse(q.timeRange.end) : now;
    const from = q.timeRange
      ? Date.parse(q.timeRange.start)
      : to - ANALYTICS_LIMITS.defaultRangeDays * DAY_MS;
    try {
      const a = await this.reader.query({
        tenantIds: [q.tenantId],
        from: new Date(from),
        to: new Date(to),
        granularity: q.granularity,
        dimensions: q.dimensions,
        filters: q.filters,
        metrics: q.metrics,
        orderBy: q.orderBy,
        limit: q.limit,
        groupLimit: q.groupLimit,
      });
      return fitReply({
        data: a.rows,
        rowCount: a.rows.length,
        truncated: a.truncated,
        queryTimeMs: Math.round((performance.now() - t0) * 10) / 10,
        timeRange: { start: a.from, end: a.to },
        warnings: a.warnings,
      });
    } catch (e) {
      if (e instanceof QueryRefused) throw RpcFailure.of(400, e.message, 'invalid_query', e.param);
      throw e;
    }
  }
}
