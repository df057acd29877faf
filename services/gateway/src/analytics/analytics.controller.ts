import { Body, Controller, Get, HttpCode, Post, UseGuards } from '@nestjs/common';
import { ANALYTICS_RPC, type AnalyticsMeta, type AnalyticsQueryResult } from '@turnpike/contracts';
import { ApiKeyGuard } from '../auth/api-key.guard.js';
import { Auth, type AuthContext } from '../auth/auth-context.js';
import { RpcClientService } from '../transport/rpc-client.service.js';
import {
  analyticsQueryParams,
  presentAnalyticsMeta,
  presentAnalyticsQuery,
} from './analytics.presenter.js';

/** A query's answer may take analytics a while (a year of day buckets): more than an RPC's 10 s default. */
const QUERY_TIMEOUT_MS = 30_000;

/**
 * The tenant's usage analytics in OpenRouter's shapes, answered by `analytics` over Kafka
 * request/reply from its rollups. Every query is the calling key's tenant's: the tenant is the
 * key's, never the body's.
 */
@Controller('v1/analytics')
@UseGuards(ApiKeyGuard)
export class AnalyticsController {
  constructor(private readonly rpc: RpcClientService) {}

  @Get('meta')
  async meta(): Promise<{ data: Record<string, unknown> }> {
    return presentAnalyticsMeta(
      await this.rpc.ask<AnalyticsMeta>('analytics', ANALYTICS_RPC.meta, {}),
    );
  }

  @Post('query')
  @HttpCode(200)
  async query(
    @Auth() auth: AuthContext,
    @Body() body: unknown,
  ): Promise<{ data: Record<string, unknown> }> {
    const params = analyticsQueryParams(auth.tenantId, body);
    const r = await this.rpc.ask<AnalyticsQueryResult>(
      'analytics',
      ANALYTICS_RPC.query,
      params,
      QUERY_TIMEOUT_MS,
    );
    return presentAnalyticsQuery(r);
  }
}
