import {
  Body,
  Controller,
  Delete,
  Get,
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
  COMMUNITY_RPC,
  FEEDBACK_COMMENT_MAX,
  FeedbackCategory,
  REVIEW_TEXT_MAX,
  Score,
  Thumbs,
  type GenerationRecord,
  type ModelReview,
  type ReviewList,
} from '@turnpike/contracts';
import { invalidRequest, isApiError, modelNotFound, rateLimited } from '@turnpike/openai-api';
import { ApiKeyGuard } from '../auth/api-key.guard.js';
import { Auth, type AuthContext } from '../auth/auth-context.js';
import { queryReader } from '../catalog/models.controller.js';
import { RoutingTableService } from '../catalog/routing-table.service.js';
import { parseAdminBody } from '../http/admin-body.js';
import { RpcClientService } from '../transport/rpc-client.service.js';
import { presentRating, presentReview } from './community.presenter.js';

type Json = Record<string, unknown>;

/** OpenRouter's feedback body, and our rating beside it (thumbs, a 1-5 score). */
export const FeedbackBody = z.strictObject({
  generation_id: z.string().min(1).max(100),
  category: FeedbackCategory,
  comment: z.string().max(FEEDBACK_COMMENT_MAX).optional(),
  thumbs: Thumbs.optional(),
  score: Score.optional(),
});

export const ReviewBody = z.strictObject({
  score: Score,
  text: z.string().max(REVIEW_TEXT_MAX).optional(),
});

/** A write refused by the per-tenant rate limit: when it may be tried again (the next minute). */
async function limited<T>(write: Promise<T>): Promise<T> {
  try {
    return await write;
  } catch (e) {
    if (isApiError(e) && e.status === 429)
      throw rateLimited(e.message, 60 - new Date().getUTCSeconds());
    throw e;
  }
}

/**
 * Feedback on one's own generations (OpenRouter's `POST /generation/feedback`) and reviews of
 * models (one per tenant and model, editable and deletable by its author). Whose generation an
 * id is, billing knows (its generation record): another tenant's id is a 404, as an unknown one.
 */
@Controller('v1')
@UseGuards(ApiKeyGuard)
export class FeedbackController {
  constructor(
    private readonly rpc: RpcClientService,
    private readonly table: RoutingTableService,
  ) {}

  @Post('generation/feedback')
  @HttpCode(200)
  async feedback(@Auth() auth: AuthContext, @Body() body: unknown): Promise<{ data: Json }> {
    const f = parseAdminBody(FeedbackBody, body);
    // Billing answers only the tenant's own generations (404 otherwise, or before it is booked).
    const g = await this.rpc.ask<GenerationRecord>('billing', BILLING_RPC.getGeneration, {
      tenantId: auth.tenantId,
      generationId: f.generation_id,
    });
    await limited(
      this.rpc.ask('analytics', COMMUNITY_RPC.submitFeedback, {
        tenantId: auth.tenantId,
        keyId: auth.keyId,
        generationId: g.generationId,
        model: g.model ?? g.requestedModel,
        provider: g.provider,
        endpointId: g.endpointId,
        category: f.category,
        comment: f.comment ?? null,
        thumbs: f.thumbs ?? null,
        score: f.score ?? null,
      }),
    );
    return { data: { success: true } };
  }

  private model(author: string, slug: string): string {
    const id = `${author}/${slug}`;
    if (!this.table.get(id)) throw modelNotFound(id);
    return id;
  }

  /** The model's reviews the caller may see (its own first) and the rating they make. */
  @Get('models/:author/:slug/reviews')
  async reviews(
    @Auth() auth: AuthContext,
    @Param('author') author: string,
    @Param('slug') slug: string,
    @Query() query: Record<string, unknown>,
  ): Promise<Json> {
    const q = queryReader(query);
    const scope = q.text('scope') ?? 'community';
    if (scope !== 'community' && scope !== 'own')
      throw invalidRequest("'scope' must be one of: community, own.", 'scope');
    const r = await this.rpc.ask<ReviewList>('analytics', COMMUNITY_RPC.listReviews, {
      tenantId: auth.tenantId,
      scope,
      model: this.model(author, slug),
      limit: q.integer('limit', 1, 100) ?? 20,
      offset: q.integer('offset', 0, 100_000) ?? 0,
    });
    return { data: r.data.map(presentReview), total: r.total, rating: presentRating(r.rating) };
  }

  @Get('models/:author/:slug/reviews/mine')
  async mine(
    @Auth() auth: AuthContext,
    @Param('author') author: string,
    @Param('slug') slug: string,
  ): Promise<{ data: Json }> {
    const r = await this.rpc.ask<ModelReview>('analytics', COMMUNITY_RPC.getOwnReview, {
      tenantId: auth.tenantId,
      model: this.model(author, slug),
    });
    return { data: presentReview(r) };
  }

  /** Writes the caller's review of the model (one per tenant and model; again: an edit). */
  @Put('models/:author/:slug/reviews/mine')
  async put(
    @Auth() auth: AuthContext,
    @Param('author') author: string,
    @Param('slug') slug: string,
    @Body() body: unknown,
  ): Promise<{ data: Json; created: boolean }> {
    const b = parseAdminBody(ReviewBody, body);
    const r = await limited(
      this.rpc.ask<{ review: ModelReview; created: boolean }>(
        'analytics',
        COMMUNITY_RPC.putOwnReview,
        {
          tenantId: auth.tenantId,
          model: this.model(author, slug),
          score: b.score,
          text: b.text ?? '',
        },
      ),
    );
    return { data: presentReview(r.review), created: r.created };
  }

  /** Deletes the caller's review (also of a model no longer in the catalog). */
  @Delete('models/:author/:slug/reviews/mine')
  async remove(
    @Auth() auth: AuthContext,
    @Param('author') author: string,
    @Param('slug') slug: string,
  ): Promise<{ model: string; deleted: true }> {
    return this.rpc.ask('analytics', COMMUNITY_RPC.deleteOwnReview, {
      tenantId: auth.tenantId,
      model: `${author}/${slug}`,
    });
  }
}
