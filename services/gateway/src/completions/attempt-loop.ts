import { Injectable, Logger } from '@nestjs/common';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import type { AttemptRole } from '@turnpike/contracts';
import { timeout, type ApiError } from '@turnpike/openai-api';
import { countTokens, estimateUsage } from '@turnpike/providers';
import { metrics } from '@turnpike/service-kit';
import { GatewayConfig } from '../gateway.config.js';
import type { AnswerOutput } from './answer-output.js';
import { AttemptRunner, type AttemptOutcome } from './attempt-runner.service.js';
import type { Generation, ServedPart } from './generation.js';
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

/**
 * One loop for every request, unary or streamed: runs its attempts one at a time (AttemptRunner,
 * over the generation transport) and decides what follows each: the answer is done, the same
 * endpoint once more, a fallback, a continuation of an answer already under way, or the error.
 * What the attempts produce goes to the answer (`AnswerOutput`: JSON or SSE).
 */
@Injectable()
export class AttemptLoop {
  private readonly log = new Logger('CompletionsService');
  /** Same-endpoint retries each endpoint may still take (this gateway's memory). */
  private readonly retryBudget = new RetryBudget();

  constructor(
    private readonly config: GatewayConfig,
    private readonly planner: RoutePlanner,
    private readonly runner: AttemptRunner,
  ) {}

  /**
   * The request's attempts, one at a time, and what follows each failure:
   * - nothing reached the client yet: the same endpoint once more (a transient failure, within
   *   its retry budget, when no other candidate is quicker), else the next candidate (fallback);
   * - output reached the client (a cut, a stall, an in-stream error): the next candidate that
   *   continues a prefill resumes the answer from the text delivered (or any candidate restarts
   *   it when only reasoning was delivered); two answers are never mixed, so when nothing can
   *   continue the stream ends with the in-band error.
   */
  async serve(
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
          onChunk: (chunk) => out.chunk(chunk),
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
}
