import { performance } from 'node:perf_hooks';
import type { UsageAttempt, UsageEventV1 } from '@turnpike/contracts';
import type { ApiError, ChatCompletionRequest } from '@turnpike/openai-api';
import type { OutputTally } from '@turnpike/providers';
import type { Span } from '@turnpike/telemetry';
import type { AuthContext } from '../auth/auth-context.js';
import type { Candidate } from './route-planner.service.js';

/**
 * One attempt whose output reached the client (or that completed the answer): what the tenant
 * pays for is computed from these, in order, when the generation ends.
 */
export interface ServedPart {
  entry: UsageAttempt;
  candidate: Candidate;
  /**
   * `completed`: the attempt ended the answer (its counts are the upstream's). `cut`: it failed
   * after some of its output reached the client (a continuation took over, or the answer ended
   * with an in-band error). `cancelled`: the client left while it ran.
   */
  ending: 'completed' | 'cut' | 'cancelled';
  /** What of its output reached the client (streams). */
  delivered: OutputTally;
  /** The repeated tail of the prefill it began with, dropped (a continuation's). */
  dropped: string;
  finishReason: string | null;
  nativeFinishReason: string | null;
}

/** Everything about one generation that its attempts, its answer and its usage event need. */
export class Generation {
  readonly createdAt = new Date();
  readonly t0 = performance.now();
  readonly attempts: UsageAttempt[] = [];
  /** The attempts that served the answer, in order: the last one served its end. */
  readonly parts: ServedPart[] = [];
  firstTokenAt: number | null = null;
  status: UsageEventV1['status'] = 'success';
  error: ApiError | null = null;
  /** Final token counts of cancelled attempts still awaited; each settles by LATE_COUNT_MAX_MS. */
  readonly pending: Promise<void>[] = [];
  /** Cuts those waits short (shutdown): the gateway's estimates stand in. */
  readonly settleNow = new AbortController();
  /** When the HTTP exchange ended (the usage event's latency; its publication may be later). */
  endedAt: number | null = null;
  /** Attempts made so far (each request message is numbered from 1). */
  attemptCount = 0;

  constructor(
    readonly id: string,
    readonly auth: AuthContext,
    readonly body: ChatCompletionRequest,
    readonly span: Span,
    /** This request's time limits (its `provider` settings, or the gateway's defaults). */
    readonly limits: {
      firstTokenTimeoutMs: number;
      stallTimeoutMs: number;
      /** The request's own stall limit, forwarded to the connector (null: its default). */
      requestedStallMs: number | null;
    },
  ) {}

  get stream(): boolean {
    return this.body.stream === true;
  }

  /** The part that served the end of the answer. */
  get last(): ServedPart | null {
    return this.parts.at(-1) ?? null;
  }
}
