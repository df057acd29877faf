import type { DataSource, QueryRunner } from 'typeorm';
import type {
  ActivityRow,
  CreditEventV1,
  CreditKind,
  CreditMovement,
  GenerationRecord,
  KeyUsage,
  LedgerCheck,
  LimitReset,
  ParkedRecord,
  UsageEventV1,
} from '@turnpike/contracts';
import {
  billableOf,
  creditPostings,
  creditTransactionKind,
  limitPeriodStart,
  periodsOf,
  tenantFigures,
  usagePostings,
  type Periods,
  type Posting,
  type TransactionKind,
} from '@turnpike/pricing';

export interface SourcedUsage {
  event: UsageEventV1;
  partition: number;
  offset: string;
}

export interface SourcedCredit {
  event: CreditEventV1;
  partition: number;
  offset: string;
}

export interface IngestResult {
  /** Usage events new to the ledger, and redelivered ones. */
  inserted: number;
  duplicates: number;
  credits: number;
  creditDuplicates: number;
  /** Every tenant of the batch, with the generations of the batch (new or not). */
  tenants: Map<string, string[]>;
  /** Every key of the batch, with its tenant. */
  keys: Map<string, string>;
}

export const emptyIngestResult = (): IngestResult => ({
  inserted: 0,
  duplicates: 0,
  credits: 0,
  creditDuplicates: 0,
  tenants: new Map(),
  keys: new Map(),
});

export interface TenantState {
  tenantId: string;
  creditsMicros: number;
  usageMicros: number;
  balanceMicros: number;
  version: number;
}

export interface KeyState {
  keyId: string;
  tenantId: string;
  limitMicros: number | null;
  limitReset: LimitReset | null;
  usageMicros: number;
  periods: Periods;
  usageDailyMicros: number;
  usageWeeklyMicros: number;
  usageMonthlyMicros: number;
  version: number;
}

/** int8 and numeric come back from `pg` as strings: to a safe integer, or fail loudly. */
export function int(v: unknown): number {
  if (v === null || v === undefined) return 0;
  const n = typeof v === 'number' ? v : Number(v as string);
  if (!Number.isSafeInteger(n)) throw new RangeError(`not a safe integer: ${String(v)}`);
  return n;
}

export const usageRef = (generationId: string) => `usage:${generationId}`;
export const creditRef = (tenantId: string, idempotencyKey: string) =>
  `credit:${tenantId}:${idempotencyKey}`;

/**
 * A record the posting rules refuse before the database sees it (a credit grant with a negative
 * amount passes its contract, which allows signed adjustments, but not `creditPostings`): as
 * deterministic as a CHECK, so it is parked like a record the database refuses.
 */
export class UnbookableRecord extends Error {
  constructor(
    readonly ref: string,
    reason: string,
  ) {
    super(`${ref}: ${reason}`);
    this.name = 'UnbookableRecord';
  }
}

/** The posting rules applied to one record; a throw there becomes an {@link UnbookableRecord}. */
function rule<T>(ref: string, fn: () => T): T {
  try {
    return fn();
  } catch (e) {
    throw new UnbookableRecord(ref, e instanceof Error ? e.message : String(e));
  }
}

/** Text Postgres can store: a NUL (which `text` refuses) is written as the escape `\u0000`. */
const pgText = (s: string) => s.replaceAll('\u0000', '\\u0000');

/** A record to set aside: where it was read, what it was, and why the ledger refused it. */
export interface ParkInput {
  topic: string;
  partition: number;
  offset: string;
  key: string | null;
  tenantId: string | null;
  ref: string | null;
  record: string;
  sqlstate: string | null;
  error: string;
}

interface ParkedRow {
  id: string;
  topic: string;
  kafka_partition: number;
  kafka_offset: string;
  record_key: string | null;
  tenant_id: string | null;
  ref: string | null;
  record: string;
  sqlstate: string | null;
  error: string;
  parked_at: Date;
  retries: number;
  retried_at: Date | null;
}

const parkedOf = (r: ParkedRow): ParkedRecord => ({
  id: String(r.id),
  topic: r.topic,
  partition: r.kafka_partition,
  offset: String(r.kafka_offset),
  key: r.record_key,
  tenantId: r.tenant_id,
  ref: r.ref,
  record: r.record,
  sqlstate: r.sqlstate,
  error: r.error,
  parkedAt: r.parked_at.toISOString(),
  retries: r.retries,
  retriedAt: r.retried_at?.toISOString() ?? null,
});

/** The parked row a retry was to remove is gone (another retry took it). */
export class NotParked extends Error {
  constructor(readonly id: string) {
    super(`no parked record ${id}`);
    this.name = 'NotParked';
  }
}

interface PendingTxn {
  ref: string;
  kind: TransactionKind;
  tenantId: string;
  keyId: string | null;
  generationId: string | null;
  occurredAt: string;
  amount: number;
  note: string | null;
  source: string;
  postings: Posting[];
  /** Charged usage of a key, for the key sub-ledger. */
  keyUsage: { keyId: string; periods: Periods; amount: number } | null;
}

/**
 * The ledger in Postgres: ingestion of a batch of usage events and credit movements in one
 * database transaction, and the queries of balances, generations and activity. All SQL of the
 * billing service is here; the posting rules themselves are pure (`@turnpike/pricing`).
 */
export class LedgerStore {
  private readonly s: string;

  constructor(
    private readonly db: DataSource,
    readonly schema: string,
  ) {
    this.s = `"${schema}"`;
  }

  /**
   * Books one batch: each new usage event becomes one usage transaction (unless it is free),
   * each new credit movement one transaction; redelivered ones are skipped (the generation id,
   * the credit's idempotency key). Balances and the key sub-ledger move in the same database
   * transaction. With `unpark`, that parked record is removed in the same transaction (a retry:
   * booked and unparked together, or neither; {@link NotParked} if it is no longer parked).
   * Throws {@link UnbookableRecord} before opening a transaction if the posting rules refuse a
   * record.
   */
  async ingest(
    usage: SourcedUsage[],
    credits: SourcedCredit[],
    topic: { usage: string; credits: string },
    opts: { unpark?: string } = {},
  ): Promise<IngestResult> {
    const result = emptyIngestResult();
    const seen = new Set<string>();
    const uniqueUsage: SourcedUsage[] = [];
    const gens = new Map<string, Set<string>>();
    for (const u of usage) {
      const e = u.event;
      let g = gens.get(e.tenantId);
      if (!g) gens.set(e.tenantId, (g = new Set()));
      g.add(e.generationId);
      result.keys.set(e.keyId, e.tenantId);
      if (seen.has(e.generationId)) result.duplicates++;
      else {
        seen.add(e.generationId);
        uniqueUsage.push(u);
      }
    }
    for (const [t, g] of gens) result.tenants.set(t, [...g]);
    for (const c of credits)
      if (!result.tenants.has(c.event.tenantId)) result.tenants.set(c.event.tenantId, []);
    if (uniqueUsage.length === 0 && credits.length === 0 && opts.unpark === undefined)
      return result;

    // The posting rules first, outside the transaction: a record they refuse fails the batch
    // before any statement.
    const rows = uniqueUsage.map((u) => {
      const e = u.event;
      return rule(usageRef(e.generationId), () => {
        const b = billableOf(e);
        const postings = usagePostings(e.tenantId, e.provider, b);
        const txn: PendingTxn | null =
          postings.length === 0
            ? null
            : {
                ref: usageRef(e.generationId),
                kind: 'usage',
                tenantId: e.tenantId,
                keyId: e.keyId,
                generationId: e.generationId,
                occurredAt: e.createdAt,
                amount: b.chargedMicros,
                note: null,
                source: `${topic.usage}/${u.partition}@${u.offset}`,
                postings,
                keyUsage:
                  b.chargedMicros !== 0
                    ? { keyId: e.keyId, periods: periodsOf(e.createdAt), amount: b.chargedMicros }
                    : null,
              };
        return { u, b, txn };
      });
    });
    const creditTxns: PendingTxn[] = [];
    const creditRefs = new Set<string>();
    for (const c of credits) {
      const e = c.event;
      const ref = creditRef(e.tenantId, e.idempotencyKey);
      if (creditRefs.has(ref)) {
        result.creditDuplicates++;
        continue;
      }
      creditRefs.add(ref);
      creditTxns.push(
        rule(ref, () => ({
          ref,
          kind: creditTransactionKind(e.kind),
          tenantId: e.tenantId,
          keyId: null,
          generationId: e.generationId,
          occurredAt: e.createdAt,
          amount: e.amountMicros,
          note: e.note,
          source: `${topic.credits}/${c.partition}@${c.offset}`,
          postings: creditPostings(e.tenantId, e.kind, e.amountMicros),
          keyUsage: null,
        })),
      );
    }

    const qr = this.db.createQueryRunner();
    await qr.connect();
    try {
      await qr.startTransaction();
      const pending: PendingTxn[] = [];

      if (rows.length > 0) {
        const inserted = (await qr.query(
          `INSERT INTO ${this.s}.usage_events (generation_id, tenant_id, key_id, created_at, status, model, provider, endpoint_id,
             prompt_tokens, completion_tokens, reasoning_tokens, cached_tokens, upstream_micros, charged_micros, event, kafka_partition, kafka_offset)
           SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::timestamptz[], $5::text[], $6::text[], $7::text[], $8::text[],
             $9::bigint[], $10::bigint[], $11::bigint[], $12::bigint[], $13::bigint[], $14::bigint[], $15::jsonb[], $16::int[], $17::bigint[])
           ON CONFLICT (generation_id) DO NOTHING
           RETURNING generation_id`,
          [
            rows.map((r) => r.u.event.generationId),
            rows.map((r) => r.u.event.tenantId),
            rows.map((r) => r.u.event.keyId),
            rows.map((r) => r.u.event.createdAt),
            rows.map((r) => r.u.event.status),
            rows.map((r) => r.u.event.model),
            rows.map((r) => r.u.event.provider),
            rows.map((r) => r.u.event.endpointId),
            rows.map((r) => r.u.event.tokens.prompt),
            rows.map((r) => r.u.event.tokens.completion),
            rows.map((r) => r.u.event.tokens.reasoning),
            rows.map((r) => r.u.event.tokens.cachedRead),
            rows.map((r) => r.b.upstreamMicros),
            rows.map((r) => r.b.chargedMicros),
            rows.map((r) => JSON.stringify(r.u.event)),
            rows.map((r) => r.u.partition),
            rows.map((r) => r.u.offset),
          ],
        )) as Array<{ generation_id: string }>;
        const fresh = new Set(inserted.map((r) => r.generation_id));
        result.inserted = fresh.size;
        result.duplicates += rows.length - fresh.size;
        for (const { u, txn } of rows)
          if (txn && fresh.has(u.event.generationId)) pending.push(txn);
      }
      pending.push(...creditTxns);

      if (pending.length > 0) await this.book(qr, pending, result, creditRefs.size);
      if (opts.unpark !== undefined) {
        const gone = (await qr.query(
          `DELETE FROM ${this.s}.parked_records WHERE id = $1 RETURNING id`,
          [opts.unpark],
        )) as unknown[];
        if (gone.length === 0) throw new NotParked(opts.unpark);
      }
      await qr.commitTransaction();
      return result;
    } catch (e) {
      if (qr.isTransactionActive) await qr.rollbackTransaction().catch(() => undefined);
      throw e;
    } finally {
      await qr.release();
    }
  }

  private async book(
    qr: QueryRunner,
    pending: PendingTxn[],
    result: IngestResult,
    creditCount: number,
  ): Promise<void> {
    // Accounts first (entries reference them).
    const accts = new Map<string, Posting>();
    for (const t of pending)
      for (const p of t.postings) if (!accts.has(p.account)) accts.set(p.account, p);
    const sortedAccounts = [...accts.values()].sort((a, b) => (a.account < b.account ? -1 : 1));
    await qr.query(
      `INSERT INTO ${this.s}.accounts (code, kind, tenant_id, provider)
       SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[]) ON CONFLICT (code) DO NOTHING`,
      [
        sortedAccounts.map((a) => a.account),
        sortedAccounts.map((a) => a.accountKind),
        sortedAccounts.map((a) => a.tenantId),
        sortedAccounts.map((a) => a.provider),
      ],
    );

    const txns = (await qr.query(
      `INSERT INTO ${this.s}.transactions (ref, kind, tenant_id, key_id, generation_id, occurred_at, amount, note, source)
       SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::timestamptz[], $7::bigint[], $8::text[], $9::text[])
       ON CONFLICT (ref) DO NOTHING
       RETURNING id, ref`,
      [
        pending.map((t) => t.ref),
        pending.map((t) => t.kind),
        pending.map((t) => t.tenantId),
        pending.map((t) => t.keyId),
        pending.map((t) => t.generationId),
        pending.map((t) => t.occurredAt),
        pending.map((t) => t.amount),
        pending.map((t) => t.note),
        pending.map((t) => t.source),
      ],
    )) as Array<{ id: string; ref: string }>;
    const ids = new Map(txns.map((r) => [r.ref, r.id]));
    const booked = pending.filter((t) => ids.has(t.ref));
    const bookedCredits = booked.filter((t) => t.kind !== 'usage').length;
    result.credits = bookedCredits;
    result.creditDuplicates += creditCount - bookedCredits;
    if (booked.length === 0) return;

    // All entries in one statement: the balance trigger checks every transaction at its end.
    const entries = booked.flatMap((t) => t.postings.map((p) => ({ txn: ids.get(t.ref)!, p })));
    await qr.query(
      `INSERT INTO ${this.s}.entries (txn_id, account, kind, amount)
       SELECT * FROM unnest($1::bigint[], $2::text[], $3::text[], $4::bigint[])`,
      [
        entries.map((e) => e.txn),
        entries.map((e) => e.p.account),
        entries.map((e) => e.p.kind),
        entries.map((e) => e.p.amount),
      ],
    );

    // Balances: one delta per account, in account order (no deadlock between instances).
    const deltas = new Map<string, bigint>();
    for (const { p } of entries)
      deltas.set(p.account, (deltas.get(p.account) ?? 0n) + BigInt(p.amount));
    const sorted = [...deltas.entries()].sort((a, b) => (a[0] < b[0] ? -1 : 1));
    await qr.query(
      `INSERT INTO ${this.s}.balances AS b (account, balance, version)
       SELECT a, d, 1 FROM unnest($1::text[], $2::bigint[]) AS x(a, d)
       ON CONFLICT (account) DO UPDATE SET balance = b.balance + EXCLUDED.balance, version = b.version + 1, updated_at = now()`,
      [sorted.map(([a]) => a), sorted.map(([, d]) => d.toString())],
    );

    // The key sub-ledger: charged usage by key and period.
    const buckets = new Map<
      string,
      { keyId: string; tenantId: string; period: string; start: string; amount: bigint }
    >();
    for (const t of booked) {
      if (!t.keyUsage) continue;
      const { keyId, periods, amount } = t.keyUsage;
      for (const [period, start] of [
        ['all', '1970-01-01'],
        ['day', periods.day],
        ['week', periods.week],
        ['month', periods.month],
      ] as const) {
        const k = `${keyId}|${period}|${start}`;
        const b = buckets.get(k) ?? { keyId, tenantId: t.tenantId, period, start, amount: 0n };
        b.amount += BigInt(amount);
        buckets.set(k, b);
      }
    }
    if (buckets.size > 0) {
      const rows = [...buckets.entries()].sort((a, b) => (a[0] < b[0] ? -1 : 1)).map(([, b]) => b);
      await qr.query(
        `INSERT INTO ${this.s}.key_usage AS k (key_id, period, period_start, tenant_id, usage, version)
         SELECT *, 1 FROM unnest($1::text[], $2::text[], $3::date[], $4::text[], $5::bigint[])
         ON CONFLICT (key_id, period, period_start) DO UPDATE SET usage = k.usage + EXCLUDED.usage, version = k.version + 1`,
        [
          rows.map((r) => r.keyId),
          rows.map((r) => r.period),
          rows.map((r) => r.start),
          rows.map((r) => r.tenantId),
          rows.map((r) => r.amount.toString()),
        ],
      );
    }
  }

  // -------------------------------------------------------------------------------------------
  // Reads
  // -------------------------------------------------------------------------------------------

  async tenantStates(tenantIds: string[]): Promise<Map<string, TenantState>> {
    const out = new Map<string, TenantState>();
    for (const t of tenantIds)
      out.set(t, { tenantId: t, creditsMicros: 0, usageMicros: 0, balanceMicros: 0, version: 0 });
    if (tenantIds.length === 0) return out;
    const rows = (await this.db.query(
      `SELECT a.tenant_id, a.kind, b.balance, b.version FROM ${this.s}.accounts a JOIN ${this.s}.balances b ON b.account = a.code
       WHERE a.tenant_id = ANY($1::text[]) AND a.kind IN ('tenant_credit', 'tenant_usage')`,
      [tenantIds],
    )) as Array<{ tenant_id: string; kind: string; balance: string; version: string }>;
    const raw = new Map<string, { credit: number; usage: number; version: number }>();
    for (const r of rows) {
      const x = raw.get(r.tenant_id) ?? { credit: 0, usage: 0, version: 0 };
      if (r.kind === 'tenant_credit') x.credit = int(r.balance);
      else x.usage = int(r.balance);
      x.version += int(r.version);
      raw.set(r.tenant_id, x);
    }
    for (const [t, x] of raw)
      out.set(t, { tenantId: t, ...tenantFigures(x.credit, x.usage), version: x.version });
    return out;
  }

  /** Key usage of the periods containing `now`, and limits. Keys never seen have no usage. */
  async keyStates(keys: Map<string, string>, now = new Date()): Promise<KeyState[]> {
    if (keys.size === 0) return [];
    const periods = periodsOf(now);
    const ids = [...keys.keys()];
    const [usage, limits] = await Promise.all([
      this.db.query(
        `SELECT key_id, period, usage, version FROM ${this.s}.key_usage WHERE key_id = ANY($1::text[])
          AND (period = 'all' OR (period = 'day' AND period_start = $2::date) OR (period = 'week' AND period_start = $3::date)
               OR (period = 'month' AND period_start = $4::date))`,
        [ids, periods.day, periods.week, periods.month],
      ) as Promise<Array<{ key_id: string; period: string; usage: string; version: string }>>,
      this.db.query(
        `SELECT key_id, tenant_id, limit_micros, limit_reset, version FROM ${this.s}.key_limits WHERE key_id = ANY($1::text[])`,
        [ids],
      ) as Promise<
        Array<{
          key_id: string;
          tenant_id: string;
          limit_micros: string | null;
          limit_reset: LimitReset | null;
          version: string;
        }>
      >,
    ]);
    const states = new Map<string, KeyState>();
    for (const [keyId, tenantId] of keys) {
      states.set(keyId, {
        keyId,
        tenantId,
        limitMicros: null,
        limitReset: null,
        usageMicros: 0,
        periods,
        usageDailyMicros: 0,
        usageWeeklyMicros: 0,
        usageMonthlyMicros: 0,
        version: 0,
      });
    }
    for (const r of usage) {
      const s = states.get(r.key_id)!;
      const v = int(r.usage);
      if (r.period === 'all') {
        s.usageMicros = v;
        s.version += int(r.version);
      } else if (r.period === 'day') s.usageDailyMicros = v;
      else if (r.period === 'week') s.usageWeeklyMicros = v;
      else s.usageMonthlyMicros = v;
    }
    for (const r of limits) {
      const s = states.get(r.key_id)!;
      s.limitMicros = r.limit_micros === null ? null : int(r.limit_micros);
      s.limitReset = r.limit_reset;
      s.version += int(r.version);
    }
    return [...states.values()];
  }

  async keyUsage(tenantId: string, keyId: string, now = new Date()): Promise<KeyUsage> {
    const [s] = await this.keyStates(new Map([[keyId, tenantId]]), now);
    return keyUsageOf(s!, now);
  }

  async setKeyLimit(
    tenantId: string,
    keyId: string,
    limitMicros: number | null,
    limitReset: LimitReset | null,
  ): Promise<void> {
    await this.db.query(
      `INSERT INTO ${this.s}.key_limits AS l (key_id, tenant_id, limit_micros, limit_reset, version) VALUES ($1, $2, $3, $4, 1)
       ON CONFLICT (key_id) DO UPDATE SET tenant_id = EXCLUDED.tenant_id, limit_micros = EXCLUDED.limit_micros,
         limit_reset = EXCLUDED.limit_reset, version = l.version + 1, updated_at = now()`,
      [keyId, tenantId, limitMicros, limitReset],
    );
  }

  async findCredit(tenantId: string, idempotencyKey: string): Promise<CreditMovement | null> {
    const rows = (await this.db.query(
      `SELECT id, kind, tenant_id, amount, note, generation_id, occurred_at FROM ${this.s}.transactions WHERE ref = $1`,
      [creditRef(tenantId, idempotencyKey)],
    )) as Array<{
      id: string;
      kind: TransactionKind;
      tenant_id: string;
      amount: string;
      note: string | null;
      generation_id: string | null;
      occurred_at: Date;
    }>;
    const r = rows[0];
    if (!r) return null;
    const kind: CreditKind = r.kind === 'credit_grant' ? 'grant' : (r.kind as CreditKind);
    return {
      transactionId: r.id,
      tenantId: r.tenant_id,
      kind,
      amountMicros: int(r.amount),
      idempotencyKey,
      note: r.note,
      generationId: r.generation_id,
      createdAt: r.occurred_at.toISOString(),
    };
  }

  async generation(tenantId: string, generationId: string): Promise<GenerationRecord | null> {
    const rows = (await this.db.query(
      `SELECT event, charged_micros, upstream_micros FROM ${this.s}.usage_events WHERE generation_id = $1 AND tenant_id = $2`,
      [generationId, tenantId],
    )) as Array<{ event: UsageEventV1; charged_micros: string; upstream_micros: string }>;
    const r = rows[0];
    if (!r) return null;
    const e = r.event;
    return {
      generationId: e.generationId,
      tenantId: e.tenantId,
      keyId: e.keyId,
      createdAt: e.createdAt,
      requestedModel: e.requestedModel,
      model: e.model,
      provider: e.provider,
      endpointId: e.endpointId,
      stream: e.stream,
      status: e.status,
      finishReason: e.finishReason,
      nativeFinishReason: e.nativeFinishReason,
      tokens: e.tokens,
      usageReported: e.usageReported,
      upstreamMicros: int(r.upstream_micros),
      chargedMicros: int(r.charged_micros),
      ttftMs: e.ttftMs,
      latencyMs: e.latencyMs,
      attempts: e.attempts,
      app: e.app,
      error: e.error,
    };
  }

  async activity(
    tenantId: string,
    from: string,
    toExclusive: string,
    keyId: string | null,
  ): Promise<ActivityRow[]> {
    const rows = (await this.db.query(
      `SELECT to_char(created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD') AS date, model, coalesce(provider, '') AS provider,
              coalesce(endpoint_id, '') AS endpoint_id, key_id, count(*) AS requests,
              sum(prompt_tokens) AS prompt, sum(completion_tokens) AS completion, sum(reasoning_tokens) AS reasoning,
              sum(cached_tokens) AS cached, sum(charged_micros) AS charged, sum(upstream_micros) AS upstream
         FROM ${this.s}.usage_events
        WHERE tenant_id = $1 AND model IS NOT NULL AND created_at >= $2::date AND created_at < $3::date
          AND ($4::text IS NULL OR key_id = $4)
        GROUP BY 1, 2, 3, 4, 5
        ORDER BY 1 DESC, 2, 3, 5`,
      [tenantId, from, toExclusive, keyId],
    )) as Array<Record<string, string>>;
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

  /**
   * The ledger's invariants, checked from the entries: every transaction sums to zero, every
   * stored balance equals the sum of its account's entries, and the key sub-ledger equals the
   * usage transactions bucketed by UTC day, week (from Monday) and month.
   */
  async verify(): Promise<LedgerCheck> {
    const s = this.s;
    const [r] = (await this.db.query(
      `SELECT
         (SELECT count(*) FROM ${s}.transactions) AS transactions,
         (SELECT count(*) FROM ${s}.entries) AS entries,
         (SELECT count(*) FROM (SELECT txn_id FROM ${s}.entries GROUP BY txn_id HAVING sum(amount) <> 0) u) AS unbalanced,
         (SELECT count(*) FROM (SELECT account, sum(amount) AS total FROM ${s}.entries GROUP BY account) e
            FULL JOIN ${s}.balances b USING (account)
           WHERE e.total IS DISTINCT FROM b.balance) AS balance_mismatches,
         (SELECT count(*) FROM (
            SELECT t.key_id, p.period, p.start, sum(e.amount) AS usage
              FROM ${s}.transactions t JOIN ${s}.entries e ON e.txn_id = t.id AND e.kind = 'usage_charge'
              CROSS JOIN LATERAL (VALUES
                ('all', DATE '1970-01-01'),
                ('day', (date_trunc('day', t.occurred_at AT TIME ZONE 'UTC'))::date),
                ('week', (date_trunc('week', t.occurred_at AT TIME ZONE 'UTC'))::date),
                ('month', (date_trunc('month', t.occurred_at AT TIME ZONE 'UTC'))::date)) AS p(period, start)
             WHERE t.kind = 'usage'
             GROUP BY 1, 2, 3) x
            FULL JOIN ${s}.key_usage k ON k.key_id = x.key_id AND k.period = x.period AND k.period_start = x.start
           WHERE x.usage IS DISTINCT FROM k.usage) AS key_mismatches`,
    )) as Array<Record<string, string>>;
    return {
      transactions: int(r!['transactions']),
      entries: int(r!['entries']),
      unbalancedTransactions: int(r!['unbalanced']),
      balanceMismatches: int(r!['balance_mismatches']),
      keyUsageMismatches: int(r!['key_mismatches']),
    };
  }

  // -------------------------------------------------------------------------------------------
  // Parked records
  // -------------------------------------------------------------------------------------------

  /**
   * Sets a record aside, once per (topic, partition, offset): a redelivery or a replay of the
   * same record finds its row. `created` says whether this call made it.
   */
  async park(p: ParkInput): Promise<{ id: string; created: boolean }> {
    const rows = (await this.db.query(
      `WITH ins AS (
         INSERT INTO ${this.s}.parked_records (topic, kafka_partition, kafka_offset, record_key, tenant_id, ref, record, sqlstate, error)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
         ON CONFLICT (topic, kafka_partition, kafka_offset) DO NOTHING RETURNING id)
       SELECT id, true AS created FROM ins
       UNION ALL
       SELECT id, false FROM ${this.s}.parked_records WHERE topic = $1 AND kafka_partition = $2 AND kafka_offset = $3`,
      [
        pgText(p.topic),
        p.partition,
        p.offset,
        p.key === null ? null : pgText(p.key),
        p.tenantId === null ? null : pgText(p.tenantId),
        p.ref === null ? null : pgText(p.ref),
        pgText(p.record),
        p.sqlstate,
        pgText(p.error),
      ],
    )) as Array<{ id: string; created: boolean }>;
    // The insert's row, or (it conflicted) the existing one; the SELECT does not see the insert's.
    // Neither only when another transaction parked it meanwhile: read it now that it committed.
    const r =
      rows[0] ??
      (
        (await this.db.query(
          `SELECT id, false AS created FROM ${this.s}.parked_records WHERE topic = $1 AND kafka_partition = $2 AND kafka_offset = $3`,
          [pgText(p.topic), p.partition, p.offset],
        )) as Array<{ id: string; created: boolean }>
      )[0];
    if (!r) throw new Error(`parking ${p.topic}/${p.partition}@${p.offset} left no row`);
    return { id: String(r.id), created: r.created };
  }

  /** Parked records, oldest first, after the id `after`; and how many there are in all. */
  async listParked(
    limit: number,
    after: string | null,
  ): Promise<{ data: ParkedRecord[]; total: number; hasMore: boolean }> {
    const [rows, count] = await Promise.all([
      this.db.query(
        `SELECT * FROM ${this.s}.parked_records WHERE ($1::bigint IS NULL OR id > $1::bigint) ORDER BY id LIMIT $2`,
        [after, limit + 1],
      ) as Promise<ParkedRow[]>,
      this.db.query(`SELECT count(*) AS n FROM ${this.s}.parked_records`) as Promise<
        Array<{ n: string }>
      >,
    ]);
    return {
      data: rows.slice(0, limit).map(parkedOf),
      total: int(count[0]!.n),
      hasMore: rows.length > limit,
    };
  }

  async parked(id: string): Promise<ParkedRecord | null> {
    const rows = (await this.db.query(`SELECT * FROM ${this.s}.parked_records WHERE id = $1`, [
      id,
    ])) as ParkedRow[];
    return rows[0] ? parkedOf(rows[0]) : null;
  }

  /** A retry that the ledger refused again: the new reason, and one more retry counted. */
  async parkedRetryFailed(id: string, sqlstate: string | null, error: string): Promise<void> {
    await this.db.query(
      `UPDATE ${this.s}.parked_records SET sqlstate = $2, error = $3, retries = retries + 1, retried_at = now() WHERE id = $1`,
      [id, sqlstate, pgText(error)],
    );
  }

  async listMarkupRules(): Promise<Array<Record<string, unknown>>> {
    return (await this.db.query(
      `SELECT rule_key, scope, tenant_id, model, percent_bps, fixed_micros, updated_at FROM ${this.s}.markup_rules ORDER BY rule_key`,
    )) as Array<Record<string, unknown>>;
  }

  async upsertMarkupRule(
    key: string,
    r: {
      scope: string;
      tenantId: string | null;
      model: string | null;
      percentBps: number;
      fixedMicros: number;
    },
  ): Promise<Date> {
    const rows = (await this.db.query(
      `INSERT INTO ${this.s}.markup_rules (rule_key, scope, tenant_id, model, percent_bps, fixed_micros) VALUES ($1, $2, $3, $4, $5, $6)
       ON CONFLICT (rule_key) DO UPDATE SET percent_bps = EXCLUDED.percent_bps, fixed_micros = EXCLUDED.fixed_micros, updated_at = now()
       RETURNING updated_at`,
      [key, r.scope, r.tenantId, r.model, r.percentBps, r.fixedMicros],
    )) as Array<{ updated_at: Date }>;
    return rows[0]!.updated_at;
  }

  async deleteMarkupRule(key: string): Promise<boolean> {
    const rows = (await this.db.query(
      `DELETE FROM ${this.s}.markup_rules WHERE rule_key = $1 RETURNING rule_key`,
      [key],
    )) as unknown[];
    return rows.length > 0;
  }
}

/** A key's figures as `GET /v1/key` shows them, at `now`. */
export function keyUsageOf(s: KeyState, now: Date): KeyUsage {
  const start = limitPeriodStart(s.limitReset, now);
  const periodUsage =
    start === null
      ? s.usageMicros
      : s.limitReset === 'daily'
        ? s.usageDailyMicros
        : s.limitReset === 'weekly'
          ? s.usageWeeklyMicros
          : s.usageMonthlyMicros;
  return {
    keyId: s.keyId,
    tenantId: s.tenantId,
    limitMicros: s.limitMicros,
    limitReset: s.limitReset,
    limitRemainingMicros: s.limitMicros === null ? null : s.limitMicros - periodUsage,
    usageMicros: s.usageMicros,
    usageDailyMicros: s.usageDailyMicros,
    usageWeeklyMicros: s.usageWeeklyMicros,
    usageMonthlyMicros: s.usageMonthlyMicros,
  };
}
