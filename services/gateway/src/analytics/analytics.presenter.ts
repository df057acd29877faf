import { z } from 'zod';
import {
  ANALYTICS_LIMITS,
  FilterOperator,
  QueryGranularity,
  UsageDimension,
  UsageMetric,
  USAGE_METRICS,
  type AnalyticsMeta,
  type AnalyticsQueryParams,
  type AnalyticsQueryResult,
} from '@turnpike/contracts';
import { invalidRequest } from '@turnpike/openai-api';

/**
 * OpenRouter's analytics API (`GET /api/v1/analytics/meta`, `POST /api/v1/analytics/query`):
 * its request body (snake_case) into analytics' query, and analytics' answers into its shapes,
 * which `@openrouter/sdk`'s `analytics.getAnalyticsMeta` and `analytics.queryAnalytics` read.
 */

const Instant = z.iso.datetime({ offset: true });
const Value = z.union([z.string().max(500), z.number()]);

/** The body of `POST /v1/analytics/query`, as OpenRouter documents it (no classifiers here). */
export const AnalyticsQueryBody = z
  .object({
    metrics: z.array(UsageMetric).min(1).max(USAGE_METRICS.length),
    dimensions: z.array(UsageDimension).max(ANALYTICS_LIMITS.maxDimensions).optional(),
    filters: z
      .array(
        z
          .object({
            field: UsageDimension,
            operator: FilterOperator,
            value: z.union([Value, z.array(Value).max(ANALYTICS_LIMITS.maxFilterValues)]),
            include_unset: z.boolean().optional(),
          })
          .strict(),
      )
      .max(ANALYTICS_LIMITS.maxFilters)
      .optional(),
    granularity: QueryGranularity.optional(),
    time_range: z.object({ start: Instant, end: Instant }).strict().optional(),
    order_by: z
      .object({ field: z.string().min(1).max(64), direction: z.enum(['asc', 'desc']) })
      .strict()
      .optional(),
    limit: z.number().int().min(1).max(ANALYTICS_LIMITS.maxRows).optional(),
    group_limit: z.number().int().min(1).max(ANALYTICS_LIMITS.maxRows).optional(),
    classifier_dimensions: z.unknown().optional(),
    classifier_filters: z.unknown().optional(),
  })
  .strict();

/**
 * The query analytics runs for this tenant: the tenant comes from the caller's key, and nothing
 * in the body can name another one (filters only narrow the tenant's own buckets). A 400 names
 * the field in error.
 */
export function analyticsQueryParams(tenantId: string, body: unknown): AnalyticsQueryParams {
  const r = AnalyticsQueryBody.safeParse(body ?? {});
  if (!r.success) {
    const issue = r.error.issues[0];
    const param = issue?.path.join('.') || null;
    throw invalidRequest(
      `${param ? `Invalid '${param}': ` : ''}${issue?.message ?? 'Invalid body.'}`,
      param,
    );
  }
  const b = r.data;
  for (const f of ['classifier_dimensions', 'classifier_filters'] as const)
    if (b[f] !== undefined)
      throw invalidRequest(`'${f}' is not supported: Turnpike has no classifiers.`, f);
  return {
    tenantId,
    metrics: b.metrics,
    dimensions: b.dimensions ?? [],
    filters: (b.filters ?? []).map((f) => ({
      field: f.field,
      operator: f.operator,
      value: f.value,
      includeUnset: f.include_unset ?? false,
    })),
    granularity: b.granularity ?? null,
    timeRange: b.time_range ?? null,
    orderBy: b.order_by ?? null,
    limit: b.limit ?? ANALYTICS_LIMITS.defaultRows,
    groupLimit: b.group_limit ?? null,
  };
}

export function presentAnalyticsMeta(m: AnalyticsMeta): { data: Record<string, unknown> } {
  return {
    data: {
      metrics: m.metrics.map((x) => ({
        name: x.name,
        display_label: x.label,
        is_rate: x.isRate,
        display_format: x.format,
      })),
      dimensions: m.dimensions.map((d) => ({ name: d.name, display_label: d.label })),
      operators: m.operators.map((o) => ({ name: o.name, value_type: o.valueType })),
      granularities: m.granularities.map((g) => ({ name: g.name, display_label: g.label })),
      // Ours, beside OpenRouter's fields.
      minute_retention_hours: m.minuteRetentionHours,
      sketch_relative_accuracy: m.sketchRelativeAccuracy,
      limits: {
        max_dimensions: m.limits.maxDimensions,
        max_filters: m.limits.maxFilters,
        max_rows: m.limits.maxRows,
        max_range_days: m.limits.maxRangeDays,
        max_hour_range_days: m.limits.maxHourRangeDays,
        max_minute_range_hours: m.limits.maxMinuteRangeHours,
        default_range_days: m.limits.defaultRangeDays,
      },
    },
  };
}

export function presentAnalyticsQuery(r: AnalyticsQueryResult): { data: Record<string, unknown> } {
  return {
    data: {
      data: r.data,
      metadata: {
        query_time_ms: r.queryTimeMs,
        row_count: r.rowCount,
        truncated: r.truncated,
        time_range: r.timeRange,
      },
      ...(r.warnings.length > 0 ? { warnings: r.warnings } : {}),
    },
  };
}
