import { z } from 'zod';
import { Count, GenerationId, Millis, NativeTokens } from './common.js';

export const AttemptOutcome = z.enum(['success', 'error', 'cancelled', 'timeout']);
export type AttemptOutcome = z.infer<typeof AttemptOutcome>;

/**
 * What an upstream failure meant, as the connector's one error policy
 * (`libs/providers/src/errors`) names it in `errorCode` and in the client's `error.code`. A
 * failure that is the request's own fault (HTTP 400/413/422) carries the provider's own code
 * instead (or `context_length_exceeded`); the provider's code is always in `providerCode`.
 */
export const UPSTREAM_ERROR_CODES = {
  /** 401/403: the upstream rejected our provider credentials. */
  auth: 'upstream_auth_failed',
  /** 402 (or a provider's "out of quota"): our provider account cannot pay. */
  payment: 'upstream_payment_required',
  /** 404/410: the upstream does not serve the model our catalog names. */
  notFound: 'upstream_model_not_found',
  /** 429: the upstream rate-limits our account. */
  rateLimited: 'upstream_rate_limited',
  /** 503/529: the upstream is overloaded or down. */
  overloaded: 'upstream_overloaded',
  /** 408/504/524: the upstream timed out. */
  timeout: 'upstream_timeout',
  /** Any other upstream status. */
  error: 'upstream_error',
  /** Refused, reset, DNS, TLS: no usable HTTP answer. */
  connection: 'upstream_connection_error',
  /** 200, then a stream that ended before it finished. */
  streamCut: 'upstream_stream_cut',
  /** 200, then a body or stream event we could not read (past the tolerance, for streams). */
  badResponse: 'upstream_bad_response',
  badStream: 'upstream_bad_stream',
  /** 200, then a stream silent for longer than the stall limit: the connector ended the call. */
  stalled: 'upstream_stalled',
  /** The prompt does not fit the endpoint's context window (the request's fault). */
  contextLength: 'context_length_exceeded',
  /** The upstream, or we, ran out of time (no HTTP status). */
  deadline: 'timeout',
  /** The connector has no account for the endpoint's provider. */
  notConfigured: 'provider_not_configured',
  /** The connector itself failed (a bug): never the upstream's text. */
  connector: 'connector_error',
} as const;

/** One account of a pool that failed before another account of the provider was tried. */
export const AccountFailure = z.object({
  accountId: z.string(),
  errorCode: z.string().nullable(),
  upstreamStatus: z.number().int().nullable(),
  retryAfterSec: z.number().nonnegative().nullable(),
});
export type AccountFailure = z.infer<typeof AccountFailure>;

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
  /**
   * The upstream's own error code (e.g. OpenAI's `invalid_api_key`), or the system's code of a
   * failed connection (`ECONNREFUSED`): for operators, never shown to a tenant for 401/403/5xx.
   */
  providerCode: z.string().nullable().default(null),
  /** Seconds the upstream asked us to wait (429/503 Retry-After), when it said. */
  retryAfterSec: z.number().nonnegative().nullable().default(null),
  /**
   * The provider account the attempt was finally made with (never its secret); null when none
   * was (no usable account, a connector failure before the call).
   */
  accountId: z.string().nullable().default(null),
  /**
   * Accounts of the same provider that failed first within this attempt (throttled, or their
   * credentials refused): the connector moved on to another account of the pool before
   * answering. Health of the endpoint is the attempt's outcome; these are the accounts' own.
   */
  accountFailures: z.array(AccountFailure).max(32).default([]),
  ttftMs: Millis.nullable(),
  latencyMs: Millis,
  tokens: NativeTokens,
  /**
   * Stream events the connector could not parse and skipped (a stream fails only past the
   * tolerance: `upstream_bad_stream`); absent in records from before it was counted.
   */
  malformedEvents: Count.optional(),
  /** Epoch ms at which the attempt ended. */
  endedAt: z.number().int().positive(),
});
export type LlmAttemptV1 = z.infer<typeof LlmAttemptV1>;
