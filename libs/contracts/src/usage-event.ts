import { z } from 'zod';
import { Count, GenerationId, Micros, Millis, NativeTokens, zeroTokens } from './common.js';
import { AttemptOutcome } from './attempt.js';

/**
 * Why an attempt was made: `primary` (the first), `retry` (the same endpoint again, after a
 * transient failure before any output), `fallback` (another endpoint, before any output reached
 * the client), `continuation` (another endpoint after output reached the client: it resumes the
 * answer, with what was delivered as its prefill, or restarts it when only reasoning was).
 */
export const AttemptRole = z.enum(['primary', 'retry', 'fallback', 'continuation']);
export type AttemptRole = z.infer<typeof AttemptRole>;

export const UsageAttempt = z.object({
  attempt: z.number().int().min(1),
  endpointId: z.string(),
  provider: z.string(),
  model: z.string(),
  outcome: AttemptOutcome,
  /** HTTP status the upstream answered with, when it answered. */
  upstreamStatus: z.number().int().nullable(),
  errorCode: z.string().nullable(),
  ttftMs: Millis.nullable(),
  latencyMs: Millis,
  /**
   * What this attempt consumed upstream: reported by the upstream, or estimated (`usageReported`
   * false). Zero when the upstream charges nothing for it (an error before any output).
   */
  tokens: NativeTokens.default(zeroTokens),
  usageReported: z.boolean().default(false),
  /** What this attempt cost us upstream, in micro-units (0 in events older than this field). */
  upstreamMicros: Micros.nonnegative().default(0),
  /**
   * Whether this attempt's output reached the client (or it completed the answer). Several
   * attempts do when a continuation resumed a cut answer. What the tenant pays for them is in
   * `billedTokens`/`chargedMicros`; the rest of every attempt's `upstreamMicros` (failed,
   * superseded, timed-out attempts, a continuation's prompt, output never delivered) is ours:
   * the ledger books it as an expense, and the tenant is not charged for it.
   */
  served: z.boolean().default(false),
  /** Why the attempt was made (null in events older than this field). */
  role: AttemptRole.nullable().default(null),
  /**
   * The tokens of this attempt the tenant pays for: the first serving attempt's prompt, and every
   * completion token of this attempt that reached the client. Zero for an attempt that served
   * nothing, and for every attempt of a failed generation.
   */
  billedTokens: NativeTokens.default(zeroTokens),
  /** `billedTokens` at this endpoint's prices: the part of `upstreamMicros` the charge covers. */
  billedUpstreamMicros: Micros.nonnegative().default(0),
  /** What the tenant is charged for this attempt, markup included (the event's `cost` sums them). */
  chargedMicros: Micros.nonnegative().default(0),
  /** The provider account the connector used (never its secret); null when none or unknown. */
  accountId: z.string().nullable().default(null),
});
export type UsageAttempt = z.infer<typeof UsageAttempt>;

export const GenerationStatus = z.enum(['success', 'error', 'cancelled']);
export type GenerationStatus = z.infer<typeof GenerationStatus>;

/**
 * `usage.events.v1`: one record per generation, published by the gateway when the generation
 * ends. It is the billing fact: billing and analytics consume it, idempotently on generationId.
 */
export const UsageEventV1 = z.object({
  v: z.literal(1),
  generationId: GenerationId,
  /** ISO-8601 time the gateway accepted the request. */
  createdAt: z.iso.datetime(),
  tenantId: z.string().min(1),
  keyId: z.string().min(1),
  /** App attribution, from the `HTTP-Referer` and `X-Title` (or `X-OpenRouter-Title`) request headers. */
  app: z.object({
    referer: z.string().nullable(),
    title: z.string().nullable(),
  }),
  requestedModel: z.string(),
  /** The model and provider that served the generation (null if nothing did). */
  model: z.string().nullable(),
  provider: z.string().nullable(),
  endpointId: z.string().nullable(),
  /** The provider account that served it (never its secret); null if none, or unknown. */
  accountId: z.string().nullable().default(null),
  stream: z.boolean(),
  status: GenerationStatus,
  finishReason: z.string().nullable(),
  nativeFinishReason: z.string().nullable(),
  /**
   * Native token counts the tenant is billed for: the serving attempt's; for an answer resumed
   * by a continuation, the first serving attempt's prompt plus every completion token delivered
   * (the sum of `attempts[].billedTokens`).
   */
  tokens: NativeTokens,
  /** Whether the token counts were reported by the upstream (false: estimated). */
  usageReported: z.boolean(),
  cost: z.object({
    currency: z.literal('USD'),
    /**
     * What the upstream charges us for what the tenant is billed (`tokens`), in micro-units:
     * the charge's basis. Each attempt's whole cost is its `upstreamMicros`.
     */
    upstreamMicros: Micros.nonnegative(),
    /** What the tenant is charged, in micro-units (the sum of `attempts[].chargedMicros`). */
    chargedMicros: Micros.nonnegative(),
  }),
  ttftMs: Millis.nullable(),
  latencyMs: Millis,
  attempts: z.array(UsageAttempt),
  error: z
    .object({
      status: z.number().int(),
      code: z.string().nullable(),
      message: z.string(),
    })
    .nullable(),
  /** Bytes of the request body, for analysts. */
  requestBytes: Count,
});
export type UsageEventV1 = z.infer<typeof UsageEventV1>;
