/**
 * Usage analytics end to end: traffic of two fresh tenants through the gateway, counted by
 * `analytics` into its rollups and read back through `GET /v1/analytics/meta` and
 * `POST /v1/analytics/query` (OpenRouter's shapes, and `@openrouter/sdk` unchanged but for
 * `serverURL`): the figures equal a direct computation over the raw usage events billing stored
 * (sums exact, percentiles within the sketch's 1 %); every analytics route is tenant-isolated;
 * queries are bounded; a usage event put on the topic again counts once; and a replay of the
 * topics from offset 0 into an empty schema reproduces every bucket.
 */
import assert from 'node:assert/strict';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { OpenRouter } from '@openrouter/sdk';
import kafkajs from 'kafkajs';
import pg from 'pg';
import { TOPICS, type UsageEventV1 } from '@turnpike/contracts';
import { restartService, seedTenant, stopPid, usageEventFixture } from '@turnpike/testing';
import { ctx, eventually, marker } from '../support/context.js';

type Json = Record<string, unknown>;
type Row = Record<string, string | number | null>;

let db: pg.Client;
const stateDir = () => path.dirname(process.env['TURNPIKE_TEST_CONTEXT']!);
const APP = { referer: 'https://analytics-app.example', title: 'Analytics App' };

before(async () => {
  db = new pg.Client({ connectionString: ctx().databaseUrl });
  await db.connect();
});
after(async () => {
  await db.end();
});

async function call(
  method: string,
  p: string,
  key: string | null,
  body?: unknown,
  base = ctx().gatewayUrl,
): Promise<{ status: number; body: Json }> {
  const res = await fetch(`${base}${p}`, {
    method,
    headers: {
      ...(key ? { authorization: `Bearer ${key}` } : {}),
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
    },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  return { status: res.status, body: (await res.json()) as Json };
}

const query = async (key: string, body: Json) => {
  const r = await call('POST', '/v1/analytics/query', key, body);
  assert.equal(r.status, 200, JSON.stringify(r.body));
  const d = r.body['data'] as Json;
  return { rows: d['data'] as Row[], metadata: d['metadata'] as Json, warnings: d['warnings'] };
};

async function chat(key: string, model: string, content: string, stream = false, app = false) {
  const res = await fetch(`${ctx().gatewayUrl}/v1/chat/completions`, {
    method: 'POST',
    headers: {
      authorization: `Bearer ${key}`,
      'content-type': 'application/json',
      ...(app ? { 'HTTP-Referer': APP.referer, 'X-Title': APP.title } : {}),
    },
    body: JSON.stringify({
      model,
      stream,
      ...(stream ? { stream_options: { include_usage: true } } : {}),
      messages: [{ role: 'user', content }],
    }),
  });
  await res.text();
  return res.status;
}

/** The usage events billing stored for a tenant: the raw facts. */
async function rawEvents(
  tenantId: string,
): Promise<Array<{ event: UsageEventV1; charged: number }>> {
  const r = await db.query<{ event: UsageEventV1; charged_micros: string }>(
    'SELECT event, charged_micros FROM billing.usage_events WHERE tenant_id = $1',
    [tenantId],
  );
  return r.rows.map((x) => ({ event: x.event, charged: Number(x.charged_micros) }));
}

const exactQuantile = (values: number[], q: number) =>
  [...values].sort((a, b) => a - b)[Math.floor(q * (values.length - 1))]!;

function withinSketch(got: unknown, want: number, what: string) {
  assert.equal(typeof got, 'number', `${what}: ${String(got)}`);
  assert.ok(
    Math.abs((got as number) - want) <= want * 0.01 + 0.01,
    `${what}: ${String(got)} vs exact ${want}`,
  );
}

const window = () => ({
  start: new Date(Date.now() - 3_600_000).toISOString(),
  end: new Date(Date.now() + 60_000).toISOString(),
});

describe('usage analytics', () => {
  let a: { tenantId: string; keyId: string; key: string };
  let b: { tenantId: string; keyId: string; key: string };
  const A_REQUESTS = 10;

  before(async () => {
    const suffix = Math.random().toString(36).slice(2, 8);
    a = await seedTenant(ctx().gatewayUrl, ctx().adminToken, {
      id: `an-a-${suffix}`,
      name: 'Analytics A',
    });
    b = await seedTenant(ctx().gatewayUrl, ctx().adminToken, {
      id: `an-b-${suffix}`,
      name: 'Analytics B',
    });
    const m = marker('an');
    const statuses = await Promise.all([
      ...Array.from({ length: 4 }, (_, i) =>
        chat(
          a.key,
          'turnpike/sim-small',
          `${m} ${i} [[sim tokens=${5 + i} ttft_ms=${20 + 10 * i}]]`,
          false,
          true,
        ),
      ),
      ...Array.from({ length: 3 }, (_, i) =>
        chat(
          a.key,
          'turnpike/sim-small',
          `${m} s${i} [[sim tokens=20 ttft_ms=40 tps=${100 + 50 * i}]]`,
          true,
          true,
        ),
      ),
      ...Array.from({ length: 2 }, (_, i) =>
        chat(a.key, 'turnpike/sim-large', `${m} l${i} [[sim tokens=8]]`),
      ),
      chat(a.key, 'turnpike/sim-small', `${m} err [[sim status=400]]`),
      ...Array.from({ length: 2 }, (_, i) =>
        chat(b.key, 'turnpike/sim-small', `${m} b${i} [[sim tokens=3]]`),
      ),
    ]);
    assert.deepEqual(statuses.filter((s) => s !== 200).length, 1, `statuses ${statuses.join(',')}`);
    await eventually(
      async () => (await rawEvents(a.tenantId)).length === A_REQUESTS,
      'the usage events in billing',
      20_000,
    );
    for (const [t, n] of [
      [a, A_REQUESTS],
      [b, 2],
    ] as const)
      await eventually(
        async () =>
          (await query(t.key, { metrics: ['request_count'], time_range: window() })).rows[0]?.[
            'request_count'
          ] === n,
        `analytics to count ${t.tenantId}'s ${n} generations`,
        20_000,
      );
  });

  test("a tenant's figures equal a direct computation over its raw usage events", async () => {
    const raw = await rawEvents(a.tenantId);
    const { rows } = await query(a.key, {
      metrics: [
        'request_count',
        'tokens_prompt',
        'tokens_completion',
        'total_usage',
        'usage_upstream',
        'error_count',
        'p50_latency',
        'p99_latency',
        'p50_ttft',
        'avg_latency',
      ],
      dimensions: ['model'],
      time_range: window(),
      order_by: { field: 'request_count', direction: 'desc' },
    });
    const byModel = new Map<string | null, typeof raw>();
    for (const r of raw) byModel.set(r.event.model, [...(byModel.get(r.event.model) ?? []), r]);
    assert.equal(rows.length, byModel.size, JSON.stringify(rows));
    for (const row of rows) {
      const evs = byModel.get(row['model'] as string | null)!;
      const what = `model ${String(row['model'])}`;
      assert.equal(row['request_count'], evs.length, what);
      assert.equal(
        row['tokens_prompt'],
        evs.reduce((n, r) => n + r.event.tokens.prompt, 0),
        what,
      );
      assert.equal(
        row['tokens_completion'],
        evs.reduce((n, r) => n + r.event.tokens.completion, 0),
        what,
      );
      assert.equal(
        Math.round((row['total_usage'] as number) * 1e6),
        evs.reduce((n, r) => n + r.charged, 0),
        what,
      );
      assert.equal(
        Math.round((row['usage_upstream'] as number) * 1e6),
        evs.reduce((n, r) => n + r.event.cost.upstreamMicros, 0),
        what,
      );
      assert.equal(row['error_count'], evs.filter((r) => r.event.status === 'error').length, what);
      const latencies = evs.map((r) => Math.round(r.event.latencyMs));
      withinSketch(row['p50_latency'], exactQuantile(latencies, 0.5), `${what} p50_latency`);
      withinSketch(row['p99_latency'], exactQuantile(latencies, 0.99), `${what} p99_latency`);
      const mean = latencies.reduce((x, y) => x + y, 0) / latencies.length;
      assert.ok(Math.abs((row['avg_latency'] as number) - mean) < 1e-3, `${what} avg_latency`);
      const ttfts = evs.flatMap((r) =>
        r.event.ttftMs === null ? [] : [Math.round(r.event.ttftMs)],
      );
      if (ttfts.length > 0)
        withinSketch(row['p50_ttft'], exactQuantile(ttfts, 0.5), `${what} p50_ttft`);
    }
    // The app dimension and a time series by minute.
    const apps = await query(a.key, {
      metrics: ['request_count'],
      dimensions: ['app'],
      time_range: window(),
      order_by: { field: 'app', direction: 'asc' },
    });
    assert.deepEqual(
      apps.rows.map((r) => [r['app'], r['request_count']]),
      [
        [APP.referer, 7],
        [null, 3],
      ],
    );
    const series = await query(a.key, {
      metrics: ['request_count'],
      granularity: 'minute',
      time_range: window(),
    });
    assert.equal(
      series.rows.reduce((n, r) => n + (r['request_count'] as number), 0),
      A_REQUESTS,
    );
    assert.ok(series.rows.every((r) => typeof r['date__minute'] === 'string'));
  });

  for (const prefix of ['/v1', '/api/v1'] as const) {
    test(`@openrouter/sdk analytics.getAnalyticsMeta and analytics.queryAnalytics at ${prefix}`, async () => {
      const sdk = new OpenRouter({ serverURL: `${ctx().gatewayUrl}${prefix}`, apiKey: a.key });
      const meta = (await sdk.analytics.getAnalyticsMeta()).data;
      assert.ok(
        meta.metrics.some((m) => m.name === 'p99_latency' && m.displayFormat === 'latency'),
      );
      assert.ok(meta.dimensions.some((d) => d.name === 'model'));
      assert.ok(meta.granularities.some((g) => g.name === 'minute'));
      const requestBody = {
        metrics: ['request_count', 'total_usage', 'p90_latency'],
        dimensions: ['model', 'status'],
        granularity: 'day',
        timeRange: { start: new Date(Date.now() - 3_600_000), end: new Date(Date.now() + 60_000) },
        orderBy: { field: 'request_count', direction: 'desc' as const },
        limit: 100,
      };
      const r = await sdk.analytics.queryAnalytics({ requestBody });
      // The SDK's row schema is an empty object (it keeps no field of a row): its answer tells
      // the rows and their metadata; the same query over HTTP tells what is in them.
      assert.equal(r.data.metadata.rowCount, r.data.data.length);
      assert.equal(r.data.metadata.truncated, false);
      assert.ok(r.data.metadata.queryTimeMs >= 0);
      const { rows } = await query(a.key, {
        metrics: requestBody.metrics,
        dimensions: requestBody.dimensions,
        granularity: 'day',
        time_range: {
          start: requestBody.timeRange.start.toISOString(),
          end: requestBody.timeRange.end.toISOString(),
        },
        order_by: requestBody.orderBy,
        limit: 100,
      });
      assert.equal(rows.length, r.data.data.length);
      assert.equal(
        rows.reduce((n, x) => n + (x['request_count'] as number), 0),
        A_REQUESTS,
      );
      assert.deepEqual(
        rows.map((x) => x['request_count']),
        rows.map((x) => x['request_count']).sort((p, q) => (q as number) - (p as number)),
      );
      assert.ok(rows.some((x) => x['status'] === 'error' && x['request_count'] === 1));
      assert.ok(
        rows.every(
          (x) => typeof x['date__day'] === 'string' && typeof x['p90_latency'] === 'number',
        ),
      );
    });
  }

  test('tenant isolation on every analytics route: a key sees its own tenant only', async () => {
    const everything = { metrics: ['request_count', 'total_usage'], time_range: window() };
    const [own] = (await query(b.key, everything)).rows;
    assert.equal(own!['request_count'], 2);
    const models = await query(b.key, { ...everything, dimensions: ['model', 'api_key_id'] });
    assert.deepEqual(
      models.rows.map((r) => [r['model'], r['api_key_id']]),
      [['turnpike/sim-small', b.keyId]],
    );
    // Filters only narrow the caller's own buckets: naming another tenant's key finds nothing.
    const [other] = (
      await query(b.key, {
        ...everything,
        filters: [
          { field: 'api_key_id', operator: 'in', value: [a.keyId, b.keyId.replace(/.$/, 'x')] },
        ],
      })
    ).rows;
    assert.equal(other!['request_count'], 0);
    // The tenant is the key's: a body naming one is refused.
    for (const body of [
      { ...everything, tenant_id: a.tenantId },
      { ...everything, dimensions: ['tenant_id'] },
      { ...everything, filters: [{ field: 'tenant_id', operator: 'eq', value: a.tenantId }] },
    ])
      assert.equal(
        (await call('POST', '/v1/analytics/query', b.key, body)).status,
        400,
        JSON.stringify(body),
      );
    // No key, a wrong key or the admin token: no analytics at all.
    for (const key of [null, 'sk-tp-v1-nope', ctx().adminToken]) {
      assert.equal((await call('GET', '/v1/analytics/meta', key)).status, 401);
      assert.equal((await call('POST', '/v1/analytics/query', key, everything)).status, 401);
      assert.equal((await call('GET', '/v1/activity', key)).status, 401);
    }
    // The activity statement, now answered from the rollups, is the key's tenant's too.
    const act = await call('GET', '/v1/activity', b.key);
    assert.equal(act.status, 200);
    const rows = act.body['data'] as Row[];
    assert.equal(
      rows.reduce((n, r) => n + (r['requests'] as number), 0),
      2,
    );
    assert.ok(rows.every((r) => r['key_id'] === b.keyId));
  });

  test('queries are bounded: range, granularity, rows and groups', async () => {
    const bad = async (body: Json, param: string) => {
      const r = await call('POST', '/v1/analytics/query', a.key, {
        metrics: ['request_count'],
        ...body,
      });
      assert.equal(r.status, 400, JSON.stringify(r.body));
      assert.equal((r.body['error'] as Json)['param'], param, JSON.stringify(r.body));
    };
    const ago = (days: number) => new Date(Date.now() - days * 86_400_000).toISOString();
    const now = new Date().toISOString();
    await bad({ time_range: { start: ago(400), end: now } }, 'time_range');
    await bad({ granularity: 'hour', time_range: { start: ago(40), end: now } }, 'time_range');
    await bad({ granularity: 'minute', time_range: { start: ago(3), end: now } }, 'time_range');
    await bad({ time_range: { start: now, end: ago(1) } }, 'time_range');
    await bad({ limit: 10_001 }, 'limit');
    await bad({ dimensions: ['model', 'provider', 'app'] }, 'dimensions');
    await bad({ order_by: { field: 'p50_latency', direction: 'desc' } }, 'order_by.field');
    // Rows and groups cut, and said so.
    const cut = await query(a.key, {
      metrics: ['request_count'],
      dimensions: ['model'],
      limit: 1,
      time_range: window(),
    });
    assert.equal(cut.rows.length, 1);
    assert.equal(cut.metadata['truncated'], true);
    const grouped = await query(a.key, {
      metrics: ['request_count'],
      dimensions: ['status'],
      granularity: 'minute',
      group_limit: 1,
      time_range: window(),
    });
    const statuses = grouped.rows.map((r) => r['status']);
    assert.equal(new Set(statuses).size, statuses.length, 'one row per status');
  });

  test('a usage event put on the topic again counts once', async () => {
    const [first] = await rawEvents(a.tenantId);
    const kafka = new kafkajs.Kafka({
      clientId: 'analytics-e2e',
      brokers: [ctx().kafkaBrokers],
      logLevel: kafkajs.logLevel.NOTHING,
    });
    const producer = kafka.producer();
    await producer.connect();
    try {
      const [meta] = await producer.send({
        topic: TOPICS.usageEvents,
        messages: [{ key: first!.event.generationId, value: JSON.stringify(first!.event) }],
      });
      // A marker after it on the same partition: once it is counted, the duplicate was read.
      const probe = usageEventFixture(`an-probe-${Math.random().toString(36).slice(2, 8)}`, 10);
      await producer.send({
        topic: TOPICS.usageEvents,
        messages: [
          { key: probe.generationId, value: JSON.stringify(probe), partition: meta!.partition },
        ],
      });
      await eventually(async () => {
        const r = await db.query(
          'SELECT 1 FROM analytics.processed_generations WHERE generation_id = $1',
          [probe.generationId],
        );
        return r.rows.length === 1;
      }, 'the probe counted');
    } finally {
      await producer.disconnect();
    }
    const [row] = (await query(a.key, { metrics: ['request_count'], time_range: window() })).rows;
    assert.equal(row!['request_count'], A_REQUESTS);
  });

  test('a replay of the topics from offset 0 into an empty schema reproduces every bucket', async (t) => {
    const schema = `analytics_replay_${Math.random().toString(36).slice(2, 8)}`;
    const replay = await restartService(stateDir(), 'analytics-1', {
      as: 'analytics-replay',
      env: {
        ANALYTICS_MODE: 'replay',
        ANALYTICS_SCHEMA: schema,
        ANALYTICS_GROUP_ID: `${schema}-group`,
      },
    });
    try {
      const counts = async (s: string) =>
        (
          await db.query<{ g: number; a: number; p: number }>(
            `SELECT (SELECT count(*)::int FROM ${s}.processed_generations) AS g,
                    (SELECT count(*)::int FROM ${s}.processed_attempts) AS a,
                    (SELECT count(*)::int FROM ${s}.parked_records) AS p`,
          )
        ).rows[0]!;
      const primary = await counts('analytics');
      await eventually(
        async () => {
          const r = await counts(schema).catch(() => undefined);
          return r?.g === primary.g && r.a === primary.a && r.p === primary.p;
        },
        'the replay to catch up',
        180_000,
      );
      const cols = {
        usage_rollups: `granularity, bucket_start, tenant_id, key_id, model, provider, endpoint_id, app, finish_reason, status,
          requests, prompt_tokens, completion_tokens, cached_tokens, cache_write_tokens, reasoning_tokens, upstream_micros,
          charged_micros, errors, fallbacks`,
        attempt_rollups:
          'granularity, bucket_start, endpoint_id, provider, model, outcome, attempts, prompt_tokens, completion_tokens',
      };
      const maps = `errors_by_code, ttft_sketch, latency_sketch, throughput_sketch - 's' AS throughput,
          round((throughput_sketch->>'s')::numeric, 4) AS throughput_sum`;
      for (const [table, c] of Object.entries(cols)) {
        const diff = await db.query(
          `(SELECT ${c}, ${maps} FROM analytics.${table} EXCEPT SELECT ${c}, ${maps} FROM ${schema}.${table})
           UNION ALL (SELECT ${c}, ${maps} FROM ${schema}.${table} EXCEPT SELECT ${c}, ${maps} FROM analytics.${table})`,
        );
        assert.deepEqual(diff.rows, [], `${table}: every bucket, sum and sketch bin`);
        const n = await db.query<{ n: number }>(
          `SELECT count(*)::int AS n FROM ${schema}.${table}`,
        );
        t.diagnostic(
          `${table}: ${n.rows[0]!.n} buckets equal after replaying ${primary.g} events and ${primary.a} attempts`,
        );
      }
    } finally {
      await stopPid(replay.pid, 30_000);
      await db.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
    }
  });
});
