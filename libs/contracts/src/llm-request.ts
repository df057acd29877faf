import { z } from 'zod';
import { GenerationId, EndpointPricing } from './common.js';

/** Where a connector sends the replies of one generation. */
export const ReplyAddress = z.object({
  topic: z.string().min(1),
  partition: z.number().int().nonnegative(),
  /** The gateway instance that waits for the replies; lets it ignore strays. */
  instance: z.string().min(1),
});
export type ReplyAddress = z.infer<typeof ReplyAddress>;

/** The endpoint chosen by the gateway's routing for one attempt. */
export const EndpointRef = z.object({
  id: z.string().min(1),
  provider: z.string().min(1),
  upstreamModel: z.string().min(1),
  pricing: EndpointPricing,
  /** The endpoint's output limit (the default of `max_tokens` where a protocol requires one). */
  maxOutputTokens: z.number().int().nonnegative().nullable().optional(),
});
export type EndpointRef = z.infer<typeof EndpointRef>;

/**
 * Bounds of a per-request stall limit (`provider.stall_timeout_ms`, a Turnpike extension of
 * OpenRouter's `provider` object; the gateway clamps the request's value into them).
 */
export const STALL_TIMEOUT_BOUNDS_MS = { min: 1_000, max: 60_000 } as const;

/** `llm.requests.v1`, kind `generate`: one attempt of one generation on one endpoint. */
export const LlmGenerateV1 = z.object({
  v: z.literal(1),
  kind: z.literal('generate'),
  generationId: GenerationId,
  attempt: z.number().int().min(1),
  tenantId: z.string().min(1),
  keyId: z.string().min(1),
  replyTo: ReplyAddress,
  /** Epoch ms after which the connector must not start (or continue) the upstream call. */
  deadlineAt: z.number().int().positive(),
  createdAt: z.number().int().positive(),
  endpoint: EndpointRef,
  stream: z.boolean(),
  /**
   * The longest silence allowed between two events of the upstream stream (ms), when the request
   * set one (`provider.stall_timeout_ms`, clamped by the gateway); absent: the connector's
   * `CONNECTOR_STALL_MS`. A stream silent for longer fails with `upstream_stalled`.
   */
  stallTimeoutMs: z
    .number()
    .int()
    .min(STALL_TIMEOUT_BOUNDS_MS.min)
    .max(STALL_TIMEOUT_BOUNDS_MS.max)
    .optional(),
  /** The OpenAI chat request as validated by the gateway, unknown fields included. */
  body: z.record(z.string(), z.unknown()),
});
export type LlmGenerateV1 = z.infer<typeof LlmGenerateV1>;

/**
 * `llm.cancels.v1` (read by every connector instance), keyed by generation id. A cancel of the
 * previous release came on `llm.requests.v1`, which still accepts it (rolling upgrades).
 */
export const LlmCancelV1 = z.object({
  v: z.literal(1),
  kind: z.literal('cancel'),
  generationId: GenerationId,
  attempt: z.number().int().min(1),
  reason: z.enum(['client_disconnected', 'timeout', 'superseded']),
});
export type LlmCancelV1 = z.infer<typeof LlmCancelV1>;

export const LlmRequestMessageV1 = z.discriminatedUnion('kind', [LlmGenerateV1, LlmCancelV1]);
export type LlmRequestMessageV1 = z.infer<typeof LlmRequestMessageV1>;
