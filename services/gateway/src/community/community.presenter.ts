import type {
  AdminReview,
  AppRankingsResult,
  CommunitySettings,
  CompareModelsResult,
  EndpointPricing,
  MeasuredFigures,
  ModelRating,
  ModelReview,
  PercentileFigures,
  PeriodRankingsResult,
  ProviderPolicyView,
  RankingsDailyResult,
  RoutingEntryV1,
  SessionCostResult,
} from '@turnpike/contracts';
import { formatMicros, microsToCurrency } from '@turnpike/pricing';

/**
 * The community routes' bodies: OpenRouter's shapes where OpenRouter has the route
 * (`/providers`, `/datasets/...`, `/generation/feedback`), checked by the unit specs against
 * `@openrouter/sdk`'s own schemas, and ours (snake case, like the rest of the API) elsewhere.
 * Token totals are decimal strings in OpenRouter's datasets (they outgrow 32 bits).
 */

type Json = Record<string, unknown>;

/** `GET /v1/providers`: OpenRouter's provider list, with our endpoints' policies beside it. */
export function presentProviders(views: ProviderPolicyView[]): { data: Json[] } {
  return {
    data: views.map((p) => ({
      name: p.name,
      slug: p.id,
      privacy_policy_url: p.privacy_policy_url,
      terms_of_service_url: p.terms_of_service_url,
      status_page_url: p.status_page_url,
      // Country codes in OpenRouter's list; our catalog has regions, not countries.
      headquarters: null,
      datacenters: null,
      kind: p.kind,
      endpoints: p.endpoints,
      models: p.models,
      data_collection: p.data_collection,
      quantizations: p.quantizations,
      regions: p.regions,
    })),
  };
}

const datasetMeta = (m: RankingsDailyResult['meta']) => ({
  as_of: m.asOf,
  start_date: m.startDate,
  end_date: m.endDate,
  version: 'v1',
});

export function presentRankingsDaily(r: RankingsDailyResult): Json {
  return {
    data: r.data.map((row) => ({
      date: row.date,
      model_permaslug: row.model,
      total_tokens: String(row.totalTokens),
    })),
    meta: datasetMeta(r.meta),
  };
}

export function presentAppRankings(r: AppRankingsResult): Json {
  return {
    data: r.data.map((a) => ({
      app_id: a.appId,
      app_name: a.app,
      rank: a.rank,
      total_requests: a.requests,
      total_tokens: String(a.totalTokens),
      ...(a.growthTokens === null ? {} : { growth_tokens: String(Math.round(a.growthTokens)) }),
    })),
    meta: datasetMeta(r.meta),
  };
}

export function presentSessionCost(r: SessionCostResult): Json {
  return {
    data: r.data.map((c) => ({
      app_name: c.app,
      app_slug: c.appSlug,
      median_session_cost_usd: microsToCurrency(c.medianSessionMicros),
      model_permaslug: c.model,
      turn_range: c.turnRange,
      sessions: c.sessions,
    })),
    meta: {
      as_of: r.meta.asOf,
      version: 'v1',
      window_days: r.meta.windowDays,
      window_end_date: r.meta.windowEndDate,
    },
  };
}

export function presentRating(r: ModelRating): Json {
  return {
    reviews: r.reviews,
    average_score: r.averageScore,
    thumbs_up: r.thumbsUp,
    thumbs_down: r.thumbsDown,
    feedback_scored: r.feedbackScored,
    average_feedback_score: r.averageFeedbackScore,
  };
}

export function presentPeriodRankings(r: PeriodRankingsResult): Json {
  const m = r.meta;
  return {
    data: r.data.map((row) => ({
      rank: row.rank,
      model: row.model,
      requests: row.requests,
      prompt_tokens: row.promptTokens,
      completion_tokens: row.completionTokens,
      total_tokens: row.totalTokens,
      share: row.share,
      previous: { rank: row.previous.rank, total_tokens: row.previous.totalTokens },
      change_pct: row.changePct,
      rank_delta: row.rankDelta,
      trend: row.trend,
      rating: presentRating(row.rating),
    })),
    meta: {
      as_of: m.asOf,
      scope: m.scope,
      period: m.period,
      start_date: m.startDate,
      end_date: m.endDate,
      previous_start_date: m.previousStartDate,
      previous_end_date: m.previousEndDate,
      partial: m.partial,
      total_tokens: m.totalTokens,
    },
  };
}

export function presentSettings(s: CommunitySettings): { data: Json } {
  return { data: { opted_in: s.optedIn, updated_at: s.updatedAt } };
}

export function presentReview(r: ModelReview): Json {
  return {
    id: r.id,
    model: r.model,
    score: r.score,
    text: r.text,
    mine: r.mine,
    hidden: r.hidden,
    created_at: r.createdAt,
    updated_at: r.updatedAt,
  };
}

export function presentAdminReview(r: AdminReview): Json {
  return {
    id: r.id,
    tenant_id: r.tenantId,
    model: r.model,
    score: r.score,
    text: r.text,
    hidden: r.hidden,
    hidden_at: r.hiddenAt,
    hidden_reason: r.hiddenReason,
    created_at: r.createdAt,
    updated_at: r.updatedAt,
  };
}

/** Currency per million tokens as a decimal string (`150000` micro-units → `"0.15"`). */
export function perMillion(micros: number): string {
  return formatMicros(micros).replace(/\.?0+$/, '') || '0';
}

const pricePerMillion = (p: EndpointPricing) => ({
  prompt: perMillion(p.promptPerM),
  completion: perMillion(p.completionPerM),
});

const rounded = (p: PercentileFigures | null, digits = 1): Json | null => {
  if (!p) return null;
  const f = 10 ** digits;
  const r = (x: number) => Math.round(x * f) / f;
  return { p50: r(p.p50), p90: r(p.p90), p99: r(p.p99) };
};

function presentMeasured(m: MeasuredFigures): Json {
  return {
    attempts: m.attempts,
    successes: m.successes,
    failures: m.failures,
    cancelled: m.cancelled,
    success_rate: m.successRate,
    fallback_rate: m.fallbackRate,
    ttft_ms: rounded(m.ttftMs),
    latency_ms: rounded(m.latencyMs),
    throughput_tps: rounded(m.tokensPerSecond),
  };
}

/**
 * `GET /v1/models/compare`: the catalog's side of each model (name, context length, prices per
 * million tokens, from the gateway's routing table) beside what traffic measured and the
 * community's ratings (from analytics), model by model and endpoint by endpoint.
 */
export function presentComparison(entries: RoutingEntryV1[], r: CompareModelsResult): Json {
  const measured = new Map(r.models.map((m) => [m.id, m]));
  return {
    data: {
      window: r.window,
      models: entries.map((e) => {
        const m = measured.get(e.model.id);
        const byEndpoint = new Map(m?.endpoints.map((x) => [x.id, x.measured]) ?? []);
        return {
          id: e.model.id,
          name: e.model.name,
          context_length: e.model.contextLength,
          price_per_million: pricePerMillion(e.model.pricing),
          measured: m ? presentMeasured(m.measured) : null,
          rating: m ? presentRating(m.rating) : null,
          endpoints: e.endpoints.map((ep) => {
            const em = byEndpoint.get(ep.id);
            return {
              id: ep.id,
              provider: ep.provider,
              provider_name: ep.providerName ?? ep.provider,
              context_length: ep.contextLength,
              max_output_tokens: ep.maxOutputTokens,
              quantization: ep.quantization,
              price_per_million: pricePerMillion(ep.pricing),
              measured: em ? presentMeasured(em) : null,
            };
          }),
        };
      }),
    },
  };
}
