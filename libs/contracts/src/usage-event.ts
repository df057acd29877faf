import { z } from 'zod';
import { Count, GenerationId, Micros, Millis, NativeTokens, zeroTokens } from './common.js';
import { AttemptOutcome } from './attempt.js';

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
   * Whether this attempt served the generation: its tokens and cost are the event's `tokens` and
   * `cost`. The upstream cost of every other attempt (failed, superseded, timed out) is ours: the
   * ledger books it as an expense, and the tenant is not charged for it.
   */
  served: z.boolean().default(false),
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
  /** Native token counts of the serving attempt. */
  tokens: NativeTokens,
  /** Whether the token counts were reported by the upstream (false: estimated). */
  usageReported: z.boolean(),
  cost: z.object({
    currency: z.literal('USD'),
    /** What the upstream charges us, in micro-units. */
    upstreamMicros: Micros.nonnegative(),
    /** What the tenant is charged, in micro-units. */
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
