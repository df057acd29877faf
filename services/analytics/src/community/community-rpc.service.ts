import { Inject, Injectable, type OnModuleInit } from '@nestjs/common';
import {
  AdminListReviewsParams,
  AdminSetReviewHiddenParams,
  AppRankingsParams,
  COMMUNITY_RPC,
  CommunityTenantParams,
  CompareModelsParams,
  ListReviewsParams,
  ModelReviewRefParams,
  PeriodRankingsParams,
  PutReviewParams,
  RankingsDailyParams,
  SessionCostParams,
  SetCommunitySettingsParams,
  SubmitFeedbackParams,
  type ReviewList,
} from '@turnpike/contracts';
import { RpcFailure, rpcParams as parse } from '@turnpike/kafka';
import { RpcServerService } from '@turnpike/service-kit';
import { AnalyticsConfig } from '../analytics.config.js';
import { CommunityStore } from './community.store.js';
import { compareModels } from './comparison.js';
import { appRankings, periodRankings, rankingsDaily, sessionCost } from './rankings.js';
import { ROLLUP_READER, type RollupReader } from './rollup-reader.js';

/**
 * Analytics' answers over `rpc.analytics.v1` for the community: opt-in, rankings and datasets,
 * model comparison, feedback, reviews and their moderation. Every tenant-facing method takes
 * the caller's tenant id from the gateway (from its API key), so nothing answers for another.
 */
@Injectable()
export class CommunityRpcService implements OnModuleInit {
  constructor(
    private readonly rpc: RpcServerService,
    private readonly store: CommunityStore,
    @Inject(ROLLUP_READER) private readonly reader: RollupReader,
    private readonly config: AnalyticsConfig,
  ) {}

  /** Counts a write of the tenant; a 429 past the per-minute limit. */
  private async writeAllowed(tenantId: string): Promise<void> {
    const writes = await this.store.countWrite(tenantId);
    if (writes > this.config.communityWritesPerMinute)
      throw new RpcFailure({
        status: 429,
        type: 'requests',
        code: 'rate_limit_exceeded',
        param: null,
        message: `At most ${this.config.communityWritesPerMinute} feedback and review writes a minute per tenant; try again in the next minute.`,
      });
  }

  onModuleInit(): void {
    const h = (method: string, fn: (params: unknown) => Promise<unknown>) =>
      this.rpc.handle(method, (params) => fn(params));
    const now = () => new Date();

    h(COMMUNITY_RPC.getSettings, (p) =>
      this.store.settings(parse(CommunityTenantParams, p).tenantId),
    );
    h(COMMUNITY_RPC.setSettings, (p) => {
      const { tenantId, optedIn } = parse(SetCommunitySettingsParams, p);
      return this.store.setSettings(tenantId, optedIn);
    });

    h(COMMUNITY_RPC.rankingsDaily, (p) =>
      rankingsDaily(this.reader, this.store, parse(RankingsDailyParams, p), now()),
    );
    h(COMMUNITY_RPC.appRankings, (p) =>
      appRankings(this.reader, this.store, parse(AppRankingsParams, p), now()),
    );
    h(COMMUNITY_RPC.sessionCost, (p) =>
      sessionCost(this.reader, this.store, parse(SessionCostParams, p), now()),
    );
    h(COMMUNITY_RPC.rankingsPeriod, (p) =>
      periodRankings(this.reader, this.store, parse(PeriodRankingsParams, p), now()),
    );
    h(COMMUNITY_RPC.compareModels, (p) =>
      compareModels(this.reader, this.store, parse(CompareModelsParams, p), now()),
    );

    h(COMMUNITY_RPC.submitFeedback, async (p) => {
      const f = parse(SubmitFeedbackParams, p);
      await this.writeAllowed(f.tenantId);
      return this.store.putFeedback(f);
    });

    h(COMMUNITY_RPC.listReviews, async (p): Promise<ReviewList> => {
      const q = parse(ListReviewsParams, p);
      const [page, ratings] = await Promise.all([
        this.store.listReviews(q.tenantId, q.scope, q.model, q.limit, q.offset),
        this.store.ratings([q.model], q.tenantId, q.scope),
      ]);
      return { ...page, rating: ratings.get(q.model)! };
    });
    h(COMMUNITY_RPC.getOwnReview, async (p) => {
      const { tenantId, model } = parse(ModelReviewRefParams, p);
      const review = await this.store.ownReview(tenantId, model);
      if (!review)
        throw RpcFailure.of(404, `You have not reviewed '${model}'.`, 'not_found', 'model');
      return review;
    });
    h(COMMUNITY_RPC.putOwnReview, async (p) => {
      const r = parse(PutReviewParams, p);
      await this.writeAllowed(r.tenantId);
      return this.store.putReview(r.tenantId, r.model, r.score, r.text.trim());
    });
    h(COMMUNITY_RPC.deleteOwnReview, async (p) => {
      const { tenantId, model } = parse(ModelReviewRefParams, p);
      if (!(await this.store.deleteReview(tenantId, model)))
        throw RpcFailure.of(404, `You have not reviewed '${model}'.`, 'not_found', 'model');
      return { model, deleted: true };
    });

    h(COMMUNITY_RPC.adminListReviews, (p) => {
      const q = parse(AdminListReviewsParams, p);
      return this.store.adminList(q.model, q.hidden, q.limit, q.after);
    });
    h(COMMUNITY_RPC.adminSetReviewHidden, async (p) => {
      const { id, hidden, reason } = parse(AdminSetReviewHiddenParams, p);
      const review = await this.store.setHidden(id, hidden, reason);
      if (!review) throw RpcFailure.of(404, `Review '${id}' not found.`, 'not_found', 'id');
      return review;
    });
  }
}
