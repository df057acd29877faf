import { z } from 'zod';
import { GenerationId } from './common.js';
import { IsoDate } from './billing.js';
import { BucketGranularity } from './analytics.js';

/**
 * Community figures, answered by `analytics` over `rpc.analytics.v1` (the gateway's
 * `/v1/community/...`, `/v1/datasets/...`, `/v1/models/compare`, `/v1/generation/feedback`,
 * reviews, and the operators' `/admin/community/...`).
 *
 * - Opt-in per tenant (`community_settings`): only opted-in tenants count toward what other
 *   tenants see (rankings, app rankings, session cost, ratings); a tenant always sees its own
 *   figures (`scope: 'community'` is the opted-in tenants plus the caller; `'own'` the caller).
 * - Feedback on one generation (OpenRouter's categories, plus our thumbs and 1-5 score) and one
 *   review per tenant and model (score and text), editable and deletable by their author,
 *   hidden and unhidden by operators; both bounded in length and rate.
 */

const TenantId = z.string().min(1).max(64);
/** A model id as the catalog spells it (`author/slug`), bounded. */
const ModelRef = z.string().min(3).max(200);

/** Who counts: the opted-in tenants and the caller (`community`), or the caller alone (`own`). */
export const CommunityScope = z.enum(['community', 'own']);
export type CommunityScope = z.infer<typeof CommunityScope>;

export const COMMUNITY_RPC = {
  getSettings: 'community.settings.get',
  setSettings: 'community.settings.set',
  rankingsDaily: 'community.rankings.daily',
  rankingsPeriod: 'community.rankings.period',
  appRankings: 'community.rankings.apps',
  sessionCost: 'community.session_cost',
  compareModels: 'community.compare',
  submitFeedback: 'community.feedback.submit',
  listReviews: 'community.reviews.list',
  getOwnReview: 'community.reviews.own.get',
  putOwnReview: 'community.reviews.own.put',
  deleteOwnReview: 'community.reviews.own.delete',
  adminListReviews: 'community.admin.reviews.list',
  adminSetReviewHidden: 'community.admin.reviews.hidden',
} as const;

// --- limits ------------------------------------------------------------------------------------

/** A review's text, a feedback comment, a moderation reason: at most this many characters. */
export const REVIEW_TEXT_MAX = 4000;
export const FEEDBACK_COMMENT_MAX = 2000;
export const MODERATION_REASON_MAX = 500;
/** OpenRouter's feedback categories (`generations.submitFeedback`). */
export const FEEDBACK_CATEGORIES = [
  'latency',
  'incoherence',
  'incorrect_response',
  'formatting',
  'billing',
  'api_error',
  'other',
] as const;
export const FeedbackCategory = z.enum(FEEDBACK_CATEGORIES);
export type FeedbackCategory = z.infer<typeof FeedbackCategory>;
export const Thumbs = z.enum(['up', 'down']);
export type Thumbs = z.infer<typeof Thumbs>;
export const Score = z.number().int().min(1).max(5);

/** Session turn ranges of OpenRouter's session-cost dataset. */
export const TURN_RANGES = ['1-turn', '2-9-turns', '10-49-turns', '50-plus-turns'] as const;
export const TurnRange = z.enum(TURN_RANGES);
export type TurnRange = z.infer<typeof TurnRange>;

/** The turn range a session of `turns` requests falls in. */
export function turnRangeOf(turns: number): TurnRange {
  if (turns <= 1) return '1-turn';
  if (turns < 10) return '2-9-turns';
  if (turns < 50) return '10-49-turns';
  return '50-plus-turns';
}

// --- settings ----------------------------------------------------------------------------------

export const CommunityTenantParams = z.object({ tenantId: TenantId });
export const SetCommunitySettingsParams = z.object({ tenantId: TenantId, optedIn: z.boolean() });

export interface CommunitySettings {
  tenantId: string;
  optedIn: boolean;
  /** ISO time of the last change; null while the tenant never chose (not opted in). */
  updatedAt: string | null;
}

// --- rankings ----------------------------------------------------------------------------------

export const RankingsDailyParams = z.object({
  tenantId: TenantId,
  scope: CommunityScope.default('community'),
  /** Inclusive UTC dates; defaults: end = the last completed UTC day, start = end - 30 days. */
  startDate: IsoDate.nullable().default(null),
  endDate: IsoDate.nullable().default(null),
  period: z.enum(['day', 'week', 'month']).default('day'),
});
export type RankingsDailyParams = z.input<typeof RankingsDailyParams>;

/** One (period start, model) total; `model` is `other` for the sum beyond the top 50. */
export interface RankingsDailyRow {
  date: string;
  model: string;
  totalTokens: number;
}

export interface DatasetWindow {
  asOf: string;
  startDate: string;
  endDate: string;
}

export interface RankingsDailyResult {
  data: RankingsDailyRow[];
  meta: DatasetWindow;
}

export const AppRankingsParams = z.object({
  tenantId: TenantId,
  scope: CommunityScope.default('community'),
  sort: z.enum(['popular', 'trending']).default('popular'),
  startDate: IsoDate.nullable().default(null),
  endDate: IsoDate.nullable().default(null),
  limit: z.number().int().min(1).max(100).default(50),
  offset: z.number().int().min(0).max(100).default(0),
});
export type AppRankingsParams = z.input<typeof AppRankingsParams>;

export interface AppRankingRow {
  /** A stable integer id of the app (a hash of its attribution). */
  appId: number;
  /** The app's attribution: its `HTTP-Referer`, else its `X-Title`. */
  app: string;
  rank: number;
  requests: number;
  totalTokens: number;
  /** `trending`: the window's tokens minus the mean of the three periods before it. */
  growthTokens: number | null;
}

export interface AppRankingsResult {
  data: AppRankingRow[];
  meta: DatasetWindow;
}

export const SessionCostParams = z.object({
  tenantId: TenantId,
  scope: CommunityScope.default('community'),
  appSlug: z.string().min(1).max(200).nullable().default(null),
  model: ModelRef.nullable().default(null),
  turnRange: TurnRange.nullable().default(null),
  /** Our addition: the window's last UTC day (default: the last completed one). */
  endDate: IsoDate.nullable().default(null),
  limit: z.number().int().min(1).max(500).default(100),
  offset: z.number().int().min(0).max(5000).default(0),
});
export type SessionCostParams = z.input<typeof SessionCostParams>;

export interface SessionCostRow {
  app: string;
  appSlug: string;
  model: string;
  turnRange: TurnRange;
  sessions: number;
  /** Median of the sessions' charged cost, in micro-units. */
  medianSessionMicros: number;
}

export interface SessionCostResult {
  data: SessionCostRow[];
  meta: { asOf: string; windowDays: number; windowEndDate: string };
}

export const RankingPeriod = z.enum(['week', 'month']);
export type RankingPeriod = z.infer<typeof RankingPeriod>;

export const PeriodRankingsParams = z.object({
  tenantId: TenantId,
  scope: CommunityScope.default('community'),
  period: RankingPeriod,
  /** Any day of the period to rank (default: today, the period so far). */
  date: IsoDate.nullable().default(null),
  limit: z.number().int().min(1).max(100).default(50),
});
export type PeriodRankingsParams = z.input<typeof PeriodRankingsParams>;

/** Ratings and review counts of a model, as the caller may see them. */
export interface ModelRating {
  model: string;
  /** Visible reviews (not hidden) of opted-in tenants, and the caller's own. */
  reviews: number;
  averageScore: number | null;
  /** Feedback on generations of the model: thumbs, and 1-5 scores. */
  thumbsUp: number;
  thumbsDown: number;
  feedbackScored: number;
  averageFeedbackScore: number | null;
}

export interface PeriodRankingRow {
  rank: number;
  model: string;
  requests: number;
  promptTokens: number;
  completionTokens: number;
  totalTokens: number;
  /** This model's share of every model's tokens in the period, 0..1. */
  share: number;
  previous: { rank: number | null; totalTokens: number };
  /** Change of tokens against the previous period, in percent; null when it had none. */
  changePct: number | null;
  /** Places gained (positive) or lost against the previous period; null when unranked then. */
  rankDelta: number | null;
  trend: 'up' | 'down' | 'flat' | 'new';
  rating: ModelRating;
}

export interface PeriodRankingsResult {
  data: PeriodRankingRow[];
  meta: {
    asOf: string;
    scope: CommunityScope;
    period: RankingPeriod;
    /** Inclusive UTC dates of the period and of the one it is compared with. */
    startDate: string;
    endDate: string;
    previousStartDate: string;
    previousEndDate: string;
    /** The period is not over: both are compared over the same elapsed time. */
    partial: boolean;
    totalTokens: number;
  };
}

// --- comparison from real traffic --------------------------------------------------------------

/** The rollups' bucket granularities (one enum with `usage.rollups.v1`'s). */
export const RollupGranularity = BucketGranularity;
export type RollupGranularity = BucketGranularity;

export const MAX_COMPARED_MODELS = 10;
/** The longest comparison window: 90 days. */
export const MAX_COMPARE_WINDOW_MS = 90 * 86_400_000;

export const CompareModelsParams = z.object({
  tenantId: TenantId,
  scope: CommunityScope.default('community'),
  /** The window ends now and reaches this far back (rounded out to whole buckets). */
  windowMs: z.number().int().min(60_000).max(MAX_COMPARE_WINDOW_MS),
  models: z
    .array(z.object({ id: ModelRef, endpointIds: z.array(z.string().min(1).max(300)).max(64) }))
    .min(1)
    .max(MAX_COMPARED_MODELS),
});
export type CompareModelsParams = z.input<typeof CompareModelsParams>;

export interface PercentileFigures {
  p50: number;
  p90: number;
  p99: number;
}

/** What the attempts of a model or an endpoint showed over the window. */
export interface MeasuredFigures {
  attempts: number;
  successes: number;
  /** Attempts that failed (error or timeout). */
  failures: number;
  cancelled: number;
  /** Successes over attempts that were not cancelled (client left); null without any. */
  successRate: number | null;
  /**
   * Attempts that failed in a way that makes the gateway move on to the next endpoint (a
   * timeout, or an upstream error the error policy names: not the request's own fault) over
   * attempts that were not cancelled; null without any.
   */
  fallbackRate: number | null;
  ttftMs: PercentileFigures | null;
  latencyMs: PercentileFigures | null;
  tokensPerSecond: PercentileFigures | null;
}

export interface ModelComparison {
  id: string;
  measured: MeasuredFigures;
  endpoints: Array<{ id: string; measured: MeasuredFigures }>;
  rating: ModelRating;
}

export interface CompareModelsResult {
  window: { from: string; to: string; granularity: RollupGranularity };
  models: ModelComparison[];
}

// --- feedback and reviews ----------------------------------------------------------------------

export const SubmitFeedbackParams = z.object({
  tenantId: TenantId,
  keyId: z.string().min(1).max(200),
  generationId: GenerationId,
  /** The generation's model and serving endpoint, as billing recorded them. */
  model: ModelRef,
  provider: z.string().max(200).nullable(),
  endpointId: z.string().max(300).nullable(),
  category: FeedbackCategory,
  comment: z.string().max(FEEDBACK_COMMENT_MAX).nullable().default(null),
  thumbs: Thumbs.nullable().default(null),
  score: Score.nullable().default(null),
});
export type SubmitFeedbackParams = z.input<typeof SubmitFeedbackParams>;

export interface FeedbackRecord {
  generationId: string;
  model: string;
  category: FeedbackCategory;
  comment: string | null;
  thumbs: Thumbs | null;
  score: number | null;
  createdAt: string;
  updatedAt: string;
}

export const ModelReviewRefParams = z.object({ tenantId: TenantId, model: ModelRef });
export const PutReviewParams = ModelReviewRefParams.extend({
  score: Score,
  text: z.string().max(REVIEW_TEXT_MAX).default(''),
});
export type PutReviewParams = z.input<typeof PutReviewParams>;

export const ListReviewsParams = z.object({
  tenantId: TenantId,
  scope: CommunityScope.default('community'),
  model: ModelRef,
  limit: z.number().int().min(1).max(100).default(20),
  offset: z.number().int().min(0).max(100_000).default(0),
});
export type ListReviewsParams = z.input<typeof ListReviewsParams>;

export interface ModelReview {
  id: string;
  model: string;
  score: number;
  text: string;
  /** The caller wrote it. */
  mine: boolean;
  /** An operator hid it: only its author sees it, and it is not counted. */
  hidden: boolean;
  createdAt: string;
  updatedAt: string;
}

export interface ReviewList {
  data: ModelReview[];
  total: number;
  rating: ModelRating;
}

/** The id of a review (a positive integer, as a string: it is a bigserial). */
export const ReviewId = z.string().regex(/^[1-9][0-9]{0,17}$/, 'the id of a review');

export const AdminListReviewsParams = z.object({
  model: ModelRef.nullable().default(null),
  hidden: z.boolean().nullable().default(null),
  limit: z.number().int().min(1).max(100).default(50),
  /** Reviews with a larger id (paging, oldest first). */
  after: z
    .string()
    .regex(/^(0|[1-9][0-9]{0,17})$/)
    .nullable()
    .default(null),
});
export type AdminListReviewsParams = z.input<typeof AdminListReviewsParams>;

export const AdminSetReviewHiddenParams = z.object({
  id: ReviewId,
  hidden: z.boolean(),
  reason: z.string().max(MODERATION_REASON_MAX).nullable().default(null),
});

export interface AdminReview extends Omit<ModelReview, 'mine'> {
  tenantId: string;
  hiddenAt: string | null;
  hiddenReason: string | null;
}

export interface AdminReviewList {
  data: AdminReview[];
  hasMore: boolean;
}
