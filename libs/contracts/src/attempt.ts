import { z } from 'zod';
import { GenerationId, Millis, NativeTokens } from './common.js';

export const AttemptOutcome = z.enum(['success', 'error', 'cancelled', 'timeout']);
export type AttemptOutcome = z.infer<typeof AttemptOutcome>;

/** `llm.attempts.v1`: one record per upstream attempt, published by the connector. */
export const LlmAttemptV1 = z.object({
  v: z.literal(1),
  generationId: GenerationId,
  attempt: z.number().int().min(1),
  endpointId: z.string().min(1),
  provider: z.string().min(1),
  upstreamModel: z.string().min(1),
  outcome: AttemptOutcome,
  upstreamStatus: z.number().int().nullable(),
  errorCode: z.string().nullable(),
  /** Seconds the upstream asked us to wait (429/503 Retry-After), when it said. */
  retryAfterSec: z.number().nonnegative().nullable().default(null),
  ttftMs: Millis.nullable(),
  latencyMs: Millis,
  tokens: NativeTokens,
  /** Epoch ms at which the attempt ended. */
  endedAt: z.number().int().positive(),
});
export type LlmAttemptV1 = z.infer<typeof LlmAttemptV1>;
