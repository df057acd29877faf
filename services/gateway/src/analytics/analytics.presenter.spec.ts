/**
 * The analytics routes' bodies against @openrouter/sdk 1.3.19's own schemas (what
 * `analytics.getAnalyticsMeta` and `analytics.queryAnalytics` validate, and what the SDK sends),
 * and the query body's validation: the tenant is the key's, whatever the body says.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  GetAnalyticsMetaResponse$inboundSchema,
  QueryAnalyticsRequestBody$outboundSchema,
  QueryAnalyticsResponse$inboundSchema,
} from '@openrouter/sdk/models/operations';
import {
  ANALYTICS_LIMITS,
  FILTER_OPERATORS,
  GRANULARITY_LABELS,
  USAGE_DIMENSIONS,
  USAGE_METRICS,
  type AnalyticsMeta,
  type QueryGranularity,
} from '@turnpike/contracts';
import { ApiError } from '@turnpike/openai-api';
import {
  analyticsQueryParams,
  presentAnalyticsMeta,
  presentAnalyticsQuery,
} from './analytics.presenter.js';

const meta: AnalyticsMeta = {
  metrics: USAGE_METRICS.map((m) => ({ ...m })),
  dimensions: USAGE_DIMENSIONS.map((d) => ({ ...d })),
  operators: FILTER_OPERATORS.map((o) => ({ ...o })),
  granularities: (Object.keys(GRANULARITY_LABELS) as QueryGranularity[]).map((name) => ({
    name,
    label: GRANULARITY_LABELS[name],
  })),
  minuteRetentionHours: 48,
  sketchRelativeAccuracy: 0.01,
  limits: ANALYTICS_LIMITS,
};

const refused = (body: unknown, param: string | RegExp) => {
  try {
    analyticsQueryParams('acme', body);
  } catch (e) {
    assert.ok(e instanceof ApiError, String(e));
    assert.equal(e.status, 400);
    if (typeof param === 'string') assert.equal(e.param, param, e.message);
    else assert.match(e.param ?? '', param, e.message);
    return;
  }
  assert.fail(`accepted ${JSON.stringify(body)}`);
};

describe('analytics presenters', () => {
  test('GET /v1/analytics/meta parses as GetAnalyticsMetaResponse, with every metric and dimension', () => {
    const parsed = GetAnalyticsMetaResponse$inboundSchema.parse(presentAnalyticsMeta(meta));
    assert.deepEqual(
      parsed.data.metrics.map((m) => m.name),
      USAGE_METRICS.map((m) => m.name),
    );
    const p50 = parsed.data.metrics.find((m) => m.name === 'p50_latency')!;
    assert.deepEqual(p50, {
      name: 'p50_latency',
      displayLabel: 'P50 Latency (ms)',
      isRate: true,
      displayFormat: 'latency',
    });
    assert.ok(parsed.data.dimensions.some((d) => d.name === 'api_key_id'));
    assert.deepEqual(
      parsed.data.granularities.map((g) => g.name),
      ['minute', 'hour', 'day', 'week', 'month'],
    );
    assert.deepEqual(
      parsed.data.operators.find((o) => o.name === 'in'),
      {
        name: 'in',
        valueType: 'array',
      },
    );
  });

  test('POST /v1/analytics/query parses as QueryAnalyticsResponse, rows and metadata carried', () => {
    const body = presentAnalyticsQuery({
      data: [
        {
          date__day: '2026-12-01T00:00:00.000Z',
          model: 'a/b',
          request_count: 3,
          p50_latency: 812.5,
        },
        { date__day: '2026-12-01T00:00:00.000Z', model: null, request_count: 1, p50_latency: null },
      ],
      rowCount: 2,
      truncated: true,
      queryTimeMs: 12.5,
      timeRange: { start: '2026-11-24T10:00:00.000Z', end: '2026-12-01T10:00:00.000Z' },
      warnings: ['w'],
    });
    const parsed = QueryAnalyticsResponse$inboundSchema.parse(body);
    assert.deepEqual(parsed.data.metadata, { queryTimeMs: 12.5, rowCount: 2, truncated: true });
    assert.equal(parsed.data.data.length, 2);
    assert.deepEqual(parsed.data.warnings, ['w']);
    // The rows as sent (the SDK's row schema is an open object).
    assert.deepEqual((body.data['data'] as unknown[])[0], {
      date__day: '2026-12-01T00:00:00.000Z',
      model: 'a/b',
      request_count: 3,
      p50_latency: 812.5,
    });
  });

  test('the body the SDK sends becomes the tenant-scoped query', () => {
    const sent = QueryAnalyticsRequestBody$outboundSchema.parse({
      metrics: ['request_count', 'p99_latency'],
      dimensions: ['model'],
      filters: [{ field: 'provider', operator: 'in', value: ['sim'], includeUnset: true }],
      granularity: 'day',
      timeRange: { start: new Date('2026-12-01T00:00:00Z'), end: new Date('2026-12-02T00:00:00Z') },
      orderBy: { field: 'p99_latency', direction: 'desc' },
      limit: 10,
      groupLimit: 3,
    });
    assert.deepEqual(analyticsQueryParams('acme', JSON.parse(JSON.stringify(sent))), {
      tenantId: 'acme',
      metrics: ['request_count', 'p99_latency'],
      dimensions: ['model'],
      filters: [{ field: 'provider', operator: 'in', value: ['sim'], includeUnset: true }],
      granularity: 'day',
      timeRange: { start: '2026-12-01T00:00:00.000Z', end: '2026-12-02T00:00:00.000Z' },
      orderBy: { field: 'p99_latency', direction: 'desc' },
      limit: 10,
      groupLimit: 3,
    });
    // Defaults: the last 7 days (decided by analytics), 1000 rows, no groups cut.
    const d = analyticsQueryParams('acme', { metrics: ['total_usage'] });
    assert.equal(d.timeRange, null);
    assert.equal(d.limit, 1000);
    assert.equal(d.groupLimit, null);
  });

  test('bad bodies are a 400 naming the field; nothing can name a tenant', () => {
    refused({}, 'metrics');
    refused({ metrics: [] }, 'metrics');
    refused({ metrics: ['nope'] }, 'metrics.0');
    refused({ metrics: ['request_count'], dimensions: ['tenant_id'] }, 'dimensions.0');
    refused({ metrics: ['request_count'], dimensions: ['model', 'provider', 'app'] }, 'dimensions');
    refused(
      { metrics: ['request_count'], filters: [{ field: 'tenant_id', operator: 'eq', value: 'x' }] },
      'filters.0.field',
    );
    refused(
      { metrics: ['request_count'], filters: [{ field: 'model', operator: 'like', value: 'x' }] },
      'filters.0.operator',
    );
    refused({ metrics: ['request_count'], tenant_id: 'other' }, /^$|tenant_id/);
    refused({ metrics: ['request_count'], granularity: 'year' }, 'granularity');
    refused(
      {
        metrics: ['request_count'],
        time_range: { start: '2026-12-01T00:00Z', end: '2026-12-02T00:00:00Z' },
      },
      'time_range.start',
    );
    refused({ metrics: ['request_count'], limit: 10_001 }, 'limit');
    refused({ metrics: ['request_count'], group_limit: 0 }, 'group_limit');
    refused(
      { metrics: ['request_count'], classifier_dimensions: { classifier_id: 'x' } },
      'classifier_dimensions',
    );
  });
});
