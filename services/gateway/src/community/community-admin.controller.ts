import { Body, Controller, Get, HttpCode, Param, Post, Query, UseGuards } from '@nestjs/common';
import { z } from 'zod';
import {
  COMMUNITY_RPC,
  MODERATION_REASON_MAX,
  ReviewId,
  type AdminReview,
  type AdminReviewList,
} from '@turnpike/contracts';
import { invalidRequest } from '@turnpike/openai-api';
import { AdminGuard } from '../auth/admin.guard.js';
import { queryReader } from '../catalog/models.controller.js';
import { parseAdminBody } from '../http/admin-body.js';
import { RpcClientService } from '../transport/rpc-client.service.js';
import { presentAdminReview } from './community.presenter.js';

type Json = Record<string, unknown>;

const HideBody = z.strictObject({ reason: z.string().max(MODERATION_REASON_MAX).optional() });

/**
 * Moderation of reviews (admin token): list them, hide one (it no longer shows to anyone but
 * its author, nor counts in ratings; an edit keeps it hidden) and unhide it.
 */
@Controller('admin/community/reviews')
@UseGuards(AdminGuard)
export class CommunityAdminController {
  constructor(private readonly rpc: RpcClientService) {}

  @Get()
  async list(@Query() query: Record<string, unknown>): Promise<Json> {
    const q = queryReader(query);
    const hidden = q.text('hidden');
    if (hidden !== null && hidden !== 'true' && hidden !== 'false')
      throw invalidRequest("'hidden' must be true or false.", 'hidden');
    const after = q.text('after');
    if (after !== null && !/^(0|[1-9][0-9]{0,17})$/.test(after))
      throw invalidRequest("'after' must be the id of a review.", 'after');
    const r = await this.rpc.ask<AdminReviewList>('analytics', COMMUNITY_RPC.adminListReviews, {
      model: q.text('model'),
      hidden: hidden === null ? null : hidden === 'true',
      limit: q.integer('limit', 1, 100) ?? 50,
      after,
    });
    return { data: r.data.map(presentAdminReview), has_more: r.hasMore };
  }

  @Post(':id/hide')
  @HttpCode(200)
  hide(@Param('id') id: string, @Body() body: unknown): Promise<{ data: Json }> {
    const { reason } = parseAdminBody(HideBody, body);
    return this.setHidden(id, true, reason ?? null);
  }

  @Post(':id/unhide')
  @HttpCode(200)
  unhide(@Param('id') id: string): Promise<{ data: Json }> {
    return this.setHidden(id, false, null);
  }

  private async setHidden(
    id: string,
    hidden: boolean,
    reason: string | null,
  ): Promise<{ data: Json }> {
    if (!ReviewId.safeParse(id).success)
      throw invalidRequest("'id' must be the id of a review.", 'id');
    const r = await this.rpc.ask<AdminReview>('analytics', COMMUNITY_RPC.adminSetReviewHidden, {
      id,
      hidden,
      reason,
    });
    return { data: presentAdminReview(r) };
  }
}
