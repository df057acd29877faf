import type {
  CatalogEndpoint,
  CatalogModel,
  EndpointPricing,
  RoutingEntryV1,
} from '@turnpike/contracts';
import { perTokenDecimal } from '@turnpike/pricing';

/** OpenRouter's `pricing` object: decimal strings of currency per token (or per request). */
export function presentPricing(p: EndpointPricing): Record<string, string> {
  return {
    prompt: perTokenDecimal(p.promptPerM),
    completion: perTokenDecimal(p.completionPerM),
    request: perTokenDecimal(p.perRequest * 1_000_000),
    image: '0',
    web_search: '0',
    internal_reasoning: perTokenDecimal(p.reasoningPerM),
    input_cache_read: perTokenDecimal(p.cachedReadPerM),
    input_cache_write: perTokenDecimal(p.cacheWritePerM),
  };
}

const modality = (m: CatalogModel) =>
  `${m.inputModalities.join('+')}->${m.outputModalities.join('+')}`;

/**
 * One entry of `GET /v1/models`: OpenRouter's model shape (every field `@openrouter/sdk`
 * requires), plus OpenAI's `object` and `owned_by` so that OpenAI SDKs' `models.list()` and
 * `models.retrieve()` read it too. Fields the catalog does not know are null, never invented:
 * `default_parameters` (no provider defaults are recorded), `supported_voices` (no speech
 * output), `hugging_face_id`, `knowledge_cutoff`, `expiration_date`. `links.details` is the
 * model's endpoints page, under the prefix the client used (`/v1` or `/api/v1`).
 */
export function presentModel(entry: RoutingEntryV1, basePath = '/v1'): Record<string, unknown> {
  const m = entry.model;
  const top = [...entry.endpoints].sort((a, b) => b.contextLength - a.contextLength)[0];
  return {
    id: m.id,
    object: 'model',
    created: m.created,
    owned_by: m.id.split('/')[0],
    canonical_slug: m.id,
    name: m.name,
    description: m.description,
    context_length: m.contextLength,
    architecture: {
      modality: modality(m),
      input_modalities: m.inputModalities,
      output_modalities: m.outputModalities,
      tokenizer: 'Other',
      instruct_type: null,
    },
    pricing: presentPricing(m.pricing),
    top_provider: {
      context_length: top?.contextLength ?? m.contextLength,
      max_completion_tokens: top?.maxOutputTokens ?? null,
      is_moderated: false,
    },
    per_request_limits: null,
    supported_parameters: m.supportedParameters,
    default_parameters: null,
    supported_voices: null,
    hugging_face_id: null,
    knowledge_cutoff: null,
    expiration_date: null,
    links: { details: `${basePath}/models/${m.id}/endpoints` },
  };
}

/** Which `tool_choice` values an endpoint honours, from its supported parameters. */
export function toolChoiceSupport(supportedParameters: readonly string[]): {
  auto: boolean;
  none: boolean;
  required: boolean;
  function: boolean;
} {
  const tools = supportedParameters.includes('tools');
  const choice = tools && supportedParameters.includes('tool_choice');
  return { auto: tools, none: choice, required: choice, function: choice };
}

/** OpenRouter's endpoint `status`: 0 is fine; below zero, increasingly unavailable. */
export function endpointStatus(e: CatalogEndpoint, now: number): number {
  const h = e.health;
  if (h.circuit === 'open' && (h.circuitOpenUntil === null || now < h.circuitOpenUntil)) return -3;
  if ((h.retryAfterUntil ?? 0) > now) return -2;
  if (h.circuit !== 'closed') return -1;
  return 0;
}

const percent = (fraction: number | null): number | null =>
  fraction === null ? null : Math.round(fraction * 10_000) / 100;

/**
 * One entry of `GET /v1/models/{author}/{slug}/endpoints` (OpenRouter's `PublicEndpoint`),
 * with live figures from the routing table: uptime over 5 minutes, 30 minutes and a day (in
 * percent; rate limits excluded), time-to-first-token (`latency_last_30m`, ms) and throughput
 * (tokens/s) percentiles over 30 minutes. `health` adds what our router tracks besides.
 */
export function presentEndpoint(
  model: CatalogModel,
  e: CatalogEndpoint,
  now: number,
): Record<string, unknown> {
  const h = e.health;
  const providerName = e.providerName ?? e.provider;
  return {
    name: `${providerName} | ${model.id}`,
    model_id: model.id,
    model_name: model.name,
    context_length: e.contextLength,
    pricing: presentPricing(e.pricing),
    provider_name: providerName,
    tag: e.provider,
    quantization: e.quantization,
    max_completion_tokens: e.maxOutputTokens,
    max_prompt_tokens: e.contextLength,
    supported_parameters: e.supportedParameters,
    status: endpointStatus(e, now),
    uptime_last_5m: percent(h.uptime.last5m),
    uptime_last_30m: percent(h.uptime.last30m),
    uptime_last_1d: percent(h.uptime.last1d),
    supports_implicit_caching: false,
    supports_tool_choice: toolChoiceSupport(e.supportedParameters),
    supports_voice_cloning: false,
    // Required by PyPI `openrouter` (1.3.84): no provider-native server tools, a standard
    // (untiered) endpoint, no speech-to-text diarization.
    native_tools: {},
    service_tier: null,
    supports_diarization: false,
    latency_last_30m: h.ttftMs,
    throughput_last_30m: h.tokensPerSecond,
    health: {
      circuit: h.circuit,
      error_rate: h.errorRate,
      consecutive_failures: h.consecutiveFailures,
      attempts_last_30m: h.attempts30m,
      latency_ms_p50: h.latencyMsP50,
      latency_ms_ewma: h.latencyMsEwma,
      ttft_ms_ewma: h.ttftMsEwma,
      tokens_per_second_ewma: h.tokensPerSecondEwma,
      circuit_open_until:
        h.circuitOpenUntil === null ? null : new Date(h.circuitOpenUntil).toISOString(),
      retry_after_until:
        h.retryAfterUntil === null || h.retryAfterUntil <= now
          ? null
          : new Date(h.retryAfterUntil).toISOString(),
    },
  };
}

/** `GET /v1/models/{author}/{slug}/endpoints`: OpenRouter's `ListEndpointsResponse`, under `data`. */
export function presentEndpoints(entry: RoutingEntryV1, now = Date.now()): Record<string, unknown> {
  const m = entry.model;
  return {
    id: m.id,
    name: m.name,
    created: m.created,
    description: m.description,
    architecture: {
      modality: modality(m),
      input_modalities: m.inputModalities,
      output_modalities: m.outputModalities,
      tokenizer: 'Other',
      instruct_type: null,
    },
    endpoints: entry.endpoints.map((e) => presentEndpoint(m, e, now)),
  };
}

/** What `GET /v1/models` may be asked for (see `parseListQuery` in the controller). */
export interface ModelListOptions {
  offset: number | null;
  limit: number | null;
  supportedParameters: readonly string[];
  inputModalities: readonly string[] | null;
  outputModalities: readonly string[] | null;
  q: string | null;
}

/**
 * `GET /v1/models`: OpenRouter's `ModelsListResponse` (`data`, `links.next`, `total_count`, the
 * count after filtering and before paging) and OpenAI's list (`object: "list"`). The whole list
 * when neither `offset` nor `limit` is given; otherwise one page, `links.next` pointing at the
 * next one (null on the last).
 */
export function listModels(
  entries: readonly RoutingEntryV1[],
  opts: ModelListOptions,
  basePath = '/v1',
): Record<string, unknown> {
  const matching = matchingModels(entries, opts);
  const paged = opts.offset !== null || opts.limit !== null;
  const offset = opts.offset ?? 0;
  const limit = opts.limit ?? 500;
  const page = paged ? matching.slice(offset, offset + limit) : matching;
  const next =
    paged && offset + limit < matching.length
      ? `${basePath}/models?offset=${offset + limit}&limit=${limit}`
      : null;
  return {
    object: 'list',
    data: page.map((e) => presentModel(e, basePath)),
    links: { next },
    total_count: matching.length,
  };
}

/**
 * `GET /v1/models/count` (`models.count` in `@openrouter/sdk`): how many models the same filters
 * as `GET /v1/models` match, `{data: {count}}`.
 */
export function countModels(
  entries: readonly RoutingEntryV1[],
  opts: ModelListOptions,
): { data: { count: number } } {
  return { data: { count: matchingModels(entries, opts).length } };
}

function matchingModels(
  entries: readonly RoutingEntryV1[],
  opts: ModelListOptions,
): RoutingEntryV1[] {
  return entries.filter((e) => {
    const m = e.model;
    if (!opts.supportedParameters.every((p) => m.supportedParameters.includes(p))) return false;
    if (opts.inputModalities && !opts.inputModalities.some((x) => m.inputModalities.includes(x)))
      return false;
    if (opts.outputModalities && !opts.outputModalities.some((x) => m.outputModalities.includes(x)))
      return false;
    if (opts.q && !`${m.id} ${m.name}`.toLowerCase().includes(opts.q)) return false;
    return true;
  });
}
