import { quoteSchema } from './sql.js';

/** The columns of a usage bucket's dimensions, in the order of the unique key. */
export const USAGE_DIM_COLUMNS = [
  'tenant_id',
  'key_id',
  'model',
  'provider',
  'endpoint_id',
  'app',
  'finish_reason',
  'status',
] as const;

export const ATTEMPT_DIM_COLUMNS = ['endpoint_id', 'provider', 'model', 'outcome'] as const;

/** Summed integer measures of a usage bucket. */
export const USAGE_SUM_COLUMNS = [
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
] as const;

export const ATTEMPT_SUM_COLUMNS = ['attempts', 'prompt_tokens', 'completion_tokens'] as const;

/** Maps merged by adding entry by entry: error codes and the sketches' bins. */
export const MAP_COLUMNS = [
  'errors_by_code',
  'ttft_sketch',
  'latency_sketch',
  'throughput_sketch',
] as const;

/**
 * Analytics' tables, in its own schema (`analytics`, or another one for a replay).
 *
 * - `processed_generations`, `processed_attempts`: one row per usage event (generation id) and
 *   per attempt record (generation id, attempt) counted, inserted in the transaction that adds it
 *   to its buckets: a redelivered or replayed record finds its row and adds nothing.
 * - `usage_rollups`, `attempt_rollups`: the buckets (minute, hour, day), one row per bucket and
 *   combination of dimensions; `version` grows with every change, `published_version` is the
 *   last version put on `usage.rollups.v1`.
 * - `rollup_state`: the compaction watermark (minute buckets before it are compacted into hours).
 * - `parked_records`: records that passed their contract but that the database refuses
 *   deterministically, kept with the reason (see the service's writer).
 * - `jsonb_add(a, b)` and the aggregate `jsonb_sum(x)`: add two maps of numbers entry by entry,
 *   which merges error-code maps and sketches (see `sketch.ts`).
 */
export function analyticsSchemaStatements(schema: string): string[] {
  const s = quoteSchema(schema);
  const dims = (cols: readonly string[]) => cols.map((c) => `${c} text NOT NULL`).join(', ');
  const sums = (cols: readonly string[]) =>
    cols.map((c) => `${c} bigint NOT NULL DEFAULT 0`).join(', ');
  const maps = MAP_COLUMNS.map((c) => `${c} jsonb NOT NULL DEFAULT '{}'::jsonb`).join(', ');
  const bucket = `id bigserial PRIMARY KEY,
      granularity text NOT NULL CHECK (granularity IN ('minute', 'hour', 'day')),
      bucket_start timestamptz NOT NULL`;
  const versions = `version bigint NOT NULL DEFAULT 1,
      published_version bigint NOT NULL DEFAULT 0,
      updated_at timestamptz NOT NULL DEFAULT now()`;
  return [
    `CREATE FUNCTION ${s}.jsonb_add(a jsonb, b jsonb) RETURNS jsonb
       LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $fn$
       SELECT CASE
         WHEN a IS NULL OR a = '{}'::jsonb THEN coalesce(b, '{}'::jsonb)
         WHEN b IS NULL OR b = '{}'::jsonb THEN a
         ELSE (SELECT jsonb_object_agg(k, v) FROM (
                 SELECT k, sum(v::numeric) AS v FROM (
                   SELECT key, value FROM jsonb_each_text(a)
                   UNION ALL SELECT key, value FROM jsonb_each_text(b)) x(k, v)
                 GROUP BY k) y)
       END $fn$`,
    `CREATE AGGREGATE ${s}.jsonb_sum(jsonb) (SFUNC = ${s}.jsonb_add, STYPE = jsonb, INITCOND = '{}')`,

    `CREATE TABLE ${s}.processed_generations (
      generation_id text PRIMARY KEY,
      tenant_id text NOT NULL,
      key_id text NOT NULL,
      model text,
      created_at timestamptz NOT NULL,
      kafka_partition integer NOT NULL,
      kafka_offset bigint NOT NULL,
      ingested_at timestamptz NOT NULL DEFAULT clock_timestamp())`,
    `CREATE INDEX processed_generations_tenant_idx ON ${s}.processed_generations (tenant_id, created_at)`,
    `CREATE TABLE ${s}.processed_attempts (
      generation_id text NOT NULL,
      attempt integer NOT NULL,
      endpoint_id text NOT NULL,
      ended_at timestamptz NOT NULL,
      kafka_partition integer NOT NULL,
      kafka_offset bigint NOT NULL,
      ingested_at timestamptz NOT NULL DEFAULT clock_timestamp(),
      PRIMARY KEY (generation_id, attempt))`,

    `CREATE TABLE ${s}.usage_rollups (
      ${bucket},
      ${dims(USAGE_DIM_COLUMNS)},
      ${sums(USAGE_SUM_COLUMNS)},
      ${maps},
      ${versions},
      UNIQUE (tenant_id, granularity, bucket_start, ${USAGE_DIM_COLUMNS.slice(1).join(', ')}))`,
    // Queries across tenants (community rankings) and the compaction read by time.
    `CREATE INDEX usage_rollups_time_idx ON ${s}.usage_rollups (granularity, bucket_start)`,
    `CREATE INDEX usage_rollups_unpublished_idx ON ${s}.usage_rollups (bucket_start) WHERE version > published_version`,

    `CREATE TABLE ${s}.attempt_rollups (
      ${bucket},
      ${dims(ATTEMPT_DIM_COLUMNS)},
      ${sums(ATTEMPT_SUM_COLUMNS)},
      ${maps},
      ${versions},
      UNIQUE (granularity, bucket_start, ${ATTEMPT_DIM_COLUMNS.join(', ')}))`,
    `CREATE INDEX attempt_rollups_unpublished_idx ON ${s}.attempt_rollups (bucket_start) WHERE version > published_version`,

    `CREATE TABLE ${s}.rollup_state (
      id integer PRIMARY KEY CHECK (id = 1),
      minute_watermark timestamptz NOT NULL DEFAULT '-infinity',
      compacted_at timestamptz)`,
    `INSERT INTO ${s}.rollup_state (id) VALUES (1)`,

    `CREATE TABLE ${s}.parked_records (
      id bigserial PRIMARY KEY,
      topic text NOT NULL,
      kafka_partition integer NOT NULL,
      kafka_offset bigint NOT NULL,
      record_key text,
      ref text NOT NULL,
      record text NOT NULL,
      sqlstate text,
      error text NOT NULL,
      parked_at timestamptz NOT NULL DEFAULT now(),
      UNIQUE (topic, kafka_partition, kafka_offset))`,
  ];
}
