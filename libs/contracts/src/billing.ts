import { z } from 'zod';
import { GenerationId, Micros } from './common.js';

/**
 * Billing's topics and its request/reply methods (`rpc.billing.v1`).
 *
 * - `billing.pricing.v1` (compacted): the markup rules operators set; the gateway prices from
 *   them in memory.
 * - `billing.credits.v1`: operator credit movements (grants, adjustments, refunds). With
 *   `usage.events.v1` it is the whole input of the ledger: replaying both from offset 0 into an
 *   empty ledger reproduces every balance.
 * - `billing.balances.v1` (compacted): the balance of every tenant and key, which the gateway
 *   keeps in memory to refuse (402) what a tenant cannot pay, before any upstream call.
 */

/** Tenant ids as the accounts admin API accepts them (no `|`, `/` or `:`). */
const TenantId = z.string().min(1).max(64);
const ModelRef = z.string().min(1).max(200);

// ---------------------------------------------------------------------------------------------
// Markup rules: billing.pricing.v1
// ---------------------------------------------------------------------------------------------

/** Which requests a markup rule applies to; the most specific rule wins. */
export const MarkupScope = z.enum(['global', 'model', 'tenant', 'tenant_model']);
export type MarkupScope = z.infer<typeof MarkupScope>;

/** 100% = 10_000 basis points; capped at 1000%. */
export const BasisPoints = z.number().int().min(0).max(100_000);

export const MarkupRuleFields = z.object({
  scope: MarkupScope,
  tenantId: TenantId.nullable(),
  model: ModelRef.nullable(),
  /** Percentage of the upstream cost, in basis points (1250 = 12.5%). */
  percentBps: BasisPoints,
  /** Fixed fee per charged request, in micro-units. */
  fixedMicros: Micros.nonnegative().max(1_000_000_000),
});
export type MarkupRuleFields = z.infer<typeof MarkupRuleFields>;

/** `billing.pricing.v1` (compacted, key = {@link markupRuleKey}); a tombstone deletes the rule. */
export const PricingRuleV1 = MarkupRuleFields.extend({
  v: z.literal(1),
  updatedAt: z.number().int().positive(),
})
  .refine((r) => (r.tenantId !== null) === (r.scope === 'tenant' || r.scope === 'tenant_model'), {
    message: 'tenantId is set exactly for tenant and tenant_model rules',
    path: ['tenantId'],
  })
  .refine((r) => (r.model !== null) === (r.scope === 'model' || r.scope === 'tenant_model'), {
    message: 'model is set exactly for model and tenant_model rules',
    path: ['model'],
  });
export type PricingRuleV1 = z.infer<typeof PricingRuleV1>;

/** The scope a rule has, from which of tenant and model it names. */
export function markupScopeOf(tenantId: string | null, model: string | null): MarkupScope {
  if (tenantId !== null && model !== null) return 'tenant_model';
  if (tenantId !== null) return 'tenant';
  if (model !== null) return 'model';
  return 'global';
}

/** The compacted key of a rule: one rule per scope, tenant and model. */
export function markupRuleKey(tenantId: string | null, model: string | null): string {
  return `${markupScopeOf(tenantId, model)}|${tenantId ?? ''}|${model ?? ''}`;
}

// ---------------------------------------------------------------------------------------------
// Credit movements: billing.credits.v1
// ---------------------------------------------------------------------------------------------

/**
 * grant: credit bought or given (> 0). adjustment: an operator correction of the credit
 * (signed, not 0). refund: usage given back (> 0), optionally for one generation.
 */
export const CreditKind = z.enum(['grant', 'adjustment', 'refund']);
export type CreditKind = z.infer<typeof CreditKind>;

export const IdempotencyKey = z.string().min(1).max(200);

/** The largest credit movement: $1 billion (10^15 micro-units), either way. */
export const MAX_CREDIT_MICROS = 1_000_000_000_000_000;
/**
 * A tenant's credit (the sum of its movements) stays within ±$2 billion: with at most
 * {@link MAX_CREDIT_MICROS} a movement, every ledger sum stays a safe integer even with a few
 * movements racing (the ledger fails loudly on one that is not).
 */
export const MAX_CREDIT_BALANCE_MICROS = 2_000_000_000_000_000;

/** A credit movement's amount: not 0, at most {@link MAX_CREDIT_MICROS} either way. */
export const CreditAmountMicros = Micros.min(-MAX_CREDIT_MICROS)
  .max(MAX_CREDIT_MICROS)
  .refine((n) => n !== 0, 'amount must not be 0');

/** `billing.credits.v1` (key = tenant id): one operator credit movement, idempotent on its key. */
export const CreditEventV1 = z.object({
  v: z.literal(1),
  tenantId: TenantId,
  kind: CreditKind,
  amountMicros: CreditAmountMicros,
  /** Unique per tenant: the same key twice is one movement. */
  idempotencyKey: IdempotencyKey,
  note: z.string().max(500).nullable(),
  generationId: GenerationId.nullable(),
  createdAt: z.iso.datetime(),
});
export type CreditEventV1 = z.infer<typeof CreditEventV1>;

// ---------------------------------------------------------------------------------------------
// Balances: billing.balances.v1
// ---------------------------------------------------------------------------------------------

export const LimitReset = z.enum(['daily', 'weekly', 'monthly']);
export type LimitReset = z.infer<typeof LimitReset>;

/** A real UTC calendar date, `YYYY-MM-DD`, from 1970 to 9998 (so the day after it exists too). */
export const IsoDate = z
  .string()
  .regex(/^\d{4}-\d{2}-\d{2}$/)
  .refine(isCalendarDate, 'a UTC calendar date, YYYY-MM-DD (1970-01-01 to 9998-12-31)');

/** `2026-02-28` yes; `2026-02-30`, `9999-99-99` no. */
export function isCalendarDate(s: string): boolean {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(s);
  if (!m) return false;
  const [y, mo, d] = [Number(m[1]), Number(m[2]), Number(m[3])];
  if (y < 1970 || y > 9998 || mo < 1 || mo > 12 || d < 1) return false;
  const t = new Date(Date.UTC(y, mo - 1, d));
  return t.getUTCMonth() === mo - 1 && t.getUTCDate() === d;
}

export const TenantBalanceV1 = z.object({
  v: z.literal(1),
  kind: z.literal('tenant'),
  tenantId: TenantId,
  /** Credits granted, adjusted: what the tenant has put in. */
  creditsMicros: Micros,
  /** Usage charged, net of refunds. */
  usageMicros: Micros,
  /** creditsMicros - usageMicros: what may still be spent (negative after an overspend). */
  balanceMicros: Micros,
  /** Grows with every ledger change of the tenant: a reader keeps the highest. */
  version: z.number().int().nonnegative(),
  /**
   * Generations whose usage events this update has ingested (charged, free or duplicate):
   * the gateway that served them releases their reservations when it sees this record.
   */
  generations: z.array(GenerationId),
  updatedAt: z.number().int().positive(),
});
export type TenantBalanceV1 = z.infer<typeof TenantBalanceV1>;

export const KeyBalanceV1 = z.object({
  v: z.literal(1),
  kind: z.literal('key'),
  keyId: z.string().min(1),
  tenantId: TenantId,
  /** Spending limit of the key per period (or in all, without reset); null: no limit. */
  limitMicros: Micros.nonnegative().nullable(),
  limitReset: LimitReset.nullable(),
  usageMicros: Micros,
  /** Usage in the UTC day, week (from Monday) and month that start on these dates. */
  day: IsoDate,
  usageDailyMicros: Micros,
  week: IsoDate,
  usageWeeklyMicros: Micros,
  month: IsoDate,
  usageMonthlyMicros: Micros,
  version: z.number().int().nonnegative(),
  updatedAt: z.number().int().positive(),
});
export type KeyBalanceV1 = z.infer<typeof KeyBalanceV1>;

/**
 * `billing.balances.v1` (compacted, key = {@link balanceKey}). A tenant's records and its keys'
 * records go to the same partition ({@link balancePartition}), key records first: a reader that
 * sees a tenant record has seen the key records of the same update.
 */
export const BalanceV1 = z.discriminatedUnion('kind', [TenantBalanceV1, KeyBalanceV1]);
export type BalanceV1 = z.infer<typeof BalanceV1>;

export const balanceKey = {
  tenant: (tenantId: string) => `tenant|${tenantId}`,
  key: (keyId: string) => `key|${keyId}`,
};

/** The partition of `billing.balances.v1` every record of a tenant goes to (FNV-1a of its id). */
export function balancePartition(tenantId: string, partitions: number): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < tenantId.length; i++) {
    h ^= tenantId.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h % partitions;
}

// ---------------------------------------------------------------------------------------------
// Request/reply methods of billing (rpc.billing.v1)
// ---------------------------------------------------------------------------------------------

export const BILLING_RPC = {
  applyCredit: 'credits.apply',
  getCredits: 'credits.get',
  getKey: 'key.get',
  setKeyLimit: 'key.set_limit',
  setMarkup: 'markup.set',
  deleteMarkup: 'markup.delete',
  listMarkups: 'markup.list',
  getGeneration: 'generation.get',
  listActivity: 'activity.list',
  verifyLedger: 'ledger.verify',
  listParked: 'ledger.parked.list',
  retryParked: 'ledger.parked.retry',
} as const;

export const ApplyCreditParams = z.object({
  tenantId: TenantId,
  kind: CreditKind,
  amountMicros: CreditAmountMicros,
  idempotencyKey: IdempotencyKey,
  note: z.string().max(500).nullable().default(null),
  generationId: GenerationId.nullable().default(null),
});
export type ApplyCreditParams = z.input<typeof ApplyCreditParams>;

export interface CreditMovement {
  transactionId: string;
  tenantId: string;
  kind: CreditKind;
  amountMicros: number;
  idempotencyKey: string;
  note: string | null;
  generationId: string | null;
  createdAt: string;
}

export interface TenantCredits {
  tenantId: string;
  creditsMicros: number;
  usageMicros: number;
  balanceMicros: number;
}

export const TenantParams = z.object({ tenantId: TenantId });

export const KeyParams = z.object({ tenantId: TenantId, keyId: z.string().min(1) });

export interface KeyUsage {
  keyId: string;
  tenantId: string;
  limitMicros: number | null;
  limitReset: LimitReset | null;
  /** Limit minus the usage of the current period (or of all time, without reset). */
  limitRemainingMicros: number | null;
  usageMicros: number;
  usageDailyMicros: number;
  usageWeeklyMicros: number;
  usageMonthlyMicros: number;
}

export const SetKeyLimitParams = z.object({
  tenantId: TenantId,
  keyId: z.string().min(1),
  limitMicros: Micros.nonnegative().nullable(),
  limitReset: LimitReset.nullable(),
});
export type SetKeyLimitParams = z.infer<typeof SetKeyLimitParams>;

export const SetMarkupParams = z.object({
  tenantId: TenantId.nullable(),
  model: ModelRef.nullable(),
  percentBps: BasisPoints,
  fixedMicros: Micros.nonnegative().max(1_000_000_000),
});
export type SetMarkupParams = z.infer<typeof SetMarkupParams>;

export const DeleteMarkupParams = z.object({
  tenantId: TenantId.nullable(),
  model: ModelRef.nullable(),
});

export const GetGenerationParams = z.object({
  tenantId: TenantId,
  generationId: z.string().min(1).max(100),
});

/** One attempt of a generation, as stored. */
export interface GenerationAttempt {
  attempt: number;
  endpointId: string;
  provider: string;
  model: string;
  outcome: string;
  upstreamStatus: number | null;
  errorCode: string | null;
  ttftMs: number | null;
  latencyMs: number;
  /** Fields of newer usage events (absent in older records). */
  role?: 'primary' | 'retry' | 'fallback' | 'continuation' | null;
  served?: boolean;
  tokens?: { prompt: number; completion: number; reasoning: number };
  billedTokens?: { prompt: number; completion: number; reasoning: number };
  upstreamMicros?: number;
  billedUpstreamMicros?: number;
  chargedMicros?: number;
}

/** The stored record of one generation (what `GET /v1/generation` presents). */
export interface GenerationRecord {
  generationId: string;
  tenantId: string;
  keyId: string;
  createdAt: string;
  requestedModel: string;
  model: string | null;
  provider: string | null;
  endpointId: string | null;
  stream: boolean;
  status: 'success' | 'error' | 'cancelled';
  finishReason: string | null;
  nativeFinishReason: string | null;
  tokens: {
    prompt: number;
    completion: number;
    cachedRead: number;
    cacheWrite: number;
    reasoning: number;
  };
  usageReported: boolean;
  upstreamMicros: number;
  /** What the ledger charged the tenant (0 for errors and empty completions). */
  chargedMicros: number;
  ttftMs: number | null;
  latencyMs: number;
  attempts: GenerationAttempt[];
  app: { referer: string | null; title: string | null };
  error: { status: number; code: string | null; message: string } | null;
}

export const ListActivityParams = z.object({
  tenantId: TenantId,
  /** One UTC day, or the last `days` days up to today (default 30). */
  date: IsoDate.nullable().default(null),
  days: z.number().int().min(1).max(366).default(30),
  keyId: z.string().min(1).nullable().default(null),
});
export type ListActivityParams = z.input<typeof ListActivityParams>;

/** Usage of one (UTC day, model, endpoint, key). */
export interface ActivityRow {
  date: string;
  model: string;
  provider: string;
  endpointId: string;
  keyId: string;
  requests: number;
  promptTokens: number;
  completionTokens: number;
  reasoningTokens: number;
  cachedTokens: number;
  chargedMicros: number;
  upstreamMicros: number;
}

export interface LedgerCheck {
  transactions: number;
  entries: number;
  /** Transactions whose entries do not sum to zero (must be 0). */
  unbalancedTransactions: number;
  /** Accounts whose stored balance differs from the sum of their entries (must be 0). */
  balanceMismatches: number;
  /** Key usage buckets that differ from the usage transactions (must be 0). */
  keyUsageMismatches: number;
}

// ---------------------------------------------------------------------------------------------
// Parked records: what the ledger could not book
// ---------------------------------------------------------------------------------------------

/** The id of a parked record (a positive integer, as a string: it is a bigserial). */
export const ParkedId = z
  .string()
  .regex(/^[1-9][0-9]{0,17}$/, 'the id of a parked record (a positive integer)');
/** A page starts after this id (0: from the first). */
export const ParkedCursor = z
  .string()
  .regex(/^(0|[1-9][0-9]{0,17})$/, 'the id of a parked record (an integer, 0 or more)');

export const ListParkedParams = z.object({
  /** At most this many, oldest first. */
  limit: z.number().int().min(1).max(100).default(50),
  /** Only records with a larger id (paging). */
  after: ParkedCursor.nullable().default(null),
});
export type ListParkedParams = z.input<typeof ListParkedParams>;

export const ParkedIdParams = z.object({ id: ParkedId });

/**
 * A record of `usage.events.v1` or `billing.credits.v1` that passed its contract but that the
 * ledger refuses deterministically (a value the database refuses): kept aside, with why, so
 * the rest of its batch is booked and the offsets move. Nothing is dropped: it can be retried.
 */
export interface ParkedRecord {
  id: string;
  topic: string;
  partition: number;
  offset: string;
  key: string | null;
  /** The tenant and the ledger reference (`usage:<generation>`, `credit:<tenant>:<key>`). */
  tenantId: string | null;
  ref: string | null;
  /** The record's value as received (JSON text). */
  record: string;
  /** The SQLSTATE of the refusal, or null when the posting rules refused it before the database. */
  sqlstate: string | null;
  error: string;
  parkedAt: string;
  retries: number;
  retriedAt: string | null;
}

export interface ParkedList {
  data: ParkedRecord[];
  /** Every record parked now (not only this page). */
  total: number;
  hasMore: boolean;
  /** Records this billing instance parked since it started. */
  parkedSinceStart: number;
}

export interface ParkedRetryResult {
  id: string;
  ref: string | null;
  /** `booked`: the ledger took it now; `duplicate`: it was already booked (nothing added). */
  outcome: 'booked' | 'duplicate';
}

/** Markup rules as billing stores them. */
export type MarkupRuleRecord = MarkupRuleFields & { updatedAt: number };
