import { z } from 'zod';
import { Count, GenerationId, Millis, NativeTokens } from './common.js';

/** Connector-side timings of one attempt, all durations measured on the connector's clock. */
export const AttemptTiming = z.object({
  /** From the request message arriving at the connector to the upstream call starting. */
  connectorQueueMs: Millis,
  /** From the upstream call starting to its first token (or to its full body when not streaming). */
  upstreamTtftMs: Millis.nullable(),
  /** From the upstream call starting to its end. */
  upstreamMs: Millis,
  /** From the request message arriving at the connector to the last reply being handed to Kafka. */
  connectorMs: Millis,
});
export type AttemptTiming = z.infer<typeof AttemptTiming>;

/**
 * An attempt's failure as the client may see it: the connector's error policy
 * (`libs/providers/src/errors`) has already chosen every field, and nothing in it is the
 * upstream's text except a scrubbed message of a request the upstream refused as invalid.
 */
export const ReplyError = z.object({
  /** HTTP status the gateway should answer with if nothing else can serve the request. */
  status: z.number().int().min(400).max(599),
  message: z.string(),
  type: z.string(),
  code: z.string().nullable(),
  param: z.string().nullable(),
  /** Whether another endpoint could serve the request (fallback candidates). */
  retryable: z.boolean(),
  /** The upstream's own HTTP status, when the upstream answered. */
  upstreamStatus: z.number().int().nullable(),
  /** Seconds the upstream asked us to wait (Retry-After), when given. */
  retryAfterSec: z.number().nonnegative().nullable(),
  /**
   * The provider's own error code, set only when the client may see it (the request's own fault:
   * 400/413/422); the gateway shows it as `error.metadata.provider_code`.
   */
  providerCode: z.string().nullable().optional(),
});
export type ReplyError = z.infer<typeof ReplyError>;

/** The provider account the connector used for the attempt (null: none), for the usage event. */
const ReplyAccountId = z.string().nullable().default(null);

const base = {
  v: z.literal(1),
  generationId: GenerationId,
  attempt: z.number().int().min(1),
  /** Position of this message in the generation's reply stream, from 0. */
  seq: Count,
};

/**
 * A chunk as it travels: an object the receiver does not validate field by field (the envelope
 * is the contract; the chunk is the provider adapter's OpenAI chunk, read by the gateway's
 * presenter). Checking it is an object costs nothing; walking it would cost every token.
 */
const OpaqueChunk = z.custom<Record<string, unknown>>(
  (v) => typeof v === 'object' && v !== null && !Array.isArray(v),
  { message: 'a chunk is a JSON object' },
);

/** One streamed chunk, already in the OpenAI `chat.completion.chunk` shape. */
export const ReplyChunkV1 = z.object({
  ...base,
  type: z.literal('chunk'),
  chunk: OpaqueChunk,
});

/**
 * Several streamed chunks of one attempt in one message, in order: what the connector produced
 * within one flush window (coalesced replies). `seq` numbers messages, not chunks.
 */
export const ReplyChunksV1 = z.object({
  ...base,
  type: z.literal('chunks'),
  chunks: z.array(OpaqueChunk).min(1).max(4096),
});

/**
 * The attempt is still running: sent by a connector when it has sent nothing else for a while
 * (a long unary call, a slow first token), so that the gateway can tell a silent attempt from a
 * lost one long before the deadline.
 */
export const ReplyAliveV1 = z.object({
  ...base,
  type: z.literal('alive'),
});

/** A whole non-streamed completion, in the OpenAI `chat.completion` shape. */
export const ReplyCompletionV1 = z.object({
  ...base,
  type: z.literal('completion'),
  completion: z.looseObject({}),
  tokens: NativeTokens,
  /** True when the upstream reported usage; otherwise tokens are the connector's estimate. */
  usageReported: z.boolean().default(true),
  finishReason: z.string().nullable(),
  nativeFinishReason: z.string().nullable(),
  timing: AttemptTiming,
  accountId: ReplyAccountId,
});

/** The end of a stream: what the upstream reported once it finished. */
export const ReplyEndV1 = z.object({
  ...base,
  type: z.literal('end'),
  tokens: NativeTokens,
  /** True when the upstream reported usage; otherwise tokens are the connector's estimate. */
  usageReported: z.boolean(),
  finishReason: z.string().nullable(),
  nativeFinishReason: z.string().nullable(),
  timing: AttemptTiming,
  accountId: ReplyAccountId,
});

/**
 * The attempt failed. `chunksSent` tells the gateway whether a fallback is still possible;
 * `tokens` is what the failed attempt cost upstream (estimated: zero when it failed before any
 * output, the prompt and what was produced after).
 */
export const ReplyErrorV1 = z.object({
  ...base,
  type: z.literal('error'),
  error: ReplyError,
  chunksSent: Count,
  tokens: NativeTokens,
  timing: AttemptTiming,
  accountId: ReplyAccountId,
});

export const LlmReplyV1 = z.discriminatedUnion('type', [
  ReplyChunkV1,
  ReplyChunksV1,
  ReplyAliveV1,
  ReplyCompletionV1,
  ReplyEndV1,
  ReplyErrorV1,
]);
export type LlmReplyV1 = z.infer<typeof LlmReplyV1>;
export type ReplyChunkV1 = z.infer<typeof ReplyChunkV1>;
export type ReplyChunksV1 = z.infer<typeof ReplyChunksV1>;
export type ReplyAliveV1 = z.infer<typeof ReplyAliveV1>;
export type ReplyCompletionV1 = z.infer<typeof ReplyCompletionV1>;
export type ReplyEndV1 = z.infer<typeof ReplyEndV1>;
export type ReplyErrorV1 = z.infer<typeof ReplyErrorV1>;
