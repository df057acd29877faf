import {
  Body,
  Controller,
  Delete,
  Get,
  Headers,
  HttpCode,
  Param,
  Post,
  Put,
  Query,
  UseGuards,
} from '@nestjs/common';
import { z } from 'zod';
import {
  BILLING_RPC,
  BasisPoints,
  CreditKind,
  IdempotencyKey,
  LimitReset,
  MAX_CREDIT_MICROS,
  markupRuleKey,
  ParkedCursor,
  ParkedId,
  type CreditMovement,
  type KeyUsage,
  type LedgerCheck,
  type MarkupRuleRecord,
  type ParkedList,
  type ParkedRetryResult,
  type TenantCredits,
} from '@turnpike/contracts';
import { invalidRequest, notFound } from '@turnpike/openai-api';
import { microsToCurrency as usd, parseMoneyMicros } from '@turnpike/pricing';
import { AccountsService } from '../accounts/accounts.service.js';
import { AdminGuard } from '../auth/admin.guard.js';
import { RpcClientService } from '../transport/rpc-client.service.js';
import { presentKey, presentParked, presentTenantCredits } from './billing.presenter.js';
import { BalancesView, MarkupsView, Reservations } from './billing-views.service.js';

/** An amount of currency: a decimal string or number of dollars (at most 6 decimals). */
const Money = z.union([z.string(), z.number()]).transform((v, ctx) => {
  try {
    return parseMoneyMicros(v);
  } catch (e) {
    ctx.addIssue({ code: 'custom', message: (e as Error).message });
    return z.NEVER;
  }
});
const Micros = z.number().int().safe();

/** A credit movement's amount: at most $1 billion either way. */
const creditAmount = <T extends z.ZodType<number>>(schema: T) =>
  schema.refine((n) => Math.abs(n) <= MAX_CREDIT_MICROS, {
    message: `A credit movement is at most ${MAX_CREDIT_MICROS / 1_000_000} in currency (${MAX_CREDIT_MICROS} micro-units) either way.`,
  });

const CreditBody = z
  .object({
    kind: CreditKind.default('grant'),
    amount: creditAmount(Money).optional(),
    amount_micros: creditAmount(Micros).optional(),
    note: z.string().max(500).optional(),
    generation_id: z.string().optional(),
    idempotency_key: IdempotencyKey.optional(),
  })
  .refine((b) => (b.amount === undefined) !== (b.amount_micros === undefined), {
    message: 'Give exactly one of amount (dollars) and amount_micros.',
    path: ['amount'],
  });

const LimitBody = z
  .object({
    limit: Money.nullable().optional(),
    limit_micros: Micros.nonnegative().nullable().optional(),
    limit_reset: LimitReset.nullable().default(null),
  })
  .refine((b) => b.limit === undefined || b.limit_micros === undefined, {
    message: 'Give one of limit and limit_micros.',
    path: ['limit'],
  });

const MarkupBody = z.object({
  tenant_id: z.string().min(1).nullable().default(null),
  model: z.string().min(1).nullable().default(null),
  percent_bps: BasisPoints.default(0),
  fixed_fee: Money.optional(),
  fixed_fee_micros: Micros.nonnegative().optional(),
});

/**
 * The scope a markup deletion names: no tenant_id and no model is the global rule. Strict, so a
 * mistyped or bracketed parameter (`tenant_id[a]=1`) is a 400, never read as "no tenant" and
 * turned into a deletion of the global rule.
 */
const MarkupScopeQuery = z
  .object({
    tenant_id: z.string().min(1).max(256).optional(),
    model: z.string().min(1).max(256).optional(),
  })
  .strict();

function parse<T>(schema: z.ZodType<T>, body: unknown): T {
  const r = schema.safeParse(body ?? {});
  if (!r.success) {
    const issue = r.error.issues[0];
    throw invalidRequest(issue?.message ?? 'Invalid body.', issue?.path.join('.') || null);
  }
  return r.data;
}

const ParkedQuery = z.object({
  limit: z.coerce
    .number()
    .int()
    .min(1, "'limit' must be an integer from 1 to 100.")
    .max(100, "'limit' must be an integer from 1 to 100.")
    .default(50),
  after: ParkedCursor.nullable().default(null),
});

const presentRule = (r: MarkupRuleRecord) => ({
  scope: r.scope,
  tenant_id: r.tenantId,
  model: r.model,
  percent_bps: r.percentBps,
  fixed_fee: usd(r.fixedMicros),
  fixed_fee_micros: r.fixedMicros,
  ...(r.updatedAt ? { updated_at: new Date(r.updatedAt).toISOString() } : {}),
});

/**
 * Operator billing API (admin token only): credit grants, adjustments and refunds (idempotent
 * on an idempotency key), key credit limits, markup rules and the ledger check. Commands go to
 * `billing` over Kafka request/reply.
 */
@Controller('admin')
@UseGuards(AdminGuard)
export class BillingAdminController {
  constructor(
    private readonly rpc: RpcClientService,
    private readonly accounts: AccountsService,
    private readonly balances: BalancesView,
    private readonly markups: MarkupsView,
    private readonly reservations: Reservations,
  ) {}

  /** Grant, adjust (signed) or refund credit. `Idempotency-Key` header (or `idempotency_key`) required. */
  @Post('tenants/:id/credits')
  @HttpCode(200)
  async applyCredit(
    @Param('id') tenantId: string,
    @Body() body: unknown,
    @Headers('idempotency-key') header: string | undefined,
  ): Promise<Record<string, unknown>> {
    const b = parse(CreditBody, body);
    const idempotencyKey = header ?? b.idempotency_key;
    if (!idempotencyKey)
      throw invalidRequest(
        'An Idempotency-Key header is required: a retry with the same key is applied once.',
        'idempotency_key',
      );
    if (!(await this.accounts.getTenant(tenantId))) throw notFound(`Tenant '${tenantId}'`);
    const amountMicros = b.amount_micros ?? b.amount!;
    if (amountMicros === 0) throw invalidRequest('The amount must not be 0.', 'amount');
    const r = await this.rpc.ask<{ movement: CreditMovement; credits: TenantCredits }>(
      'billing',
      BILLING_RPC.applyCredit,
      {
        tenantId,
        kind: b.kind,
        amountMicros,
        idempotencyKey,
        note: b.note ?? null,
        generationId: b.generation_id ?? null,
      },
      15_000,
    );
    const m = r.movement;
    return {
      id: m.transactionId,
      tenant_id: m.tenantId,
      kind: m.kind,
      amount: usd(m.amountMicros),
      amount_micros: m.amountMicros,
      idempotency_key: m.idempotencyKey,
      note: m.note,
      generation_id: m.generationId,
      created_at: m.createdAt,
      credits: presentTenantCredits(r.credits),
    };
  }

  /** The ledger's figures, and what this gateway replica currently sees and holds. */
  @Get('tenants/:id/credits')
  async credits(@Param('id') tenantId: string): Promise<Record<string, unknown>> {
    const c = await this.rpc.ask<TenantCredits>('billing', BILLING_RPC.getCredits, { tenantId });
    const seen = this.balances.tenant(tenantId);
    return {
      ...presentTenantCredits(c),
      gateway_view: {
        balance_micros: seen?.balanceMicros ?? 0,
        version: seen?.version ?? null,
        reserved_micros: this.reservations.held(tenantId),
      },
    };
  }

  /** A key's credit limit (dollars or micro-units; null removes it) and its reset period. */
  @Put('tenants/:id/keys/:keyId/limit')
  async setKeyLimit(
    @Param('id') tenantId: string,
    @Param('keyId') keyId: string,
    @Body() body: unknown,
  ): Promise<Record<string, unknown>> {
    const b = parse(LimitBody, body);
    const keys = await this.accounts.listKeys(tenantId);
    const key = keys.find((k) => k.id === keyId);
    if (!key) throw notFound(`Key '${keyId}' of tenant '${tenantId}'`);
    const limitMicros = b.limit_micros !== undefined ? b.limit_micros : (b.limit ?? null);
    const k = await this.rpc.ask<KeyUsage>('billing', BILLING_RPC.setKeyLimit, {
      tenantId,
      keyId,
      limitMicros,
      limitReset: b.limit_reset,
    });
    return { data: presentKey(k, key.name) };
  }

  /** The markup rules this gateway replica prices with (from `billing.pricing.v1`). */
  @Get('markups')
  listMarkups(): { data: unknown[] } {
    return { data: this.markups.book.list().map((r) => presentRule({ ...r, updatedAt: 0 })) };
  }

  /** Sets the rule of a scope: global (no tenant_id, no model), per model, per tenant, or both. */
  @Put('markups')
  async setMarkup(@Body() body: unknown): Promise<Record<string, unknown>> {
    const b = parse(MarkupBody, body);
    if (b.fixed_fee !== undefined && b.fixed_fee_micros !== undefined)
      throw invalidRequest('Give one of fixed_fee and fixed_fee_micros.', 'fixed_fee');
    const fixedMicros = b.fixed_fee_micros ?? b.fixed_fee ?? 0;
    if (fixedMicros < 0) throw invalidRequest('The fixed fee must not be negative.', 'fixed_fee');
    const rule = await this.rpc.ask<MarkupRuleRecord>('billing', BILLING_RPC.setMarkup, {
      tenantId: b.tenant_id,
      model: b.model,
      percentBps: b.percent_bps,
      fixedMicros,
    });
    // This replica prices with it at once; the others as soon as they read the topic.
    this.markups.book.set(rule);
    return presentRule(rule);
  }

  @Delete('markups')
  async deleteMarkup(@Query() query: unknown): Promise<{ deleted: boolean }> {
    const q = parse(MarkupScopeQuery, query);
    const tenantId = q.tenant_id ?? null;
    const model = q.model ?? null;
    const r = await this.rpc.ask<{ deleted: boolean }>('billing', BILLING_RPC.deleteMarkup, {
      tenantId,
      model,
    });
    this.markups.book.delete(markupRuleKey(tenantId, model));
    return r;
  }

  /** The ledger's invariants, checked from the entries (all counts but the first two must be 0). */
  @Get('billing/verify')
  async verify(): Promise<LedgerCheck> {
    return this.rpc.ask<LedgerCheck>('billing', BILLING_RPC.verifyLedger, {}, 60_000);
  }

  /**
   * Records the ledger could not book (parked: kept with the reason, the rest of their batch
   * booked), oldest first; `limit` (1-100, 50) and `after` (an id) page through them.
   */
  @Get('billing/parked')
  async parked(@Query() query: Record<string, unknown>): Promise<Record<string, unknown>> {
    const q = parse(ParkedQuery, query);
    const r = await this.rpc.ask<ParkedList>('billing', BILLING_RPC.listParked, q);
    return {
      object: 'list',
      data: r.data.map(presentParked),
      total: r.total,
      has_more: r.hasMore,
      parked_since_start: r.parkedSinceStart,
    };
  }

  /**
   * Books a parked record if the ledger now takes it (after a fix) and removes it from the
   * parked records, in one transaction: 200 `booked` (or `duplicate`: it was already in the
   * ledger), 404 once it is no longer parked, 409 `still_unbookable` (it stays parked).
   */
  @Post('billing/parked/:id/retry')
  @HttpCode(200)
  async retryParked(@Param('id') id: string): Promise<Record<string, unknown>> {
    if (!ParkedId.safeParse(id).success)
      throw invalidRequest('The id of a parked record is a positive integer.', 'id');
    const r = await this.rpc.ask<ParkedRetryResult>(
      'billing',
      BILLING_RPC.retryParked,
      { id },
      30_000,
    );
    return { id: r.id, ref: r.ref, outcome: r.outcome };
  }
}
