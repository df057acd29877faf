import { z } from 'zod';
import { Count, EndpointPricing, Millis } from './common.js';

export const CircuitState = z.enum(['closed', 'open', 'half_open']);
export type CircuitState = z.infer<typeof CircuitState>;

/** p50/p75/p90/p99 of a metric over a window (OpenRouter's `PercentileStats`). */
export const Percentiles = z.object({
  p50: z.number().nonnegative(),
  p75: z.number().nonnegative(),
  p90: z.number().nonnegative(),
  p99: z.number().nonnegative(),
});
export type Percentiles = z.infer<typeof Percentiles>;

/** Fraction of successful attempts (0..1) over a window; null when it saw none. */
const Uptime = z.number().min(0).max(1).nullable();

/**
 * Live health of one endpoint, as the router last computed it from `llm.attempts.v1`.
 * Fields added after the first version default, so older records still parse.
 */
export const EndpointHealth = z.object({
  circuit: CircuitState,
  /** EWMA of the failure indicator (rate limits included), 0..1. */
  errorRate: z.number().min(0).max(1),
  /** EWMA of the whole attempt's upstream latency, successful attempts only. */
  latencyMsEwma: Millis.nullable(),
  ttftMsEwma: Millis.nullable(),
  /** EWMA of output tokens per second after the first token. */
  tokensPerSecondEwma: z.number().nonnegative().nullable(),
  /** Upstream latency (whole attempt) p50 over the last 30 minutes. */
  latencyMsP50: Millis.nullable().default(null),
  /** Time to first token percentiles (ms) over the last 30 minutes. */
  ttftMs: Percentiles.nullable().default(null),
  /** Output tokens per second percentiles over the last 30 minutes. */
  tokensPerSecond: Percentiles.nullable().default(null),
  /** Successes / (successes + failures), rate limits excluded (as OpenRouter counts uptime). */
  uptime: z
    .object({ last5m: Uptime, last30m: Uptime, last1d: Uptime })
    .default({ last5m: null, last30m: null, last1d: null }),
  /** Attempts seen in the last 30 minutes. */
  attempts30m: Count.default(0),
  consecutiveFailures: Count.default(0),
  /** Epoch ms at which an open circuit lets a probe through (half-open); null when closed. */
  circuitOpenUntil: z.number().int().nonnegative().nullable().default(null),
  /** Epoch ms until which the upstream asked us to wait (429/503 Retry-After); null if none. */
  retryAfterUntil: z.number().int().nonnegative().nullable().default(null),
  /** Epoch ms of the last attempt seen. */
  lastAttemptAt: z.number().int().nonnegative().nullable().default(null),
});
export type EndpointHealth = z.infer<typeof EndpointHealth>;

/** The health of an endpoint nobody has measured yet. */
export const unknownHealth = (): EndpointHealth => ({
  circuit: 'closed',
  errorRate: 0,
  latencyMsEwma: null,
  ttftMsEwma: null,
  tokensPerSecondEwma: null,
  latencyMsP50: null,
  ttftMs: null,
  tokensPerSecond: null,
  uptime: { last5m: null, last30m: null, last1d: null },
  attempts30m: 0,
  consecutiveFailures: 0,
  circuitOpenUntil: null,
  retryAfterUntil: null,
  lastAttemptAt: null,
});

export const CatalogEndpoint = z.object({
  id: z.string().min(1),
  provider: z.string().min(1),
  /** The provider's display name (defaults to its id in older records). */
  providerName: z.string().min(1).optional(),
  upstreamModel: z.string().min(1),
  pricing: EndpointPricing,
  contextLength: Count,
  maxOutputTokens: Count.nullable(),
  quantization: z.string().nullable(),
  region: z.string().nullable(),
  supportedParameters: z.array(z.string()),
  dataCollection: z.enum(['allow', 'deny']),
  /**
   * The endpoint's adapter continues a trailing assistant message (prefill): a candidate that
   * can carry on an answer cut mid-stream. False in records from before it was published.
   */
  supportsPrefill: z.boolean().default(false),
  health: EndpointHealth,
});
export type CatalogEndpoint = z.infer<typeof CatalogEndpoint>;

export const CatalogModel = z.object({
  /** `author/slug` */
  id: z.string().regex(/^[a-z0-9][a-z0-9._-]*\/[a-zA-Z0-9][a-zA-Z0-9._:-]*$/),
  name: z.string().min(1),
  description: z.string(),
  created: z.number().int().nonnegative(),
  contextLength: Count,
  inputModalities: z.array(z.string()),
  outputModalities: z.array(z.string()),
  supportedParameters: z.array(z.string()),
  /** The model's default (cheapest endpoint) pricing. */
  pricing: EndpointPricing,
});
export type CatalogModel = z.infer<typeof CatalogModel>;

/**
 * `routing.table.v1` (compacted, key = model id): the model and its enabled endpoints with their
 * live health. A null value (tombstone) removes the model. The gateway routes from this, in memory.
 */
export const RoutingEntryV1 = z.object({
  v: z.literal(1),
  model: CatalogModel,
  endpoints: z.array(CatalogEndpoint),
  updatedAt: z.number().int().positive(),
});
export type RoutingEntryV1 = z.infer<typeof RoutingEntryV1>;
