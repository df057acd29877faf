import { Inject, Injectable, Logger } from '@nestjs/common';
import { performance } from 'node:perf_hooks';
import {
  TOPICS,
  zeroTokens,
  type AttemptRole,
  type LlmReplyV1,
  type NativeTokens,
  type ReplyCompletionV1,
  type ReplyEndV1,
  type ReplyError,
  type UsageAttempt,
} from '@turnpike/contracts';
import {
  TransportRefusal,
  type AttemptLink,
  type AttemptRequest,
  type CancelReason,
  type GenerationTransport,
} from '@turnpike/generation';
import { ApiError, fromReplyError, serviceUnavailable, timeout } from '@turnpike/openai-api';
import { metrics } from '@turnpike/service-kit';
import { extractContext, SpanKind, tracer } from '@turnpike/telemetry';
import { ChargesService } from '../billing/charges.service.js';
import { GatewayConfig, STALL_GRACE_MS } from '../gateway.config.js';
import { GENERATION_TRANSPORT } from '../transport/generation-transport.js';
import type { Generation } from './generation.js';
import { ReplyQueue, type QueueResult } from './reply-queue.js';
import { RoutePlanner, type Candidate } from './route-planner.service.js';

type Json = Record<string, unknown>;

/**
 * How long the gateway keeps listening, after it cancelled an attempt (client gone, attempt
 * superseded or timed out), for the connector's final token count of it. The usage event of the
 * generation is published when every such count is in, or at this cap with the gateway's own
 * estimate (the prompt, and what it relayed) for a count that never came.
 */
export const LATE_COUNT_MAX_MS = 30_000;

/**
 * An attempt whose replies cannot arrive (the broker unreachable: sends failing, or the reply
 * inbox not fetching) for this long ends with a 503 / an SSE error, instead of hanging until
 * the deadline; its final count is still awaited in the background and recorded.
 */
const TRANSPORT_LOST_MS = 5000;
/** Seconds a client is asked to wait when the broker is unreachable. */
export const BROKER_RETRY_AFTER_SEC = 5;

/** Our code for an attempt whose stream fell silent past its stall limit. */
export const STALLED_CODE = 'upstream_stalled';
/** Our code for an attempt one of whose replies was lost on the way (a gap that stayed open). */
export const REPLY_LOST_CODE = 'reply_lost';

const repliesLost = metrics.counter(
  'turnpike_gateway_replies_lost_total',
  "Attempts the gateway ended because one of their replies never arrived (a gap in the reply sequence that stayed open past the reply inbox's gap timeout).",
);

/**
 * Stalls the gateway itself caught (its backstop, when no reply came for the stall limit plus a
 * margin: a connector that did not end the attempt); the connector counts the ones it ends in
 * `turnpike_attempt_stalls_total`.
 */
const stalls = metrics.counter(
  'turnpike_gateway_stall_backstops_total',
  'Streamed attempts the gateway ended because no reply came past the stall limit.',
  ['provider'],
);

/** How one attempt ended, for the request's loop to decide what comes next. */
export type AttemptOutcome =
  | {
      kind: 'done';
      entry: UsageAttempt;
      reply: ReplyEndV1 | ReplyCompletionV1;
      roundTripMs: number;
    }
  | {
      kind: 'failed';
      entry: UsageAttempt;
      error: ApiError;
      /** Another endpoint may serve the request (the error policy's, or ours for timeouts). */
      retryable: boolean;
      /** The connector's error, when it reported one (`upstream`). */
      reply: ReplyError | null;
      chunksSent: number;
      /**
       * `upstream`: the connector reported the failure; `first_output` and `stall`: the
       * gateway's limits; `transport`: a reply was lost on the way.
       */
      cause: 'upstream' | 'first_output' | 'stall' | 'transport';
    }
  /** The request never reached a connector (too large, the broker unreachable). */
  | { kind: 'refused'; error: ApiError }
  /** The request's deadline passed. */
  | { kind: 'timeout'; entry: UsageAttempt }
  /** The client left. */
  | { kind: 'cancelled'; entry: UsageAttempt }
  /** The broker went away mid-attempt: the final count is recorded when it comes. */
  | { kind: 'lost'; entry: UsageAttempt; error: ApiError };

export interface AttemptPlan {
  candidate: Candidate;
  role: AttemptRole;
  /** The request as this attempt sends it (a continuation's carries the prefill). */
  body: Json;
  /** Another candidate could follow: the first output must come within its share of time. */
  limitFirstOutput: boolean;
  /** Hands each chunk to the answer (streams). */
  onChunk: (chunk: Record<string, unknown>) => void;
  /** The gateway's estimate of this attempt's tokens when the connector's count never comes. */
  estimate: () => NativeTokens;
}

/**
 * Runs one attempt of a generation over the generation transport (Kafka to a connector, or
 * in-process): starts it, relays its replies until the final one, enforces the first-output and
 * stall limits, cancels, and keeps listening after a cancel for the executor's final count
 * (billed to the attempt's record). It decides nothing about what happens next: the outcome
 * says how the attempt ended.
 */
@Injectable()
export class AttemptRunner {
  private readonly log = new Logger('Attempts');
  /** Late counts: arrived after a cancel, or never (the gateway's estimate was booked). */
  readonly lateCounts = { arrived: 0, estimated: 0 };

  constructor(
    private readonly config: GatewayConfig,
    private readonly planner: RoutePlanner,
    @Inject(GENERATION_TRANSPORT) private readonly transport: GenerationTransport,
    private readonly charges: ChargesService,
  ) {}

  async run(gen: Generation, plan: AttemptPlan, signal: AbortSignal): Promise<AttemptOutcome> {
    const { candidate } = plan;
    const { endpoint } = candidate;
    const attempt = ++gen.attemptCount;
    const queue = new ReplyQueue();
    // The provider account the connector used, from its final reply (for the usage event).
    let accountId: string | null = null;
    const listener = {
      reply: (r: LlmReplyV1, headers?: Record<string, Buffer | string | undefined>) => {
        if (r.type === 'alive') return;
        // The way back: the final reply of an attempt continues the connector's span.
        if (r.type !== 'chunk' && r.type !== 'chunks') {
          accountId = r.accountId ?? accountId;
          if (headers)
            tracer()
              .startSpan(
                `${TOPICS.llmReplies} process`,
                {
                  kind: SpanKind.CONSUMER,
                  attributes: {
                    'messaging.system': 'kafka',
                    'messaging.destination.name': TOPICS.llmReplies,
                    'turnpike.reply_type': r.type,
                    'turnpike.replies': r.seq + 1,
                  },
                },
                extractContext(headers),
              )
              .end();
        }
        queue.push(r);
      },
      lost: (why: string) => queue.push({ type: 'lost', why }),
    };
    let link: AttemptLink | null = null;
    const unregister = () => link?.release();
    const deadlineAt =
      Date.now() +
      Math.max(0, Math.round(this.config.requestTimeoutMs - (performance.now() - gen.t0)));
    // An attempt that is not the last must start producing within its share of the time left,
    // so that one slow endpoint cannot use up the whole deadline (see attemptBudgetMs).
    const firstOutputBy = plan.limitFirstOutput
      ? Date.now() + this.attemptBudgetMs(gen, deadlineAt)
      : deadlineAt;
    // A streamed attempt that fell silent past its stall limit ends (the connector's limit, and
    // ours a little later if its error does not come).
    const stallMs = gen.stream ? gen.limits.stallTimeoutMs + STALL_GRACE_MS : Infinity;
    let producing = false;
    let chunks = 0;
    let lastReplyAt = Date.now();
    // Set when a late count is awaited (a cancelled or lost attempt): the inbox registration stays.
    let handedOff = false;
    const started = performance.now();
    const record = (
      a: Pick<UsageAttempt, 'outcome' | 'upstreamStatus' | 'errorCode' | 'ttftMs' | 'latencyMs'>,
      tokens?: { tokens: NativeTokens; usageReported: boolean },
    ): UsageAttempt => {
      const entry: UsageAttempt = {
        attempt,
        endpointId: endpoint.id,
        provider: endpoint.provider,
        model: candidate.model.id,
        ...a,
        tokens: zeroTokens(),
        usageReported: false,
        upstreamMicros: 0,
        served: false,
        role: plan.role,
        billedTokens: zeroTokens(),
        billedUpstreamMicros: 0,
        chargedMicros: 0,
        accountId,
      };
      if (tokens) this.countAttempt(entry, candidate, tokens.tokens, tokens.usageReported);
      gen.attempts.push(entry);
      return entry;
    };
    // After a cancel: keep listening for the connector's final count of this attempt.
    const awaitCount = (entry: UsageAttempt) => {
      handedOff = true;
      this.awaitLateCount(gen, queue, unregister, entry, candidate, plan.estimate, () => accountId);
    };
    try {
      const request: AttemptRequest = {
        v: 1,
        kind: 'generate',
        generationId: gen.id,
        attempt,
        tenantId: gen.auth.tenantId,
        keyId: gen.auth.keyId,
        deadlineAt,
        createdAt: Date.now(),
        endpoint: {
          id: endpoint.id,
          provider: endpoint.provider,
          upstreamModel: endpoint.upstreamModel,
          pricing: endpoint.pricing,
          maxOutputTokens: endpoint.maxOutputTokens,
        },
        stream: gen.stream,
        ...(gen.limits.requestedStallMs !== null
          ? { stallTimeoutMs: gen.limits.requestedStallMs }
          : {}),
        body: plan.body,
      };
      try {
        link = await this.transport.start(request, listener, {});
      } catch (e) {
        if (!(e instanceof TransportRefusal)) throw e;
        const tooLarge = e.reason === 'too_large';
        record({
          outcome: 'error',
          upstreamStatus: null,
          errorCode: tooLarge ? 'request_too_large' : 'kafka_unavailable',
          ttftMs: null,
          latencyMs: 0,
        });
        return {
          kind: 'refused',
          error: tooLarge
            ? new ApiError({
                status: 413,
                type: 'invalid_request_error',
                message: `Request too large: it exceeds the ${e.limit}-byte limit of a generation request.`,
                code: 'request_too_large',
              })
            : serviceUnavailable(
                'The gateway could not reach its connectors.',
                BROKER_RETRY_AFTER_SEC,
                { code: 'kafka_unavailable' },
              ),
        };
      }

      for (;;) {
        const waitUntil = producing
          ? Math.min(deadlineAt, lastReplyAt + stallMs)
          : Math.min(deadlineAt, firstOutputBy);
        const r = await this.nextReply(queue, waitUntil, signal);
        if (r === 'lost') {
          // The broker is unreachable: end the client's request now, and learn what the
          // upstream produced when the connector's (retried) final reply arrives.
          void this.cancel(link, gen, 'client_disconnected');
          const entry = record({
            outcome: 'error',
            upstreamStatus: null,
            errorCode: 'kafka_unavailable',
            ttftMs: null,
            latencyMs: round(performance.now() - started),
          });
          handedOff = true;
          this.awaitLateCount(
            gen,
            queue,
            unregister,
            entry,
            candidate,
            zeroTokens,
            () => accountId,
            {
              untilMs: deadlineAt + LATE_COUNT_MAX_MS - Date.now(),
              estimate: false,
            },
          );
          return {
            kind: 'lost',
            entry,
            error: serviceUnavailable(
              'The gateway lost its connection to its connectors.',
              BROKER_RETRY_AFTER_SEC,
              { code: 'kafka_unavailable' },
            ),
          };
        }
        if (r === 'timeout' && waitUntil < deadlineAt) {
          // This attempt's share of the deadline is spent (no first output in time), or its
          // stream fell silent: cancel it, and let the request try another candidate.
          const stalled = producing;
          await this.cancel(link, gen, stalled ? 'timeout' : 'superseded');
          const waited = round(performance.now() - started);
          const entry = record({
            outcome: 'timeout',
            upstreamStatus: null,
            errorCode: stalled ? STALLED_CODE : 'attempt_timeout',
            ttftMs: null,
            latencyMs: waited,
          });
          // The upstream had the prompt when we gave up on it: that is what it costs us.
          awaitCount(entry);
          if (stalled) {
            stalls.inc({ provider: endpoint.provider });
            this.log.warn(
              `generation ${gen.id} attempt ${attempt} on ${endpoint.id}: the stream fell silent for ${gen.limits.stallTimeoutMs} ms (the connector did not end it)`,
            );
          }
          return {
            kind: 'failed',
            entry,
            error: stalled
              ? timeout(
                  `The upstream stream stalled (no output for ${gen.limits.stallTimeoutMs} ms).`,
                  { code: STALLED_CODE },
                )
              : timeout(`The upstream did not answer within ${Math.round(waited)} ms.`),
            retryable: true,
            reply: null,
            chunksSent: chunks,
            cause: stalled ? 'stall' : 'first_output',
          };
        }
        if (r === 'aborted' || r === 'timeout') {
          await this.cancel(link, gen, r === 'aborted' ? 'client_disconnected' : 'timeout');
          const entry = record({
            outcome: r === 'aborted' ? 'cancelled' : 'timeout',
            upstreamStatus: null,
            errorCode: r === 'timeout' ? 'timeout' : null,
            ttftMs: null,
            latencyMs: round(performance.now() - started),
          });
          // The connector's count of what was produced when its final reply arrives (or, if it
          // never does, the gateway's estimate).
          awaitCount(entry);
          return r === 'aborted' ? { kind: 'cancelled', entry } : { kind: 'timeout', entry };
        }
        if (r.type === 'lost') {
          // A reply never arrived: what the client got of this attempt is incomplete. Stop the
          // attempt (its final count still comes) and let the request recover or fail.
          repliesLost.inc();
          this.log.warn(`generation ${gen.id} attempt ${attempt}: ${r.why}`);
          await this.cancel(link, gen, 'timeout');
          const entry = record({
            outcome: 'error',
            upstreamStatus: null,
            errorCode: REPLY_LOST_CODE,
            ttftMs: null,
            latencyMs: round(performance.now() - started),
          });
          awaitCount(entry);
          return {
            kind: 'failed',
            entry,
            error: new ApiError({
              status: 502,
              type: 'upstream_error',
              message: 'Part of the answer was lost inside the gateway.',
              code: REPLY_LOST_CODE,
            }),
            retryable: true,
            reply: null,
            chunksSent: chunks,
            cause: 'transport',
          };
        }
        if (r.type === 'alive') continue;
        lastReplyAt = Date.now();
        if (r.type === 'chunk' || r.type === 'chunks' || r.type === 'completion') producing = true;
        if (r.type === 'error') {
          this.planner.observeFailure(candidate, r.error);
          // The connector's count of what the failed attempt cost (zero before any output).
          const entry = record(
            {
              outcome: r.error.status === 504 ? 'timeout' : 'error',
              upstreamStatus: r.error.upstreamStatus,
              errorCode: r.error.code,
              ttftMs: r.timing.upstreamTtftMs,
              latencyMs: r.timing.upstreamMs,
            },
            { tokens: r.tokens, usageReported: false },
          );
          return {
            kind: 'failed',
            entry,
            error: fromReplyError(r.error),
            retryable: r.error.retryable,
            reply: r.error,
            chunksSent: r.chunksSent,
            cause: 'upstream',
          };
        }
        if (r.type === 'chunk') {
          chunks++;
          plan.onChunk(r.chunk);
          continue;
        }
        if (r.type === 'chunks') {
          chunks += r.chunks.length;
          for (const c of r.chunks) plan.onChunk(c);
          continue;
        }
        // The final reply: `end` of a stream, or a whole `completion`.
        const entry = record(
          {
            outcome: 'success',
            upstreamStatus: 200,
            errorCode: null,
            ttftMs: r.timing.upstreamTtftMs,
            latencyMs: r.timing.upstreamMs,
          },
          { tokens: r.tokens, usageReported: r.usageReported },
        );
        return { kind: 'done', entry, reply: r, roundTripMs: performance.now() - started };
      }
    } finally {
      if (!handedOff) unregister();
    }
  }

  /** Sets an attempt's tokens and what they cost us upstream. */
  private countAttempt(
    entry: UsageAttempt,
    candidate: Candidate,
    tokens: NativeTokens,
    usageReported: boolean,
  ): void {
    entry.tokens = tokens;
    entry.usageReported = usageReported;
    entry.upstreamMicros = this.charges.attemptCost(tokens, candidate.endpoint.pricing);
  }

  /**
   * After a cancel, the connector reports what the upstream consumed until then: waits for that
   * final reply (up to LATE_COUNT_MAX_MS, or until shutdown) in the background, then books it on
   * the attempt. A count that never comes is replaced by `estimate`, the gateway's own.
   */
  private awaitLateCount(
    gen: Generation,
    queue: ReplyQueue,
    unregister: () => void,
    entry: UsageAttempt,
    candidate: Candidate,
    estimate: () => NativeTokens,
    accountId: () => string | null,
    opts: { untilMs?: number; estimate?: boolean } = {},
  ): void {
    const wait = async (): Promise<{ tokens: NativeTokens; usageReported: boolean } | null> => {
      const until = Date.now() + (opts.untilMs ?? LATE_COUNT_MAX_MS);
      for (;;) {
        const r = await queue.next(until - Date.now(), gen.settleNow.signal);
        if (r === 'timeout' || r === 'aborted') return null;
        if (r.type === 'lost') continue;
        if (r.type === 'end' || r.type === 'completion')
          return { tokens: r.tokens, usageReported: r.usageReported };
        if (r.type === 'error') return { tokens: r.tokens, usageReported: false };
      }
    };
    const counted = wait()
      .catch((e: unknown) => {
        this.log.warn(`late count of ${gen.id}: ${(e as Error).message}`);
        return null;
      })
      .then((count) => {
        unregister();
        if (count) this.lateCounts.arrived++;
        else {
          this.lateCounts.estimated++;
          this.log.warn(
            `generation ${gen.id} attempt ${entry.attempt}: no final count from the connector; ${opts.estimate === false ? 'nothing booked' : "booking the gateway's estimate"}`,
          );
          if (opts.estimate === false) return;
        }
        const c = count ?? { tokens: estimate(), usageReported: false };
        this.countAttempt(entry, candidate, c.tokens, c.usageReported);
        entry.accountId = accountId() ?? entry.accountId;
      });
    gen.pending.push(counted);
  }

  /**
   * The next reply, as `queue.next`, or 'lost' once the transport has been unavailable
   * (see GenerationTransport.unavailable) for TRANSPORT_LOST_MS with no reply meanwhile.
   */
  private async nextReply(
    queue: ReplyQueue,
    until: number,
    signal: AbortSignal,
  ): Promise<QueueResult | 'lost'> {
    let downSince: number | null = null;
    for (;;) {
      const left = until - Date.now();
      const r = await queue.next(Math.min(left, 500), signal);
      if (r !== 'timeout' || left <= 500) return r;
      if (this.transport.unavailable() === null) downSince = null;
      else if ((downSince ??= Date.now()) + TRANSPORT_LOST_MS <= Date.now()) return 'lost';
    }
  }

  /**
   * How long an attempt that is not the last may take to produce its first output (first token
   * when streaming, the whole completion otherwise): half the time left, and when streaming at
   * most the first-token limit (the request's, or GATEWAY_FIRST_TOKEN_TIMEOUT_MS). The last
   * candidate always gets all that is left.
   */
  private attemptBudgetMs(gen: Generation, deadlineAt: number): number {
    const half = Math.max(0, (deadlineAt - Date.now()) / 2);
    return Math.round(gen.stream ? Math.min(half, gen.limits.firstTokenTimeoutMs) : half);
  }

  private async cancel(
    link: AttemptLink | null,
    gen: Generation,
    reason: CancelReason,
  ): Promise<void> {
    await link
      ?.cancel(reason)
      .catch((e: unknown) =>
        this.log.warn(`cancel of ${gen.id} not sent: ${(e as Error).message}`),
      );
  }
}

const round = (ms: number): number => Math.round(ms * 100) / 100;
