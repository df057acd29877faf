import type {
  ActivityRow,
  GenerationRecord,
  KeyUsage,
  ParkedRecord,
  TenantCredits,
} from '@turnpike/contracts';
import { formatMicros, microsToCurrency as usd } from '@turnpike/pricing';

/**
 * Billing figures in OpenRouter's public shapes: currency amounts as JSON numbers of dollars
 * (presentation only: every figure is an integer of micro-units until here), plus the exact
 * micro-units where a client may want them.
 */

export function presentCredits(c: TenantCredits): Record<string, unknown> {
  return { total_credits: usd(c.creditsMicros), total_usage: usd(c.usageMicros) };
}

export function presentTenantCredits(c: TenantCredits): Record<string, unknown> {
  return {
    tenant_id: c.tenantId,
    total_credits: usd(c.creditsMicros),
    total_usage: usd(c.usageMicros),
    balance: usd(c.balanceMicros),
    total_credits_micros: c.creditsMicros,
    total_usage_micros: c.usageMicros,
    balance_micros: c.balanceMicros,
  };
}

/**
 * `GET /v1/key`: OpenRouter's `GetCurrentKeyData`, every field `@openrouter/sdk` (npm) and
 * `openrouter` (PyPI) require. The tenant owns the key, so it is the `organization_id`; Turnpike
 * has no workspaces (`workspace_id` null), no regional routing policy on keys (`global`), and no
 * free-model (`:free`) daily quota (all zeros). `budgets` lists the one budget layer Turnpike
 * has, the key's own limit (`key_limit`), which is then also the `effective_budget`; both are
 * empty/null for a key without a limit.
 */
export function presentKey(k: KeyUsage, label: string, now = Date.now()): Record<string, unknown> {
  const budget = keyLimitBudget(k, now);
  return {
    label,
    key_id: k.keyId,
    limit: k.limitMicros === null ? null : usd(k.limitMicros),
    limit_remaining:
      k.limitRemainingMicros === null ? null : usd(Math.max(0, k.limitRemainingMicros)),
    limit_reset: k.limitReset,
    usage: usd(k.usageMicros),
    usage_daily: usd(k.usageDailyMicros),
    usage_weekly: usd(k.usageWeeklyMicros),
    usage_monthly: usd(k.usageMonthlyMicros),
    byok_usage: 0,
    byok_usage_daily: 0,
    byok_usage_weekly: 0,
    byok_usage_monthly: 0,
    include_byok_in_limit: false,
    is_free_tier: false,
    is_management_key: false,
    is_provisioning_key: false,
    creator_user_id: null,
    expires_at: null,
    organization_id: k.tenantId,
    workspace_id: null,
    allowed_data_regions: ['global'],
    free_model_daily_requests: { limit: 0, remaining: 0, used: 0 },
    rate_limit: {
      requests: -1,
      interval: '10s',
      note: 'This field is deprecated and safe to ignore.',
    },
    budgets: budget ? [budget] : [],
    effective_budget: budget,
  };
}

/**
 * The key's limit as OpenRouter's `KeyBudget`: spend and remaining over the limit's current UTC
 * window (days; weeks from Monday, as billing counts them; months), or over all time.
 */
function keyLimitBudget(k: KeyUsage, now: number): Record<string, unknown> | null {
  if (k.limitMicros === null) return null;
  const remaining = k.limitRemainingMicros ?? k.limitMicros;
  return {
    scope: 'key_limit',
    budget_id: null,
    guardrail_id: null,
    include_byok: false,
    limit_usd: usd(k.limitMicros),
    spend_usd: usd(k.limitMicros - remaining),
    remaining_usd: usd(remaining),
    reset_interval: k.limitReset,
    resets_at: k.limitReset === null ? null : nextReset(k.limitReset, now).toISOString(),
  };
}

/** When a daily, weekly (Monday) or monthly UTC window that contains `now` ends. */
export function nextReset(reset: 'daily' | 'weekly' | 'monthly', now: number): Date {
  const d = new Date(now);
  const [y, m, day] = [d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate()];
  if (reset === 'monthly') return new Date(Date.UTC(y, m + 1, 1));
  if (reset === 'daily') return new Date(Date.UTC(y, m, day + 1));
  const sinceMonday = (d.getUTCDay() + 6) % 7;
  return new Date(Date.UTC(y, m, day - sinceMonday + 7));
}

/**
 * `GET /v1/generation`: OpenRouter's `GenerationResponseData`, every field `@openrouter/sdk`
 * requires. What the record does not hold is null (the upstream's own id, user agent, external
 * user, media counts); what Turnpike never does is zero (web search, fetches) or null (presets,
 * the auto router, workspaces). `origin` is the app's referer, or "" without one.
 */
export function presentGeneration(g: GenerationRecord): Record<string, unknown> {
  const t = g.tokens;
  return {
    id: g.generationId,
    created_at: g.createdAt,
    model: g.model ?? g.requestedModel,
    requested_model: g.requestedModel,
    provider_name: g.provider,
    endpoint_id: g.endpointId,
    streamed: g.stream,
    cancelled: g.status === 'cancelled',
    status: g.status,
    total_cost: usd(g.chargedMicros),
    usage: usd(g.chargedMicros),
    upstream_inference_cost: usd(g.upstreamMicros),
    total_cost_micros: g.chargedMicros,
    upstream_inference_cost_micros: g.upstreamMicros,
    cache_discount: null,
    is_byok: false,
    tokens_prompt: t.prompt,
    tokens_completion: t.completion,
    native_tokens_prompt: t.prompt,
    native_tokens_completion: t.completion,
    native_tokens_reasoning: t.reasoning,
    native_tokens_cached: t.cachedRead,
    native_tokens_cache_write: t.cacheWrite,
    native_tokens_completion_images: 0,
    usage_reported: g.usageReported,
    latency: g.latencyMs,
    ttft: g.ttftMs,
    generation_time: g.ttftMs === null ? g.latencyMs : Math.max(0, g.latencyMs - g.ttftMs),
    moderation_latency: null,
    finish_reason: g.finishReason,
    native_finish_reason: g.nativeFinishReason,
    key_id: g.keyId,
    origin: g.app.referer ?? '',
    http_referer: g.app.referer,
    app_title: g.app.title,
    app_id: null,
    api_type: 'completions',
    data_region: 'global',
    external_user: null,
    num_fetches: 0,
    num_search_results: 0,
    web_search_engine: null,
    num_input_audio_prompt: null,
    num_media_prompt: null,
    num_media_completion: null,
    preset_id: null,
    router: null,
    service_tier: null,
    upstream_id: null,
    user_agent: null,
    workspace_id: null,
    error: g.error,
    // Every attempt, with why it was made (`role`), whether its output reached the client
    // (`served`), what it consumed and cost us upstream, and what the tenant pays for it: the
    // attempts' `total_cost` sum to the generation's.
    provider_responses: g.attempts.map((a) => ({
      attempt: a.attempt,
      role: a.role ?? null,
      served: a.served ?? false,
      endpoint_id: a.endpointId,
      provider_name: a.provider,
      model_permaslug: a.model,
      status: a.upstreamStatus,
      outcome: a.outcome,
      error_code: a.errorCode,
      latency: a.latencyMs,
      ttft: a.ttftMs,
      is_byok: false,
      native_tokens_prompt: a.tokens?.prompt ?? 0,
      native_tokens_completion: a.tokens?.completion ?? 0,
      billed_tokens_prompt: a.billedTokens?.prompt ?? 0,
      billed_tokens_completion: a.billedTokens?.completion ?? 0,
      upstream_inference_cost: usd(a.upstreamMicros ?? 0),
      upstream_inference_cost_micros: a.upstreamMicros ?? 0,
      total_cost: usd(a.chargedMicros ?? 0),
      total_cost_micros: a.chargedMicros ?? 0,
    })),
  };
}

export function presentActivity(r: ActivityRow): Record<string, unknown> {
  return {
    date: r.date,
    model: r.model,
    model_permaslug: r.model,
    endpoint_id: r.endpointId,
    provider_name: r.provider,
    key_id: r.keyId,
    usage: usd(r.chargedMicros),
    upstream_cost: usd(r.upstreamMicros),
    byok_usage_inference: 0,
    requests: r.requests,
    prompt_tokens: r.promptTokens,
    completion_tokens: r.completionTokens,
    reasoning_tokens: r.reasoningTokens,
    cached_tokens: r.cachedTokens,
  };
}

const CSV_COLUMNS = [
  'date',
  'model',
  'provider',
  'endpoint_id',
  'key_id',
  'requests',
  'prompt_tokens',
  'completion_tokens',
  'reasoning_tokens',
  'cached_tokens',
  'usage',
  'upstream_cost',
] as const;

function csvCell(v: string | number): string {
  const s = String(v);
  // Quote what needs it, and defuse spreadsheet formulas.
  const safe = /^[=+\-@\t\r]/.test(s) ? `'${s}` : s;
  return /[",\n\r]/.test(safe) ? `"${safe.replace(/"/g, '""')}"` : safe;
}

/** A statement as CSV: one row per day, model, endpoint and key; exact decimal amounts. */
export function activityCsv(rows: ActivityRow[]): string {
  const lines = [CSV_COLUMNS.join(',')];
  for (const r of rows) {
    lines.push(
      [
        r.date,
        r.model,
        r.provider,
        r.endpointId,
        r.keyId,
        r.requests,
        r.promptTokens,
        r.completionTokens,
        r.reasoningTokens,
        r.cachedTokens,
        formatMicros(r.chargedMicros),
        formatMicros(r.upstreamMicros),
      ]
        .map(csvCell)
        .join(','),
    );
  }
  return lines.join('\r\n') + '\r\n';
}

/** A parked record for operators: where it was read, why it was refused, and the record itself. */
export function presentParked(p: ParkedRecord): Record<string, unknown> {
  let record: unknown = p.record;
  try {
    record = JSON.parse(p.record);
  } catch {
    /* shown as the text it arrived as */
  }
  return {
    id: p.id,
    topic: p.topic,
    partition: p.partition,
    offset: p.offset,
    key: p.key,
    tenant_id: p.tenantId,
    ref: p.ref,
    sqlstate: p.sqlstate,
    error: p.error,
    parked_at: p.parkedAt,
    retries: p.retries,
    retried_at: p.retriedAt,
    record,
  };
}
