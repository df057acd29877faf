import { Controller, Get, Query, Res, UseGuards } from '@nestjs/common';
import type { FastifyReply } from 'fastify';
import {
  ANALYTICS_RPC,
  BILLING_RPC,
  IsoDate,
  type ActivityRow,
  type GenerationRecord,
  type KeyUsage,
  type TenantCredits,
} from '@turnpike/contracts';
import { invalidRequest } from '@turnpike/openai-api';
import { AccountsService } from '../accounts/accounts.service.js';
import { ApiKeyGuard } from '../auth/api-key.guard.js';
import { Auth, type AuthContext } from '../auth/auth-context.js';
import { RpcClientService } from '../transport/rpc-client.service.js';
import {
  activityCsv,
  presentActivity,
  presentCredits,
  presentGeneration,
  presentKey,
} from './billing.presenter.js';

/**
 * The tenant's billing API, answered by `billing` over Kafka request/reply: credits, the
 * calling key and one generation's record; and the activity statement, answered by
 * `analytics` from its day buckets.
 */
@Controller('v1')
@UseGuards(ApiKeyGuard)
export class BillingController {
  constructor(
    private readonly rpc: RpcClientService,
    private readonly accounts: AccountsService,
  ) {}

  @Get('credits')
  async credits(@Auth() auth: AuthContext): Promise<{ data: Record<string, unknown> }> {
    const c = await this.rpc.ask<TenantCredits>('billing', BILLING_RPC.getCredits, {
      tenantId: auth.tenantId,
    });
    return { data: presentCredits(c) };
  }

  @Get('key')
  async key(@Auth() auth: AuthContext): Promise<{ data: Record<string, unknown> }> {
    const [usage, keys] = await Promise.all([
      this.rpc.ask<KeyUsage>('billing', BILLING_RPC.getKey, {
        tenantId: auth.tenantId,
        keyId: auth.keyId,
      }),
      this.accounts.listKeys(auth.tenantId),
    ]);
    const key = keys.find((k) => k.id === auth.keyId);
    return { data: presentKey(usage, key?.name ?? auth.keyId) };
  }

  /** Only the generation's own tenant sees it: any other id is a 404. */
  @Get('generation')
  async generation(
    @Auth() auth: AuthContext,
    @Query('id') id: unknown,
  ): Promise<{ data: Record<string, unknown> }> {
    if (typeof id !== 'string' || id.length === 0)
      throw invalidRequest("Missing required query parameter 'id'.", 'id');
    const g = await this.rpc.ask<GenerationRecord>('billing', BILLING_RPC.getGeneration, {
      tenantId: auth.tenantId,
      generationId: id,
    });
    return { data: presentGeneration(g) };
  }

  /** Usage and cost per UTC day, model, endpoint and key (last 30 days, or `date`); `format=csv`. */
  @Get('activity')
  async activity(
    @Auth() auth: AuthContext,
    @Query() query: Record<string, unknown>,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<{ data: Record<string, unknown>[] } | string> {
    const str = (name: string) => {
      const v = query[name];
      if (v === undefined) return null;
      if (typeof v !== 'string' || v.length === 0)
        throw invalidRequest(`Invalid query parameter '${name}'.`, name);
      return v;
    };
    const date = str('date');
    if (date !== null && !IsoDate.safeParse(date).success)
      throw invalidRequest("'date' must be a UTC date, YYYY-MM-DD.", 'date');
    const daysText = str('days');
    const days = daysText === null ? 30 : Number(daysText);
    if (!Number.isInteger(days) || days < 1 || days > 366)
      throw invalidRequest("'days' must be an integer from 1 to 366.", 'days');
    const format = str('format') ?? 'json';
    if (format !== 'json' && format !== 'csv')
      throw invalidRequest("'format' must be 'json' or 'csv'.", 'format');
    const rows = await this.rpc.ask<ActivityRow[]>('analytics', ANALYTICS_RPC.listActivity, {
      tenantId: auth.tenantId,
      date,
      days,
      keyId: str('key_id'),
    });
    if (format === 'csv') {
      void reply
        .header('content-type', 'text/csv; charset=utf-8')
        .header(
          'content-disposition',
          `attachment; filename="activity-${date ?? `last-${days}-days`}.csv"`,
        );
      return activityCsv(rows);
    }
    return { data: rows.map(presentActivity) };
  }
}
