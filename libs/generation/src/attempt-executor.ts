import { performance } from 'node:perf_hooks';
import {
  TOPICS,
  UPSTREAM_ERROR_CODES,
  zeroTokens,
  type AccountFailure,
  type AttemptOutcome,
  type AttemptTiming,
  type LlmAttemptV1,
  type LlmGenerateV1,
  type NativeTokens,
} from '@turnpike/contracts';
import {
  callUpstream,
  connectorError,
  createUpstreamAgent,
  estimateUsage,
  OutputTally,
  providerNotConfigured,
  secretsOf,
  UpstreamAborted,
  UpstreamError,
  withoutSecret,
  type ParsedCompletion,
  type UpstreamEvent,
} from '@turnpike/providers';
import {
  failSpan,
  injectContext,
  SpanKind,
  SpanStatusCode,
  trace,
  tracer,
  type Context,
} from '@turnpike/telemetry';
import type { AccountOutcome } from './accounts/key-pool.js';
import type { Acquired, Lease } from './accounts/account-book.js';
import type { ReplyBody, ReplySink } from './reply-sink.js';

/** Where the executor finds an account of a provider (the connector's `AccountBook`). */
export interface AccountSource {
  acquire(providerId: string, tried: ReadonlySet<string>): Acquired;
}

/** Where each attempt's record goes (`llm.attempts.v1`, for routing health and analytics). */
export type AttemptRecordSink = (
  record: LlmAttemptV1,
  headers: Record<string, string>,
) => Promise<void>;

/** What the executor counts (Prometheus in the services; the deployment names them). */
export interface ExecutorMetrics {
  malformedEvent(provider: string): void;
  stall(provider: string): void;
  upstreamError(provider: string, code: string): void;
  upstreamTtft(provider: string, seconds: number): void;
}

export interface ExecutorLog {
  warn(message: string): void;
  debug(message: string): void;
  error(message: string): void;
}

export interface ExecutorOptions {
  accounts: AccountSource;
  records: AttemptRecordSink;
  metrics: ExecutorMetrics;
  log: ExecutorLog;
  /** The stall limit when the request sets none (CONNECTOR_STALL_MS, GATEWAY_STALL_TIMEOUT_MS). */
  stallMs: number;
}

/**
 * Runs one attempt of one generation against its upstream and hands the result to a reply sink,
 * in order: one chunk reply per upstream chunk, then the final reply (`end`, `completion` or
 * `error`). It knows nothing of how the replies travel (Kafka to the gateway that asked, or
 * straight to the gateway's own attempt loop in fused mode) nor of any framework. Role-only
 * chunks are held back until the first chunk with output, so that a stream failing before its
 * first token reaches the gateway as an error with `chunksSent: 0` and can still fall back.
 */
export class AttemptExecutor {
  private readonly agent = createUpstreamAgent();
  private readonly log: ExecutorLog;
  private readonly m: ExecutorMetrics;

  constructor(private readonly o: ExecutorOptions) {
    this.log = o.log;
    this.m = o.metrics;
  }

  /** Closes the upstream connections (at shutdown, after the last attempt). */
  async close(): Promise<void> {
    await this.agent.close();
  }

  /**
   * One line per failure for operators: the upstream's own words, with every secret of the
   * account removed first; the account by id, never by anything of its secret.
   */
  private logFailure(
    req: LlmGenerateV1,
    failure: UpstreamError,
    secrets: string[],
    accountId: string | null,
    movingOn = false,
  ): void {
    const { reply, detail } = failure;
    const upstream =
      detail.upstreamStatus !== null ? `HTTP ${detail.upstreamStatus}` : 'no HTTP answer';
    const own = [detail.providerCode, detail.providerType].filter((x) => x !== null).join('/');
    let line =
      `generation ${req.generationId} attempt ${req.attempt} on ${req.endpoint.id}` +
      (accountId ? ` with account ${accountId}` : '') +
      `: ${reply.code} (${upstream}${own ? `, ${own}` : ''})` +
      (detail.providerMessage !== null ? `: ${detail.providerMessage}` : '') +
      (movingOn ? '; trying another account of the provider' : '');
    for (const s of secrets) line = withoutSecret(line, s, '[provider key]');
    if (OPERATOR_CODES.has(reply.code)) this.log.warn(line);
    else this.log.debug(line);
  }

  /**
   * The account for the next try of an attempt, from the provider's key pool. None left after
   * accounts failed: the last failure stands. None at all: the provider is not configured (our
   * configuration error), or every account is cooling down after 429s (the provider throttles us).
   */
  private lease(
    providerId: string,
    tried: ReadonlySet<string>,
    lastFailure: UpstreamError | null,
  ): Lease {
    const got = this.o.accounts.acquire(providerId, tried);
    if (got.ok) return got.lease;
    if (lastFailure) throw lastFailure;
    throw providerNotConfigured(providerId, got.why);
  }

  /** One upstream call with one account, its events handed to `on`. */
  private async callWith(
    lease: Lease,
    req: LlmGenerateV1,
    signal: AbortSignal,
    on: {
      completion: (parsed: ParsedCompletion) => void;
      chunk: (
        chunk: Record<string, unknown>,
        hasOutput: boolean,
        held: Record<string, unknown>[],
      ) => void;
      end: (ev: Extract<UpstreamEvent, { type: 'end' }>, held: Record<string, unknown>[]) => void;
      malformed: () => void;
    },
  ): Promise<void> {
    // Role-only chunks wait here until the first chunk with output.
    const held: Record<string, unknown>[] = [];
    for await (const ev of callUpstream({
      adapter: lease.adapter,
      connection: lease.connection,
      call: {
        body: req.body,
        upstreamModel: req.endpoint.upstreamModel,
        stream: req.stream,
        maxOutputTokens: req.endpoint.maxOutputTokens || undefined,
      },
      requireParameters: requireParametersOf(req.body),
      signal,
      deadlineAt: req.deadlineAt,
      dispatcher: this.agent,
      stallTimeoutMs: req.stallTimeoutMs ?? this.o.stallMs,
    })) {
      if (ev.type === 'completion') on.completion(ev.parsed);
      else if (ev.type === 'chunk') on.chunk(ev.chunk, ev.hasOutput, held);
      else if (ev.type === 'malformed') on.malformed();
      else on.end(ev, held);
    }
  }

  /**
   * Runs the attempt; resolves once its replies and its record are handed over (a failure to
   * deliver them is logged, never thrown: the caller's deadline covers a reply that never came).
   */
  async run(
    req: LlmGenerateV1,
    sink: ReplySink,
    signal: AbortSignal,
    parent: Context,
    receivedAt: number,
  ): Promise<void> {
    const span = tracer().startSpan(
      `${TOPICS.llmRequests} process`,
      {
        kind: SpanKind.CONSUMER,
        attributes: {
          'messaging.system': 'kafka',
          'messaging.destination.name': TOPICS.llmRequests,
          'turnpike.generation_id': req.generationId,
          'turnpike.attempt': req.attempt,
          'turnpike.provider': req.endpoint.provider,
        },
      },
      parent,
    );
    const ctx = trace.setSpan(parent, span);
    const headers = injectContext(ctx);
    const reply = (body: ReplyBody): void => sink.reply(body, headers);

    let upstreamStart = performance.now();
    let firstOutputAt: number | null = null;
    let chunksSent = 0;
    // Stream events skipped as malformed (the attempt fails only past the tolerance).
    let malformedEvents = 0;
    // Everything the upstream generated, for an estimate when it reports no usage.
    let output = new OutputTally();
    let tokens: NativeTokens = zeroTokens();
    let outcome: AttemptOutcome = 'success';
    let upstreamStatus: number | null = null;
    let errorCode: string | null = null;
    let providerCode: string | null = null;
    let retryAfterSec: number | null = null;
    const timing = (): AttemptTiming => {
      const now = performance.now();
      return {
        connectorQueueMs: round(upstreamStart - receivedAt),
        upstreamTtftMs: firstOutputAt === null ? null : round(firstOutputAt - upstreamStart),
        upstreamMs: round(now - upstreamStart),
        connectorMs: round(now - receivedAt),
      };
    };

    const upstreamSpan = tracer().startSpan(
      `POST ${req.endpoint.provider} chat/completions`,
      {
        kind: SpanKind.CLIENT,
        attributes: {
          'gen_ai.system': req.endpoint.provider,
          'gen_ai.request.model': req.endpoint.upstreamModel,
          'turnpike.stream': req.stream,
        },
      },
      ctx,
    );
    // The provider's key pool: an account for this attempt, and another account of the same
    // provider when one is throttled (429) or refused (401/403/402) before any output was sent.
    const tried = new Set<string>();
    const accountFailures: AccountFailure[] = [];
    let lastFailure: UpstreamError | null = null;
    let lease: Lease | null = null;
    let accountId: string | null = null;
    let secrets: string[] = [];
    try {
      for (;;) {
        lease = this.lease(req.endpoint.provider, tried, lastFailure);
        accountId = lease.account.record.id;
        tried.add(accountId);
        secrets = secretsOf(lease.connection);
        upstreamSpan.setAttribute('turnpike.account_id', accountId);
        try {
          upstreamStart = performance.now();
          await this.callWith(lease, req, signal, {
            completion: (parsed) => {
              firstOutputAt = performance.now();
              // A silent upstream (no `usage`) is billed on our own count of prompt and answer.
              if (!parsed.usageReported) output.addCompletion(parsed.completion);
              tokens = parsed.usageReported ? parsed.tokens : estimateUsage(req.body, output);
              reply({
                type: 'completion',
                completion: parsed.completion,
                tokens,
                usageReported: parsed.usageReported,
                finishReason: parsed.finishReason,
                nativeFinishReason: parsed.nativeFinishReason,
                timing: timing(),
                accountId,
              });
              chunksSent = 1;
            },
            chunk: (chunk, hasOutput, held) => {
              output.addChunk(chunk);
              if (firstOutputAt === null && !hasOutput) {
                held.push(chunk);
                return;
              }
              if (firstOutputAt === null) {
                firstOutputAt = performance.now();
                upstreamSpan.addEvent('first_token');
              }
              for (const c of held.splice(0)) {
                reply({ type: 'chunk', chunk: c });
                chunksSent++;
              }
              reply({ type: 'chunk', chunk });
              chunksSent++;
            },
            end: (ev, held) => {
              // Upstream finished. Anything still held (an empty answer) goes out now.
              for (const c of held.splice(0)) {
                reply({ type: 'chunk', chunk: c });
                chunksSent++;
              }
              // A silent upstream (no usage chunk) is billed on our own count of prompt and output.
              tokens = ev.tokens ?? estimateUsage(req.body, output);
              reply({
                type: 'end',
                tokens,
                usageReported: ev.tokens !== null,
                finishReason: ev.finishReason,
                nativeFinishReason: ev.nativeFinishReason,
                timing: timing(),
                accountId,
              });
            },
            malformed: () => {
              malformedEvents++;
              this.m.malformedEvent(req.endpoint.provider);
            },
          });
          lease.end({ kind: 'success' });
          break;
        } catch (e) {
          if (!(e instanceof UpstreamError)) throw e;
          const outcome = accountOutcomeOf(e);
          lease.end(outcome);
          const another =
            chunksSent === 0 &&
            (outcome.kind === 'rate_limited' || outcome.kind === 'refused') &&
            !signal.aborted &&
            Date.now() < req.deadlineAt;
          if (!another) throw e;
          // This account's own trouble: another account of the provider may serve the attempt.
          this.m.upstreamError(req.endpoint.provider, e.reply.code ?? 'unknown');
          this.logFailure(req, e, secrets, accountId, true);
          upstreamSpan.addEvent('account_failed', {
            'turnpike.account_id': accountId,
            'turnpike.error_code': e.reply.code ?? '',
          });
          accountFailures.push({
            accountId,
            errorCode: e.reply.code,
            upstreamStatus: e.reply.upstreamStatus,
            retryAfterSec: e.reply.retryAfterSec,
          });
          lastFailure = e;
          // Nothing of the failed try reached the gateway: its output starts over.
          output = new OutputTally();
          firstOutputAt = null;
        }
      }
      upstreamStatus = 200;
    } catch (e) {
      lease?.end(
        e instanceof UpstreamAborted ? { kind: 'cancelled' } : { kind: 'other', errorCode: null },
      );
      if (e instanceof UpstreamAborted) {
        // Cancelled by the client, or by the gateway because the attempt took too long (its
        // per-attempt or whole deadline): the latter is the endpoint's failure, for routing.
        const slow = signal.reason === 'timeout' || signal.reason === 'superseded';
        outcome = slow ? 'timeout' : 'cancelled';
        if (slow) errorCode = 'timeout';
        upstreamSpan.addEvent('cancelled');
        // The client is gone, but what was produced is still billed: report an estimate. The
        // upstream had the prompt (it was cancelled while working on it): that is billed too.
        tokens = estimateUsage(req.body, output);
        reply({
          type: 'end',
          tokens,
          usageReported: false,
          finishReason: null,
          nativeFinishReason: null,
          timing: timing(),
          accountId,
        });
      } else {
        // Every failure went through the one error policy: `reply` is what the client may see,
        // `detail` (the upstream's own words) stays here, in the logs and the attempt record.
        const failure = e instanceof UpstreamError ? e : connectorError(e);
        const err = failure.reply;
        outcome = err.status === 504 ? 'timeout' : 'error';
        upstreamStatus = err.upstreamStatus;
        errorCode = err.code;
        this.m.upstreamError(req.endpoint.provider, err.code ?? 'unknown');
        if (errorCode === UPSTREAM_ERROR_CODES.stalled) {
          this.m.stall(req.endpoint.provider);
          upstreamSpan.addEvent('stalled', { 'turnpike.chunks_sent': chunksSent });
        }
        providerCode = failure.detail.providerCode;
        retryAfterSec = err.retryAfterSec;
        this.logFailure(req, failure, secrets, accountId);
        upstreamSpan.setAttribute('turnpike.error_code', err.code ?? '');
        if (providerCode !== null)
          upstreamSpan.setAttribute('turnpike.provider_code', providerCode);
        failSpan(upstreamSpan, failure);
        // What this failed attempt cost us. An upstream that fails before any output charges
        // nothing (OpenAI, Anthropic: no charge for 4xx/5xx/429). After output began, the prompt
        // and what was produced are billed: count them (docs/architecture.md, "Money").
        tokens = output.chars > 0 ? estimateUsage(req.body, output) : zeroTokens();
        reply({ type: 'error', error: err, chunksSent, tokens, timing: timing(), accountId });
      }
    } finally {
      upstreamSpan.end();
    }

    const t = timing();
    if (t.upstreamTtftMs !== null)
      this.m.upstreamTtft(req.endpoint.provider, t.upstreamTtftMs / 1000);
    const attempt: LlmAttemptV1 = {
      v: 1,
      generationId: req.generationId,
      attempt: req.attempt,
      endpointId: req.endpoint.id,
      provider: req.endpoint.provider,
      upstreamModel: req.endpoint.upstreamModel,
      outcome,
      upstreamStatus,
      errorCode,
      providerCode,
      retryAfterSec,
      accountId,
      accountFailures,
      ttftMs: t.upstreamTtftMs,
      latencyMs: t.upstreamMs,
      tokens,
      malformedEvents,
      endedAt: Date.now(),
    };
    const delivered = Promise.all([sink.flush(), this.o.records(attempt, headers)]);
    try {
      await delivered;
      span.setStatus({ code: outcome === 'success' ? SpanStatusCode.OK : SpanStatusCode.ERROR });
    } catch (e) {
      this.log.error(`replies of ${req.generationId} were not delivered: ${(e as Error).message}`);
      failSpan(span, e);
    } finally {
      span.end();
    }
  }
}

/**
 * Failures that need an operator (our credentials, account, catalog or code) are warnings; the
 * rest (the tenant's invalid requests, rate limits, outages an endpoint's circuit handles) are
 * debug. The upstream's own words are logged, never the provider key: every piece of it is
 * removed first.
 */
const OPERATOR_CODES: ReadonlySet<string | null> = new Set([
  UPSTREAM_ERROR_CODES.auth,
  UPSTREAM_ERROR_CODES.payment,
  UPSTREAM_ERROR_CODES.notFound,
  UPSTREAM_ERROR_CODES.notConfigured,
  UPSTREAM_ERROR_CODES.connector,
]);

const round = (ms: number): number => Math.round(ms * 100) / 100;

/** What a failure says about the account it was made with (see the key pool). */
export function accountOutcomeOf(e: UpstreamError): AccountOutcome {
  const code = e.reply.code;
  if (code === UPSTREAM_ERROR_CODES.rateLimited)
    return { kind: 'rate_limited', retryAfterSec: e.reply.retryAfterSec, errorCode: code };
  if (code === UPSTREAM_ERROR_CODES.auth || code === UPSTREAM_ERROR_CODES.payment)
    return { kind: 'refused', errorCode: code };
  return { kind: 'other', errorCode: code };
}

/** `provider.require_parameters` of an OpenRouter-style request. */
function requireParametersOf(body: Record<string, unknown>): boolean {
  const p = body['provider'];
  return (
    typeof p === 'object' &&
    p !== null &&
    (p as Record<string, unknown>)['require_parameters'] === true
  );
}
