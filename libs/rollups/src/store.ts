import type { BucketGranularity, LlmAttemptV1, UsageEventV1 } from '@turnpike/contracts';
import { BUCKET_MS, HOUR_MS } from './buckets.js';
import {
  ATTEMPT_DIM_KEYS,
  RollupBatch,
  USAGE_DIM_KEYS,
  type AttemptDims,
  type AttemptMeasures,
  type AttemptRow,
  type UsageDims,
  type UsageMeasures,
  type UsageRow,
} from './facts.js';
import {
  ATTEMPT_DIM_COLUMNS,
  ATTEMPT_SUM_COLUMNS,
  MAP_COLUMNS,
  USAGE_DIM_COLUMNS,
  USAGE_SUM_COLUMNS,
} from './schema.js';
import { quoteSchema, type Db, type Sql } from './sql.js';

/** A record as read from its topic: where it came from, for the processed rows and parking. */
export interface SourcedUsage {
  event: UsageEventV1;
  partition: number;
  offset: string;
}
export interface SourcedAttempt {
  record: LlmAttemptV1;
  partition: number;
  offset: string;
}

export interface IngestResult {
  /** Records counted now, and records found already counted (redelivered, replayed). */
  usage: number;
  usageDuplicates: number;
  attempts: number;
  attemptDuplicates: number;
  /** Bucket rows written. */
  rows: number;
}

export const emptyIngestResult = (): IngestResult => ({
  usage: 0,
  usageDuplicates: 0,
  attempts: 0,
  attemptDuplicates: 0,
  rows: 0,
});

export interface CompactionResult {
  /** The new watermark (epoch ms): minute buckets before it are now in hour buckets. */
  watermark: number;
  minuteRows: number;
  hourRows: number;
}

export const usageRef = (generationId: string) => `usage:${generationId}`;
export const attemptRef = (generationId: string, attempt: number) =>
  `attempt:${generationId}#${attempt}`;

export interface ParkInput {
  topic: string;
  partition: number;
  offset: string;
  key: string | null;
  ref: string;
  record: string;
  sqlstate: string | null;
  error: string;
}

/** A bucket that could not be read back for publication, and why. */
export interface UnreadableRow {
  kind: 'usage' | 'attempt';
  id: string;
  version: number;
  error: string;
}

/** A bucket as read back for publication. */
export type PublishableRow =
  | (UsageRow & { kind: 'usage'; id: string; version: number })
  | (AttemptRow & { kind: 'attempt'; id: string; version: number });

const MAX_SAFE = BigInt(Number.MAX_SAFE_INTEGER);
/** A bigint/numeric column as a number (refusing what a number cannot hold exactly). */
export function int(v: unknown): number {
  if (typeof v === 'number') return v;
  const b = BigInt(String(v ?? 0));
  if (b > MAX_SAFE || b < -MAX_SAFE) throw new Error(`value ${b} is not a safe integer`);
  return Number(b);
}

/** A jsonb map of numbers as read back (node-postgres parses jsonb). */
function numberMap(v: unknown): Record<string, number> {
  const out: Record<string, number> = {};
  if (v && typeof v === 'object')
    for (const [k, x] of Object.entries(v as Record<string, unknown>)) out[k] = Number(x);
  return out;
}

/**
 * The rollup store in Postgres: counting records into their buckets (idempotently, in one
 * transaction per batch), compacting old minutes into hours, parking what the database refuses,
 * and reading closed buckets for publication. All SQL that writes analytics' tables is here.
 */
export class RollupStore {
  private readonly s: string;

  constructor(
    readonly db: Db,
    readonly schema: string,
  ) {
    this.s = quoteSchema(schema);
  }

  /**
   * Counts a batch: each usage event and attempt record not counted before gets its processed
   * row and is added to its buckets, all in ONE transaction (redelivered ones are skipped). The
   * transaction holds a share lock on the compaction watermark, so that a compaction never runs
   * between reading it and writing the minutes it decides about.
   */
  async ingest(usage: SourcedUsage[], attempts: SourcedAttempt[]): Promise<IngestResult> {
    const result = emptyIngestResult();
    const uniqueUsage = new Map<string, SourcedUsage>();
    for (const u of usage) {
      if (uniqueUsage.has(u.event.generationId)) result.usageDuplicates++;
      else uniqueUsage.set(u.event.generationId, u);
    }
    const uniqueAttempts = new Map<string, SourcedAttempt>();
    for (const a of attempts) {
      const k = attemptRef(a.record.generationId, a.record.attempt);
      if (uniqueAttempts.has(k)) result.attemptDuplicates++;
      else uniqueAttempts.set(k, a);
    }
    if (uniqueUsage.size === 0 && uniqueAttempts.size === 0) return result;

    return this.db.transaction(async (tx) => {
      const [state] = await tx.query<{ wm: Date | string }>(
        `SELECT minute_watermark AS wm FROM ${this.s}.rollup_state WHERE id = 1 FOR SHARE`,
      );
      const batch = new RollupBatch(watermarkMs(state?.wm));

      if (uniqueUsage.size > 0) {
        const us = [...uniqueUsage.values()];
        const fresh = new Set(
          (
            await tx.query<{ generation_id: string }>(
              `INSERT INTO ${this.s}.processed_generations (generation_id, tenant_id, key_id, model, created_at, kafka_partition, kafka_offset)
               SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::timestamptz[], $6::int[], $7::bigint[])
               ON CONFLICT (generation_id) DO NOTHING
               RETURNING generation_id`,
              [
                us.map((u) => u.event.generationId),
                us.map((u) => u.event.tenantId),
                us.map((u) => u.event.keyId),
                us.map((u) => u.event.model),
                us.map((u) => u.event.createdAt),
                us.map((u) => u.partition),
                us.map((u) => u.offset),
              ],
            )
          ).map((r) => r.generation_id),
        );
        for (const u of us) if (fresh.has(u.event.generationId)) batch.addUsage(u.event);
        result.usage = fresh.size;
        result.usageDuplicates += us.length - fresh.size;
      }

      if (uniqueAttempts.size > 0) {
        const as = [...uniqueAttempts.values()];
        const fresh = new Set(
          (
            await tx.query<{ generation_id: string; attempt: number }>(
              `INSERT INTO ${this.s}.processed_attempts (generation_id, attempt, endpoint_id, ended_at, kafka_partition, kafka_offset)
               SELECT * FROM unnest($1::text[], $2::int[], $3::text[], $4::timestamptz[], $5::int[], $6::bigint[])
               ON CONFLICT (generation_id, attempt) DO NOTHING
               RETURNING generation_id, attempt`,
              [
                as.map((a) => a.record.generationId),
                as.map((a) => a.record.attempt),
                as.map((a) => a.record.endpointId),
                as.map((a) => new Date(a.record.endedAt).toISOString()),
                as.map((a) => a.partition),
                as.map((a) => a.offset),
              ],
            )
          ).map((r) => attemptRef(r.generation_id, r.attempt)),
        );
        for (const a of as)
          if (fresh.has(attemptRef(a.record.generationId, a.record.attempt)))
            batch.addAttempt(a.record);
        result.attempts = fresh.size;
        result.attemptDuplicates += as.length - fresh.size;
      }

      result.rows = await this.writeBatch(tx, batch);
      return result;
    });
  }

  /** Adds a batch's bucket rows (what tools that generate rollups call directly, too). */
  async writeBatch(tx: Sql, batch: RollupBatch): Promise<number> {
    const usage = batch.sortedUsage();
    const attempts = batch.sortedAttempts();
    if (usage.length > 0) await this.upsertUsage(tx, usage);
    if (attempts.length > 0) await this.upsertAttempts(tx, attempts);
    return usage.length + attempts.length;
  }

  private async upsertUsage(tx: Sql, rows: UsageRow[]): Promise<void> {
    const sums: Array<(m: UsageMeasures) => number> = [
      (m) => m.requests,
      (m) => m.promptTokens,
      (m) => m.completionTokens,
      (m) => m.cachedTokens,
      (m) => m.cacheWriteTokens,
      (m) => m.reasoningTokens,
      (m) => m.upstreamMicros,
      (m) => m.chargedMicros,
      (m) => m.errors,
      (m) => m.fallbacks,
    ];
    await this.upsert(
      tx,
      'usage_rollups',
      USAGE_DIM_COLUMNS,
      USAGE_SUM_COLUMNS,
      ['tenant_id', 'granularity', 'bucket_start', ...USAGE_DIM_COLUMNS.slice(1)],
      rows,
      USAGE_DIM_KEYS.map((k) => (d: UsageDims) => d[k]),
      sums,
    );
  }

  private async upsertAttempts(tx: Sql, rows: AttemptRow[]): Promise<void> {
    const sums: Array<(m: AttemptMeasures) => number> = [
      (m) => m.attempts,
      (m) => m.promptTokens,
      (m) => m.completionTokens,
    ];
    await this.upsert(
      tx,
      'attempt_rollups',
      ATTEMPT_DIM_COLUMNS,
      ATTEMPT_SUM_COLUMNS,
      ['granularity', 'bucket_start', ...ATTEMPT_DIM_COLUMNS],
      rows,
      ATTEMPT_DIM_KEYS.map((k) => (d: AttemptDims) => d[k]),
      sums,
    );
  }

  /**
   * One statement for all rows of a table: new buckets are inserted, existing ones get the sums
   * added and the maps merged entry by entry (`jsonb_add`), and their version moves on.
   */
  private async upsert<D, M extends UsageMeasures | AttemptMeasures>(
    tx: Sql,
    table: string,
    dimColumns: readonly string[],
    sumColumns: readonly string[],
    conflict: readonly string[],
    rows: Array<{ granularity: BucketGranularity; bucketStart: number; dims: D; measures: M }>,
    dimOf: Array<(d: D) => string>,
    sumOf: Array<(m: M) => number>,
  ): Promise<void> {
    const cols = ['granularity', 'bucket_start', ...dimColumns, ...sumColumns, ...MAP_COLUMNS];
    const types = [
      'text',
      'timestamptz',
      ...dimColumns.map(() => 'text'),
      ...sumColumns.map(() => 'bigint'),
      ...MAP_COLUMNS.map(() => 'jsonb'),
    ];
    const params: unknown[][] = [
      rows.map((r) => r.granularity),
      rows.map((r) => new Date(r.bucketStart).toISOString()),
      ...dimOf.map((f) => rows.map((r) => f(r.dims))),
      ...sumOf.map((f) => rows.map((r) => f(r.measures))),
      rows.map((r) => JSON.stringify(r.measures.errorsByCode)),
      rows.map((r) => JSON.stringify(r.measures.ttft)),
      rows.map((r) => JSON.stringify(r.measures.latency)),
      rows.map((r) => JSON.stringify(r.measures.throughput)),
    ];
    await tx.query(
      `INSERT INTO ${this.s}.${table} AS t (${cols.join(', ')})
       SELECT * FROM unnest(${types.map((ty, i) => `$${i + 1}::${ty}[]`).join(', ')})
       ON CONFLICT (${conflict.join(', ')}) DO UPDATE SET
         ${[
           ...sumColumns.map((c) => `${c} = t.${c} + excluded.${c}`),
           ...MAP_COLUMNS.map((c) => `${c} = ${this.s}.jsonb_add(t.${c}, excluded.${c})`),
           'version = t.version + 1',
           'updated_at = now()',
         ].join(',\n         ')}`,
      params,
    );
  }

  /** Epoch ms before which minute buckets are compacted into hours (-Infinity: none yet). */
  async watermark(): Promise<number> {
    const [r] = await this.db.query<{ wm: Date | string }>(
      `SELECT minute_watermark AS wm FROM ${this.s}.rollup_state WHERE id = 1`,
    );
    return watermarkMs(r?.wm);
  }

  /**
   * Compacts every minute bucket before `cutoffMs` (floored to the hour) into its hour bucket:
   * sums added, maps (sketch bins, error codes) merged entry by entry, so the hour holds exactly
   * what its minutes held; then the minutes are deleted and the watermark moves, in one
   * transaction that waits for ingestions in flight (they hold the watermark's share lock). At
   * most `maxHours` hours per call (call again until it returns the cutoff).
   */
  async compact(cutoffMs: number, maxHours = 24): Promise<CompactionResult> {
    const cutoff = Math.floor(cutoffMs / HOUR_MS) * HOUR_MS;
    return this.db.transaction(async (tx) => {
      const [state] = await tx.query<{ wm: Date | string }>(
        `SELECT minute_watermark AS wm FROM ${this.s}.rollup_state WHERE id = 1 FOR UPDATE`,
      );
      const wm = watermarkMs(state?.wm);
      if (cutoff <= wm) return { watermark: wm, minuteRows: 0, hourRows: 0 };
      const [oldest] = await tx.query<{ t: Date | null }>(
        `SELECT least(
           (SELECT min(bucket_start) FROM ${this.s}.usage_rollups WHERE granularity = 'minute'),
           (SELECT min(bucket_start) FROM ${this.s}.attempt_rollups WHERE granularity = 'minute')) AS t`,
      );
      // From the oldest minute left (none: only the watermark moves), at most `maxHours` a call.
      const from = oldest?.t
        ? Math.floor(new Date(oldest.t).getTime() / HOUR_MS) * HOUR_MS
        : cutoff;
      const to = Math.min(cutoff, from + maxHours * HOUR_MS);
      let minuteRows = 0;
      let hourRows = 0;
      for (const t of [
        {
          table: 'usage_rollups',
          dims: USAGE_DIM_COLUMNS,
          sums: USAGE_SUM_COLUMNS,
          conflict: ['tenant_id', 'granularity', 'bucket_start', ...USAGE_DIM_COLUMNS.slice(1)],
        },
        {
          table: 'attempt_rollups',
          dims: ATTEMPT_DIM_COLUMNS,
          sums: ATTEMPT_SUM_COLUMNS,
          conflict: ['granularity', 'bucket_start', ...ATTEMPT_DIM_COLUMNS],
        },
      ]) {
        const merged = await tx.query(
          `INSERT INTO ${this.s}.${t.table} AS t (granularity, bucket_start, ${t.dims.join(', ')}, ${t.sums.join(', ')}, ${MAP_COLUMNS.join(', ')})
           SELECT 'hour', date_trunc('hour', bucket_start AT TIME ZONE 'UTC') AT TIME ZONE 'UTC', ${t.dims.join(', ')},
                  ${t.sums.map((c) => `sum(${c})`).join(', ')}, ${MAP_COLUMNS.map((c) => `${this.s}.jsonb_sum(${c})`).join(', ')}
             FROM ${this.s}.${t.table}
            WHERE granularity = 'minute' AND bucket_start < $1
            GROUP BY 2, ${t.dims.join(', ')}
           ON CONFLICT (${t.conflict.join(', ')}) DO UPDATE SET
             ${[
               ...t.sums.map((c) => `${c} = t.${c} + excluded.${c}`),
               ...MAP_COLUMNS.map((c) => `${c} = ${this.s}.jsonb_add(t.${c}, excluded.${c})`),
               'version = t.version + 1',
               'updated_at = now()',
             ].join(', ')}
           RETURNING 1`,
          [new Date(to).toISOString()],
        );
        hourRows += merged.length;
        const deleted = await tx.query(
          `DELETE FROM ${this.s}.${t.table} WHERE granularity = 'minute' AND bucket_start < $1 RETURNING 1`,
          [new Date(to).toISOString()],
        );
        minuteRows += deleted.length;
      }
      await tx.query(
        `UPDATE ${this.s}.rollup_state SET minute_watermark = $1, compacted_at = now() WHERE id = 1`,
        [new Date(to).toISOString()],
      );
      return { watermark: to, minuteRows, hourRows };
    });
  }

  /** Sets a record aside, once per (topic, partition, offset). */
  async park(p: ParkInput): Promise<{ id: string; created: boolean }> {
    const rows = await this.db.query<{ id: string; created: boolean }>(
      `WITH ins AS (
         INSERT INTO ${this.s}.parked_records (topic, kafka_partition, kafka_offset, record_key, ref, record, sqlstate, error)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
         ON CONFLICT (topic, kafka_partition, kafka_offset) DO NOTHING RETURNING id)
       SELECT id, true AS created FROM ins
       UNION ALL
       SELECT id, false FROM ${this.s}.parked_records WHERE topic = $1 AND kafka_partition = $2 AND kafka_offset = $3`,
      [
        p.topic,
        p.partition,
        p.offset,
        pgText(p.key),
        pgText(p.ref),
        pgText(p.record),
        p.sqlstate,
        pgText(p.error),
      ],
    );
    const r = rows[0]!;
    return { id: String(r.id), created: r.created };
  }

  /**
   * Buckets closed at `closedAtMs` (their end at or before it) whose current version is not
   * published yet, oldest first.
   */
  async unpublished(
    closedAtMs: number,
    limit: number,
    unreadable: (row: UnreadableRow) => void = () => undefined,
  ): Promise<PublishableRow[]> {
    const before = (g: BucketGranularity) => new Date(closedAtMs - BUCKET_MS[g]).toISOString();
    const where = `version > published_version AND bucket_start < $1 AND bucket_start < CASE granularity
        WHEN 'minute' THEN $1::timestamptz WHEN 'hour' THEN $2::timestamptz ELSE $3::timestamptz END`;
    const params = [before('minute'), before('hour'), before('day'), limit];
    const usage = await this.db.query<Record<string, unknown>>(
      `SELECT * FROM ${this.s}.usage_rollups WHERE ${where} ORDER BY bucket_start, id LIMIT $4`,
      params,
    );
    const attempts = await this.db.query<Record<string, unknown>>(
      `SELECT * FROM ${this.s}.attempt_rollups WHERE ${where} ORDER BY bucket_start, id LIMIT $4`,
      params,
    );
    // A bucket whose sums a number cannot hold exactly (absurd usage that passed its contract)
    // cannot be published: it is left out and reported, so it never holds back the others.
    const readable =
      <R>(kind: PublishableRow['kind'], read: (r: Record<string, unknown>) => R) =>
      (rows: Array<Record<string, unknown>>): R[] =>
        rows.flatMap((r) => {
          try {
            return [read(r)];
          } catch (e) {
            unreadable({
              kind,
              id: String(r['id']),
              version: int(r['version']),
              error: e instanceof Error ? e.message : String(e),
            });
            return [];
          }
        });
    return [
      ...readable('usage', (r): PublishableRow => ({
        kind: 'usage',
        id: String(r['id']),
        version: int(r['version']),
        granularity: r['granularity'] as BucketGranularity,
        bucketStart: new Date(r['bucket_start'] as string).getTime(),
        dims: Object.fromEntries(
          USAGE_DIM_KEYS.map((k, i) => [k, String(r[USAGE_DIM_COLUMNS[i]!])]),
        ) as unknown as UsageDims,
        measures: {
          requests: int(r['requests']),
          promptTokens: int(r['prompt_tokens']),
          completionTokens: int(r['completion_tokens']),
          cachedTokens: int(r['cached_tokens']),
          cacheWriteTokens: int(r['cache_write_tokens']),
          reasoningTokens: int(r['reasoning_tokens']),
          upstreamMicros: int(r['upstream_micros']),
          chargedMicros: int(r['charged_micros']),
          errors: int(r['errors']),
          fallbacks: int(r['fallbacks']),
          errorsByCode: numberMap(r['errors_by_code']),
          ttft: numberMap(r['ttft_sketch']),
          latency: numberMap(r['latency_sketch']),
          throughput: numberMap(r['throughput_sketch']),
        },
      }))(usage),
      ...readable('attempt', (r): PublishableRow => ({
        kind: 'attempt',
        id: String(r['id']),
        version: int(r['version']),
        granularity: r['granularity'] as BucketGranularity,
        bucketStart: new Date(r['bucket_start'] as string).getTime(),
        dims: Object.fromEntries(
          ATTEMPT_DIM_KEYS.map((k, i) => [k, String(r[ATTEMPT_DIM_COLUMNS[i]!])]),
        ) as unknown as AttemptDims,
        measures: {
          attempts: int(r['attempts']),
          promptTokens: int(r['prompt_tokens']),
          completionTokens: int(r['completion_tokens']),
          errorsByCode: numberMap(r['errors_by_code']),
          ttft: numberMap(r['ttft_sketch']),
          latency: numberMap(r['latency_sketch']),
          throughput: numberMap(r['throughput_sketch']),
        },
      }))(attempts),
    ];
  }

  /** Records that these versions are on the topic (a later change makes the bucket due again). */
  async markPublished(
    rows: ReadonlyArray<Pick<PublishableRow, 'kind' | 'id' | 'version'>>,
  ): Promise<void> {
    for (const [kind, table] of [
      ['usage', 'usage_rollups'],
      ['attempt', 'attempt_rollups'],
    ] as const) {
      const mine = rows.filter((r) => r.kind === kind);
      if (mine.length === 0) continue;
      await this.db.query(
        `UPDATE ${this.s}.${table} t SET published_version = greatest(t.published_version, v.version)
           FROM unnest($1::bigint[], $2::bigint[]) AS v(id, version) WHERE t.id = v.id`,
        [mine.map((r) => r.id), mine.map((r) => r.version)],
      );
    }
  }
}

/** Postgres text holds no NUL: what we keep as text, for operators, loses them visibly. */
const pgText = (v: string | null): string | null =>
  v === null ? null : v.replace(/\0/g, '\\u0000');

function watermarkMs(v: Date | string | undefined | null): number {
  if (v == null || v === '-infinity') return -Infinity;
  const t = v instanceof Date ? v.getTime() : Date.parse(v);
  return Number.isNaN(t) ? -Infinity : t;
}
