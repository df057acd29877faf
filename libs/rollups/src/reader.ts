import {
  ANALYTICS_LIMITS,
  type ActivityRow,
  type AnalyticsFilter,
  type AnalyticsOrderBy,
  type AnalyticsRow,
  type QueryGranularity,
  type UsageDimension,
  type UsageMetric,
} from '@turnpike/contracts';
import { ceilTo, DAY_MS, floorTo, HOUR_MS, MINUTE_MS } from './buckets.js';
import { quantileOf, type SketchBins } from './sketch.js';
import { quoteSchema, type Db, type Sql } from './sql.js';
import { int } from './store.js';

/**
 * Reading the buckets: one query model for the tenant analytics API, the activity statement and
 * (through `tenantIds`) the cross-tenant figures of rankings and comparisons.
 *
 * A time range is answered from the coarsest buckets that tile it: whole UTC days from the day
 * buckets, the rest from the minute buckets, or, before the compaction watermark (where minutes
 * were compacted into hours), from the hour buckets. A bucket counts when its start lies in the
 * range, so before the watermark the range has hour precision (a warning says so). Sums are added
 * in SQL; distributions are merged in SQL bin by bin and read with DDSketch (`quantileOf`), so a
 * percentile over any buckets and dimensions is within the sketch's relative accuracy.
 */

/** A query refused for its parameters (the caller's to fix: a 400 naming `param`). */
export class QueryRefused extends Error {
  constructor(
    message: string,
    readonly param: string,
  ) {
    super(message);
    this.name = 'QueryRefused';
  }
}

type SketchColumn = 'ttft_sketch' | 'latency_sketch' | 'throughput_sketch';

type MetricSpec =
  | { kind: 'sql'; sql: string; scale?: number; integer?: boolean }
  | { kind: 'quantile'; column: SketchColumn; q: number }
  /** A map of counts (`errors_by_code`) merged entry by entry; answered as a JSON object. */
  | { kind: 'map'; column: 'errors_by_code' };

const sum = (c: string): MetricSpec => ({ kind: 'sql', sql: `sum(${c})`, integer: true });
const sumWhere = (c: string, cond: string): MetricSpec => ({
  kind: 'sql',
  sql: `sum(${c}) FILTER (WHERE ${cond})`,
  integer: true,
});
const ratio = (num: string, den: string): MetricSpec => ({
  kind: 'sql',
  sql: `sum(${num})::float8 / nullif(sum(${den}), 0)`,
});
const mean = (c: SketchColumn): MetricSpec => ({
  kind: 'sql',
  sql: `sum((${c}->>'s')::numeric) / nullif(sum((${c}->>'n')::numeric), 0)`,
});
const q = (column: SketchColumn, quantile: number): MetricSpec => ({
  kind: 'quantile',
  column,
  q: quantile,
});

/** The distributions' metrics the tenant API offers for usage and attempt buckets alike. */
const DISTRIBUTION_METRICS = {
  avg_latency: mean('latency_sketch'),
  p50_latency: q('latency_sketch', 0.5),
  p90_latency: q('latency_sketch', 0.9),
  p99_latency: q('latency_sketch', 0.99),
  avg_ttft: mean('ttft_sketch'),
  p50_ttft: q('ttft_sketch', 0.5),
  p90_ttft: q('ttft_sketch', 0.9),
  p99_ttft: q('ttft_sketch', 0.99),
  avg_throughput: mean('throughput_sketch'),
  p50_throughput: q('throughput_sketch', 0.5),
  p90_throughput: q('throughput_sketch', 0.9),
} satisfies Record<string, MetricSpec>;

export interface TableSpec<D extends string, M extends string> {
  table: string;
  /** The tenant column, when rows belong to tenants. */
  tenantColumn: string | null;
  dims: Record<D, string>;
  metrics: Record<M, MetricSpec>;
  /** Always computable, for ordering by it without asking for it. */
  countMetric: M;
}

export const USAGE_TABLE: TableSpec<UsageDimension, UsageMetric> = {
  table: 'usage_rollups',
  tenantColumn: 'tenant_id',
  dims: {
    model: 'model',
    provider: 'provider',
    endpoint_id: 'endpoint_id',
    api_key_id: 'key_id',
    app: 'app',
    finish_reason: 'finish_reason',
    status: 'status',
  },
  metrics: {
    request_count: sum('requests'),
    total_usage: { kind: 'sql', sql: 'sum(charged_micros)', scale: 1e-6 },
    usage_upstream: { kind: 'sql', sql: 'sum(upstream_micros)', scale: 1e-6 },
    tokens_total: sum('prompt_tokens + completion_tokens'),
    tokens_prompt: sum('prompt_tokens'),
    tokens_completion: sum('completion_tokens'),
    tokens_reasoning: sum('reasoning_tokens'),
    tokens_cached: sum('cached_tokens'),
    tokens_cache_write: sum('cache_write_tokens'),
    cache_hit_rate: ratio('cached_tokens', 'prompt_tokens'),
    error_count: sum('errors'),
    error_rate: ratio('errors', 'requests'),
    fallback_count: sum('fallbacks'),
    fallback_rate: ratio('fallbacks', 'requests'),
    ...DISTRIBUTION_METRICS,
  },
  countMetric: 'request_count',
};

export const ATTEMPT_DIMENSIONS = ['endpoint_id', 'provider', 'model', 'outcome'] as const;
export type AttemptDimension = (typeof ATTEMPT_DIMENSIONS)[number];
export const ATTEMPT_METRICS = [
  'attempt_count',
  'success_count',
  'success_rate',
  'error_count',
  'error_rate',
  'tokens_prompt',
  'tokens_completion',
  'avg_latency',
  'p50_latency',
  'p90_latency',
  'p99_latency',
  'avg_ttft',
  'p50_ttft',
  'p90_ttft',
  'p99_ttft',
  'avg_throughput',
  'p50_throughput',
  'p90_throughput',
] as const;
export type AttemptMetric = (typeof ATTEMPT_METRICS)[number];

const FAILED = `outcome IN ('error', 'timeout')`;
export const ATTEMPT_TABLE: TableSpec<AttemptDimension, AttemptMetric> = {
  table: 'attempt_rollups',
  tenantColumn: null,
  dims: { endpoint_id: 'endpoint_id', provider: 'provider', model: 'model', outcome: 'outcome' },
  metrics: {
    attempt_count: sum('attempts'),
    success_count: sumWhere('attempts', `outcome = 'success'`),
    success_rate: {
      kind: 'sql',
      sql: `(sum(attempts) FILTER (WHERE outcome = 'success'))::float8 / nullif(sum(attempts) FILTER (WHERE outcome <> 'cancelled'), 0)`,
    },
    error_count: sumWhere('attempts', FAILED),
    error_rate: {
      kind: 'sql',
      sql: `(sum(attempts) FILTER (WHERE ${FAILED}))::float8 / nullif(sum(attempts) FILTER (WHERE outcome <> 'cancelled'), 0)`,
    },
    tokens_prompt: sum('prompt_tokens'),
    tokens_completion: sum('completion_tokens'),
    ...DISTRIBUTION_METRICS,
  },
  countMetric: 'attempt_count',
};

const quantiles3 = <P extends string>(prefix: P, column: SketchColumn) =>
  ({
    [`${prefix}_p50`]: q(column, 0.5),
    [`${prefix}_p90`]: q(column, 0.9),
    [`${prefix}_p99`]: q(column, 0.99),
  }) as Record<`${P}_p50` | `${P}_p90` | `${P}_p99`, MetricSpec>;

/**
 * The buckets as the service's own figures read them (community rankings, datasets and model
 * comparison, through its `RollupReader` port): every dimension including the tenant, raw sums
 * in micro-units, the error codes' map and p50/p90/p99 of each distribution. Never exposed to
 * tenants as such (the tenant API reads {@link USAGE_TABLE}).
 */
export const FIGURES_USAGE_TABLE = {
  table: 'usage_rollups',
  tenantColumn: 'tenant_id',
  dims: {
    tenant_id: 'tenant_id',
    key_id: 'key_id',
    model: 'model',
    provider: 'provider',
    endpoint_id: 'endpoint_id',
    app: 'app',
    finish_reason: 'finish_reason',
    status: 'status',
  },
  metrics: {
    requests: sum('requests'),
    prompt_tokens: sum('prompt_tokens'),
    completion_tokens: sum('completion_tokens'),
    cached_tokens: sum('cached_tokens'),
    cache_write_tokens: sum('cache_write_tokens'),
    reasoning_tokens: sum('reasoning_tokens'),
    upstream_micros: sum('upstream_micros'),
    charged_micros: sum('charged_micros'),
    errors: sum('errors'),
    fallbacks: sum('fallbacks'),
    errors_by_code: { kind: 'map', column: 'errors_by_code' },
    ...quantiles3('ttft', 'ttft_sketch'),
    ...quantiles3('latency', 'latency_sketch'),
    ...quantiles3('throughput', 'throughput_sketch'),
  },
  countMetric: 'requests',
} satisfies TableSpec<string, string>;
export type FiguresUsageDimension = keyof typeof FIGURES_USAGE_TABLE.dims;
export type FiguresUsageMetric = keyof typeof FIGURES_USAGE_TABLE.metrics;

/** The attempt buckets as the service's own figures read them (see {@link FIGURES_USAGE_TABLE}). */
export const FIGURES_ATTEMPT_TABLE = {
  table: 'attempt_rollups',
  tenantColumn: null,
  dims: { endpoint_id: 'endpoint_id', provider: 'provider', model: 'model', outcome: 'outcome' },
  metrics: {
    attempts: sum('attempts'),
    errors_by_code: { kind: 'map', column: 'errors_by_code' },
    ...quantiles3('ttft', 'ttft_sketch'),
    ...quantiles3('latency', 'latency_sketch'),
    ...quantiles3('throughput', 'throughput_sketch'),
  },
  countMetric: 'attempts',
} satisfies TableSpec<AttemptDimension, string>;
export type FiguresAttemptMetric = keyof typeof FIGURES_ATTEMPT_TABLE.metrics;

/** How far a query may reach. */
export interface QueryBounds {
  maxRows: number;
  maxRangeDays: number;
  maxHourRangeDays: number;
  maxMinuteRangeHours: number;
}

/** The tenant API's bounds. */
export const TENANT_QUERY_BOUNDS: QueryBounds = ANALYTICS_LIMITS;

/**
 * The service's own figures' bounds: as many groups as a month of rankings by tenant, key, app
 * and model may have (a query past them is refused, never silently cut).
 */
export const FIGURES_QUERY_BOUNDS: QueryBounds = {
  maxRows: 200_000,
  maxRangeDays: 366,
  maxHourRangeDays: 62,
  maxMinuteRangeHours: 48,
};

export interface RollupFilter<D extends string = string> {
  field: D;
  operator: AnalyticsFilter['operator'];
  value: AnalyticsFilter['value'];
  includeUnset?: boolean;
}

/** A query of the buckets (the `RollupReader` port). */
export interface RollupQuery<D extends string = UsageDimension, M extends string = UsageMetric> {
  /** Whose buckets: some tenants, or every tenant (rankings). Ignored for attempt buckets. */
  tenantIds: readonly string[] | 'all';
  /** The range; a bucket counts when its start is in [from, to). */
  from: Date;
  to: Date;
  /** Time series buckets (`date__<granularity>` in each row), or null for one row per group. */
  granularity: QueryGranularity | null;
  dimensions: readonly D[];
  filters: ReadonlyArray<RollupFilter<D>>;
  metrics: readonly M[];
  orderBy: AnalyticsOrderBy | null;
  limit: number;
  /** At most this many rows per combination of dimensions (null: no such cut). */
  groupLimit: number | null;
}

export interface RollupAnswer {
  /** `date__<granularity>` (ISO), the dimensions (null: none) and the metrics (null: no data). */
  rows: AnalyticsRow[];
  truncated: boolean;
  /** The range answered (minutes; before the watermark, whole hours). */
  from: string;
  to: string;
  warnings: string[];
}

/** Bound on the groups a query ordered by a percentile may have (every group is merged). */
export const MAX_GROUPS_FOR_PERCENTILE_ORDER = 20_000;

const iso = (ms: number) => new Date(ms).toISOString();

class Params {
  readonly values: unknown[] = [];
  add(v: unknown): string {
    this.values.push(v);
    return `$${this.values.length}`;
  }
}

interface Segment {
  rows: 'day' | 'fine';
  from: number;
  to: number;
}

/**
 * The `RollupReader` port: every read of the buckets. Answers from a consistent snapshot
 * (one repeatable-read transaction: the watermark and the buckets agree).
 */
export class RollupReader {
  private readonly s: string;

  constructor(
    private readonly db: Db,
    readonly schema: string,
    private readonly clock: () => number = Date.now,
  ) {
    this.s = quoteSchema(schema);
  }

  /** Usage buckets (per tenant, key, model, endpoint, app, finish reason, status). */
  query(q: RollupQuery<UsageDimension, UsageMetric>): Promise<RollupAnswer> {
    return this.run(USAGE_TABLE, q, TENANT_QUERY_BOUNDS);
  }

  /** Attempt buckets (per endpoint, upstream model and outcome): endpoint-level figures. */
  attempts(q: RollupQuery<AttemptDimension, AttemptMetric>): Promise<RollupAnswer> {
    return this.run(ATTEMPT_TABLE, q, TENANT_QUERY_BOUNDS);
  }

  /** Usage buckets for the service's own figures (see {@link FIGURES_USAGE_TABLE}). */
  usageFigures(q: RollupQuery<FiguresUsageDimension, FiguresUsageMetric>): Promise<RollupAnswer> {
    return this.run(FIGURES_USAGE_TABLE, q, FIGURES_QUERY_BOUNDS);
  }

  /** Attempt buckets for the service's own figures (see {@link FIGURES_ATTEMPT_TABLE}). */
  attemptFigures(q: RollupQuery<AttemptDimension, FiguresAttemptMetric>): Promise<RollupAnswer> {
    return this.run(FIGURES_ATTEMPT_TABLE, q, FIGURES_QUERY_BOUNDS);
  }

  /**
   * `GET /v1/activity`: usage per UTC day, model, endpoint and key over whole days
   * [fromDay, toDay), from the day buckets; generations nothing served (no model) are left out.
   */
  async activity(
    tenantId: string,
    fromDay: string,
    toDayExclusive: string,
    keyId: string | null,
  ): Promise<ActivityRow[]> {
    const rows = await this.db.query<Record<string, string>>(
      `SELECT to_char(bucket_start AT TIME ZONE 'UTC', 'YYYY-MM-DD') AS date, model, provider, endpoint_id, key_id,
              sum(requests) AS requests, sum(prompt_tokens) AS prompt, sum(completion_tokens) AS completion,
              sum(reasoning_tokens) AS reasoning, sum(cached_tokens) AS cached,
              sum(charged_micros) AS charged, sum(upstream_micros) AS upstream
         FROM ${this.s}.usage_rollups
        WHERE tenant_id = $1 AND granularity = 'day' AND model <> ''
          AND bucket_start >= $2::date AND bucket_start < $3::date AND ($4::text IS NULL OR key_id = $4)
        GROUP BY 1, 2, 3, 4, 5
        ORDER BY 1 DESC, 2, 3, 5, 4`,
      [tenantId, fromDay, toDayExclusive, keyId],
    );
    return rows.map((r) => ({
      date: r['date']!,
      model: r['model']!,
      provider: r['provider']!,
      endpointId: r['endpoint_id']!,
      keyId: r['key_id']!,
      requests: int(r['requests']),
      promptTokens: int(r['prompt']),
      completionTokens: int(r['completion']),
      reasoningTokens: int(r['reasoning']),
      cachedTokens: int(r['cached']),
      chargedMicros: int(r['charged']),
      upstreamMicros: int(r['upstream']),
    }));
  }

  private async run<D extends string, M extends string>(
    spec: TableSpec<D, M>,
    q: RollupQuery<D, M>,
    bounds: QueryBounds,
  ): Promise<RollupAnswer> {
    this.check(spec, q, bounds);
    return this.db.transaction(
      async (tx) => {
        const [state] = await tx.query<{ wm: Date | string }>(
          `SELECT minute_watermark AS wm FROM ${this.s}.rollup_state WHERE id = 1`,
        );
        const wm =
          state?.wm == null || state.wm === '-infinity' ? -Infinity : new Date(state.wm).getTime();
        return this.answer(tx, spec, q, wm);
      },
      { isolation: 'REPEATABLE READ', readOnly: true },
    );
  }

  /** What the parameters alone decide (no database): names, shapes and bounds. */
  private check<D extends string, M extends string>(
    spec: TableSpec<D, M>,
    q: RollupQuery<D, M>,
    bounds: QueryBounds,
  ) {
    if (q.metrics.length === 0)
      throw new QueryRefused('At least one metric is required.', 'metrics');
    for (const m of q.metrics)
      if (!(m in spec.metrics)) throw new QueryRefused(`Unknown metric '${m}'.`, 'metrics');
    for (const d of q.dimensions)
      if (!(d in spec.dims)) throw new QueryRefused(`Unknown dimension '${d}'.`, 'dimensions');
    if (new Set(q.dimensions).size !== q.dimensions.length)
      throw new QueryRefused('A dimension is named twice.', 'dimensions');
    q.filters.forEach((f, i) => {
      if (!(f.field in spec.dims))
        throw new QueryRefused(`Unknown dimension '${f.field}'.`, `filters[${i}].field`);
      const array = f.operator === 'in' || f.operator === 'not_in';
      if (array !== Array.isArray(f.value))
        throw new QueryRefused(
          `Operator '${f.operator}' takes ${array ? 'an array' : 'a single value'}.`,
          `filters[${i}].value`,
        );
    });
    const from = q.from.getTime();
    const to = q.to.getTime();
    if (!Number.isFinite(from) || !Number.isFinite(to) || from >= to)
      throw new QueryRefused('The time range must end after it starts.', 'time_range');
    const days = (to - from) / DAY_MS;
    const max =
      q.granularity === 'minute'
        ? bounds.maxMinuteRangeHours / 24
        : q.granularity === 'hour'
          ? bounds.maxHourRangeDays
          : bounds.maxRangeDays;
    if (days > max + 1e-9)
      throw new QueryRefused(
        q.granularity === 'minute'
          ? `A query by minute covers at most ${bounds.maxMinuteRangeHours} hours.`
          : `A query${q.granularity ? ` by ${q.granularity}` : ''} covers at most ${max} days.`,
        'time_range',
      );
    if (!Number.isInteger(q.limit) || q.limit < 1 || q.limit > bounds.maxRows)
      throw new QueryRefused(`'limit' must be 1 to ${bounds.maxRows}.`, 'limit');
  }

  /** Which buckets answer [from, to): whole days from day buckets where the output allows. */
  private plan(from: number, to: number, g: QueryGranularity | null): Segment[] {
    const fine = (a: number, b: number): Segment[] =>
      a < b ? [{ rows: 'fine', from: a, to: b }] : [];
    if (g === 'minute' || g === 'hour') return fine(from, to);
    const d1 = ceilTo(from, DAY_MS);
    const d2 = floorTo(to, DAY_MS);
    if (d1 >= d2) return fine(from, to);
    return [...fine(from, d1), { rows: 'day', from: d1, to: d2 }, ...fine(d2, to)];
  }

  private async answer<D extends string, M extends string>(
    tx: Sql,
    spec: TableSpec<D, M>,
    q: RollupQuery<D, M>,
    wm: number,
  ): Promise<RollupAnswer> {
    const warnings: string[] = [];
    const from = floorTo(q.from.getTime(), MINUTE_MS);
    const to = floorTo(q.to.getTime(), MINUTE_MS);
    if (q.granularity === 'minute' && from < wm)
      throw new QueryRefused(
        `Minute buckets are kept from ${iso(wm)} on (older ones are compacted into hours); use 'hour' for earlier times.`,
        'granularity',
      );
    const segments = this.plan(from, to, q.granularity);
    if (
      segments.some(
        (s) =>
          s.rows === 'fine' &&
          ((s.from < wm && s.from % HOUR_MS !== 0) || (s.to < wm && s.to % HOUR_MS !== 0)),
      )
    )
      warnings.push(
        `Before ${iso(wm)} usage is kept by hour: the range counts the hours that start in it.`,
      );

    const p = new Params();
    const where: string[] = [];
    if (spec.tenantColumn && q.tenantIds !== 'all')
      where.push(`${spec.tenantColumn} = ANY(${p.add([...q.tenantIds])}::text[])`);
    where.push(
      `(${segments
        .map((s) =>
          s.rows === 'day'
            ? `(granularity = 'day' AND bucket_start >= ${p.add(iso(s.from))} AND bucket_start < ${p.add(iso(s.to))})`
            : `(granularity IN ('minute', 'hour') AND bucket_start >= ${p.add(iso(s.from))} AND bucket_start < ${p.add(iso(s.to))})`,
        )
        .join(' OR ')})`,
    );
    q.filters.forEach((f) => where.push(filterSql(spec.dims[f.field], f, p)));
    const whereSql = where.join(' AND ');
    const whereParams = [...p.values];

    const dateKey = q.granularity ? `date__${q.granularity}` : null;
    const bucketExpr = q.granularity
      ? `date_trunc('${q.granularity}', bucket_start AT TIME ZONE 'UTC') AT TIME ZONE 'UTC'`
      : null;
    const dimExprs = q.dimensions.map((d) => spec.dims[d]);
    const groupExprs = [...(bucketExpr ? [bucketExpr] : []), ...dimExprs];
    const groupKeySql = groupExprs.length
      ? `concat_ws(chr(31), ${groupExprs.map((e) => `(${e})::text`).join(', ')})`
      : `''`;

    const sqlMetrics = [...new Set([...q.metrics, spec.countMetric])].filter(
      (m) => spec.metrics[m].kind !== 'quantile',
    );
    const metricSql = (m: M): string => {
      const ms = spec.metrics[m];
      return ms.kind === 'map' ? `${this.s}.jsonb_sum(${ms.column})` : (ms as { sql: string }).sql;
    };
    const quantiles = q.metrics.filter((m) => spec.metrics[m].kind === 'quantile');

    // Ordering: a field of the answer, SQL-side unless it is a percentile.
    const order = q.orderBy ?? {
      field: dateKey ? 'date' : (q.metrics[0] as string),
      direction: 'desc' as const,
    };
    const alias = (m: string) => `"m_${m}"`;
    // A dimension without a value ('') orders after every value, as SQL orders NULL.
    const dimOrder = (i: number) => `nullif("d${i}", '')`;
    let orderExpr: string | null;
    let orderQuantile: M | null = null;
    if (order.field === 'date' || (dateKey !== null && order.field === dateKey)) {
      if (!bucketExpr)
        throw new QueryRefused("Ordering by 'date' needs a granularity.", 'order_by.field');
      orderExpr = '"b"';
    } else if ((q.dimensions as readonly string[]).includes(order.field)) {
      orderExpr = dimOrder((q.dimensions as readonly string[]).indexOf(order.field));
    } else if (
      (q.metrics as readonly string[]).includes(order.field) ||
      order.field === spec.countMetric
    ) {
      const m = order.field as M;
      if (spec.metrics[m].kind === 'quantile') {
        orderExpr = null;
        orderQuantile = m;
      } else if (spec.metrics[m].kind === 'map')
        throw new QueryRefused(`'${m}' cannot order rows.`, 'order_by.field');
      else orderExpr = alias(m);
    } else
      throw new QueryRefused(
        `'order_by.field' must be a requested metric, '${spec.countMetric}', a requested dimension or 'date'.`,
        'order_by.field',
      );
    const dir = order.direction === 'asc' ? 'ASC' : 'DESC';
    const tieBreak = [...(bucketExpr ? ['"b"'] : []), ...dimExprs.map((_, i) => dimOrder(i))];
    const orderSql = [
      ...(orderExpr ? [`${orderExpr} ${dir} NULLS LAST`] : []),
      ...tieBreak.filter((t) => t !== orderExpr).map((t) => `${t} ASC NULLS LAST`),
    ].join(', ');

    const inner = `SELECT ${[
      `${groupKeySql} AS gk`,
      ...(bucketExpr ? [`${bucketExpr} AS b`] : []),
      ...dimExprs.map((e, i) => `${e} AS d${i}`),
      ...sqlMetrics.map((m) => `${metricSql(m)} AS ${alias(m)}`),
    ].join(', ')}
      FROM ${this.s}.${spec.table} WHERE ${whereSql}
      ${groupExprs.length ? `GROUP BY ${groupExprs.map((_, i) => i + 2).join(', ')}` : ''}`;
    const useGroupLimit = q.groupLimit !== null && q.dimensions.length > 0;

    let rows: Array<Record<string, unknown>>;
    let truncated = false;
    if (orderQuantile === null) {
      const partition = dimExprs.map((_, i) => `"d${i}"`).join(', ');
      const sql = useGroupLimit
        ? `SELECT *, max(gc) OVER () AS maxgc FROM (
             SELECT *, row_number() OVER (PARTITION BY ${partition} ORDER BY ${orderSql}) AS rn,
                    count(*) OVER (PARTITION BY ${partition}) AS gc
               FROM (${inner}) g) x
            WHERE rn <= ${p.add(q.groupLimit)} ORDER BY ${orderSql} LIMIT ${p.add(q.limit + 1)}`
        : `SELECT * FROM (${inner}) g ORDER BY ${orderSql} LIMIT ${p.add(q.limit + 1)}`;
      rows = await tx.query(sql, p.values);
      if (useGroupLimit && rows.some((r) => int(r['maxgc']) > q.groupLimit!)) truncated = true;
    } else {
      rows = await tx.query(
        `SELECT * FROM (${inner}) g LIMIT ${p.add(MAX_GROUPS_FOR_PERCENTILE_ORDER + 1)}`,
        p.values,
      );
      if (rows.length > MAX_GROUPS_FOR_PERCENTILE_ORDER)
        throw new QueryRefused(
          `Ordering by a percentile merges every group, and this query has more than ${MAX_GROUPS_FOR_PERCENTILE_ORDER}: narrow the time range, add filters, or order by another field.`,
          'order_by.field',
        );
    }

    // Percentiles: bins merged per group in SQL, read with DDSketch here.
    const bins = new Map<string, Map<SketchColumn, SketchBins>>();
    const columns = [
      ...new Set(quantiles.map((m) => (spec.metrics[m] as { column: SketchColumn }).column)),
    ];
    if (columns.length > 0 && rows.length > 0) {
      const keys =
        orderQuantile === null ? rows.slice(0, q.limit).map((r) => String(r['gk'])) : null;
      for (const column of columns) {
        const bp = new Params();
        bp.values.push(...whereParams);
        const keyFilter = keys ? ` AND ${groupKeySql} = ANY(${bp.add(keys)}::text[])` : '';
        const merged = await tx.query<{ gk: string; bins: Record<string, string | number> }>(
          `SELECT gk, jsonb_object_agg(k, c) AS bins FROM (
             SELECT ${groupKeySql} AS gk, e.key AS k, sum(e.value::numeric) AS c
               FROM ${this.s}.${spec.table}, jsonb_each_text(${column}) AS e(key, value)
              WHERE ${whereSql}${keyFilter} AND e.key NOT IN ('n', 's')
              GROUP BY 1, 2) x
           GROUP BY gk`,
          bp.values,
        );
        for (const r of merged) {
          let m = bins.get(r.gk);
          if (!m) bins.set(r.gk, (m = new Map()));
          const b: SketchBins = {};
          for (const [k, v] of Object.entries(r.bins)) b[k] = Number(v);
          m.set(column, b);
        }
      }
    }

    let out = rows.map((r) => {
      const row: AnalyticsRow = {};
      if (dateKey) row[dateKey] = new Date(r['b'] as string).toISOString();
      q.dimensions.forEach((d, i) => {
        const v = r[`d${i}`] as string;
        row[d] = v === '' ? null : v;
      });
      for (const m of q.metrics) {
        const ms = spec.metrics[m];
        if (ms.kind === 'map') {
          const v = (r[`m_${m}`] ?? {}) as Record<string, string | number>;
          // A JSON object of counts, as text: a row's values are scalars.
          row[m] = JSON.stringify(
            Object.fromEntries(Object.entries(v).map(([k, c]) => [k, Number(c)])),
          );
        } else if (ms.kind === 'sql') {
          const v = r[`m_${m}`];
          // Sums of nothing are 0; ratios and means of nothing have no value.
          row[m] = ms.integer
            ? int(v ?? 0)
            : v === null || v === undefined
              ? ms.scale
                ? 0
                : null
              : round(Number(v) * (ms.scale ?? 1), ms.scale ? 6 : 4);
        } else {
          const b = bins.get(String(r['gk']))?.get(ms.column);
          const v = b ? quantileOf(b, ms.q) : null;
          row[m] = v === null ? null : round(v, 2);
        }
      }
      return row;
    });

    if (orderQuantile !== null) {
      const sign = order.direction === 'asc' ? 1 : -1;
      const key = orderQuantile as string;
      out.sort((a, b) => {
        const x = a[key] as number | null;
        const y = b[key] as number | null;
        if (x === null || y === null) return x === y ? 0 : x === null ? 1 : -1;
        return (x - y) * sign;
      });
      if (useGroupLimit) {
        const seen = new Map<string, number>();
        out = out.filter((r) => {
          const g = JSON.stringify(q.dimensions.map((d) => r[d]));
          const n = (seen.get(g) ?? 0) + 1;
          seen.set(g, n);
          if (n > q.groupLimit!) truncated = true;
          return n <= q.groupLimit!;
        });
      }
    }
    if (out.length > q.limit) {
      truncated = true;
      out = out.slice(0, q.limit);
    }
    return { rows: out, truncated, from: iso(from), to: iso(to), warnings };
  }
}

function round(v: number, digits: number): number {
  const f = 10 ** digits;
  return Math.round(v * f) / f;
}

/**
 * A filter as SQL. A dimension without a value (`''`) matches no comparison, as SQL's NULL
 * would not; `includeUnset` with `in`/`not_in` adds the rows without a value.
 */
function filterSql(column: string, f: RollupFilter, p: Params): string {
  const set = `${column} <> ''`;
  const values = (Array.isArray(f.value) ? f.value : [f.value]).map(String);
  let pred: string;
  switch (f.operator) {
    case 'eq':
      pred = `${column} = ${p.add(values[0])}`;
      break;
    case 'neq':
      pred = `${column} <> ${p.add(values[0])}`;
      break;
    case 'gt':
      pred = `${column} > ${p.add(values[0])}`;
      break;
    case 'gte':
      pred = `${column} >= ${p.add(values[0])}`;
      break;
    case 'lt':
      pred = `${column} < ${p.add(values[0])}`;
      break;
    case 'lte':
      pred = `${column} <= ${p.add(values[0])}`;
      break;
    case 'in':
      pred = `${column} = ANY(${p.add(values)}::text[])`;
      break;
    case 'not_in':
      pred = `NOT (${column} = ANY(${p.add(values)}::text[]))`;
      break;
  }
  const unset = f.includeUnset === true && (f.operator === 'in' || f.operator === 'not_in');
  return unset ? `(${column} = '' OR (${set} AND ${pred}))` : `(${set} AND ${pred})`;
}
