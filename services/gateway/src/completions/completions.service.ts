import { Inject, Injectable, Logger } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { performance } from 'node:perf_hooks';
import type { GenerationTransport } from '@turnpike/generation';
import {
  ApiError,
  isApiError,
  parseChatCompletionRequest,
  serviceUnavailable,
  type ChatCompletionRequest,
} from '@turnpike/openai-api';
import { metrics } from '@turnpike/service-kit';
import {
  context,
  extractContext,
  SpanKind,
  SpanStatusCode,
  trace,
  tracer,
} from '@turnpike/telemetry';
import type { AuthContext } from '../auth/auth-context.js';
import { ChargesService, type Reservation } from '../billing/charges.service.js';
import { sendApiError } from '../errors/openai-exception.filter.js';
import { GatewayConfig } from '../gateway.config.js';
import { adoptRequestSpan, errorBodyFor, requestGenerationId } from '../http/request-context.js';
import { GENERATION_TRANSPORT } from '../transport/generation-transport.js';
import { StreamAnswer, UnaryAnswer } from './answer-output.js';
import { AttemptLoop } from './attempt-loop.js';
import { AttemptRunner, BROKER_RETRY_AFTER_SEC } from './attempt-runner.service.js';
import { GenerationBilling } from './generation-bill.js';
import { Generation } from './generation.js';
import { newGenerationId } from './generation-id.js';
import { RoutePlanner, type Candidate } from './route-planner.service.js';
import { UsageEvents } from './usage-event.js';

type Json = Record<string, unknown>;

const generationsInFlight = metrics.gauge(
  'turnpike_gateway_generations_in_flight',
  'Chat completions this gateway is serving now: streams (stream="true") and unary requests.',
  ['stream'],
);
const generationsTotal = metrics.counter(
  'turnpike_gateway_generations_total',
  'Chat completions this gateway admitted and served, streamed or not, by the HTTP status they were answered with (an in-band stream error keeps its 200).',
  ['stream', 'status'],
);

/**
 * Serves `POST /v1/chat/completions`, top to bottom: validates the request; plans its ranked
 * endpoints from the in-memory routing table (RoutePlanner); refuses it at once when the
 * transport is down; admits it against the tenant's balance (a reservation); runs its attempts
 * (AttemptLoop, over the generation transport) into its answer (JSON or SSE, answer-output.ts);
 * then, once the last late token count is in, settles the reservation on the bill
 * (GenerationBilling) and publishes the usage event (UsageEvents).
 */
@Injectable()
export class CompletionsService {
  private readonly log = new Logger(CompletionsService.name);
  private inFlight = 0;
  /** Generations whose HTTP exchange is over but whose usage event waits for late counts. */
  private readonly settling = new Set<Generation>();

  constructor(
    private readonly config: GatewayConfig,
    private readonly planner: RoutePlanner,
    private readonly runner: AttemptRunner,
    private readonly loop: AttemptLoop,
    @Inject(GENERATION_TRANSPORT) private readonly transport: GenerationTransport,
    private readonly billing: GenerationBilling,
    private readonly usageEvents: UsageEvents,
    private readonly charges: ChargesService,
  ) {}

  /** Late counts: arrived after a cancel, or never (the gateway's estimate was booked). */
  get lateCounts(): { arrived: number; estimated: number } {
    return this.runner.lateCounts;
  }

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

    // The transport is down (the broker unreachable): say so at once rather than queue for it.
    const down = this.transport.unavailable();
    if (down) {
      this.log.warn(`refusing a generation: ${down}`);
      return fail(
        serviceUnavailable(
          'The gateway cannot reach its connectors right now.',
          BROKER_RETRY_AFTER_SEC,
          { code: 'kafka_unavailable' },
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

    const gen = new Generation(generationId, auth, body, span, this.limitsOf(body));
    span.setAttribute('turnpike.generation_id', gen.id);
    this.inFlight++;
    const streamLabel = { stream: String(gen.stream) };
    generationsInFlight.inc(streamLabel);
    const abort = new AbortController();
    const onClose = () => {
      if (!reply.raw.writableFinished) abort.abort();
    };
    reply.raw.once('close', onClose);
    reply.hijack();
    const present = (upstream: Json | null) => this.billing.presentUsage(gen, upstream);
    const out = gen.stream
      ? new StreamAnswer(gen, reply, baseHeaders, present, this.config.streamBufferBytes)
      : new UnaryAnswer(gen, reply, baseHeaders, present, this.transport.mode);
    try {
      await context.with(trace.setSpan(context.active(), span), () =>
        this.loop.serve(gen, candidates, out, abort.signal),
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
      generationsInFlight.dec(streamLabel);
      generationsTotal.inc({
        ...streamLabel,
        status: String(reply.raw.statusCode),
      });
      reply.raw.off('close', onClose);
      if (out instanceof StreamAnswer && out.closedForSlowClient)
        this.log.warn(
          `generation ${gen.id}: the client read too slowly (over ${this.config.streamBufferBytes} bytes unsent); stream closed`,
        );
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

  /** The request's time limits: its `provider` settings (validated, clamped), else ours. */
  private limitsOf(body: ChatCompletionRequest): Generation['limits'] {
    const p = body.provider;
    const stall = p?.stall_timeout_ms ?? null;
    return {
      firstTokenTimeoutMs: p?.first_token_timeout_ms ?? this.config.firstTokenTimeoutMs,
      stallTimeoutMs: stall ?? this.config.stallTimeoutMs,
      requestedStallMs: stall,
    };
  }

  private settle(
    gen: Generation,
    reservation: Reservation,
    req: FastifyRequest,
    httpStatus: number,
  ): void {
    try {
      // The hold shrinks to the actual charge until billing's balance update includes it.
      reservation.settle(gen.id, this.billing.bill(gen).cost.chargedMicros);
      this.usageEvents.finish(gen, req, httpStatus);
    } catch (e) {
      reservation.release();
      this.log.error(`generation ${gen.id} not settled: ${(e as Error).stack ?? String(e)}`);
    }
  }
}
