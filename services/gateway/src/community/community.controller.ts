import { Body, Controller, Get, Put, Query, UseGuards } from '@nestjs/common';
import { z } from 'zod';
import {
  CATALOG_RPC,
  COMMUNITY_RPC,
  type AppRankingsResult,
  type CommunitySettings,
  type CompareModelsResult,
  type PeriodRankingsResult,
  type ProviderPolicyView,
  type RankingsDailyResult,
  type RoutingEntryV1,
  type SessionCostResult,
} from '@turnpike/contracts';
import { ApiError, modelNotFound } from '@turnpike/openai-api';
import { ApiKeyGuard } from '../auth/api-key.guard.js';
import { Auth, type AuthContext } from '../auth/auth-context.js';
import { RoutingTableService } from '../catalog/routing-table.service.js';
import { parseAdminBody } from '../http/admin-body.js';
import { RpcClientService } from '../transport/rpc-client.service.js';
import {
  appRankingsQuery,
  compareStatsQuery,
  periodRankingsQuery,
  rankingsDailyQuery,
  sessionCostQuery,
} from './community-query.js';
import {
  presentAppRankings,
  presentComparison,
  presentPeriodRankings,
  presentProviders,
  presentRankingsDaily,
  presentSessionCost,
  presentSettings,
} from './community.presenter.js';

type Json = Record<string, unknown>;
type Query = Record<string, unknown>;

/** `model_not_found`, naming the parameter that listed the model. */
const modelNotFoundInit = (id: string) => {
  const e = modelNotFound(id);
  return { status: e.status, type: e.type, message: e.message, code: e.code };
};

const SettingsBody = z.strictObject({ opted_in: z.boolean() });

/**
 * The community's read side, answered by `analytics` over Kafka request/reply: the tenant's
 * opt-in, OpenRouter's datasets (`rankings-daily`, `app-rankings`, `session-cost`), weekly and
 * monthly rankings with their trend, and model comparison from real traffic. Every answer is
 * computed for the calling tenant: the opted-in tenants and itself (`scope=community`, the
 * default), or itself alone (`scope=own`).
 */
@Controller('v1')
@UseGuards(ApiKeyGuard)
export class CommunityController {
  constructor(
    private readonly rpc: RpcClientService,
    private readonly table: RoutingTableService,
  ) {}

  /** Asks analytics and presents its answer. */
  private async ask<T, R>(method: string, params: unknown, present: (r: T) => R): Promise<R> {
    return present(await this.rpc.ask<T>('analytics', method, params));
  }

  @Get('community/settings')
  async settings(@Auth() auth: AuthContext): Promise<{ data: Json }> {
    return this.ask(
      COMMUNITY_RPC.getSettings,
      { tenantId: auth.tenantId },
      (s: CommunitySettings) => presentSettings(s),
    );
  }

  @Put('community/settings')
  async setSettings(@Auth() auth: AuthContext, @Body() body: unknown): Promise<{ data: Json }> {
    const { opted_in } = parseAdminBody(SettingsBody, body);
    return this.ask(
      COMMUNITY_RPC.setSettings,
      { tenantId: auth.tenantId, optedIn: opted_in },
      (s: CommunitySettings) => presentSettings(s),
    );
  }

  /** Weekly or monthly rankings of models, with the trend against the previous period. */
  @Get('community/rankings')
  async rankings(@Auth() auth: AuthContext, @Query() query: Query): Promise<Json> {
    return this.ask<PeriodRankingsResult, Json>(
      COMMUNITY_RPC.rankingsPeriod,
      periodRankingsQuery(auth.tenantId, query),
      presentPeriodRankings,
    );
  }

  @Get('datasets/rankings-daily')
  async rankingsDaily(@Auth() auth: AuthContext, @Query() query: Query): Promise<Json> {
    return this.ask<RankingsDailyResult, Json>(
      COMMUNITY_RPC.rankingsDaily,
      rankingsDailyQuery(auth.tenantId, query),
      presentRankingsDaily,
    );
  }

  @Get('datasets/app-rankings')
  async appRankings(@Auth() auth: AuthContext, @Query() query: Query): Promise<Json> {
    return this.ask<AppRankingsResult, Json>(
      COMMUNITY_RPC.appRankings,
      appRankingsQuery(auth.tenantId, query),
      presentAppRankings,
    );
  }

  @Get('datasets/session-cost')
  async sessionCost(@Auth() auth: AuthContext, @Query() query: Query): Promise<Json> {
    return this.ask<SessionCostResult, Json>(
      COMMUNITY_RPC.sessionCost,
      sessionCostQuery(auth.tenantId, query),
      presentSessionCost,
    );
  }

  /**
   * `GET /v1/models/compare?models=a/b,c/d&window=7d`: each model's and endpoint's prices and
   * context (the routing table) beside what traffic measured over the window and the ratings.
   */
  @Get('models/compare')
  async compare(@Auth() auth: AuthContext, @Query() query: Query): Promise<Json> {
    const q = compareStatsQuery(query);
    const entries: RoutingEntryV1[] = q.models.map((id) => {
      const entry = this.table.get(id);
      if (!entry) throw new ApiError({ ...modelNotFoundInit(id), param: 'models' });
      return entry;
    });
    const result = await this.rpc.ask<CompareModelsResult>(
      'analytics',
      COMMUNITY_RPC.compareModels,
      {
        tenantId: auth.tenantId,
        scope: q.scope,
        windowMs: q.windowMs,
        models: entries.map((e) => ({ id: e.model.id, endpointIds: e.endpoints.map((x) => x.id) })),
      },
    );
    return presentComparison(entries, result);
  }
}

/** `GET /v1/providers` (public, like the model list): the providers traffic is routed to. */
@Controller('v1')
export class ProvidersController {
  constructor(private readonly rpc: RpcClientService) {}

  @Get('providers')
  async list(): Promise<{ data: Json[] }> {
    const r = await this.rpc.ask<{ data: ProviderPolicyView[] }>(
      'router',
      CATALOG_RPC.publicProviders,
      {},
    );
    return presentProviders(r.data);
  }
}
