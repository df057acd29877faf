/**
 * Rollup figures for `npm run bench`, on a platform the caller started:
 *
 * - ingestion: a burst of synthetic generations (`TrafficGenerator`: zipf-distributed tenants,
 *   keys, models and apps, log-normal latencies, errors and fallbacks) put on `usage.events.v1`
 *   with their attempt records on `llm.attempts.v1`, rolled up live by `analytics` (while
 *   billing books the same events on the same two cores). Events per second is the spread of
 *   `processed_generations.ingested_at`, as billing's figure is.
 * - query: the latency of 30-day queries over 10 million events, through the same
 *   `RollupReader` the tenant API and the community figures use, straight on Postgres (no HTTP
 *   or RPC hop). The buckets are written by SQL into a schema of their own, not produced as
 *   events: rolling 10 million events up through Kafka would take longer than the rest of the
 *   bench on a small machine, and the reader only sees buckets. What the buckets hold is
 *   what ingestion makes of such traffic: hour buckets before the compaction watermark (48 h),
 *   minute buckets after it, day buckets throughout, sketches made from log-normal samples.
 *
 * Call: `await benchRollups({ stateDir, log })` after `startPlatform`.
 */
import { performance } from 'node:perf_hooks';
import kafkajs from 'kafkajs';
import pg from 'pg';
import {
  addValue,
  analyticsSchemaStatements,
  RollupReader,
  type Db,
  type SketchBins,
  type Sql,
} from '@turnpike/rollups';
import { readState, TrafficGenerator } from '@turnpike/testing';

export interface RollupsBenchOptions {
  stateDir: string;
  /** Synthetic generations for the ingestion figure (default 20 000). */
  events?: number;
  /** Events the query buckets represent (default 10 000 000). */
  queryEvents?: number;
  /** Timed runs of each query (default 40). */
  queryRuns?: number;
  log?: (line: string) => void;
}

export interface QueryFigure {
  name: string;
  rows: number;
  runs: number;
  p50Ms: number;
  p99Ms: number;
}

export interface RollupsBenchResult {
  ingestion: { events: number; attempts: number; seconds: number; eventsPerSecond: number };
  query: {
    events: number;
    bucketRows: number;
    seedSeconds: number;
    generator: string;
    queries: QueryFigure[];
  };
}

const SCHEMA = 'bench_rollups';
const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const quantile = (sorted: number[], q: number) =>
  sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))] ?? NaN;

function poolDb(pool: pg.Pool): Db {
  const sql = (c: pg.Pool | pg.PoolClient): Sql => ({
    query: async <T>(text: string, params?: unknown[]) => (await c.query(text, params)).rows as T[],
  });
  return {
    ...sql(pool),
    async transaction(fn, opts) {
      const c = await pool.connect();
      try {
        await c.query(
          `BEGIN ISOLATION LEVEL ${opts?.isolation ?? 'READ COMMITTED'}${opts?.readOnly ? ' READ ONLY' : ''}`,
        );
        const r = await fn(sql(c));
        await c.query('COMMIT');
        return r;
      } catch (e) {
        await c.query('ROLLBACK').catch(() => undefined);
        throw e;
      } finally {
        c.release();
      }
    },
  };
}

export async function benchRollups(opts: RollupsBenchOptions): Promise<RollupsBenchResult> {
  const log = opts.log ?? (() => undefined);
  const state = readState(opts.stateDir);
  if (!state) throw new Error(`no platform state in ${opts.stateDir}`);
  const pool = new pg.Pool({ connectionString: state.postgres.url, max: 4 });
  try {
    const kafka = new kafkajs.Kafka({
      clientId: 'bench-rollups',
      brokers: [state.kafka.brokers],
      logLevel: kafkajs.logLevel.NOTHING,
    });
    const ingestion = await measureIngestion(kafka, pool, opts.events ?? 20_000, log);
    const query = await measureQueries(
      pool,
      opts.queryEvents ?? 10_000_000,
      opts.queryRuns ?? 40,
      log,
    );
    return { ingestion, query };
  } finally {
    await pool.end();
  }
}

async function measureIngestion(
  kafka: kafkajs.Kafka,
  pool: pg.Pool,
  n: number,
  log: (l: string) => void,
): Promise<RollupsBenchResult['ingestion']> {
  const prefix = `bench-r${Date.now().toString(36)}`;
  const now = Date.now();
  const gen = new TrafficGenerator({ seed: 42, from: now - HOUR, to: now, tenantPrefix: prefix });
  const traffic = gen.take(n);
  const attempts = traffic.reduce((a, g) => a + g.attempts.length, 0);
  const producer = kafka.producer();
  await producer.connect();
  try {
    for (let i = 0; i < traffic.length; i += 1000) {
      const chunk = traffic.slice(i, i + 1000);
      await producer.sendBatch({
        topicMessages: [
          {
            topic: 'usage.events.v1',
            messages: chunk.map((g) => ({
              key: g.event.generationId,
              value: JSON.stringify(g.event),
            })),
          },
          {
            topic: 'llm.attempts.v1',
            messages: chunk.flatMap((g) =>
              g.attempts.map((a) => ({ key: a.generationId, value: JSON.stringify(a) })),
            ),
          },
        ],
      });
    }
  } finally {
    await producer.disconnect();
  }
  const count = async () =>
    (
      await pool.query<{ n: number }>(
        'SELECT count(*)::int AS n FROM analytics.processed_generations WHERE tenant_id LIKE $1',
        [`${prefix}-%`],
      )
    ).rows[0]!.n;
  const until = Date.now() + 300_000;
  while ((await count()) < n && Date.now() < until) await new Promise((r) => setTimeout(r, 200));
  const r = await pool.query<{ n: number; seconds: number }>(
    `SELECT count(*)::int AS n, extract(epoch FROM max(ingested_at) - min(ingested_at))::float8 AS seconds
       FROM analytics.processed_generations WHERE tenant_id LIKE $1`,
    [`${prefix}-%`],
  );
  const { n: events, seconds } = r.rows[0]!;
  if (events < n) throw new Error(`analytics counted ${events} of ${n} events within 300 s`);
  const result = {
    events,
    attempts,
    seconds,
    eventsPerSecond: seconds > 0 ? (events - 1) / seconds : NaN,
  };
  log(
    `rollup ingestion: ${events} events (+${attempts} attempt records) in ${seconds.toFixed(1)} s, ${result.eventsPerSecond.toFixed(0)} events/s`,
  );
  return result;
}

/** Sketch bins of `count` log-normal samples (median, sigma), seeded. */
function sketchOf(count: number, median: number, sigma: number, seed: number): SketchBins {
  let a = seed >>> 0;
  const rnd = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const bins: SketchBins = {};
  for (let i = 0; i < count; i++) {
    const u = Math.max(rnd(), 1e-12);
    const z = Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * rnd());
    addValue(bins, Math.round(median * Math.exp(sigma * z)));
  }
  return bins;
}

/**
 * The buckets of `events` generations over the 30 days before `now`: per hour (before the
 * watermark) `ROWS_PER_HOUR` combinations of dimensions, per minute (the last 48 h)
 * `ROWS_PER_MINUTE`, with request counts that add up to `events`; day buckets are the sums of
 * their hours and minutes (sketches merged by `jsonb_sum`, as the compaction merges them).
 */
const ROWS_PER_HOUR = 1_000;
const ROWS_PER_MINUTE = 100;
const VARIANTS = 8;

async function seedBuckets(pool: pg.Pool, events: number, now: number): Promise<number> {
  // One connection: the temporary tables are its own.
  const c = await pool.connect();
  try {
    return await seedOn(c, events, now);
  } finally {
    c.release();
  }
}

async function seedOn(db: pg.PoolClient, events: number, now: number): Promise<number> {
  const s = `"${SCHEMA}"`;
  await db.query(`DROP SCHEMA IF EXISTS ${s} CASCADE`);
  await db.query(`CREATE SCHEMA ${s}`);
  for (const sql of analyticsSchemaStatements(SCHEMA)) await db.query(sql);
  const end = Math.floor(now / 60_000) * 60_000;
  const start = Math.floor((end - 30 * DAY) / HOUR) * HOUR;
  const watermark = Math.floor((end - 48 * HOUR) / HOUR) * HOUR;
  const hours = (watermark - start) / HOUR;
  const minutes = (end - watermark) / 60_000;
  // Mean requests per row so that the rows add up to `events` (rows carry 1..2*mean-1).
  const slots = hours * ROWS_PER_HOUR + minutes * ROWS_PER_MINUTE;
  const mean = events / slots;
  const spreadOf = Math.max(1, Math.round(2 * mean - 1));
  // Sketches per request count and variant, from samples: latency, TTFT, throughput.
  const sketches: Array<[number, number, string, string, string]> = [];
  for (let c = 1; c <= spreadOf; c++)
    for (let v = 0; v < VARIANTS; v++)
      sketches.push([
        c,
        v,
        JSON.stringify(sketchOf(c, 2_500 + 400 * v, 0.6, c * 131 + v)),
        JSON.stringify(sketchOf(c, 450 + 60 * v, 0.5, c * 137 + v)),
        JSON.stringify(sketchOf(c, 60 + 10 * v, 0.4, c * 139 + v)),
      ]);
  await db.query(
    `CREATE TEMP TABLE IF NOT EXISTS bench_sketches (c int, v int, lat jsonb, ttft jsonb, tps jsonb)`,
  );
  await db.query('TRUNCATE bench_sketches');
  await db.query(
    `INSERT INTO bench_sketches SELECT * FROM unnest($1::int[], $2::int[], $3::jsonb[], $4::jsonb[], $5::jsonb[])`,
    [0, 1, 2, 3, 4].map((k) => sketches.map((r) => r[k])),
  );
  // A row's dimensions from its index: 20 tenants, 5 keys each, 30 models on 1-3 providers,
  // 12 apps (and none), finish reasons and a 3 % error share.
  const insert = (granularity: 'hour' | 'minute', from: number, count: number, perRow: number) => `
    INSERT INTO ${s}.usage_rollups (granularity, bucket_start, tenant_id, key_id, model, provider,
        endpoint_id, app, finish_reason, status, requests, prompt_tokens, completion_tokens,
        cached_tokens, reasoning_tokens, upstream_micros, charged_micros, errors, fallbacks,
        errors_by_code, latency_sketch, ttft_sketch, throughput_sketch)
    SELECT '${granularity}', to_timestamp(${from / 1000}) + b * interval '1 ${granularity}',
           'bench-t' || (i % 20), 'bench-t' || (i % 20) || '-k' || ((i / 20) % 5),
           'vendor' || ((i * 7) % 30 % 7) || '/model-' || ((i * 7) % 30),
           p, 'vendor' || ((i * 7) % 30 % 7) || '/model-' || ((i * 7) % 30) || '@' || p,
           CASE WHEN i % 13 = 0 THEN '' ELSE 'https://app' || (i % 13) || '.example.com' END,
           CASE WHEN i % 33 = 0 THEN '' WHEN i % 7 = 0 THEN 'length' ELSE 'stop' END,
           CASE WHEN i % 33 = 0 THEN 'error' ELSE 'success' END,
           k.c, k.c * (300 + i % 700), k.c * (100 + i % 400), k.c * (i % 50), k.c * (i % 3) * 40,
           k.c * (200 + i % 900), k.c * (220 + i % 990),
           CASE WHEN i % 33 = 0 THEN k.c ELSE 0 END, CASE WHEN i % 41 = 0 THEN 1 ELSE 0 END,
           CASE WHEN i % 33 = 0 THEN jsonb_build_object('upstream_overloaded', k.c) ELSE '{}'::jsonb END,
           k.lat, k.ttft, k.tps
      FROM generate_series(0, ${count - 1}) b, generate_series(0, ${perRow - 1}) i,
           LATERAL (SELECT (ARRAY['openai', 'azure', 'together'])[1 + (i / 3) % (1 + (i * 7) % 30 % 3)] AS p) pp,
           LATERAL (SELECT * FROM bench_sketches
                     WHERE c = 1 + (hashint4(b * 7919 + i) & 2147483647) % ${spreadOf}
                       AND v = i % ${VARIANTS}) k`;
  // Hours in chunks of a day: each statement stays a few seconds.
  for (let h = 0; h < hours; h += 24)
    await db.query(insert('hour', start + h * HOUR, Math.min(24, hours - h), ROWS_PER_HOUR));
  for (let m = 0; m < minutes; m += 24 * 60)
    await db.query(
      insert('minute', watermark + m * 60_000, Math.min(24 * 60, minutes - m), ROWS_PER_MINUTE),
    );
  // Day buckets: the sums of their hours and minutes (exact); their sketches hold as many
  // log-normal samples as the day's requests (merging 24 stored sketches per row in SQL would
  // take longer than the rest of the bench, and the reader only reads the bins).
  await db.query(
    `CREATE TEMP TABLE IF NOT EXISTS bench_days AS SELECT * FROM ${s}.usage_rollups WITH NO DATA`,
  );
  await db.query('TRUNCATE bench_days');
  await db.query(
    `INSERT INTO bench_days (id, granularity, bucket_start, tenant_id, key_id, model, provider,
        endpoint_id, app, finish_reason, status, requests, prompt_tokens, completion_tokens,
        cached_tokens, cache_write_tokens, reasoning_tokens, upstream_micros, charged_micros,
        errors, fallbacks, errors_by_code)
     SELECT 0, 'day', date_trunc('day', bucket_start AT TIME ZONE 'UTC') AT TIME ZONE 'UTC',
            tenant_id, key_id, model, provider, endpoint_id, app, finish_reason, status,
            sum(requests), sum(prompt_tokens), sum(completion_tokens), sum(cached_tokens), 0,
            sum(reasoning_tokens), sum(upstream_micros), sum(charged_micros), sum(errors),
            sum(fallbacks),
            CASE WHEN sum(errors) > 0 THEN jsonb_build_object('upstream_overloaded', sum(errors)) ELSE '{}'::jsonb END
       FROM ${s}.usage_rollups GROUP BY 3, 4, 5, 6, 7, 8, 9, 10, 11`,
  );
  const counts = (
    await db.query<{ c: number }>('SELECT DISTINCT requests::int AS c FROM bench_days')
  ).rows.map((r) => r.c);
  const daySketches = counts.flatMap((c) =>
    Array.from({ length: VARIANTS }, (_, v) => [
      c,
      v,
      JSON.stringify(sketchOf(c, 2_500 + 400 * v, 0.6, c * 131 + v)),
      JSON.stringify(sketchOf(c, 450 + 60 * v, 0.5, c * 137 + v)),
      JSON.stringify(sketchOf(c, 60 + 10 * v, 0.4, c * 139 + v)),
    ]),
  );
  await db.query('TRUNCATE bench_sketches');
  await db.query(
    `INSERT INTO bench_sketches SELECT * FROM unnest($1::int[], $2::int[], $3::jsonb[], $4::jsonb[], $5::jsonb[])`,
    [0, 1, 2, 3, 4].map((k) => daySketches.map((r) => r[k])),
  );
  await db.query(
    `INSERT INTO ${s}.usage_rollups (granularity, bucket_start, tenant_id, key_id, model, provider,
        endpoint_id, app, finish_reason, status, requests, prompt_tokens, completion_tokens,
        cached_tokens, reasoning_tokens, upstream_micros, charged_micros, errors, fallbacks,
        errors_by_code, latency_sketch, ttft_sketch, throughput_sketch)
     SELECT d.granularity, d.bucket_start, d.tenant_id, d.key_id, d.model, d.provider,
            d.endpoint_id, d.app, d.finish_reason, d.status, d.requests, d.prompt_tokens,
            d.completion_tokens, d.cached_tokens, d.reasoning_tokens, d.upstream_micros,
            d.charged_micros, d.errors, d.fallbacks, d.errors_by_code, k.lat, k.ttft, k.tps
       FROM bench_days d JOIN bench_sketches k
         ON k.c = d.requests AND k.v = (hashtext(d.tenant_id || d.model || d.app) & 2147483647) % ${VARIANTS}`,
  );
  await db.query(`UPDATE ${s}.rollup_state SET minute_watermark = to_timestamp($1)`, [
    watermark / 1000,
  ]);
  await db.query(`ANALYZE ${s}.usage_rollups`);
  const r = await db.query<{ rows: string }>(`SELECT count(*) AS rows FROM ${s}.usage_rollups`);
  return Number(r.rows[0]!.rows);
}

export async function measureQueries(
  pool: pg.Pool,
  events: number,
  runs: number,
  log: (l: string) => void,
): Promise<RollupsBenchResult['query']> {
  const now = Date.now();
  const t0 = performance.now();
  log(`seeding the buckets of ${events} events over 30 days (schema ${SCHEMA})`);
  const bucketRows = await seedBuckets(pool, events, now);
  const seedSeconds = (performance.now() - t0) / 1000;
  const counted = Number(
    (
      await pool.query<{ n: string }>(
        `SELECT sum(requests) AS n FROM "${SCHEMA}".usage_rollups WHERE granularity <> 'day'`,
      )
    ).rows[0]!.n,
  );
  log(`${bucketRows} bucket rows holding ${counted} events, seeded in ${seedSeconds.toFixed(0)} s`);
  const reader = new RollupReader(poolDb(pool), SCHEMA);
  const from = new Date(now - 30 * DAY);
  const to = new Date(now);
  const base = { from, to, filters: [], orderBy: null, limit: 1_000, groupLimit: null };
  const queries: Array<{ name: string; run: () => Promise<{ rows: unknown[] }> }> = [
    {
      name: 'one tenant, 30 days by day and model: requests, cost, tokens',
      run: () =>
        reader.query({
          ...base,
          tenantIds: ['bench-t3'],
          granularity: 'day',
          dimensions: ['model'],
          metrics: ['request_count', 'total_usage', 'tokens_total'],
        }),
    },
    {
      name: 'one tenant, 30 days per model: p50 and p99 latency and TTFT (sketches merged)',
      run: () =>
        reader.query({
          ...base,
          tenantIds: ['bench-t3'],
          granularity: null,
          dimensions: ['model'],
          metrics: ['request_count', 'p50_latency', 'p99_latency', 'p99_ttft'],
        }),
    },
    {
      name: 'every tenant, 30 days by day and model (community rankings)',
      run: () =>
        reader.usageFigures({
          ...base,
          limit: 100_000,
          tenantIds: 'all',
          granularity: 'day',
          dimensions: ['model'],
          metrics: ['requests', 'prompt_tokens', 'completion_tokens'],
        }),
    },
  ];
  const figures: QueryFigure[] = [];
  for (const q of queries) {
    await q.run(); // warm-up: plans and the buffer cache
    const times: number[] = [];
    let rows = 0;
    for (let i = 0; i < runs; i++) {
      const t = performance.now();
      rows = (await q.run()).rows.length;
      times.push(performance.now() - t);
    }
    times.sort((a, b) => a - b);
    const f = {
      name: q.name,
      rows,
      runs,
      p50Ms: quantile(times, 0.5),
      p99Ms: quantile(times, 0.99),
    };
    log(`${q.name}: p50 ${f.p50Ms.toFixed(1)} ms, p99 ${f.p99Ms.toFixed(1)} ms (${rows} rows)`);
    figures.push(f);
  }
  await pool.query(`DROP SCHEMA "${SCHEMA}" CASCADE`);
  return {
    events: counted,
    bucketRows,
    seedSeconds,
    generator:
      `buckets written by SQL (not events through Kafka): ${ROWS_PER_HOUR} combinations of dimensions per hour before the ` +
      `48 h watermark, ${ROWS_PER_MINUTE} per minute after it, day buckets summed from them; 20 tenants, 5 keys each, ` +
      `30 models on 1-3 providers, 12 apps; sketches from log-normal samples`,
    queries: figures,
  };
}
