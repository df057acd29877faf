import { Injectable } from '@nestjs/common';
import {
  UPSTREAM_ERROR_CODES,
  type CatalogEndpoint,
  type CatalogModel,
  type ReplyError,
} from '@turnpike/contracts';
import {
  ApiError,
  invalidRequest,
  modelNotFound,
  serviceUnavailable,
  type ChatCompletionRequest,
} from '@turnpike/openai-api';
import { estimatePrompt } from '@turnpike/providers';
import {
  latencyOf,
  rankCandidates,
  resolveModel,
  routeRequestOf,
  tierOf,
  type Tier,
} from '@turnpike/routing';
import { RoutingTableService } from '../catalog/routing-table.service.js';
import { GatewayConfig } from '../gateway.config.js';

/** One place a request may be served: a model and one of its endpoints. */
export interface Candidate {
  model: CatalogModel;
  endpoint: CatalogEndpoint;
  /** How healthy the routing table said it was when the request was planned. */
  tier?: Tier;
}

/** The longest Retry-After this gateway honours by itself. */
const MAX_LOCAL_RETRY_AFTER_MS = 300_000;

/**
 * Turns a request into the ordered candidates its attempts go to, from the in-memory routing
 * table (no extra hop), with the pure ranking of libs/routing: the `models` fallback list, the
 * `provider` preferences, `:floor` / `:nitro`, and endpoint health. Throws the ApiError to answer
 * when nothing can serve it: 404 for an unknown model, 400 `context_length_exceeded` when the
 * prompt is too long for every endpoint (and nothing else excluded them), 404 `no_endpoints`
 * (with the reasons) when the request's constraints leave no endpoint, 503 when a model has no
 * enabled endpoint.
 */
@Injectable()
export class RoutePlanner {
  constructor(
    private readonly table: RoutingTableService,
    private readonly config: GatewayConfig,
  ) {}

  plan(body: ChatCompletionRequest, random: () => number = Math.random): Candidate[] {
    const request = routeRequestOf(body, estimatePrompt(body).low);
    const result = rankCandidates(request, {
      lookup: (id) => this.table.get(id),
      now: Date.now(),
      random,
      cooldowns: this.table.cooldowns(),
      maxCandidates: this.config.maxAttempts,
    });
    if (!result.ok) {
      if (result.status === 404 && result.code === 'no_endpoints')
        throw new ApiError({
          status: 404,
          type: 'invalid_request_error',
          code: result.code,
          message: result.message,
        });
      if (result.status === 404) {
        if (request.models.length <= 1) throw modelNotFound(body.model);
        throw new ApiError({
          status: 404,
          type: 'invalid_request_error',
          code: 'model_not_found',
          param: 'models',
          message: result.message,
        });
      }
      if (result.status === 400) throw invalidRequest(result.message, result.param, result.code);
      throw serviceUnavailable(result.message, undefined, { code: result.code });
    }
    return result.candidates;
  }

  /**
   * The attempts of one request, in order, with what failures teach along the way. The models
   * named besides the requested one (`models`) are the request's explicit fallbacks.
   */
  fallbacks(candidates: Candidate[], body: Pick<ChatCompletionRequest, 'model'>): FallbackPlan {
    const primary = resolveModel(body.model, (id) => this.table.get(id))?.entry.model.id;
    return new FallbackPlan(candidates, primary ?? body.model);
  }

  /**
   * What the gateway knows of a candidate right now: whether it is usable (no open circuit, no
   * Retry-After pending) and its expected time to first token (the routing table's health).
   */
  outlook(candidate: Candidate): { usable: boolean; expectedTtftMs: number | null } {
    return {
      usable: tierOf(candidate.endpoint, Date.now(), this.table.cooldowns()) !== 'unavailable',
      expectedTtftMs: latencyOf(candidate.endpoint),
    };
  }

  /** Learns from a failed attempt: an upstream's Retry-After takes effect on this gateway at once. */
  observeFailure(candidate: Candidate, error: ReplyError): void {
    if (error.retryAfterSec !== null && error.retryAfterSec > 0) {
      this.table.noteRetryAfter(
        candidate.endpoint.id,
        Date.now() + Math.min(error.retryAfterSec * 1000, MAX_LOCAL_RETRY_AFTER_MS),
      );
    }
  }
}

/**
 * The remaining candidates of one request. A failure can narrow them: after a context-length
 * error only endpoints with a larger window are worth trying, except those of a fallback model
 * the request named (`models`): the client asked for it, so it is tried whatever its declared
 * window (declared windows are not always what an upstream takes); when the connector has no
 * usable account for a provider (`provider_not_configured`), none of that provider's endpoints
 * is (the same configuration gap), but other providers' endpoints still are. Once text reached
 * the client, only endpoints that continue a prefill can serve the answer (`nextPrefill`).
 */
export class FallbackPlan {
  private readonly queue: Candidate[];

  constructor(
    candidates: Candidate[],
    /** The requested model: candidates of any other model were named by the client. */
    private readonly primaryModel: string = candidates[0]?.model.id ?? '',
  ) {
    this.queue = [...candidates];
  }

  next(): Candidate | null {
    return this.queue.shift() ?? null;
  }

  /**
   * The next candidate whose endpoint continues a prefill; those before it are dropped (they
   * cannot resume this answer, and a fresh answer may not be mixed into it).
   */
  nextPrefill(): Candidate | null {
    while (this.queue.length > 0) {
      const c = this.queue.shift()!;
      if (c.endpoint.supportsPrefill) return c;
    }
    return null;
  }

  /** The candidate `next()` would give, without taking it. */
  peek(): Candidate | null {
    return this.queue[0] ?? null;
  }

  /** Whether another candidate remains (one that continues a prefill, with `prefill`). */
  hasMore(prefill = false): boolean {
    return prefill ? this.queue.some((c) => c.endpoint.supportsPrefill) : this.queue.length > 0;
  }

  /** Whether the client named this candidate's model as a fallback (`models`). */
  named(c: Candidate): boolean {
    return c.model.id !== this.primaryModel;
  }

  /** Narrows the remaining candidates after `candidate` failed with `error`. */
  failed(candidate: Candidate, error: { code: string | null }): void {
    if (error.code === UPSTREAM_ERROR_CODES.notConfigured) {
      const provider = candidate.endpoint.provider;
      for (let i = this.queue.length - 1; i >= 0; i--) {
        if (this.queue[i]!.endpoint.provider === provider) this.queue.splice(i, 1);
      }
    }
    if (error.code === UPSTREAM_ERROR_CODES.contextLength) {
      const window = candidate.endpoint.contextLength;
      for (let i = this.queue.length - 1; i >= 0; i--) {
        const c = this.queue[i]!;
        if (c.endpoint.contextLength <= window && !this.named(c)) this.queue.splice(i, 1);
      }
    }
  }
}
