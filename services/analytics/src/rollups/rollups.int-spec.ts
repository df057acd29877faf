/**
 * The rollups on a real Postgres (started here): seeded synthetic traffic counted in batches as
 * the consumers hand them over, then read back through the reader and compared with a direct
 * computation over the raw events: sums exact, percentiles within the sketch's 1 %. Duplicates
 * and redeliveries count once; a replay in other batches into an empty schema gives the same
 * buckets; compaction keeps sums and merged sketches; a record the database refuses is parked
 * and the rest of its group counted; closed buckets are published once per version.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { DataSource } from 'typeorm';
import {
  SKETCH_RELATIVE_ACCURACY,
  UsageRollupV1,
  type LlmAttemptV1,
  type UsageEventV1,
} from '@turnpike/contracts';
import type { Log } from '@turnpike/kafka';
import {
  fromSketchRecord,
  rollupKey,
  rollupRecord,
  RollupReader,
  RollupStore,
  type UnreadableRow,
} from '@turnpike/rollups';
import {
  freePorts,
  startPostgres,
  TrafficGenerator,
  type PostgresHandle,
  type SyntheticGeneration,
} from '@turnpike/testing';
import { analyticsMigrations } from '../analytics.module.js';
import { InMemoryRollupReader } from '../community/in-memory-rollups.js';
import type { UsageQuery, UsageRow } from '../community/rollup-reader.js';
import { RollupsPort } from '../community/rollups-port.js';
import { RollupWriter, type ReceivedAttempt, type ReceivedUsage } from './rollup-writer.js';
import { typeormDb } from './typeorm-db.js';

type AnalyticsRowValue = string | number | null | undefined;
const HOUR = 3_600_000;
const DAY = 24 * HOUR;
let tmp: string;
let postgres: PostgresHandle | undefined;
const opened: DataSource[] = [];

before(async () => {
  tmp = await fs.mkdtemp(path.join(os.tmpdir(), 'turnpike-rollups-'));
  await fs.chmod(tmp, 0o755);
  const [port] = (await freePorts(1)) as [number];
  postgres = await startPostgres({
    dataDir: path.join(tmp, 'pg'),
    port,
    logFile: path.join(tmp, 'postgres.log'),
    database: 'rollups_spec',
  });
});

after(async () => {
  for (const db of opened) await db.destroy().catch(() => undefined);
  await postgres?.stop().catch(() => undefined);
  await fs.rm(tmp, { recursive: true, force: true });
});

/** Rollups in their own schema, migrated as analytics migrates it. */
async function openRollups(schema: string) {
  const ds = new DataSource({
    type: 'postgres',
    url: postgres!.url,
    schema,
    migrations: analyticsMigrations(schema),
    migrationsTableName: 'migrations',
    extra: { max: 4 },
  });
  await ds.initialize();
  opened.push(ds);
  await ds.query(`CREATE SCHEMA IF NOT EXISTS "${schema}"`);
  await ds.runMigrations();
  const db = typeormDb(ds);
  const store = new RollupStore(db, schema);
  const lines: Array<{ level: string; text: string }> = [];
  const log: Log = {
    log: (text) => lines.push({ level: 'log', text }),
    warn: (text) => lines.push({ level: 'warn', text }),
    error: (text) => lines.push({ level: 'error', text }),
  };
  return {
    db,
    store,
    reader: new RollupReader(db, schema),
    writer: new RollupWriter(store, log),
    lines,
  };
}

let offsets = 0;
const asUsage = (event: UsageEventV1, partition = 0): ReceivedUsage => {
  const value = Buffer.from(JSON.stringify(event));
  return {
    event,
    partition,
    offset: String(offsets++),
    key: Buffer.from(event.generationId),
    value,
  };
};
const asAttempt = (record: LlmAttemptV1, partition = 0): ReceivedAttempt => {
  const value = Buffer.from(JSON.stringify(record));
  return {
    record,
    partition,
    offset: String(offsets++),
    key: Buffer.from(record.generationId),
    value,
  };
};

/** Feeds generations to the writer in batches of `size`, `concurrent` batches at a time. */
async function feed(
  writer: RollupWriter,
  gens: readonly SyntheticGeneration[],
  size: number,
  concurrent = 3,
): Promise<void> {
  const batches: SyntheticGeneration[][] = [];
  for (let i = 0; i < gens.length; i += size) batches.push(gens.slice(i, i + size));
  for (let i = 0; i < batches.length; i += concurrent)
    await Promise.all(
      batches.slice(i, i + concurrent).map((b) =>
        writer.submit(
          b.map((g) => asUsage(g.event)),
          b.flatMap((g) => g.attempts.map((a) => asAttempt(a))),
        ),
      ),
    );
}

// -------------------------------------------------------------------------------------------
// The direct computation, over the raw events
// -------------------------------------------------------------------------------------------

const charged = (e: UsageEventV1) =>
  e.status === 'error' || e.tokens.completion === 0 ? 0 : e.cost.chargedMicros;

function throughputOf(e: UsageEventV1): number | null {
  if (!e.stream || e.ttftMs === null || e.tokens.completion < 2) return null;
  const generating = e.latencyMs - e.ttftMs;
  return generating >= 5
    ? Math.round(((e.tokens.completion - 1) / (generating / 1000)) * 100) / 100
    : null;
}

/** DDSketch's rank: the value at index floor(q * (n - 1)) of the sorted values. */
function exactQuantile(values: number[], q: number): number | null {
  if (values.length === 0) return null;
  const s = [...values].sort((a, b) => a - b);
  return s[Math.floor(q * (s.length - 1))]!;
}

interface Direct {
  request_count: number;
  tokens_prompt: number;
  tokens_completion: number;
  tokens_cached: number;
  tokens_reasoning: number;
  total_usage_micros: number;
  usage_upstream_micros: number;
  error_count: number;
  fallback_count: number;
  latency: number[];
  ttft: number[];
  throughput: number[];
}

function direct(
  events: readonly UsageEventV1[],
  key: (e: UsageEventV1) => string,
): Map<string, Direct> {
  const out = new Map<string, Direct>();
  for (const e of events) {
    const k = key(e);
    let d = out.get(k);
    if (!d)
      out.set(
        k,
        (d = {
          request_count: 0,
          tokens_prompt: 0,
          tokens_completion: 0,
          tokens_cached: 0,
          tokens_reasoning: 0,
          total_usage_micros: 0,
          usage_upstream_micros: 0,
          error_count: 0,
          fallback_count: 0,
          latency: [],
          ttft: [],
          throughput: [],
        }),
      );
    d.request_count++;
    d.tokens_prompt += e.tokens.prompt;
    d.tokens_completion += e.tokens.completion;
    d.tokens_cached += e.tokens.cachedRead;
    d.tokens_reasoning += e.tokens.reasoning;
    d.total_usage_micros += charged(e);
    d.usage_upstream_micros += e.cost.upstreamMicros;
    if (e.status === 'error') d.error_count++;
    if (e.attempts.length > 1) d.fallback_count++;
    d.latency.push(Math.round(e.latencyMs));
    if (e.ttftMs !== null) d.ttft.push(Math.round(e.ttftMs));
    const t = throughputOf(e);
    if (t !== null) d.throughput.push(t);
  }
  return out;
}

/** A sketch's quantile against the exact one: within the relative accuracy (and float noise). */
function assertWithinSketchError(got: AnalyticsRowValue, want: number | null, what: string): void {
  if (want === null) return assert.equal(got, null, what);
  assert.equal(typeof got, 'number', `${what}: ${String(got)}`);
  const err = Math.abs((got as number) - want);
  assert.ok(
    err <= want * SKETCH_RELATIVE_ACCURACY + 0.01,
    `${what}: sketch ${String(got)} vs exact ${want} (error ${((err / want) * 100).toFixed(3)} %)`,
  );
}

const ALL_METRICS = [
  'request_count',
  'tokens_prompt',
  'tokens_completion',
  'tokens_cached',
  'tokens_reasoning',
  'total_usage',
  'usage_upstream',
  'error_count',
  'fallback_count',
  'avg_latency',
  'p50_latency',
  'p90_latency',
  'p99_latency',
  'p50_ttft',
  'p99_ttft',
  'p50_throughput',
  'p90_throughput',
] as const;

function compareRow(row: Record<string, AnalyticsRowValue>, d: Direct, what: string): void {
  for (const k of [
    'request_count',
    'tokens_prompt',
    'tokens_completion',
    'tokens_cached',
    'tokens_reasoning',
    'error_count',
    'fallback_count',
  ] as const)
    assert.equal(row[k], d[k], `${what}: ${k}`);
  assert.equal(
    Math.round((row['total_usage'] as number) * 1e6),
    d.total_usage_micros,
    `${what}: total_usage`,
  );
  assert.equal(
    Math.round((row['usage_upstream'] as number) * 1e6),
    d.usage_upstream_micros,
    `${what}: usage_upstream`,
  );
  const mean = d.latency.reduce((a, b) => a + b, 0) / d.latency.length;
  assert.ok(Math.abs((row['avg_latency'] as number) - mean) < 1e-3, `${what}: avg_latency`);
  assertWithinSketchError(
    row['p50_latency'],
    exactQuantile(d.latency, 0.5),
    `${what}: p50_latency`,
  );
  assertWithinSketchError(
    row['p90_latency'],
    exactQuantile(d.latency, 0.9),
    `${what}: p90_latency`,
  );
  assertWithinSketchError(
    row['p99_latency'],
    exactQuantile(d.latency, 0.99),
    `${what}: p99_latency`,
  );
  assertWithinSketchError(row['p50_ttft'], exactQuantile(d.ttft, 0.5), `${what}: p50_ttft`);
  assertWithinSketchError(row['p99_ttft'], exactQuantile(d.ttft, 0.99), `${what}: p99_ttft`);
  assertWithinSketchError(
    row['p50_throughput'],
    exactQuantile(d.throughput, 0.5),
    `${what}: p50_throughput`,
  );
  assertWithinSketchError(
    row['p90_throughput'],
    exactQuantile(d.throughput, 0.9),
    `${what}: p90_throughput`,
  );
}

// -------------------------------------------------------------------------------------------

describe('rollups', () => {
  const now = Date.now();
  // Six hours up to a minute ago, 2500 generations of 6 tenants.
  const traffic = new TrafficGenerator({
    seed: 20261206,
    from: now - 6 * HOUR,
    to: now - 60_000,
    tenants: 6,
    models: 12,
    tenantPrefix: 'rs',
  });
  const gens = traffic.take(2500);
  const events = gens.map((g) => g.event);
  const tenantA = traffic.tenantId(0);
  const query = (tenantIds: string[] | 'all', over: Record<string, unknown> = {}) => ({
    tenantIds,
    from: new Date(now - 7 * HOUR),
    to: new Date(now),
    granularity: null,
    dimensions: [] as never[],
    filters: [],
    metrics: [...ALL_METRICS],
    orderBy: null,
    limit: 1000,
    groupLimit: null,
    ...over,
  });

  test('rollups equal a direct computation over the raw events (sums exact, percentiles within 1 %)', async (t) => {
    const { writer, reader } = await openRollups('rs_direct');
    const t0 = performance.now();
    await feed(writer, gens, 97);
    t.diagnostic(
      `counted ${gens.length} generations and ${gens.reduce((n, g) => n + g.attempts.length, 0)} attempts in ${(performance.now() - t0).toFixed(0)} ms (${writer.stats.transactions} transactions)`,
    );
    // One tenant, by model.
    const mine = events.filter((e) => e.tenantId === tenantA);
    const want = direct(mine, (e) => e.model ?? '');
    const byModel = await reader.query(query([tenantA], { dimensions: ['model'] }));
    assert.equal(byModel.rows.length, want.size);
    for (const row of byModel.rows)
      compareRow(
        row,
        want.get((row['model'] as string | null) ?? '')!,
        `model ${String(row['model'])}`,
      );

    // Every tenant at once, by hour (a time series from minute buckets), one model.
    const model = mine[0]!.model!;
    const perHour = direct(
      events.filter((e) => e.model === model),
      (e) => new Date(Math.floor(Date.parse(e.createdAt) / HOUR) * HOUR).toISOString(),
    );
    const series = await reader.query(
      query('all', {
        granularity: 'hour',
        filters: [{ field: 'model', operator: 'eq', value: model }],
        orderBy: { field: 'date', direction: 'asc' },
      }),
    );
    assert.deepEqual(
      series.rows.map((r) => r['date__hour']),
      [...perHour.keys()].sort(),
    );
    for (const row of series.rows)
      compareRow(
        row,
        perHour.get(row['date__hour'] as string)!,
        `hour ${String(row['date__hour'])}`,
      );

    // One row for everything, and the tenant's figures never include another tenant's.
    const [all] = (await reader.query(query('all'))).rows;
    compareRow(all!, direct(events, () => '').get('')!, 'all tenants');
    const [onlyA] = (await reader.query(query([tenantA]))).rows;
    compareRow(onlyA!, direct(mine, () => '').get('')!, 'tenant A');
    const filters = [
      {
        field: 'api_key_id' as const,
        operator: 'in' as const,
        value: [events.find((e) => e.tenantId !== tenantA)!.keyId],
      },
    ];
    const [leak] = (await reader.query(query([tenantA], { filters }))).rows;
    assert.equal(leak!['request_count'], 0, "a filter on another tenant's key finds nothing");
  });

  test("the community's port over the rollups answers as the in-memory fake over the raw events", async () => {
    const { writer, reader } = await openRollups('rs_port');
    await feed(writer, gens, 250);
    const port = new RollupsPort(reader);
    const fake = new InMemoryRollupReader(events);
    const day = new Date(Math.floor((now - 7 * HOUR) / DAY) * DAY);
    const window = { from: day, to: new Date(now) };
    const key = (r: { key: object }) => JSON.stringify(r.key);
    const usage = async (q: UsageQuery) => {
      const [got, want] = await Promise.all([port.query(q), fake.query(q)]);
      assert.equal(got.truncated, want.truncated);
      assert.deepEqual(got.rows.map(key), want.rows.map(key), 'the same groups, in the same order');
      got.rows.forEach((r, i) => {
        const w = want.rows[i]!;
        const sums = (x: UsageRow) => [
          x.requests,
          x.promptTokens,
          x.completionTokens,
          x.cachedTokens,
          x.reasoningTokens,
          x.errors,
          x.fallbacks,
        ];
        assert.deepEqual(sums(r), sums(w), key(r));
        if (q.metrics.includes('latency'))
          assert.equal(r.latencyMs === null, w.latencyMs === null, key(r));
      });
      return got.rows.length;
    };
    // Rankings by day and model; apps; sessions (tenant, key, app, model, day); one tenant.
    assert.ok(
      (await usage({
        tenantIds: 'all',
        ...window,
        granularity: 'day',
        dimensions: ['bucket', 'model'],
        metrics: ['prompt_tokens', 'completion_tokens'],
        orderBy: { field: 'completion_tokens', direction: 'desc' },
        groupLimit: 5,
      })) > 0,
    );
    await usage({
      tenantIds: [tenantA, traffic.tenantId(1)],
      ...window,
      granularity: 'hour',
      dimensions: ['app'],
      metrics: ['requests', 'latency'],
      limit: 7,
    });
    await usage({
      tenantIds: 'all',
      ...window,
      granularity: 'day',
      dimensions: ['tenant_id', 'key_id', 'app', 'model', 'bucket'],
      filters: [{ dimension: 'model', values: [events[0]!.model!, null] }],
      metrics: ['requests', 'charged_micros'],
    });
    await usage({
      tenantIds: [tenantA],
      ...window,
      granularity: 'minute',
      dimensions: ['status'],
      metrics: ['requests', 'errors', 'fallbacks'],
    });
    // Attempt figures per endpoint: outcomes and the codes of failed attempts.
    const q = { ...window, granularity: 'day' as const, dimensions: ['endpoint_id' as const] };
    const [got, want] = await Promise.all([port.attempts(q), fake.attempts(q)]);
    assert.deepEqual(
      got.map((r) => [key(r), r.attempts, r.outcomes, r.errorCodes]),
      want.map((r) => [key(r), r.attempts, r.outcomes, r.errorCodes]),
    );
    for (const r of got) assert.equal(r.latencyMs === null, r.outcomes.success === 0, key(r));
  });

  test('duplicates, redeliveries and replays of records count once', async () => {
    const { writer, reader, db } = await openRollups('rs_dupes');
    const some = gens.slice(0, 400);
    // The same records twice within a batch, then every batch again (a redelivery), in other batches.
    await writer.submit(
      [...some.slice(0, 50), ...some.slice(0, 50)].map((g) => asUsage(g.event)),
      [...some.slice(0, 50), ...some.slice(0, 50)].flatMap((g) =>
        g.attempts.map((a) => asAttempt(a)),
      ),
    );
    await feed(writer, some, 40);
    await feed(writer, some, 133, 1);
    const [row] = (await reader.query(query('all'))).rows;
    compareRow(
      row!,
      direct(
        some.map((g) => g.event),
        () => '',
      ).get('')!,
      'after duplicates',
    );
    const [{ n }] = (await db.query<{ n: number }>(
      'SELECT count(*)::int AS n FROM rs_dupes.processed_generations',
    )) as [{ n: number }];
    assert.equal(n, 400);
    assert.ok(writer.stats.duplicates >= 50 + 400 + 400, `duplicates ${writer.stats.duplicates}`);
    const attempts = await reader.attempts({
      ...query('all'),
      metrics: ['attempt_count'],
      dimensions: [],
    } as never);
    assert.equal(
      attempts.rows[0]!['attempt_count'],
      some.reduce((x, g) => x + g.attempts.length, 0),
    );
  });

  test('a replay in other batches and another order into an empty schema reproduces every bucket', async (t) => {
    const a = await openRollups('rs_replay_a');
    const b = await openRollups('rs_replay_b');
    const cutoff = now - 3 * HOUR;
    await feed(a.writer, gens, 250);
    await a.store.compact(cutoff);
    // The replay: compacted first (as analytics does at boot), then fed in small batches, reversed.
    await b.store.compact(cutoff);
    await feed(b.writer, [...gens].reverse(), 31, 4);
    const dump = async (db: typeof a.db, schema: string, table: string) =>
      db.query<Record<string, unknown>>(
        `SELECT granularity, bucket_start, ${table === 'usage_rollups' ? 'tenant_id, key_id, model, provider, endpoint_id, app, finish_reason, status, requests, prompt_tokens, completion_tokens, cached_tokens, cache_write_tokens, reasoning_tokens, upstream_micros, charged_micros, errors, fallbacks' : 'endpoint_id, provider, model, outcome, attempts, prompt_tokens, completion_tokens'},
                errors_by_code, ttft_sketch - 's' AS ttft, latency_sketch - 's' AS latency, throughput_sketch - 's' AS throughput,
                round((throughput_sketch->>'s')::numeric, 6) AS tps_sum
           FROM ${schema}.${table} ORDER BY 1, 2, 3, 4, 5, 6, 7, 8, 9, 10`,
      );
    for (const table of ['usage_rollups', 'attempt_rollups']) {
      const x = await dump(a.db, 'rs_replay_a', table);
      const y = await dump(b.db, 'rs_replay_b', table);
      assert.ok(x.length > 100, `${table}: ${x.length} buckets`);
      assert.deepEqual(y, x, `${table}: every bucket, sum and sketch bin`);
      t.diagnostic(`${table}: ${x.length} buckets equal`);
    }
  });

  test('compaction merges minutes into hours: sums exact, sketch bins added, percentiles unchanged', async () => {
    const { writer, reader, store, db } = await openRollups('rs_compact');
    await feed(writer, gens, 500);
    const byHour = () =>
      reader.query(
        query('all', {
          granularity: 'hour',
          dimensions: ['model'],
          orderBy: { field: 'date', direction: 'asc' },
          limit: 5000,
        }),
      );
    const before = await byHour();
    const minuteSums = await db.query<Record<string, unknown>>(
      `SELECT date_trunc('hour', bucket_start) AS h, tenant_id, key_id, model, provider, endpoint_id, app, finish_reason, status,
              sum(requests)::bigint AS requests, sum(charged_micros)::bigint AS charged, rs_compact.jsonb_sum(latency_sketch) AS latency
         FROM rs_compact.usage_rollups WHERE granularity = 'minute'
        GROUP BY 1, 2, 3, 4, 5, 6, 7, 8, 9 ORDER BY 1, 2, 3, 4, 5, 6, 7, 8, 9`,
    );
    const cutoff = now - 2 * HOUR;
    const r = await store.compact(cutoff);
    assert.equal(r.watermark, Math.floor(cutoff / HOUR) * HOUR);
    assert.ok(r.minuteRows > 0 && r.hourRows > 0, JSON.stringify(r));
    const left = await db.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM rs_compact.usage_rollups WHERE granularity = 'minute' AND bucket_start < $1`,
      [new Date(r.watermark).toISOString()],
    );
    assert.equal(left[0]!.n, 0, 'no minute before the watermark');
    const hours = await db.query<Record<string, unknown>>(
      `SELECT bucket_start AS h, tenant_id, key_id, model, provider, endpoint_id, app, finish_reason, status,
              requests, charged_micros AS charged, latency_sketch AS latency
         FROM rs_compact.usage_rollups WHERE granularity = 'hour' ORDER BY 1, 2, 3, 4, 5, 6, 7, 8, 9`,
    );
    const compacted = minuteSums.filter((m) => new Date(m['h'] as string).getTime() < r.watermark);
    assert.deepEqual(
      hours,
      compacted,
      'each hour bucket holds the sums and the added bins of its minutes',
    );
    const afterwards = await byHour();
    assert.deepEqual(afterwards.rows, before.rows, 'the same answer by hour, percentiles included');
    // The range starts before the watermark, off the hour: it says the hour precision there.
    assert.equal(before.warnings.length, 0);
    assert.match(afterwards.warnings.join(' '), /kept by hour/);

    // A late record of a compacted hour goes into its hour, not into a new minute.
    const late = new TrafficGenerator({
      seed: 7,
      from: now - 5 * HOUR,
      to: now - 5 * HOUR + 60_000,
      tenants: 1,
      tenantPrefix: 'rs-late',
    }).take(1);
    await feed(writer, late, 1);
    const lateRows = await db.query<{ granularity: string }>(
      `SELECT granularity FROM rs_compact.usage_rollups WHERE tenant_id = $1 ORDER BY 1`,
      [late[0]!.event.tenantId],
    );
    assert.deepEqual(
      lateRows.map((x) => x.granularity),
      ['day', 'hour'],
    );

    // Before the watermark, the range has hour precision (said), and minutes are refused there.
    const odd = await reader.query(query('all', { from: new Date(now - 5.5 * HOUR) }));
    assert.match(odd.warnings.join(' '), /kept by hour/);
    await assert.rejects(
      reader.query(query('all', { granularity: 'minute', from: new Date(now - 5 * HOUR) })),
      /Minute buckets are kept from/,
    );
  });

  test('a record the database refuses is parked; the rest of its group is counted', async () => {
    const { writer, reader, db, lines } = await openRollups('rs_parked');
    const some = gens.slice(0, 30).map((g) => g.event);
    const poisoned: UsageEventV1 = {
      ...some[7]!,
      generationId: `${some[7]!.generationId}p`,
      app: { referer: null, title: 'nul\u0000title' },
    };
    const received = [...some.slice(0, 15), poisoned, ...some.slice(15)].map((e) => asUsage(e));
    await writer.submit(received, []);
    const [row] = (await reader.query(query('all', { metrics: ['request_count'] }))).rows;
    assert.equal(row!['request_count'], 30, 'every other record counted');
    const parked = await db.query<{ ref: string; sqlstate: string; record: string }>(
      'SELECT ref, sqlstate, record FROM rs_parked.parked_records',
    );
    assert.equal(parked.length, 1);
    assert.equal(parked[0]!.ref, `usage:${poisoned.generationId}`);
    assert.match(parked[0]!.sqlstate, /^22/);
    assert.equal(JSON.parse(parked[0]!.record).generationId, poisoned.generationId);
    assert.ok(
      lines.some((l) => l.level === 'error' && l.text.startsWith('PARKED usage.events.v1/0@')),
    );
    // Redelivered (the same records at the same offsets): parked once, counted once.
    await writer.submit(received, []);
    const [again] = (await reader.query(query('all', { metrics: ['request_count'] }))).rows;
    assert.equal(again!['request_count'], 30);
    assert.equal(
      (await db.query('SELECT id FROM rs_parked.parked_records')).length,
      1,
      'parked once',
    );
    assert.equal(writer.stats.parked, 1);
    assert.equal(writer.stats.isolated, 2);
  });

  test('closed buckets are published once per version, in the committed schema', async () => {
    const { writer, store } = await openRollups('rs_publish');
    await feed(writer, gens.slice(0, 300), 100);
    const due = await store.unpublished(now, 100_000);
    assert.ok(due.length > 0);
    const minuteEnd = (r: (typeof due)[number]) =>
      r.bucketStart +
      (r.granularity === 'minute' ? 60_000 : r.granularity === 'hour' ? HOUR : 24 * HOUR);
    assert.ok(
      due.every((r) => minuteEnd(r) <= now),
      'only buckets that ended',
    );
    assert.ok(!due.some((r) => r.granularity === 'day' && minuteEnd(r) > now), 'today is open');
    for (const r of due.slice(0, 200)) {
      const rec = rollupRecord(r, now);
      const parsed = UsageRollupV1.safeParse(JSON.parse(JSON.stringify(rec)));
      assert.ok(parsed.success, JSON.stringify(parsed.error?.issues));
      const sk = fromSketchRecord(rec.latencyMs);
      assert.equal(sk?.count, rec.latencyMs.count);
    }
    assert.equal(new Set(due.map((r) => rollupKey(r))).size, due.length, 'one key per bucket');
    await store.markPublished(due);
    assert.equal((await store.unpublished(now, 100_000)).length, 0);
    // A late record of a published minute makes it due again, with a higher version.
    const g = gens[0]!;
    const late = { ...g.event, generationId: `${g.event.generationId}l` };
    await writer.submit([asUsage(late)], []);
    const again = await store.unpublished(now, 100_000);
    assert.ok(again.length >= 1);
    const key = rollupKey(again.find((r) => r.granularity === 'minute')!);
    assert.ok(
      due.some(
        (r) => rollupKey(r) === key && r.version < again.find((x) => rollupKey(x) === key)!.version,
      ),
    );
    // A bucket whose sums no number holds exactly (two events of absurd cost) is left out and
    // reported; the others are read as before, and marking it published lets the rest go on.
    await store.markPublished(again);
    const a = gens[1]!.event;
    const huge = (n: string) => ({
      ...a,
      generationId: `${a.generationId}${n}`,
      cost: { ...a.cost, upstreamMicros: Number.MAX_SAFE_INTEGER - 5 },
      attempts: [],
    });
    const other = { ...gens[2]!.event, generationId: `${gens[2]!.event.generationId}z` };
    await writer.submit([asUsage(huge('x')), asUsage(huge('y')), asUsage(other)], []);
    const unreadable: UnreadableRow[] = [];
    const mixed = await store.unpublished(now, 100_000, (u) => unreadable.push(u));
    assert.ok(unreadable.length >= 1, 'the overflowing buckets are reported');
    assert.ok(unreadable.every((u) => /safe integer/.test(u.error) && u.kind === 'usage'));
    assert.ok(mixed.length >= 1, 'the other buckets are still read');
    await store.markPublished([...mixed, ...unreadable]);
    assert.equal((await store.unpublished(now, 100_000)).length, 0);
  });

  test('whole UTC days are answered from day buckets, equal to the records and to /v1/activity', async () => {
    const { writer, reader } = await openRollups('rs_days');
    const from = Math.floor(now / DAY) * DAY - 3 * DAY;
    const days = new TrafficGenerator({
      seed: 99,
      from,
      to: now - 60_000,
      tenants: 2,
      models: 4,
      tenantPrefix: 'rs-days',
    });
    const dg = days.take(1200);
    await feed(writer, dg, 200);
    const t = days.tenantId(0);
    const mine = dg.map((g) => g.event).filter((e) => e.tenantId === t);
    const perDay = direct(mine, (e) => `${e.createdAt.slice(0, 10)}T00:00:00.000Z`);
    const series = await reader.query(
      query([t], {
        from: new Date(from),
        granularity: 'day',
        orderBy: { field: 'date', direction: 'asc' },
      }),
    );
    assert.deepEqual(
      series.rows.map((r) => r['date__day']),
      [...perDay.keys()].sort(),
    );
    for (const row of series.rows)
      compareRow(row, perDay.get(row['date__day'] as string)!, `day ${String(row['date__day'])}`);
    const [total] = (await reader.query(query([t], { from: new Date(from + 90 * 60_000) }))).rows;
    compareRow(
      total!,
      direct(
        mine.filter((e) => Date.parse(e.createdAt) >= from + 90 * 60_000),
        () => '',
      ).get('')!,
      'from 01:30 on day 1',
    );

    const activity = await reader.activity(
      t,
      new Date(from).toISOString().slice(0, 10),
      new Date(now + DAY).toISOString().slice(0, 10),
      null,
    );
    const served = mine.filter((e) => e.model !== null);
    assert.equal(
      activity.reduce((n, r) => n + r.requests, 0),
      served.length,
    );
    assert.equal(
      activity.reduce((n, r) => n + r.chargedMicros, 0),
      served.reduce((n, e) => n + charged(e), 0),
    );
    assert.deepEqual(
      activity.map((r) => r.date),
      [...activity.map((r) => r.date)].sort().reverse(),
      'newest day first',
    );
  });
});
