import type { PercentileFigures, RollupGranularity } from '@turnpike/contracts';
import { USAGE_DIM_COLUMNS } from '@turnpike/rollups';

/**
 * The port through which everything community-facing reads the rollups (issue 10's shared data
 * model: `analytics.usage_rollups` and `analytics.attempt_rollups`, built by the rollups work).
 * Written here as the common brief describes it, so that rankings and comparison are functions
 * of this interface and nothing else: they know no table, no SQL and no sketch. When the real
 * reader lands, it implements this (or this file gives way to its port, the call sites
 * unchanged); `InMemoryRollupReader` is the fake the unit specs use.
 */

/** Dimensions of `usage_rollups`. `app` is the attribution (`HTTP-Referer`, else `X-Title`). */
export const USAGE_DIMENSIONS = USAGE_DIM_COLUMNS;
export type UsageDimension = (typeof USAGE_DIMENSIONS)[number];

/** What a query may group by: a dimension, or `bucket` (the bucket's start, ISO). */
export type UsageGroupBy = UsageDimension | 'bucket';

export const USAGE_METRICS = [
  'requests',
  'prompt_tokens',
  'completion_tokens',
  'cached_tokens',
  'cache_write_tokens',
  'reasoning_tokens',
  'upstream_micros',
  'charged_micros',
  'errors',
  'fallbacks',
  'ttft',
  'latency',
  'throughput',
] as const;
export type UsageMetric = (typeof USAGE_METRICS)[number];

/** Keeps rows whose dimension is one of `values` (null matches an unset dimension). */
export interface DimensionFilter<D extends string> {
  dimension: D;
  values: ReadonlyArray<string | null>;
}

export interface UsageQuery {
  /** Whose traffic: these tenants, or everyone's. */
  tenantIds: readonly string[] | 'all';
  /** Buckets starting in [from, to). */
  from: Date;
  to: Date;
  granularity: RollupGranularity;
  dimensions: readonly UsageGroupBy[];
  filters?: ReadonlyArray<DimensionFilter<UsageDimension>>;
  metrics: readonly UsageMetric[];
  orderBy?: { field: UsageMetric | UsageGroupBy; direction: 'asc' | 'desc' };
  limit?: number;
  /** At most this many groups per bucket (with `bucket` among the dimensions), by `orderBy`. */
  groupLimit?: number;
}

/** One group's merged measures (sums exact; percentiles merged from the sketches). */
export interface UsageRow {
  key: Partial<Record<UsageGroupBy, string | null>>;
  requests: number;
  promptTokens: number;
  completionTokens: number;
  cachedTokens: number;
  cacheWriteTokens: number;
  reasoningTokens: number;
  upstreamMicros: number;
  chargedMicros: number;
  errors: number;
  errorsByKind: Record<string, number>;
  /** Generations that needed more than one attempt. */
  fallbacks: number;
  ttftMs: PercentileFigures | null;
  latencyMs: PercentileFigures | null;
  tokensPerSecond: PercentileFigures | null;
}

export interface UsageResult {
  rows: UsageRow[];
  /** `limit` cut rows off. */
  truncated: boolean;
}

/** Dimensions of `attempt_rollups` (platform-wide: attempts carry no tenant). */
export type AttemptDimension = 'endpoint_id' | 'provider' | 'model' | 'outcome';

export interface AttemptQuery {
  from: Date;
  to: Date;
  granularity: RollupGranularity;
  dimensions: ReadonlyArray<AttemptDimension | 'bucket'>;
  filters?: ReadonlyArray<DimensionFilter<AttemptDimension>>;
}

export interface AttemptRow {
  key: Partial<Record<AttemptDimension | 'bucket', string | null>>;
  attempts: number;
  outcomes: { success: number; error: number; cancelled: number; timeout: number };
  /** Error code of failed attempts → count. */
  errorCodes: Record<string, number>;
  ttftMs: PercentileFigures | null;
  latencyMs: PercentileFigures | null;
  tokensPerSecond: PercentileFigures | null;
}

export interface RollupReader {
  query(q: UsageQuery): Promise<UsageResult>;
  attempts(q: AttemptQuery): Promise<AttemptRow[]>;
}

/** Nest injection token of the reader. */
export const ROLLUP_READER = Symbol('ROLLUP_READER');
