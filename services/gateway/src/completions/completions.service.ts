import { Injectable, Logger } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { performance } from 'node:perf_hooks';
import {
  TOPICS,
  zeroTokens,
  type AttemptTiming,
  type LlmGenerateV1,
  type LlmReplyV1,
  type NativeTokens,
  type UsageAttempt,
  type UsageEventV1,
} from '@turnpike/contracts';
import { encode, MessageTooLargeError } from '@turnpike/kafka';
import {
  ApiError,
  fromReplyError,
  internal,
  isApiError,
  parseChatCompletionRequest,
  serviceUnavailable,
  timeout,
  type ChatCompletionRequest,
} from '@turnpike/openai-api';
import { estimateUsage, OutputTally } from '@turnpike/providers';
import { ProducerService } from '@turnpike/service-kit';
import {
  context,
  extractContext,
  failSpan,
  injectContext,
  SpanKind,
  SpanStatusCode,
  trace,
  tracer,
  type Span,
} from '@turnpike/telemetry';
import type { AuthContext } from '../auth/auth-context.js';
import { ChargesService, type Reservation } from '../billing/charges.service.js';
import { RoutePlanner, type Candidate } from './route-planner.service.js';
import { sendApiError } from '../errors/openai-exception.filter.js';
import { GatewayConfig } from '../gateway.config.js';
import { adoptRequestSpan, errorBodyFor, requestGenerationId } from '../http/request-context.js';
import { ReplyInboxService } from '../transport/reply-inbox.service.js';
import { UsagePublisher } from '../usage/usage-publisher.service.js';
import { CompletionStream } from './completion-stream.js';
import { newGenerationId } from './generation-id.js';
import {
  excludesReasoning,
  presentChunk,
  presentCompletion,
  presentUsage,
  streamErrorChunk,
} from './completion.presenter.js';
import { ReplyQueue, type QueueResult } from './reply-queue.js';

type Json = Record<string, unknown>;
const isObj = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);

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
const BROKER_RETRY_AFTER_SEC = 5;

interface Served {
  candidate: Candidate;
  tokens: NativeTokens;
  usageReported: boolean;
  finishReason: string | null;
  nativeFinishReason: string | null;
  timing: AttemptTiming | null;
  /** Kafka round trip of the serving attempt: request sent to final reply received. */
  roundTripMs: number;
}

/** Everything about one generation that the usage event needs. */
class Generation {
  readonly createdAt = new Date();
  readonly t0 = performance.now();
  readonly attempts: UsageAttempt[] = [];
  served: Served | null = null;
  firstTokenAt: number | null = null;
  status: UsageEventV1['status'] = 'success';
  error: ApiError | null = null;
  heldUsage: Json | null = null;
  /** The output relayed to the client, for an estimate when the connector's count never comes. */
  readonly relayed = new OutputTally();
  /** Final token counts of cancelled attempts still awaited; each settles by LATE_COUNT_MAX_MS. */
  readonly pending: Promise<void>[] = [];
  /** Cuts those waits short (shutdown): the gateway's estimates stand in. */
  readonly settleNow = new AbortController();
  /** When the HTTP exchange ended (the usage event's latency; its publication may be later). */
  endedAt: number | null = null;

  constructor(
    readonly id: string,
    readonly auth: AuthContext,
    readonly body: ChatCompletionRequest,
    readonly span: Span,
  ) {}
}

/**
 * Serves `POST /v1/chat/completions`: validates the request, routes it to ranked endpoints
 * from the in-memory routing table, sends one attempt at a time over Kafka to the connectors,
 * relays the replies (SSE or JSON), falls back on failures that happen before the first token,
 * and publishes the generation's usage event.
 */
@Injectable()
export class CompletionsService {
  private readonly log = new Logger(CompletionsService.name);
  private inFlight = 0;
  /** Generations whose HTTP exchange is over but whose usage event waits for late counts. */
  private readonly settling = new Set<Generation>();
  /** Late counts: arrived after a cancel, or never (the gateway's estimate was booked). */
  readonly lateCounts = { arrived: 0, estimated: 0 };

  constructor(
    private readonly config: GatewayConfig,
    private readonly planner: RoutePlanner,
    private readonly inbox: ReplyInboxService,
    private readonly producer: ProducerService,
    private readonly usage: UsagePublisher,
    private readonly charges: ChargesService,
  ) {}

  /** Requests being served, and generations whose usage event is not published yet. */
  get inFlightCount(): number {
    return this.inFlight + this.settling.size;
  }

  /** Publishes every usage event still waiting for a late count, with the gateway's estimates. */
  settleAll(): void {
    for (const gen of this.settling) gen.settleNow.abort();
  }

  async handle(req: FastifyRequest, reply: FastifyReply, auth: AuthContext): Promise<void> {
    // The request's SERVER span and generation id were made before any guard or parser ran
    // (http/request-context.ts), so early rejections carry the same headers.
    const span =
      adoptRequestSpan(req) ??
      tracer().startSpan(
        'POST /v1/chat/completions',
        {
          kind: SpanKind.SERVER,
          attributes: { 'http.request.method': 'POST', 'url.path': '/v1/chat/completions' },
        },
        extractContext(req.headers as Record<string, string>),
      );
    const traceId = span.spanContext().traceId;
    // Every response of this endpoint carries its generation id, errors included.
    const generationId = requestGenerationId(req) ?? newGenerationId();
    const baseHeaders: Record<string, string> = {
      'x-trace-id': traceId,
      'x-generation-id': generationId,
    };
    const fail = (e: ApiError) => {
      span.setAttribute('http.response.status_code', e.status);
      span.setStatus({ code: SpanStatusCode.ERROR, message: e.message });
      span.end();
      void reply.headers(baseHeaders);
      sendApiError(reply, e);
    };

    const parsed = parseChatCompletionRequest(req.body);
    if (!parsed.ok) return fail(parsed.error);
    const body = parsed.value;
    let candidates: Candidate[];
    try {
      candidates = this.planner.plan(body);
    } catch (e) {
      if (isApiError(e)) return fail(e);
      throw e;
    }

    // The broker is unreachable: say so at once rather than queue the request for it.
    const down = this.inbox.unavailable();
    if (down) {
      this.log.warn(`refusing a generation: ${down}`);
      return fail(
        serviceUnavailable(
          'The gateway cannot reach its connectors right now.',
          BROKER_RETRY_AFTER_SEC,
          {
            code: 'kafka_unavailable',
          },
        ),
      );
    }

    let reservation: Reservation;
    try {
      reservation = this.charges.admit(auth, candidates, body);
    } catch (e) {
      if (isApiError(e)) return fail(e);
      throw e;
    }

    const gen = new Generation(generationId, auth, body, span);
    span.setAttribute('turnpike.generation_id', gen.id);
    this.inFlight++;
    const abort = new AbortController();
    const onClose = () => {
      if (!reply.raw.writableFinished) abort.abort();
    };
    reply.raw.once('close', onClose);
    reply.hijack();
    try {
      await context.with(trace.setSpan(context.active(), span), () =>
        body.stream === true
          ? this.stream(gen, candidates, reply, baseHeaders, abort.signal)
          : this.unary(gen, candidates, reply, baseHeaders, abort.signal),
      );
    } catch (e) {
      this.log.error(`generation ${gen.id} failed: ${(e as Error).stack ?? String(e)}`);
      gen.status = 'error';
      if (!reply.raw.headersSent) {
        const err = new ApiError({
          status: 500,
          type: 'server_error',
          message: 'The gateway failed to serve the request.',
        });
        reply.raw.writeHead(err.status, { 'content-type': 'application/json', ...baseHeaders });
        reply.raw.end(JSON.stringify(errorBodyFor(req, err)));
      } else if (!reply.raw.writableEnded) {
        reply.raw.end();
      }
    } finally {
      this.inFlight--;
      reply.raw.off('close', onClose);
      gen.endedAt = performance.now();
      const httpStatus = reply.raw.statusCode;
      if (gen.pending.length === 0) this.settle(gen, reservation, req, httpStatus);
      else {
        // A cancelled attempt's final count comes from the connector after the client left:
        // the usage event waits for it (bounded), so what was produced is billed.
        this.settling.add(gen);
        void Promise.allSettled(gen.pending).then(() => {
          this.settling.delete(gen);
          this.settle(gen, reservation, req, httpStatus);
        });
      }
    }
  }

  private settle(
    gen: Generation,
    reservation: Reservation,
    req: FastifyRequest,
    httpStatus: number,
  ): void {
    try {
      // The hold shrinks to the actual charge until billing's balance update includes it.
      reservation.settle(gen.id, this.costs(gen).chargedMicros);
      this.finish(gen, req, httpStatus);
    } catch (e) {
      reservation.release();
      this.log.error(`generation ${gen.id} not settled: ${(e as Error).stack ?? String(e)}`);
    }
  }

  /** Non-streaming: one JSON body, with a Server-Timing split of where the time went. */
  private async unary(
    gen: Generation,
    candidates: Candidate[],
    reply: FastifyReply,
    headers: Record<string, string>,
    signal: AbortSignal,
  ): Promise<void> {
    const plan = this.planner.fallbacks(candidates);
    let lastFailure: AttemptOutcome | null = null;
    for (let candidate = plan.next(); candidate; candidate = plan.next()) {
      const outcome = await this.attempt(
        gen,
        candidate,
        plan.attempt,
        plan.hasMore(),
        signal,
        (r) => {
          if (r.type !== 'completion') return 'continue';
          gen.firstTokenAt ??= performance.now();
          return 'done';
        },
      );
      if (outcome.kind === 'done' && outcome.reply.type === 'completion') {
        const r = outcome.reply;
        gen.served = {
          candidate,
          tokens: r.tokens,
          usageReported: r.usageReported,
          finishReason: r.finishReason,
          nativeFinishReason: r.nativeFinishReason,
          timing: r.timing,
          roundTripMs: outcome.roundTripMs,
        };
        const completion = this.presentCompletion(gen, r.completion);
        const total = performance.now() - gen.t0;
        const serverTiming = [
          `gateway;dur=${(total - outcome.roundTripMs).toFixed(2)}`,
          `kafka;dur=${Math.max(0, outcome.roundTripMs - r.timing.connectorMs).toFixed(2)}`,
          `connector;dur=${Math.max(0, r.timing.connectorMs - r.timing.upstreamMs).toFixed(2)}`,
          `upstream;dur=${r.timing.upstreamMs.toFixed(2)}`,
          `total;dur=${total.toFixed(2)}`,
        ].join(', ');
        const payload = JSON.stringify(completion);
        reply.raw.writeHead(200, {
          'content-type': 'application/json',
          'content-length': Buffer.byteLength(payload),
          'server-timing': serverTiming,
          ...headers,
        });
        reply.raw.end(payload);
        return;
      }
      if (outcome.kind === 'fallback') {
        plan.failed(candidate, outcome.error);
        lastFailure = outcome;
        continue;
      }
      this.respondError(gen, reply, headers, outcome);
      if (outcome.kind === 'lost') await this.recordLost(gen, candidate, outcome);
      return;
    }
    // Every candidate failed over (or a failure left none worth trying): the last error stands.
    if (lastFailure) this.respondError(gen, reply, headers, lastFailure);
  }

  /** Streaming: chunks are relayed as they arrive; headers go out with the first one. */
  private async stream(
    gen: Generation,
    candidates: Candidate[],
    reply: FastifyReply,
    headers: Record<string, string>,
    signal: AbortSignal,
  ): Promise<void> {
    const out = new CompletionStream(reply.raw, headers);
    const includeUsage =
      isObj(gen.body.stream_options) && gen.body.stream_options['include_usage'] === true;
    const plan = this.planner.fallbacks(candidates);
    let lastFailure: AttemptOutcome | null = null;
    for (let candidate = plan.next(); candidate; candidate = plan.next()) {
      const served = candidate;
      const outcome = await this.attempt(
        gen,
        candidate,
        plan.attempt,
        plan.hasMore(),
        signal,
        (r) => {
          if (r.type === 'chunk') {
            this.relayChunk(gen, served, r.chunk, out);
            return 'continue';
          }
          return r.type === 'end' ? 'done' : 'continue';
        },
        () => out.headersSent,
      );
      if (outcome.kind === 'done' && outcome.reply.type === 'end') {
        const r = outcome.reply;
        gen.served = {
          candidate,
          tokens: r.tokens,
          usageReported: r.usageReported,
          finishReason: r.finishReason,
          nativeFinishReason: r.nativeFinishReason,
          timing: r.timing,
          roundTripMs: outcome.roundTripMs,
        };
        if (includeUsage) out.chunk(this.usageChunk(gen, candidate));
        out.done();
        return;
      }
      if (outcome.kind === 'fallback') {
        plan.failed(candidate, outcome.error);
        lastFailure = outcome;
        continue;
      }
      if (outcome.kind === 'lost') {
        if (out.headersSent) {
          gen.status = 'error';
          gen.error = outcome.error;
          out.fail(
            streamErrorChunk(this.chunkBase(gen, candidate), {
              status: outcome.error.status,
              message: outcome.error.message,
              code: outcome.error.code,
              type: outcome.error.type,
            }),
          );
        } else this.respondError(gen, reply, headers, outcome);
        await this.recordLost(gen, candidate, outcome);
        return;
      }
      if (out.headersSent) {
        const err =
          outcome.kind === 'error' ? outcome.error : timeout('The upstream stream stalled.');
        if (outcome.kind !== 'cancelled') {
          gen.status = 'error';
          gen.error = err;
          out.fail(
            streamErrorChunk(this.chunkBase(gen, candidate), {
              status: err.status,
              message: err.message,
              code: err.code,
              type: err.type,
            }),
          );
        }
        return;
      }
      return this.respondError(gen, reply, headers, outcome);
    }
    if (lastFailure) this.respondError(gen, reply, headers, lastFailure);
  }

  private respondError(
    gen: Generation,
    reply: FastifyReply,
    headers: Record<string, string>,
    outcome: AttemptOutcome,
  ): void {
    if (outcome.kind === 'cancelled') {
      gen.status = 'cancelled';
      if (!reply.raw.destroyed) reply.raw.destroy();
      return;
    }
    const err =
      outcome.kind === 'error' || outcome.kind === 'fallback' || outcome.kind === 'lost'
        ? outcome.error
        : outcome.kind === 'timeout'
          ? timeout('The request timed out.')
          : internal(new Error(`unexpected reply ${outcome.reply.type}`));
    gen.status = 'error';
    gen.error = err;
    reply.raw.writeHead(err.status, {
      'content-type': 'application/json',
      ...err.headers(),
      ...headers,
    });
    reply.raw.end(JSON.stringify(errorBodyFor(reply.request, err)));
  }

  /**
   * Runs one attempt: sends the request to the connectors, then hands each reply to `onReply`
   * until it says `done`. Failures become `fallback` when another endpoint may still serve the
   * request (nothing was sent to the client yet and the error is retryable).
   */
  private async attempt(
    gen: Generation,
    candidate: Candidate,
    attempt: number,
    canFallBack: boolean,
    signal: AbortSignal,
    onReply: (r: LlmReplyV1) => 'continue' | 'done',
    committed: () => boolean = () => false,
  ): Promise<AttemptOutcome> {
    const { endpoint } = candidate;
    const queue = new ReplyQueue();
    // The provider account the connector used, from its final reply (for the usage event).
    let accountId: string | null = null;
    const unregister = this.inbox.register(gen.id, attempt, (r, headers) => {
      // The way back: the final reply of an attempt continues the connector's span.
      if (r.type !== 'chunk') {
        accountId = r.accountId ?? accountId;
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
    });
    const deadlineAt =
      Date.now() +
      Math.max(0, Math.round(this.config.requestTimeoutMs - (performance.now() - gen.t0)));
    // An attempt that is not the last must start producing within its share of the time left,
    // so that one slow endpoint cannot use up the whole deadline (see attemptBudgetMs).
    const firstOutputBy = canFallBack
      ? Date.now() + this.attemptBudgetMs(gen, deadlineAt)
      : deadlineAt;
    let producing = false;
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
        accountId,
      };
      if (tokens) this.countAttempt(entry, candidate, tokens.tokens, tokens.usageReported);
      gen.attempts.push(entry);
      return entry;
    };
    // After a cancel: keep listening for the connector's final count of this attempt.
    const awaitCount = (entry: UsageAttempt, fallback: () => NativeTokens) => {
      handedOff = true;
      this.awaitLateCount(gen, queue, unregister, entry, candidate, fallback, () => accountId);
    };
    try {
      const message: LlmGenerateV1 = {
        v: 1,
        kind: 'generate',
        generationId: gen.id,
        attempt,
        tenantId: gen.auth.tenantId,
        keyId: gen.auth.keyId,
        replyTo: this.inbox.address,
        deadlineAt,
        createdAt: Date.now(),
        endpoint: {
          id: endpoint.id,
          provider: endpoint.provider,
          upstreamModel: endpoint.upstreamModel,
          pricing: endpoint.pricing,
          maxOutputTokens: endpoint.maxOutputTokens,
        },
        stream: gen.body.stream === true,
        body: gen.body as Json,
      };
      const produce = tracer().startSpan(`${TOPICS.llmRequests} publish`, {
        kind: SpanKind.PRODUCER,
        attributes: {
          'messaging.system': 'kafka',
          'messaging.destination.name': TOPICS.llmRequests,
          'turnpike.attempt': attempt,
        },
      });
      try {
        const headers = injectContext(trace.setSpan(context.active(), produce));
        await this.producer.send(
          TOPICS.llmRequests,
          encode(TOPICS.llmRequests, gen.id, message, { headers }),
          { failFast: true },
        );
      } catch (e) {
        failSpan(produce, e);
        const tooLarge = e instanceof MessageTooLargeError;
        record({
          outcome: 'error',
          upstreamStatus: null,
          errorCode: tooLarge ? 'request_too_large' : 'kafka_unavailable',
          ttftMs: null,
          latencyMs: 0,
        });
        return {
          kind: 'error',
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
      } finally {
        produce.end();
      }

      for (;;) {
        const waitUntil = producing ? deadlineAt : Math.min(deadlineAt, firstOutputBy);
        const r = await this.nextReply(queue, waitUntil, signal);
        if (r === 'lost') {
          // The broker is unreachable: end the client's request now, and learn what the
          // upstream produced when the connector's (retried) final reply arrives.
          void this.cancel(gen, attempt, 'client_disconnected');
          record({
            outcome: 'error',
            upstreamStatus: null,
            errorCode: 'kafka_unavailable',
            ttftMs: null,
            latencyMs: round(performance.now() - started),
          });
          handedOff = true;
          const late = this.settleLate(queue, deadlineAt).finally(unregister);
          return {
            kind: 'lost',
            error: serviceUnavailable(
              'The gateway lost its connection to its connectors.',
              BROKER_RETRY_AFTER_SEC,
              { code: 'kafka_unavailable' },
            ),
            late,
            started,
          };
        }
        if (r === 'timeout' && waitUntil < deadlineAt && !committed()) {
          // This attempt's share of the deadline is spent: cancel it and try the next candidate.
          await this.cancel(gen, attempt, 'superseded');
          const waited = round(performance.now() - started);
          const entry = record({
            outcome: 'timeout',
            upstreamStatus: null,
            errorCode: 'attempt_timeout',
            ttftMs: null,
            latencyMs: waited,
          });
          // The upstream had the prompt when we gave up on it: that is what it costs us.
          awaitCount(entry, () => estimateUsage(gen.body as Json, null));
          this.log.warn(
            `generation ${gen.id} attempt ${attempt} on ${endpoint.id} gave no output in ${waited} ms; falling back`,
          );
          return {
            kind: 'fallback',
            error: timeout(`The upstream did not answer within ${Math.round(waited)} ms.`),
          };
        }
        if (r === 'aborted' || r === 'timeout') {
          await this.cancel(gen, attempt, r === 'aborted' ? 'client_disconnected' : 'timeout');
          const entry = record({
            outcome: r === 'aborted' ? 'cancelled' : 'timeout',
            upstreamStatus: null,
            errorCode: r === 'timeout' ? 'timeout' : null,
            ttftMs: null,
            latencyMs: round(performance.now() - started),
          });
          if (r === 'aborted') {
            // The client left: it pays for what was produced, as the connector counts it when
            // its final reply arrives (or, if it never does, the prompt and what we relayed).
            entry.served = true;
            gen.served = {
              candidate,
              tokens: zeroTokens(),
              usageReported: false,
              finishReason: null,
              nativeFinishReason: null,
              timing: null,
              roundTripMs: performance.now() - started,
            };
          }
          awaitCount(entry, () => estimateUsage(gen.body as Json, gen.relayed));
          gen.status = r === 'aborted' ? 'cancelled' : 'error';
          return r === 'aborted' ? { kind: 'cancelled' } : { kind: 'timeout' };
        }
        if (r.type === 'chunk' || r.type === 'completion') producing = true;
        if (r.type === 'error') {
          this.planner.observeFailure(candidate, r.error);
          // The connector's count of what the failed attempt cost (zero before any output).
          record(
            {
              outcome: r.error.status === 504 ? 'timeout' : 'error',
              upstreamStatus: r.error.upstreamStatus,
              errorCode: r.error.code,
              ttftMs: r.timing.upstreamTtftMs,
              latencyMs: r.timing.upstreamMs,
            },
            { tokens: r.tokens, usageReported: false },
          );
          if (canFallBack && r.chunksSent === 0 && r.error.retryable && !committed()) {
            this.log.warn(
              `generation ${gen.id} attempt ${attempt} on ${endpoint.id} failed (${r.error.code}); falling back`,
            );
            return { kind: 'fallback', error: fromReplyError(r.error) };
          }
          return { kind: 'error', error: fromReplyError(r.error) };
        }
        if (r.type === 'chunk' && gen.firstTokenAt === null) {
          gen.firstTokenAt = performance.now();
          gen.span.addEvent('first_token');
        }
        if (r.type === 'chunk') gen.relayed.addChunk(r.chunk);
        if (onReply(r) === 'done') {
          const final = r.type === 'end' || r.type === 'completion' ? r : null;
          const entry = record(
            {
              outcome: 'success',
              upstreamStatus: 200,
              errorCode: null,
              ttftMs: final?.timing.upstreamTtftMs ?? null,
              latencyMs: final?.timing.upstreamMs ?? round(performance.now() - started),
            },
            final ? { tokens: final.tokens, usageReported: final.usageReported } : undefined,
          );
          entry.served = true;
          return { kind: 'done', reply: r, roundTripMs: performance.now() - started };
        }
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
   * the attempt, and on the generation when the attempt served it. A count that never comes is
   * replaced by `fallback`, the gateway's own estimate.
   */
  private awaitLateCount(
    gen: Generation,
    queue: ReplyQueue,
    unregister: () => void,
    entry: UsageAttempt,
    candidate: Candidate,
    fallback: () => NativeTokens,
    accountId: () => string | null,
  ): void {
    const wait = async (): Promise<{ tokens: NativeTokens; usageReported: boolean } | null> => {
      const until = Date.now() + LATE_COUNT_MAX_MS;
      for (;;) {
        const r = await queue.next(until - Date.now(), gen.settleNow.signal);
        if (r === 'timeout' || r === 'aborted') return null;
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
            `generation ${gen.id} attempt ${entry.attempt}: no final count from the connector; billing the gateway's estimate`,
          );
        }
        const c = count ?? { tokens: fallback(), usageReported: false };
        this.countAttempt(entry, candidate, c.tokens, c.usageReported);
        entry.accountId = accountId() ?? entry.accountId;
        if (entry.served && gen.served) {
          gen.served.tokens = c.tokens;
          gen.served.usageReported = c.usageReported;
        }
      });
    gen.pending.push(counted);
  }

  /**
   * The next reply, as `queue.next`, or 'lost' once the transport has been unavailable
   * (see ReplyInboxService.unavailable) for TRANSPORT_LOST_MS with no reply meanwhile.
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
      if (this.inbox.unavailable() === null) downSince = null;
      else if ((downSince ??= Date.now()) + TRANSPORT_LOST_MS <= Date.now()) return 'lost';
    }
  }

  /** Waits (until the deadline) for a lost attempt's final reply: what the upstream produced. */
  private async settleLate(
    queue: ReplyQueue,
    deadlineAt: number,
  ): Promise<{ tokens: NativeTokens; usageReported: boolean; timing: AttemptTiming } | null> {
    for (;;) {
      const r = await queue.next(deadlineAt + LATE_COUNT_MAX_MS - Date.now());
      if (r === 'timeout' || r === 'aborted') return null;
      if (r.type === 'end')
        return { tokens: r.tokens, usageReported: r.usageReported, timing: r.timing };
      if (r.type === 'error') return { tokens: r.tokens, usageReported: false, timing: r.timing };
      if (r.type === 'completion')
        return { tokens: r.tokens, usageReported: true, timing: r.timing };
    }
  }

  /** Records a lost attempt's late count: its upstream cost reaches the ledger, uncharged. */
  private async recordLost(
    gen: Generation,
    candidate: Candidate,
    outcome: Extract<AttemptOutcome, { kind: 'lost' }>,
  ): Promise<void> {
    gen.status = 'error';
    gen.error = outcome.error;
    const late = await outcome.late;
    if (!late) {
      this.log.warn(`generation ${gen.id}: no final count arrived after the broker was lost`);
      return;
    }
    gen.served = {
      candidate,
      tokens: late.tokens,
      usageReported: late.usageReported,
      finishReason: null,
      nativeFinishReason: null,
      timing: late.timing,
      roundTripMs: performance.now() - outcome.started,
    };
  }

  /**
   * How long an attempt that is not the last may take to produce its first output (first token
   * when streaming, the whole completion otherwise): half the time left, and when streaming at
   * most GATEWAY_FIRST_TOKEN_TIMEOUT_MS. The last candidate always gets all that is left.
   */
  private attemptBudgetMs(gen: Generation, deadlineAt: number): number {
    const half = Math.max(0, (deadlineAt - Date.now()) / 2);
    return Math.round(
      gen.body.stream === true ? Math.min(half, this.config.firstTokenTimeoutMs) : half,
    );
  }

  private async cancel(
    gen: Generation,
    attempt: number,
    reason: 'client_disconnected' | 'timeout' | 'superseded',
  ): Promise<void> {
    await this.producer
      .send(
        TOPICS.llmRequests,
        encode(TOPICS.llmRequests, gen.id, {
          v: 1,
          kind: 'cancel',
          generationId: gen.id,
          attempt,
          reason,
        }),
      )
      .catch((e: unknown) =>
        this.log.warn(`cancel of ${gen.id} not sent: ${(e as Error).message}`),
      );
  }

  private chunkBase(gen: Generation, candidate: Candidate): Json {
    return {
      id: gen.id,
      object: 'chat.completion.chunk',
      created: Math.floor(gen.createdAt.getTime() / 1000),
      model: candidate.model.id,
      provider: candidate.endpoint.provider,
    };
  }

  /** Rewrites an upstream chunk as ours (id, model, provider) and writes it; holds usage back. */
  private relayChunk(
    gen: Generation,
    candidate: Candidate,
    chunk: Json,
    out: CompletionStream,
  ): void {
    if (isObj(chunk['usage'])) gen.heldUsage = chunk['usage'];
    const shaped = presentChunk(chunk, this.chunkBase(gen, candidate), {
      excludeReasoning: excludesReasoning(gen.body as Json),
    });
    if (shaped) out.chunk(shaped); // null: the usage-only chunk, sent at the end with the cost
  }

  private usageChunk(gen: Generation, candidate: Candidate): Json {
    return {
      ...this.chunkBase(gen, candidate),
      choices: [],
      usage: this.presentUsage(gen, gen.heldUsage),
    };
  }

  private presentCompletion(gen: Generation, completion: Json): Json {
    const { candidate } = gen.served!;
    return presentCompletion(
      completion,
      { id: gen.id, model: candidate.model.id, provider: candidate.endpoint.provider },
      this.presentUsage(gen, isObj(completion['usage']) ? completion['usage'] : null),
      { excludeReasoning: excludesReasoning(gen.body as Json) },
    );
  }

  /** OpenAI usage plus OpenRouter's `cost` and `cost_details` (see completion.presenter.ts). */
  private presentUsage(gen: Generation, upstream: Json | null): Json {
    const served = gen.served!;
    return {
      ...presentUsage(served.tokens, upstream, this.costs(gen), served.candidate.endpoint.pricing),
      // The upstream reported no usage: these counts are our tokenizer's (and billed as such).
      ...(served.usageReported ? {} : { estimated: true }),
    };
  }

  private costs(gen: Generation): UsageEventV1['cost'] {
    const served = gen.served;
    if (!served) return { currency: 'USD', upstreamMicros: 0, chargedMicros: 0 };
    return this.charges.price(gen.auth, served.candidate, served.tokens, gen.status !== 'error');
  }

  private finish(gen: Generation, req: FastifyRequest, httpStatus: number): void {
    const latencyMs = round((gen.endedAt ?? performance.now()) - gen.t0);
    const served = gen.served;
    const cost = this.costs(gen);
    // The serving attempt's cost is the event's; every other attempt's is ours (the ledger's
    // failed-attempts expense).
    for (const a of gen.attempts) if (a.served) a.upstreamMicros = cost.upstreamMicros;
    const event: UsageEventV1 = {
      v: 1,
      generationId: gen.id,
      createdAt: gen.createdAt.toISOString(),
      tenantId: gen.auth.tenantId,
      keyId: gen.auth.keyId,
      app: {
        referer: header(req, 'http-referer') ?? header(req, 'referer'),
        // `X-Title`, or `X-OpenRouter-Title` as `@openrouter/sdk` sends its `appTitle`.
        title: header(req, 'x-title') ?? header(req, 'x-openrouter-title'),
      },
      requestedModel: gen.body.model,
      model: served?.candidate.model.id ?? null,
      provider: served?.candidate.endpoint.provider ?? null,
      endpointId: served?.candidate.endpoint.id ?? null,
      accountId: gen.attempts.find((a) => a.served)?.accountId ?? null,
      stream: gen.body.stream === true,
      status: gen.status,
      finishReason: served?.finishReason ?? null,
      nativeFinishReason: served?.nativeFinishReason ?? null,
      tokens: served?.tokens ?? zeroTokens(),
      usageReported: served?.usageReported ?? false,
      cost,
      ttftMs: gen.firstTokenAt === null ? null : round(gen.firstTokenAt - gen.t0),
      latencyMs,
      attempts: gen.attempts,
      error: gen.error
        ? { status: gen.error.status, code: gen.error.code, message: gen.error.message }
        : null,
      requestBytes: Number(req.headers['content-length'] ?? 0) || 0,
    };
    void this.usage.publish(event);
    gen.span.setAttribute('http.response.status_code', httpStatus);
    gen.span.setAttribute('turnpike.status', gen.status);
    if (gen.status !== 'success')
      gen.span.setStatus({ code: SpanStatusCode.ERROR, message: gen.error?.message ?? gen.status });
    gen.span.end();
  }
}

type AttemptOutcome =
  | { kind: 'done'; reply: LlmReplyV1; roundTripMs: number }
  | { kind: 'fallback'; error: ApiError }
  | { kind: 'error'; error: ApiError }
  | { kind: 'timeout' }
  | { kind: 'cancelled' }
  | {
      kind: 'lost';
      error: ApiError;
      late: Promise<{ tokens: NativeTokens; usageReported: boolean; timing: AttemptTiming } | null>;
      started: number;
    };

function header(req: FastifyRequest, name: string): string | null {
  const v = req.headers[name];
  const s = Array.isArray(v) ? v[0] : v;
  return s ? s.slice(0, 512) : null;
}

const round = (ms: number): number => Math.round(ms * 100) / 100;
