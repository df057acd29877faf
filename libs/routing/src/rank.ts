import type { CatalogEndpoint, CatalogModel, RoutingEntryV1 } from '@turnpike/contracts';

export type SortBy = 'price' | 'latency' | 'throughput';

/**
 * OpenRouter's `provider` object, as far as routing reads it (structurally the validated
 * request's `ProviderPreferences`). Prices in `max_price` are currency per million tokens
 * (prompt, completion) and per request.
 */
export interface RoutingPreferences {
  order?: readonly string[] | null | undefined;
  only?: readonly string[] | null | undefined;
  ignore?: readonly string[] | null | undefined;
  allow_fallbacks?: boolean | null | undefined;
  require_parameters?: boolean | null | undefined;
  data_collection?: 'allow' | 'deny' | null | undefined;
  sort?:
    | string
    | { by?: string | null | undefined; partition?: 'model' | 'none' | null | undefined }
    | null
    | undefined;
  max_price?:
    | { prompt?: number | undefined; completion?: number | undefined; request?: number | undefined }
    | undefined;
  quantizations?: readonly string[] | null | undefined;
}

export interface RouteRequest {
  /** The models asked for, in order: `model`, then the `models` fallback list (suffixes kept). */
  models: readonly string[];
  /** Request parameters that endpoints must support under `require_parameters`. */
  parameters: readonly string[];
  /** A rough prompt size: endpoints whose window is smaller are left out. 0 = unknown. */
  estimatedPromptTokens: number;
  provider?: RoutingPreferences | null | undefined;
}

export interface RoutingContext {
  /** The routing table. */
  lookup: (modelId: string) => RoutingEntryV1 | undefined;
  /** Epoch ms. */
  now: number;
  /** Uniform in [0, 1): the only source of randomness. */
  random: () => number;
  /** Endpoints the caller itself saw asking to wait (Retry-After), until epoch ms. */
  cooldowns?: ReadonlyMap<string, number> | undefined;
  /** At most this many candidates (each fallback model still gets at least one). */
  maxCandidates: number;
  /** Chance that a half-open endpoint is put first, to probe it (default 0.1). */
  probeChance?: number | undefined;
}

/** How usable an endpoint is right now. */
export type Tier = 'healthy' | 'probe' | 'unavailable';

export interface RankedCandidate {
  model: CatalogModel;
  endpoint: CatalogEndpoint;
  tier: Tier;
}

export type RouteResult =
  | { ok: true; candidates: RankedCandidate[] }
  | { ok: false; status: 404 | 503; code: 'model_not_found' | 'no_endpoints'; message: string }
  /** Every endpoint of every requested model was left out only because the prompt is too long. */
  | {
      ok: false;
      status: 400;
      code: 'context_length_exceeded';
      param: 'messages';
      message: string;
      /** The largest context window among the excluded endpoints. */
      maxContextLength: number;
    };

export const MODEL_VARIANTS = { floor: 'price', nitro: 'throughput' } as const satisfies Record<
  string,
  SortBy
>;

/** A requested model id resolved against the table: `:floor` and `:nitro` are routing variants. */
export function resolveModel(
  id: string,
  lookup: RoutingContext['lookup'],
): { entry: RoutingEntryV1; sort: SortBy | null } | undefined {
  const exact = lookup(id);
  if (exact) return { entry: exact, sort: null };
  const colon = id.lastIndexOf(':');
  if (colon < 0) return undefined;
  const variant = id.slice(colon + 1) as keyof typeof MODEL_VARIANTS;
  const sort = Object.hasOwn(MODEL_VARIANTS, variant) ? MODEL_VARIANTS[variant] : undefined;
  const base = sort ? lookup(id.slice(0, colon)) : undefined;
  return base && sort ? { entry: base, sort } : undefined;
}

/** Price used to compare endpoints: prompt plus completion, micro-units per million tokens. */
export const blendedPrice = (e: CatalogEndpoint): number =>
  e.pricing.promptPerM + e.pricing.completionPerM;

/** Time to first token used for `sort: latency`: the 30-minute p50, else the EWMA. */
export const latencyOf = (e: CatalogEndpoint): number | null =>
  e.health.ttftMs?.p50 ??
  e.health.ttftMsEwma ??
  e.health.latencyMsP50 ??
  e.health.latencyMsEwma ??
  null;

/** Tokens per second used for `sort: throughput` and `:nitro`: the 30-minute p50, else the EWMA. */
export const throughputOf = (e: CatalogEndpoint): number | null =>
  e.health.tokensPerSecond?.p50 ?? e.health.tokensPerSecondEwma ?? null;

export function tierOf(
  e: CatalogEndpoint,
  now: number,
  cooldowns?: ReadonlyMap<string, number>,
): Tier {
  const h = e.health;
  if ((h.retryAfterUntil ?? 0) > now || (cooldowns?.get(e.id) ?? 0) > now) return 'unavailable';
  if (h.circuit === 'open')
    return h.circuitOpenUntil !== null && now >= h.circuitOpenUntil ? 'probe' : 'unavailable';
  if (h.circuit === 'half_open') return 'probe';
  return 'healthy';
}

const lower = (xs: readonly string[] | null | undefined): Set<string> | null =>
  xs && xs.length > 0 ? new Set(xs.map((x) => x.toLowerCase())) : null;

const matches = (set: Set<string>, e: CatalogEndpoint): boolean =>
  set.has(e.provider.toLowerCase()) ||
  (e.providerName !== undefined && set.has(e.providerName.toLowerCase()));

function sortOf(prefs: RoutingPreferences | null | undefined): {
  by: SortBy | null;
  partition: 'model' | 'none';
} {
  const s = prefs?.sort;
  const by = typeof s === 'string' ? s : (s?.by ?? null);
  const partition = typeof s === 'object' && s?.partition === 'none' ? 'none' : 'model';
  return { by: by === 'price' || by === 'latency' || by === 'throughput' ? by : null, partition };
}

/** Why an endpoint cannot serve the request, or null when it can. */
export function exclusionReason(e: CatalogEndpoint, req: RouteRequest): string | null {
  return exclusionOf(e, req)?.reason ?? null;
}

/** Too small a window for the prompt, or any other constraint of the request. */
export interface Exclusion {
  kind: 'context_length' | 'constraint';
  reason: string;
}

function exclusionOf(e: CatalogEndpoint, req: RouteRequest): Exclusion | null {
  const reason = constraintReason(e, req);
  if (reason !== null) return { kind: 'constraint', reason };
  if (
    req.estimatedPromptTokens > 0 &&
    e.contextLength > 0 &&
    req.estimatedPromptTokens > e.contextLength
  ) {
    return {
      kind: 'context_length',
      reason: `context window of ${e.contextLength} tokens is too small for about ${req.estimatedPromptTokens} prompt tokens`,
    };
  }
  return null;
}

function constraintReason(e: CatalogEndpoint, req: RouteRequest): string | null {
  const p = req.provider;
  const only = lower(p?.only);
  if (only && !matches(only, e)) return 'not in provider.only';
  const ignore = lower(p?.ignore);
  if (ignore && matches(ignore, e)) return 'in provider.ignore';
  const order = lower(p?.order);
  if (p?.allow_fallbacks === false && order && !matches(order, e))
    return 'not in provider.order (allow_fallbacks is false)';
  if (p?.data_collection === 'deny' && e.dataCollection !== 'deny')
    return 'may collect data (data_collection is deny)';
  const quant = lower(p?.quantizations);
  if (quant && !quant.has((e.quantization ?? 'unknown').toLowerCase()))
    return `quantization ${e.quantization ?? 'unknown'} not allowed`;
  const max = p?.max_price;
  if (max) {
    const perM = (usd: number) => Math.round(usd * 1_000_000);
    if (max.prompt !== undefined && e.pricing.promptPerM > perM(max.prompt))
      return 'prompt price above provider.max_price.prompt';
    if (max.completion !== undefined && e.pricing.completionPerM > perM(max.completion)) {
      return 'completion price above provider.max_price.completion';
    }
    if (max.request !== undefined && e.pricing.perRequest > perM(max.request))
      return 'request price above provider.max_price.request';
  }
  if (p?.require_parameters === true) {
    const supported = new Set(e.supportedParameters);
    const missing = req.parameters.filter((x) => !supported.has(x));
    if (missing.length > 0) return `does not support ${missing.join(', ')} (require_parameters)`;
  }
  return null;
}

/** Ascending comparison with unknown (null) values last. */
const byKnown = (x: number | null, y: number | null): number =>
  x === null && y === null ? 0 : x === null ? 1 : y === null ? -1 : x - y;

export function compareBy(by: SortBy): (a: CatalogEndpoint, b: CatalogEndpoint) => number {
  const price = (a: CatalogEndpoint, b: CatalogEndpoint) =>
    blendedPrice(a) - blendedPrice(b) || a.pricing.perRequest - b.pricing.perRequest;
  const id = (a: CatalogEndpoint, b: CatalogEndpoint) => a.id.localeCompare(b.id);
  if (by === 'price')
    return (a, b) => price(a, b) || byKnown(latencyOf(a), latencyOf(b)) || id(a, b);
  if (by === 'latency')
    return (a, b) => byKnown(latencyOf(a), latencyOf(b)) || price(a, b) || id(a, b);
  const neg = (v: number | null) => (v === null ? null : -v);
  return (a, b) =>
    byKnown(neg(throughputOf(a)), neg(throughputOf(b))) ||
    byKnown(latencyOf(a), latencyOf(b)) ||
    price(a, b) ||
    id(a, b);
}

/**
 * Default load balancing (OpenRouter's): weighted random by the inverse square of the price,
 * scaled down by the recent error rate; drawn without replacement, so the fallback order is
 * weighted too. Free endpoints weigh as if they cost one micro-unit per million tokens.
 */
export function weightOf(e: CatalogEndpoint): number {
  const price = Math.max(1, blendedPrice(e)) / 1_000_000;
  return (1 / (price * price)) * Math.max(0.05, 1 - e.health.errorRate);
}

export function weightedOrder<T>(
  items: readonly T[],
  weight: (t: T) => number,
  random: () => number,
): T[] {
  const pool = items.map((item) => ({ item, w: Math.max(weight(item), Number.MIN_VALUE) }));
  const out: T[] = [];
  while (pool.length > 0) {
    const total = pool.reduce((s, p) => s + p.w, 0);
    let r = random() * total;
    let i = 0;
    for (; i < pool.length - 1; i++) {
      r -= pool[i]!.w;
      if (r < 0) break;
    }
    out.push(pool.splice(i, 1)[0]!.item);
  }
  return out;
}

/**
 * Orders one model's usable endpoints: `provider.order` first (in that order), then by the
 * sort (`provider.sort`, or the `:floor` / `:nitro` variant), else load-balanced. Health applies
 * on top of any order: unavailable endpoints (open circuit, Retry-After) go last, half-open ones
 * after the healthy ones except for an occasional probe put first.
 */
function orderModel(
  endpoints: readonly CatalogEndpoint[],
  req: RouteRequest,
  sort: SortBy | null,
  ctx: RoutingContext,
): CatalogEndpoint[] {
  const order = (req.provider?.order ?? []).map((o) => o.toLowerCase());
  const rank = (e: CatalogEndpoint) => {
    const i = order.findIndex(
      (o) => o === e.provider.toLowerCase() || o === e.providerName?.toLowerCase(),
    );
    return i < 0 ? order.length : i;
  };
  const listed = endpoints.filter((e) => rank(e) < order.length).sort((a, b) => rank(a) - rank(b));
  const rest = endpoints.filter((e) => rank(e) >= order.length);
  const restOrdered = sort
    ? [...rest].sort(compareBy(sort))
    : weightedOrder(rest, weightOf, ctx.random);
  let ordered = [...listed, ...restOrdered];
  if (req.provider?.allow_fallbacks === false && order.length === 0) ordered = ordered.slice(0, 1);
  return ordered;
}

/** Splits by tier and applies probing; stable within each tier. */
function applyHealth(cands: RankedCandidate[], ctx: RoutingContext): RankedCandidate[] {
  const healthy = cands.filter((c) => c.tier === 'healthy');
  const probes = cands.filter((c) => c.tier === 'probe');
  const down = cands.filter((c) => c.tier === 'unavailable');
  const chance = ctx.probeChance ?? 0.1;
  const promoted: RankedCandidate[] = [];
  const later: RankedCandidate[] = [];
  for (const p of probes)
    (promoted.length === 0 && ctx.random() < chance ? promoted : later).push(p);
  return [...promoted, ...healthy, ...later, ...down];
}

/**
 * The candidates of one request, in the order to try them: a pure function of the request, its
 * preferences, the routing table, the time and the random source.
 *
 * - Each requested model (`model`, then `models`) contributes its endpoints that satisfy the
 *   constraints (`only`, `ignore`, `data_collection`, `quantizations`, `max_price`,
 *   `require_parameters`, context window), ordered as above.
 * - Models keep their order, except that candidates known to be unavailable go after every
 *   usable candidate of every model: a fallback model's healthy endpoint beats a dead one.
 * - `sort.partition: "none"` sorts across models instead of within each.
 * - `allow_fallbacks: false` keeps one endpoint per model (or only the `order` list).
 * - The list is cut at `maxCandidates`, keeping at least one candidate of each model.
 * - Nothing usable: 400 `context_length_exceeded` when only the prompt's length left endpoints
 *   out; 503 `no_endpoints` when a requested model has no enabled endpoint; otherwise (the
 *   request's constraints, unknown fallback models) 404 `no_endpoints`, as OpenRouter answers.
 */
export function rankCandidates(req: RouteRequest, ctx: RoutingContext): RouteResult {
  if (req.models.length === 0)
    return { ok: false, status: 404, code: 'model_not_found', message: 'No model was given.' };
  // A model we do not have is skipped like an unavailable one when others may serve; a 404
  // only when none of the requested models exists, naming every one of them.
  if (!req.models.some((id) => resolveModel(id, ctx.lookup))) {
    const names = req.models.map((m) => `'${m}'`);
    return {
      ok: false,
      status: 404,
      code: 'model_not_found',
      message:
        names.length === 1
          ? `The model ${names[0]} does not exist.`
          : `None of the requested models exists: ${names.join(', ')}.`,
    };
  }
  const { by: prefSort, partition } = sortOf(req.provider);
  const seen = new Set<string>();
  const perModel: RankedCandidate[][] = [];
  const reasons: string[] = [];
  // Whether every exclusion so far is the context window, and the largest window seen.
  let onlyContext = true;
  let maxWindow = 0;
  // Whether the platform itself left something out (a model without an enabled endpoint).
  let platformCause = false;
  for (const id of req.models) {
    const resolved = resolveModel(id, ctx.lookup);
    if (!resolved) {
      reasons.push(`'${id}' does not exist`);
      onlyContext = false;
      continue;
    }
    const { entry } = resolved;
    const key = `${entry.model.id}#${resolved.sort ?? ''}`;
    if (seen.has(key)) continue;
    seen.add(key);
    if (entry.endpoints.length === 0) {
      reasons.push(`'${id}' has no enabled endpoint`);
      onlyContext = false;
      platformCause = true;
      continue;
    }
    const usable: CatalogEndpoint[] = [];
    const why: string[] = [];
    for (const e of entry.endpoints) {
      const x = exclusionOf(e, req);
      if (x === null) {
        usable.push(e);
        continue;
      }
      why.push(`${e.provider}: ${x.reason}`);
      if (x.kind === 'context_length') maxWindow = Math.max(maxWindow, e.contextLength);
      else onlyContext = false;
    }
    if (usable.length === 0) {
      reasons.push(`'${id}': ${why.join('; ')}`);
      continue;
    }
    const ordered = orderModel(usable, req, prefSort ?? resolved.sort, ctx);
    perModel.push(
      applyHealth(
        ordered.map((endpoint) => ({
          model: entry.model,
          endpoint,
          tier: tierOf(endpoint, ctx.now, ctx.cooldowns),
        })),
        ctx,
      ),
    );
  }
  if (perModel.length === 0 && onlyContext && maxWindow > 0) {
    // OpenAI's answer to a prompt no model can take: a 400 the client can act on, not a 503.
    return {
      ok: false,
      status: 400,
      code: 'context_length_exceeded',
      param: 'messages',
      maxContextLength: maxWindow,
      message:
        `This model's maximum context length is ${maxWindow} tokens. However, your messages ` +
        `resulted in about ${req.estimatedPromptTokens} tokens. Please reduce the length of the messages.`,
    };
  }
  if (perModel.length === 0) {
    // Only the platform's doing is a 503 (worth retrying later). When the request's own
    // constraints, prompt or unknown models left every endpoint out, it is OpenRouter's 404 "No
    // endpoints found": the client's to change, not a server error.
    return {
      ok: false,
      status: platformCause ? 503 : 404,
      code: 'no_endpoints',
      message: `No endpoint can serve this request: ${reasons.join('. ')}.`,
    };
  }

  let all: RankedCandidate[];
  if (partition === 'none' && prefSort !== null && perModel.length > 1) {
    const cmp = compareBy(prefSort);
    all = applyHealth(
      perModel.flat().sort((a, b) => cmp(a.endpoint, b.endpoint)),
      { ...ctx, probeChance: 0 },
    );
  } else {
    const flat = perModel.flat();
    all = [
      ...flat.filter((c) => c.tier !== 'unavailable'),
      ...flat.filter((c) => c.tier === 'unavailable'),
    ];
  }
  return { ok: true, candidates: capCandidates(all, ctx.maxCandidates) };
}

/** Keeps the first `max` candidates, but never drops the last candidate of a model. */
export function capCandidates(all: RankedCandidate[], max: number): RankedCandidate[] {
  const firstOf = new Map<string, RankedCandidate>();
  for (const c of all) if (!firstOf.has(c.model.id)) firstOf.set(c.model.id, c);
  const reserved = new Set(firstOf.values());
  const budget = Math.max(max, reserved.size);
  const out: RankedCandidate[] = [];
  let free = budget - reserved.size;
  for (const c of all) {
    if (reserved.has(c)) out.push(c);
    else if (free > 0) {
      out.push(c);
      free--;
    }
  }
  return out;
}
