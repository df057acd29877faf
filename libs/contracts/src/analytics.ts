import { z } from 'zod';
import { Count, Micros } from './common.js';

/**
 * Analytics' topic (`usage.rollups.v1`) and its request/reply methods (`rpc.analytics.v1`).
 *
 * `analytics` rolls `usage.events.v1` (one record per generation) and `llm.attempts.v1` (one per
 * upstream attempt) up into buckets of a minute, an hour and a day, per tenant, key, model,
 * provider endpoint, app, finish reason and status (usage), or per endpoint and outcome
 * (attempts). Distributions (TTFT, latency, throughput) are DDSketches: mergeable across buckets
 * and dimensions, every quantile within {@link SKETCH_RELATIVE_ACCURACY} of the true value.
 */

/** DDSketch's relative accuracy: a quantile read from a sketch is within 1 % of the true one. */
export const SKETCH_RELATIVE_ACCURACY = 0.01;

/** Granularities of the stored buckets. */
export const BucketGranularity = z.enum(['minute', 'hour', 'day']);
export type BucketGranularity = z.infer<typeof BucketGranularity>;

/** Granularities a query may ask for (weeks start on Monday, UTC; months on the 1st). */
export const QueryGranularity = z.enum(['minute', 'hour', 'day', 'week', 'month']);
export type QueryGranularity = z.infer<typeof QueryGranularity>;

// ---------------------------------------------------------------------------------------------
// usage.rollups.v1
// ---------------------------------------------------------------------------------------------

const Iso = z.iso.datetime();

/**
 * A distribution: a DDSketch (`@datadog/sketches-js`, logarithmic mapping) in the protobuf form
 * of DataDog's `sketches-proto` (`DDSketch` message: mapping, positive values, zero count), base64,
 * which DataDog's sketch libraries read in any language. The protobuf form has no sum: `sum` is
 * here, so the mean is `sum / count`.
 */
export const SketchV1 = z.object({
  relativeAccuracy: z.number().positive().max(1),
  /** How many values went in. */
  count: Count,
  /** Their sum (the mean is sum / count). */
  sum: z.number().nonnegative(),
  /** The DDSketch protobuf, base64 (empty when count is 0). */
  ddsketch: z.string().regex(/^[A-Za-z0-9+/]*={0,2}$/, 'base64'),
});
export type SketchV1 = z.infer<typeof SketchV1>;

const RollupBase = {
  v: z.literal(1),
  granularity: BucketGranularity,
  /** The bucket's start and end (exclusive), UTC. */
  bucketStart: Iso,
  bucketEnd: Iso,
  /**
   * Grows by one each time the bucket changes after it was first written (a late event, a
   * compaction): the record with the highest version of a key is the bucket's current content.
   */
  version: z.number().int().min(1).safe(),
  publishedAt: Iso,
};

/** One usage bucket: what one tenant's key did with one model endpoint, per app, finish reason and status. */
export const UsageRollupRecordV1 = z.object({
  ...RollupBase,
  kind: z.literal('usage'),
  tenantId: z.string().min(1),
  keyId: z.string().min(1),
  /** The served model, provider and endpoint (null when no endpoint served the generation). */
  model: z.string().nullable(),
  provider: z.string().nullable(),
  endpointId: z.string().nullable(),
  /** App attribution: the `HTTP-Referer`, else the `X-Title` (null: none given). */
  app: z.string().nullable(),
  finishReason: z.string().nullable(),
  status: z.enum(['success', 'error', 'cancelled']),
  requests: Count,
  tokens: z.object({
    prompt: Count,
    completion: Count,
    cachedRead: Count,
    cacheWrite: Count,
    reasoning: Count,
  }),
  /** What the upstreams charged us for the serving attempts, and what the tenant was charged. */
  upstreamMicros: Micros.nonnegative(),
  chargedMicros: Micros.nonnegative(),
  /** Generations that ended in an error, and how many of each error code (`status_<n>` without one). */
  errors: Count,
  errorsByCode: z.record(z.string(), Count),
  /** Generations served by another attempt than their first (a fallback). */
  fallbacks: Count,
  ttftMs: SketchV1,
  latencyMs: SketchV1,
  /** Output tokens per second after the first token (streamed generations only). */
  tokensPerSecond: SketchV1,
});
export type UsageRollupRecordV1 = z.infer<typeof UsageRollupRecordV1>;

/** One attempt bucket: every upstream attempt of one endpoint with one outcome. */
export const AttemptRollupRecordV1 = z.object({
  ...RollupBase,
  kind: z.literal('attempt'),
  endpointId: z.string().min(1),
  provider: z.string().min(1),
  /** The upstream's model id (what the endpoint calls the model). */
  model: z.string().min(1),
  outcome: z.enum(['success', 'error', 'cancelled', 'timeout']),
  attempts: Count,
  tokens: z.object({ prompt: Count, completion: Count }),
  errorsByCode: z.record(z.string(), Count),
  ttftMs: SketchV1,
  latencyMs: SketchV1,
  tokensPerSecond: SketchV1,
});
export type AttemptRollupRecordV1 = z.infer<typeof AttemptRollupRecordV1>;

/**
 * `usage.rollups.v1`: closed buckets, for analysts. Keyed by the bucket's identity (kind,
 * granularity, start and every dimension, hashed; see docs/topics.md); a bucket that changes
 * after it was published is published again with a higher version. Compacted (the latest
 * version of each key is kept) and deleted after its retention.
 */
export const UsageRollupV1 = z.discriminatedUnion('kind', [
  UsageRollupRecordV1,
  AttemptRollupRecordV1,
]);
export type UsageRollupV1 = z.infer<typeof UsageRollupV1>;

// ---------------------------------------------------------------------------------------------
// The analytics query (OpenRouter's `POST /api/v1/analytics/query`)
// ---------------------------------------------------------------------------------------------

export type MetricFormat = 'number' | 'currency' | 'percent' | 'latency' | 'throughput';

export interface MetricDefinition {
  name: string;
  label: string;
  format: MetricFormat;
  /** A ratio or a statistic of a distribution (not summed across rows). */
  isRate: boolean;
}

/** The usage metrics a query may ask for (OpenRouter's names where it has one). */
export const USAGE_METRICS = [
  { name: 'request_count', label: 'Request Count', format: 'number', isRate: false },
  { name: 'total_usage', label: 'Spend (USD)', format: 'currency', isRate: false },
  { name: 'usage_upstream', label: 'Upstream Cost (USD)', format: 'currency', isRate: false },
  { name: 'tokens_total', label: 'Total Tokens', format: 'number', isRate: false },
  { name: 'tokens_prompt', label: 'Prompt Tokens', format: 'number', isRate: false },
  { name: 'tokens_completion', label: 'Completion Tokens', format: 'number', isRate: false },
  { name: 'tokens_reasoning', label: 'Reasoning Tokens', format: 'number', isRate: false },
  { name: 'tokens_cached', label: 'Cached Prompt Tokens', format: 'number', isRate: false },
  { name: 'tokens_cache_write', label: 'Cache Write Tokens', format: 'number', isRate: false },
  { name: 'cache_hit_rate', label: 'Cache Hit Rate', format: 'percent', isRate: true },
  { name: 'error_count', label: 'Errors', format: 'number', isRate: false },
  { name: 'error_rate', label: 'Error Rate', format: 'percent', isRate: true },
  { name: 'fallback_count', label: 'Fallbacks', format: 'number', isRate: false },
  { name: 'fallback_rate', label: 'Fallback Rate', format: 'percent', isRate: true },
  { name: 'avg_latency', label: 'Average Latency (ms)', format: 'latency', isRate: true },
  { name: 'p50_latency', label: 'P50 Latency (ms)', format: 'latency', isRate: true },
  { name: 'p90_latency', label: 'P90 Latency (ms)', format: 'latency', isRate: true },
  { name: 'p99_latency', label: 'P99 Latency (ms)', format: 'latency', isRate: true },
  { name: 'avg_ttft', label: 'Average Time to First Token (ms)', format: 'latency', isRate: true },
  { name: 'p50_ttft', label: 'P50 Time to First Token (ms)', format: 'latency', isRate: true },
  { name: 'p90_ttft', label: 'P90 Time to First Token (ms)', format: 'latency', isRate: true },
  { name: 'p99_ttft', label: 'P99 Time to First Token (ms)', format: 'latency', isRate: true },
  {
    name: 'avg_throughput',
    label: 'Average Throughput (tokens/s)',
    format: 'throughput',
    isRate: true,
  },
  {
    name: 'p50_throughput',
    label: 'P50 Throughput (tokens/s)',
    format: 'throughput',
    isRate: true,
  },
  {
    name: 'p90_throughput',
    label: 'P90 Throughput (tokens/s)',
    format: 'throughput',
    isRate: true,
  },
] as const satisfies readonly MetricDefinition[];

export type UsageMetric = (typeof USAGE_METRICS)[number]['name'];
export const UsageMetric = z.enum(
  USAGE_METRICS.map((m) => m.name) as [UsageMetric, ...UsageMetric[]],
);

/** The dimensions a query may group and filter by (OpenRouter's names where it has one). */
export const USAGE_DIMENSIONS = [
  { name: 'model', label: 'Model' },
  { name: 'provider', label: 'Provider' },
  { name: 'endpoint_id', label: 'Endpoint' },
  { name: 'api_key_id', label: 'API Key' },
  { name: 'app', label: 'App' },
  { name: 'finish_reason', label: 'Finish Reason' },
  { name: 'status', label: 'Status' },
] as const;
export type UsageDimension = (typeof USAGE_DIMENSIONS)[number]['name'];
export const UsageDimension = z.enum(
  USAGE_DIMENSIONS.map((d) => d.name) as [UsageDimension, ...UsageDimension[]],
);

export const FILTER_OPERATORS = [
  { name: 'eq', valueType: 'scalar' },
  { name: 'neq', valueType: 'scalar' },
  { name: 'in', valueType: 'array' },
  { name: 'not_in', valueType: 'array' },
  { name: 'gt', valueType: 'scalar' },
  { name: 'gte', valueType: 'scalar' },
  { name: 'lt', valueType: 'scalar' },
  { name: 'lte', valueType: 'scalar' },
] as const;
export type FilterOperator = (typeof FILTER_OPERATORS)[number]['name'];
export const FilterOperator = z.enum(
  FILTER_OPERATORS.map((o) => o.name) as [FilterOperator, ...FilterOperator[]],
);

export const GRANULARITY_LABELS: Record<QueryGranularity, string> = {
  minute: 'Minute',
  hour: 'Hour',
  day: 'Day',
  week: 'Week',
  month: 'Month',
};

/** Bounds of a query, so that one call cannot make analytics (or the RPC reply) unbounded. */
export const ANALYTICS_LIMITS = {
  maxDimensions: 2,
  maxFilters: 20,
  maxFilterValues: 100,
  maxRows: 10_000,
  defaultRows: 1_000,
  /** Longest time range, and the longest for hour and minute granularity. */
  maxRangeDays: 366,
  maxHourRangeDays: 31,
  maxMinuteRangeHours: 48,
  defaultRangeDays: 7,
} as const;

const ScalarValue = z.union([z.string().max(500), z.number()]);

export const AnalyticsFilter = z.object({
  field: UsageDimension,
  operator: FilterOperator,
  value: z.union([ScalarValue, z.array(ScalarValue).max(ANALYTICS_LIMITS.maxFilterValues)]),
  /** With `in`/`not_in`: also (or also not) rows where the dimension has no value. */
  includeUnset: z.boolean().default(false),
});
export type AnalyticsFilter = z.infer<typeof AnalyticsFilter>;

export const AnalyticsOrderBy = z.object({
  /** A requested metric, `request_count`, a requested dimension, or `date` (`date__<granularity>`). */
  field: z.string().min(1).max(64),
  direction: z.enum(['asc', 'desc']),
});
export type AnalyticsOrderBy = z.infer<typeof AnalyticsOrderBy>;

/** `analytics.query` over `rpc.analytics.v1`: one tenant's usage, as the gateway asks for it. */
export const AnalyticsQueryParams = z.object({
  tenantId: z.string().min(1).max(64),
  metrics: z.array(UsageMetric).min(1).max(USAGE_METRICS.length),
  dimensions: z.array(UsageDimension).max(ANALYTICS_LIMITS.maxDimensions).default([]),
  filters: z.array(AnalyticsFilter).max(ANALYTICS_LIMITS.maxFilters).default([]),
  granularity: QueryGranularity.nullable().default(null),
  /** ISO 8601 instants; the default is the last 7 days. */
  timeRange: z
    .object({ start: z.iso.datetime({ offset: true }), end: z.iso.datetime({ offset: true }) })
    .nullable()
    .default(null),
  orderBy: AnalyticsOrderBy.nullable().default(null),
  limit: z
    .number()
    .int()
    .min(1)
    .max(ANALYTICS_LIMITS.maxRows)
    .default(ANALYTICS_LIMITS.defaultRows),
  groupLimit: z.number().int().min(1).max(ANALYTICS_LIMITS.maxRows).nullable().default(null),
});
export type AnalyticsQueryParams = z.input<typeof AnalyticsQueryParams>;

/** One row: `date__<granularity>` (ISO), the dimensions (null: unset) and the metrics. */
export type AnalyticsRow = Record<string, string | number | null>;

export interface AnalyticsQueryResult {
  data: AnalyticsRow[];
  rowCount: number;
  /** More rows matched than `limit` (or `groupLimit` cut a group). */
  truncated: boolean;
  queryTimeMs: number;
  /** The range the answer covers, after rounding to the buckets that exist. */
  timeRange: { start: string; end: string };
  warnings: string[];
}

export interface AnalyticsMeta {
  metrics: MetricDefinition[];
  dimensions: Array<{ name: string; label: string }>;
  operators: Array<{ name: string; valueType: 'scalar' | 'array' }>;
  granularities: Array<{ name: QueryGranularity; label: string }>;
  /** How far back minute buckets are kept (older ones are compacted into hours). */
  minuteRetentionHours: number;
  sketchRelativeAccuracy: number;
  limits: typeof ANALYTICS_LIMITS;
}

export const ANALYTICS_RPC = {
  meta: 'analytics.meta',
  query: 'analytics.query',
  /** `GET /v1/activity`: usage per UTC day, model, endpoint and key (params and rows as billing's were). */
  listActivity: 'activity.list',
} as const;
