import type { PercentileFigures, RollupGranularity } from '@turnpike/contracts';
import { RpcFailure } from '@turnpike/kafka';
import {
  ceilTo,
  DAY_MS,
  FIGURES_QUERY_BOUNDS,
  HOUR_MS,
  MINUTE_MS,
  QueryRefused,
  type AttemptDimension as BucketAttemptDimension,
  type FiguresAttemptMetric,
  type FiguresUsageDimension,
  type FiguresUsageMetric,
  type RollupAnswer,
  type RollupFilter,
  type RollupReader as BucketReader,
} from '@turnpike/rollups';
import type { AnalyticsRow } from '@turnpike/contracts';
import { shape, usageField } from './in-memory-rollups.js';
import { USAGE_METRICS } from './rollup-reader.js';
import type {
  AttemptQuery,
  AttemptRow,
  DimensionFilter,
  RollupReader,
  UsageGroupBy,
  UsageMetric,
  UsageQuery,
  UsageResult,
  UsageRow,
} from './rollup-reader.js';

/**
 * The community's `RollupReader` port over the rollups (`analytics.usage_rollups` and
 * `analytics.attempt_rollups`, read by `@turnpike/rollups`' reader): sums exact, percentiles
 * merged from the DDSketch bins of every bucket and dimension of a group (within the sketches'
 * 1 % relative accuracy). Ordering, `limit` and the per-bucket `groupLimit` are the port's, applied
 * to the merged groups exactly as the in-memory fake applies them.
 */

const STEP: Record<RollupGranularity, number> = { minute: MINUTE_MS, hour: HOUR_MS, day: DAY_MS };

const QUANTILE_METRICS = (prefix: 'ttft' | 'latency' | 'throughput') =>
  [`${prefix}_p50`, `${prefix}_p90`, `${prefix}_p99`] as const;
const DISTRIBUTIONS = ['ttft', 'latency', 'throughput'] as const;

/** The summed measures: every metric of the port but the distributions. */
const USAGE_SUMS = USAGE_METRICS.filter(
  (m): m is Exclude<UsageMetric, (typeof DISTRIBUTIONS)[number]> =>
    !(DISTRIBUTIONS as readonly string[]).includes(m),
);

function filtersOf<D extends string>(
  filters: ReadonlyArray<DimensionFilter<D>> | undefined,
): Array<RollupFilter<D>> {
  return (filters ?? []).map((f) => ({
    field: f.dimension,
    operator: 'in',
    value: f.values.filter((v): v is string => v !== null),
    includeUnset: f.values.includes(null),
  }));
}

function percentilesOf(row: AnalyticsRow, prefix: (typeof DISTRIBUTIONS)[number]) {
  const [p50, p90, p99] = QUANTILE_METRICS(prefix).map((m) => row[m] as number | null);
  return p50 == null || p90 == null || p99 == null
    ? null
    : ({ p50, p90, p99 } satisfies PercentileFigures);
}

const countsOf = (row: AnalyticsRow): Record<string, number> =>
  JSON.parse((row['errors_by_code'] as string | null) ?? '{}') as Record<string, number>;

/** The window's buckets: those of `granularity` that start in [from, to). */
function window(q: { from: Date; to: Date; granularity: RollupGranularity }) {
  // A bucket starting before `to` holds events up to its end: the buckets' reader counts a
  // bucket of its finest granularity when it starts in the range, so the range ends at the end
  // of the last bucket of the query's granularity.
  return { from: q.from, to: new Date(ceilTo(q.to.getTime(), STEP[q.granularity])) };
}

/** What a figures query of the buckets takes from the port's query, for either table. */
function bucketQuery<D extends string>(q: {
  from: Date;
  to: Date;
  granularity: RollupGranularity;
  dimensions: readonly string[];
  filters?: ReadonlyArray<DimensionFilter<D>>;
}) {
  return {
    ...window(q),
    granularity: q.dimensions.includes('bucket') ? q.granularity : null,
    filters: filtersOf(q.filters),
    orderBy: null,
    limit: FIGURES_QUERY_BOUNDS.maxRows,
    groupLimit: null,
  };
}

/** A group's key: its dimensions' values, and its bucket's start (ISO) for `bucket`. */
function keyOf<K extends string>(
  dimensions: readonly K[],
  row: AnalyticsRow,
  granularity: RollupGranularity,
): Partial<Record<K, string | null>> {
  const key: Partial<Record<K, string | null>> = {};
  for (const d of dimensions)
    key[d] = (d === 'bucket' ? row[`date__${granularity}`] : row[d]) as string | null;
  return key;
}

/** Too large an answer is refused (503), never silently cut. */
function complete(a: RollupAnswer): AnalyticsRow[] {
  if (a.truncated)
    throw RpcFailure.of(
      503,
      `This window holds more than ${FIGURES_QUERY_BOUNDS.maxRows} groups; ask for a shorter one.`,
      'query_too_large',
    );
  return a.rows;
}

async function asked(answer: () => Promise<RollupAnswer>): Promise<AnalyticsRow[]> {
  try {
    return complete(await answer());
  } catch (e) {
    if (e instanceof QueryRefused) throw RpcFailure.of(400, e.message, 'invalid_request');
    throw e;
  }
}

export class RollupsPort implements RollupReader {
  constructor(private readonly buckets: BucketReader) {}

  async query(q: UsageQuery): Promise<UsageResult> {
    if (q.tenantIds !== 'all' && q.tenantIds.length === 0) return { rows: [], truncated: false };
    const byBucket = q.dimensions.includes('bucket');
    const dimensions = q.dimensions.filter((d): d is FiguresUsageDimension => d !== 'bucket');
    const wanted = new Set(q.metrics);
    const metrics: FiguresUsageMetric[] = [
      ...USAGE_SUMS,
      'errors_by_code',
      ...DISTRIBUTIONS.filter((d) => wanted.has(d)).flatMap((d) => QUANTILE_METRICS(d)),
    ];
    const rows = await asked(() =>
      this.buckets.usageFigures({ ...bucketQuery(q), tenantIds: q.tenantIds, dimensions, metrics }),
    );
    const out: UsageRow[] = rows.map((r) => {
      const key = keyOf<UsageGroupBy>(q.dimensions, r, q.granularity);
      const n = (m: (typeof USAGE_SUMS)[number]) => r[m] as number;
      return {
        key,
        requests: n('requests'),
        promptTokens: n('prompt_tokens'),
        completionTokens: n('completion_tokens'),
        cachedTokens: n('cached_tokens'),
        cacheWriteTokens: n('cache_write_tokens'),
        reasoningTokens: n('reasoning_tokens'),
        upstreamMicros: n('upstream_micros'),
        chargedMicros: n('charged_micros'),
        errors: n('errors'),
        errorsByKind: countsOf(r),
        fallbacks: n('fallbacks'),
        ttftMs: wanted.has('ttft') ? percentilesOf(r, 'ttft') : null,
        latencyMs: wanted.has('latency') ? percentilesOf(r, 'latency') : null,
        tokensPerSecond: wanted.has('throughput') ? percentilesOf(r, 'throughput') : null,
      };
    });
    const order = q.orderBy ?? { field: 'requests', direction: 'desc' as const };
    return shape(
      out,
      (r) => usageField(r, order.field),
      order.direction,
      q.limit,
      q.groupLimit,
      byBucket,
    );
  }

  /**
   * Attempt figures: the buckets are read per outcome, then folded per group; the error codes
   * are those of failed attempts (error, timeout), and the distributions those of successful
   * attempts, as the port defines them.
   */
  async attempts(q: AttemptQuery): Promise<AttemptRow[]> {
    const dims = q.dimensions.filter((d): d is BucketAttemptDimension => d !== 'bucket');
    const dimensions = dims.includes('outcome') ? dims : [...dims, 'outcome' as const];
    const metrics: FiguresAttemptMetric[] = [
      'attempts',
      'errors_by_code',
      ...DISTRIBUTIONS.flatMap((d) => QUANTILE_METRICS(d)),
    ];
    const rows = await asked(() =>
      this.buckets.attemptFigures({ ...bucketQuery(q), tenantIds: 'all', dimensions, metrics }),
    );
    const groups = new Map<string, AttemptRow>();
    for (const r of rows) {
      const key = keyOf(q.dimensions, r, q.granularity);
      const id = JSON.stringify(q.dimensions.map((d) => key[d]));
      let g = groups.get(id);
      if (!g) {
        g = {
          key,
          attempts: 0,
          outcomes: { success: 0, error: 0, cancelled: 0, timeout: 0 },
          errorCodes: {},
          ttftMs: null,
          latencyMs: null,
          tokensPerSecond: null,
        };
        groups.set(id, g);
      }
      const outcome = r['outcome'] as keyof AttemptRow['outcomes'];
      const n = r['attempts'] as number;
      g.attempts += n;
      g.outcomes[outcome] += n;
      if (outcome === 'error' || outcome === 'timeout')
        for (const [code, c] of Object.entries(countsOf(r)))
          g.errorCodes[code] = (g.errorCodes[code] ?? 0) + c;
      if (outcome === 'success') {
        g.ttftMs = percentilesOf(r, 'ttft');
        g.latencyMs = percentilesOf(r, 'latency');
        g.tokensPerSecond = percentilesOf(r, 'throughput');
      }
    }
    return [...groups.values()].sort((a, b) =>
      JSON.stringify(a.key).localeCompare(JSON.stringify(b.key)),
    );
  }
}
