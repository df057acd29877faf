import { Injectable, Logger } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  zeroTokens,
  type AttemptRole,
  type NativeTokens,
  type UsageEventV1,
} from '@turnpike/contracts';
import {
  ApiError,
  isApiError,
  parseChatCompletionRequest,
  serviceUnavailable,
  timeout,
  type ChatCompletionRequest,
} from '@turnpike/openai-api';
import { countTokens, estimatePrompt, estimateUsage } from '@turnpike/providers';
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
import { metrics } from '@turnpike/service-kit';
import { ReplyInboxService } from '../transport/reply-inbox.service.js';
import { UsagePublisher } from '../usage/usage-publisher.service.js';
import { StreamAnswer, UnaryAnswer, type AnswerOutput } from './answer-output.js';
import {
  AttemptRunner,
  BROKER_RETRY_AFTER_SEC,
  type AttemptOutcome,
} from './attempt-runner.service.js';
import { presentUsage } from './completion.presenter.js';
import { Generation, type ServedPart } from './generation.js';
import { newGenerationId } from './generation-id.js';
import { RetryBudget, sameEndpointRetry } from './retry-policy.js';
import { RoutePlanner, type Candidate, type FallbackPlan } from './route-planner.service.js';

type Json = Record<string, unknown>;

const midstreamFailures = metrics.counter(
  'turnpike_midstream_failures_total',
  'Attempts that failed after output had reached the client (cut, stall, reset, in-stream error).',
  ['provider', 'code'],
);
const midstreamRecoveries = metrics.counter(
  'turnpike_midstream_recoveries_total',
  'What became of answers whose attempt failed after output: continued on another endpoint from a prefill, restarted (no text had reached the client), or failed (an in-band error).',
  ['outcome'],
);
const sameEndpointRetries = metrics.counter(
  'turnpike_same_endpoint_retries_total',
  'Same-endpoint retries after a transient failure before any output: served, failed, or skipped because the endpoint retry budget was spent.',
  ['outcome'],
);

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

/** What the tenant is billed for a generation, per serving attempt and in all. */
interface Bill {
  cost: UsageEventV1['cost'];
  tokens: NativeTokens;
  usageReported: boolean;
  parts: Array<{
    part: ServedPart;
    tokens: NativeTokens;
    upstreamMicros: number;
    chargedMicros: number;
  }>;
}

/**
 * Serves `POST /v1/chat/completions`: validates the request, routes it to ranked endpoints
 * from the in-memory routing table, runs one attempt at a time over Kafka (AttemptRunner) and
 * decides what follows a failure: a retry of the same endpoint, a fallback before any output, a
 * continuation of the answer after output; relays the answer (SSE or JSON) and publishes the
 * generation's usage event.
 */
@Injectable()
export class CompletionsService {
  private readonly log = new Logger(CompletionsService.name);
  private inFlight = 0;
  /** Generations whose HTTP exchange is over but whose usage event waits for late counts. */
  private readonly settling = new Set<Generation>();
  /** Same-endpoint retries each endpoint may still take (this gateway's memory). */
  private readonly retryBudget = new RetryBudget();

  constructor(
    private readonly config: GatewayConfig,
    private readonly planner: RoutePlanner,
    private readonly runner: AttemptRunner,
    private readonly inbox: ReplyInboxService,
    private readonly usage: UsagePublisher,
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

    // The broker is unreachable: say so at once rather than queue the request for it.
    const down = this.inbox.unavailable();
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
    const present = (upstream: Json | null) => this.presentUsage(gen, upstream);
    const out = gen.stream
      ? new StreamAnswer(gen, reply, baseHeaders, present, this.config.streamBufferBytes)
      : new UnaryAnswer(gen, reply, baseHeaders, present);
    try {
      await context.with(trace.setSpan(context.active(), span), () =>
        this.serve(gen, candidates, out, abort.signal),
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
      reservation.settle(gen.id, this.bill(gen).cost.chargedMicros);
      this.finish(gen, req, httpStatus);
    } catch (e) {
      reservation.release();
      this.log.error(`generation ${gen.id} not settled: ${(e as Error).stack ?? String(e)}`);
    }
  }

  /**
   * The request's attempts, one at a time, and what follows each failure:
   * - nothing reached the client yet: the same endpoint once more (a transient failure, within
   *   its retry budget, when no other candidate is quicker), else the next candidate (fallback);
   * - output reached the client (a cut, a stall, an in-stream error): the next candidate that
   *   continues a prefill resumes the answer from the text delivered (or any candidate restarts
   *   it when only reasoning was delivered); two answers are never mixed, so when nothing can
   *   continue the stream ends with the in-band error.
   */
  private async serve(
    gen: Generation,
    candidates: Candidate[],
    out: AnswerOutput,
    signal: AbortSignal,
  ): Promise<void> {
    const plan = this.planner.fallbacks(candidates, gen.body);
    let candidate = plan.next();
    let role: AttemptRole = 'primary';
    let retried = false;
    while (candidate) {
      const c: Candidate = candidate;
      const continuation = role === 'continuation';
      const body = continuation ? this.continuationBody(gen, out.prefill()) : (gen.body as Json);
      out.begin(role, c);
      // This attempt's output as the client receives it (what its late count falls back on).
      const { tally } = out.delivery();
      if (role !== 'retry') this.retryBudget.noteRequest(c.endpoint.id);
      const outcome = await this.runner.run(
        gen,
        {
          candidate: c,
          role,
          body,
          limitFirstOutput: out.committed
            ? plan.hasMore(out.recovery() === 'continue')
            : plan.hasMore(),
          onChunk: (r) => out.chunk(r),
          estimate: () => estimateUsage(body, tally),
        },
        signal,
      );
      if (role === 'retry')
        sameEndpointRetries.inc({ outcome: outcome.kind === 'done' ? 'served' : 'failed' });
      if (continuation)
        this.log.log(
          `generation ${gen.id} attempt ${gen.attemptCount} (continuation) on ${c.endpoint.id}: ${outcome.kind}`,
        );
      if (outcome.kind !== 'failed') return this.conclude(gen, c, out, outcome);

      // The attempt failed. What of it reached the client is billed as delivered.
      const { error } = outcome;
      const delivery = out.delivery();
      if (delivery.delivered && out.committed)
        this.servedPart(gen, outcome.entry, c, 'cut', delivery);
      const what = `generation ${gen.id} attempt ${outcome.entry.attempt} on ${c.endpoint.id} failed (${error.code ?? error.status})`;

      if (!out.committed) {
        // Nothing reached the client: retry the same endpoint, fall back, or answer the error.
        if (!outcome.retryable) {
          this.log.warn(`${what}; not retryable`);
          return this.failWith(gen, out, error);
        }
        if (outcome.cause === 'upstream' && outcome.reply) {
          const waitMs = this.retryWait(gen, c, plan, outcome, retried);
          if (waitMs !== null) {
            this.log.warn(`${what}; retrying ${c.endpoint.id} in ${waitMs} ms`);
            retried = true;
            role = 'retry';
            try {
              await sleep(waitMs, undefined, { signal });
            } catch {
              gen.status = 'cancelled';
              out.abandon();
              return;
            }
            continue;
          }
        }
        plan.failed(c, error);
        candidate = plan.next();
        if (!candidate) {
          this.log.warn(`${what}; no candidate left`);
          return this.failWith(gen, out, error);
        }
        this.log.warn(`${what}; falling back to ${candidate.endpoint.id}`);
        role = 'fallback';
        retried = false;
        continue;
      }

      // Output reached the client: resume the answer elsewhere, or end it with the error.
      midstreamFailures.inc({ provider: c.endpoint.provider, code: error.code ?? 'unknown' });
      const how = outcome.retryable ? out.recovery() : 'impossible';
      candidate = how === 'continue' ? plan.nextPrefill() : how === 'restart' ? plan.next() : null;
      if (!candidate) {
        midstreamRecoveries.inc({ outcome: 'failed' });
        const why =
          how === 'impossible'
            ? 'the answer cannot be resumed (tool calls or several choices were sent, or the error is final)'
            : how === 'continue'
              ? 'no candidate left that continues a prefill'
              : 'no candidate left';
        this.log.warn(`${what} after output reached the client; ${why}: ending the stream`);
        return this.failWith(gen, out, error);
      }
      midstreamRecoveries.inc({ outcome: how === 'continue' ? 'continued' : 'restarted' });
      this.log.warn(
        how === 'continue'
          ? `${what} after output reached the client; continuing on ${candidate.endpoint.id} from the ${out.prefill().length} characters delivered`
          : `${what} after output reached the client (no text yet); restarting the answer on ${candidate.endpoint.id}`,
      );
      role = 'continuation';
      retried = false;
    }
  }

  /**
   * The wait before retrying the endpoint that just failed, or null when it is not retried: a
   * transient failure before any output, once, when it fits the deadline, when no other
   * candidate is usable now or the wait is shorter than the next one's expected first token,
   * and within the endpoint's retry budget.
   */
  private retryWait(
    gen: Generation,
    c: Candidate,
    plan: FallbackPlan,
    outcome: Extract<AttemptOutcome, { kind: 'failed' }>,
    retried: boolean,
  ): number | null {
    const next = plan.peek();
    const decision = sameEndpointRetry({
      error: {
        code: outcome.reply?.code ?? null,
        retryable: outcome.retryable,
        retryAfterSec: outcome.reply?.retryAfterSec ?? null,
        upstreamStatus: outcome.reply?.upstreamStatus ?? null,
      },
      chunksSent: outcome.chunksSent,
      retriedAlready: retried,
      timeLeftMs: this.config.requestTimeoutMs - (performance.now() - gen.t0),
      next: next ? this.planner.outlook(next) : null,
      random: Math.random,
    });
    if (!decision.retry) return null;
    if (!this.retryBudget.tryAcquire(c.endpoint.id)) {
      sameEndpointRetries.inc({ outcome: 'skipped_budget' });
      this.log.warn(
        `generation ${gen.id}: not retrying ${c.endpoint.id}, its retry budget is spent`,
      );
      return null;
    }
    return decision.waitMs;
  }

  /** How the request ends when its last attempt did not fail (or never left). */
  private conclude(
    gen: Generation,
    c: Candidate,
    out: AnswerOutput,
    outcome: Exclude<AttemptOutcome, { kind: 'failed' }>,
  ): void {
    switch (outcome.kind) {
      case 'done': {
        const r = outcome.reply;
        this.servedPart(gen, outcome.entry, c, 'completed', out.delivery(), r);
        out.done(r, outcome.roundTripMs);
        return;
      }
      case 'cancelled':
        // The client left: it pays for what was produced (the connector's count, when it comes).
        this.servedPart(gen, outcome.entry, c, 'cancelled', out.delivery());
        gen.status = 'cancelled';
        out.abandon();
        return;
      case 'refused':
        return this.failWith(gen, out, outcome.error);
      case 'lost':
        return this.failWith(gen, out, outcome.error);
      case 'timeout':
        return this.failWith(
          gen,
          out,
          out.committed
            ? timeout('The upstream stream stalled.')
            : timeout('The request timed out.'),
        );
    }
  }

  private failWith(gen: Generation, out: AnswerOutput, error: ApiError): void {
    gen.status = 'error';
    gen.error = error;
    out.fail(error);
  }

  private servedPart(
    gen: Generation,
    entry: ServedPart['entry'],
    candidate: Candidate,
    ending: ServedPart['ending'],
    delivery: ReturnType<AnswerOutput['delivery']>,
    end: Pick<ServedPart, 'finishReason' | 'nativeFinishReason'> | null = null,
  ): void {
    entry.served = true;
    gen.parts.push({
      entry,
      candidate,
      ending,
      delivered: delivery.tally,
      dropped: delivery.dropped,
      finishReason: end?.finishReason ?? null,
      nativeFinishReason: end?.nativeFinishReason ?? null,
    });
  }

  /**
   * The request a continuation sends: the same, plus an assistant message holding the text
   * already delivered (the prefill every prefill-capable adapter maps to its provider's
   * continuation), with the output limit lowered by what was delivered.
   */
  private continuationBody(gen: Generation, prefill: string): Json {
    const body = gen.body as Json;
    if (prefill === '') return body;
    const out: Json = {
      ...body,
      messages: [...gen.body.messages, { role: 'assistant', content: prefill }],
    };
    const said = countTokens(prefill);
    for (const k of ['max_tokens', 'max_completion_tokens'] as const) {
      const v = body[k];
      if (typeof v === 'number') out[k] = Math.max(1, v - said);
    }
    return out;
  }

  /**
   * What the tenant pays (docs/architecture.md, "Money"): the first serving attempt's prompt
   * once, and every completion token delivered, at the price of the endpoint that produced it,
   * each with its model's markup. A continuation's prompt and output that never reached the
   * client are our cost. An errored generation, or one that delivered no completion, is free.
   */
  private bill(gen: Generation): Bill {
    const parts = gen.status === 'error' ? [] : gen.parts;
    const billed = parts.map((part, i) => ({ part, tokens: this.billedTokens(gen, part, i) }));
    const completion = billed.reduce((a, b) => a + b.tokens.completion, 0);
    const priced = this.charges.priceParts(
      gen.auth,
      billed.map((b) => ({ candidate: b.part.candidate, tokens: b.tokens })),
      gen.status !== 'error' && completion > 0,
    );
    const tokens = zeroTokens();
    for (const b of billed)
      for (const k of Object.keys(tokens) as Array<keyof NativeTokens>) tokens[k] += b.tokens[k];
    return {
      cost: {
        currency: 'USD',
        upstreamMicros: priced.upstreamMicros,
        chargedMicros: priced.chargedMicros,
      },
      tokens,
      usageReported:
        parts.length > 0 && parts.every((p) => p.ending !== 'cut' && p.entry.usageReported),
      parts: billed.map((b, i) => ({ ...b, ...priced.parts[i]! })),
    };
  }

  /** The tokens of one serving attempt the tenant pays for. */
  private billedTokens(gen: Generation, part: ServedPart, index: number): NativeTokens {
    const used = part.entry.tokens;
    let completion = used.completion;
    let reasoning = used.reasoning;
    if (part.ending === 'cut') {
      // Only what reached the client; the rest of what it produced is ours.
      ({ completion, reasoning } = part.delivered.tokens());
    } else if (part.ending === 'completed' && part.dropped !== '') {
      completion = Math.max(0, completion - countTokens(part.dropped));
      reasoning = Math.min(reasoning, completion);
    }
    if (index > 0) return { ...zeroTokens(), completion, reasoning };
    // The first serving attempt's prompt: the upstream's count, or for a cut attempt the
    // estimate the connector bills it by (the same estimator on the same request).
    const prompt =
      part.ending === 'cut'
        ? { prompt: estimatePrompt(gen.body as Json).tokens, cachedRead: 0, cacheWrite: 0 }
        : { prompt: used.prompt, cachedRead: used.cachedRead, cacheWrite: used.cacheWrite };
    return { ...prompt, completion, reasoning };
  }

  /** OpenAI usage plus OpenRouter's `cost` and `cost_details` (see completion.presenter.ts). */
  private presentUsage(gen: Generation, upstream: Json | null): Json {
    const bill = this.bill(gen);
    const last = gen.last!;
    const single = bill.parts.length === 1;
    return {
      ...presentUsage(
        bill.tokens,
        // A resumed answer's counts are ours (the sum of its parts), not the last upstream's.
        single ? upstream : null,
        bill.cost,
        last.candidate.endpoint.pricing,
        single
          ? undefined
          : bill.parts.map((p) => ({
              tokens: p.tokens,
              price: p.part.candidate.endpoint.pricing,
              upstreamMicros: p.upstreamMicros,
            })),
      ),
      // Some counts are our tokenizer's (and billed as such).
      ...(bill.usageReported ? {} : { estimated: true }),
    };
  }

  private finish(gen: Generation, req: FastifyRequest, httpStatus: number): void {
    const latencyMs = round((gen.endedAt ?? performance.now()) - gen.t0);
    const bill = this.bill(gen);
    for (const p of bill.parts) {
      p.part.entry.billedTokens = p.tokens;
      p.part.entry.billedUpstreamMicros = p.upstreamMicros;
      p.part.entry.chargedMicros = p.chargedMicros;
    }
    const last = gen.last;
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
      // What served the end of the answer.
      model: last?.candidate.model.id ?? null,
      provider: last?.candidate.endpoint.provider ?? null,
      endpointId: last?.candidate.endpoint.id ?? null,
      accountId: last?.entry.accountId ?? null,
      stream: gen.stream,
      status: gen.status,
      finishReason: last?.finishReason ?? null,
      nativeFinishReason: last?.nativeFinishReason ?? null,
      tokens: bill.tokens,
      usageReported: bill.usageReported,
      cost: bill.cost,
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
    gen.span.setAttribute('turnpike.attempts', gen.attempts.length);
    if (gen.status !== 'success')
      gen.span.setStatus({ code: SpanStatusCode.ERROR, message: gen.error?.message ?? gen.status });
    gen.span.end();
  }
}

function header(req: FastifyRequest, name: string): string | null {
  const v = req.headers[name];
  const s = Array.isArray(v) ? v[0] : v;
  return s ? s.slice(0, 512) : null;
}

const round = (ms: number): number => Math.round(ms * 100) / 100;
