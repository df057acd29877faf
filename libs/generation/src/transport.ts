import type { LlmCancelV1, LlmGenerateV1, LlmReplyV1 } from '@turnpike/contracts';

/** An attempt as the gateway starts it: the transport says where its replies go. */
export type AttemptRequest = Omit<LlmGenerateV1, 'replyTo'>;

export type CancelReason = LlmCancelV1['reason'];

/** Receives the replies of one attempt, in order (`headers`: the trace context, when any). */
export type ReplyHandler = (
  reply: LlmReplyV1,
  headers?: Record<string, Buffer | string | undefined>,
) => void;

/** What the starter of an attempt hears from the transport. */
export interface AttemptListener {
  reply: ReplyHandler;
  /** A reply was lost on the way (a gap that did not close): no more replies will come. */
  lost(why: string): void;
}

/** Why an attempt could not be started (nothing reached an upstream). */
export class TransportRefusal extends Error {
  constructor(
    readonly reason: 'too_large' | 'unavailable',
    message: string,
    /** The byte limit the request exceeded (`too_large`). */
    readonly limit: number | null = null,
  ) {
    super(message);
    this.name = 'TransportRefusal';
  }
}

/** One started attempt, as its starter holds it. */
export interface AttemptLink {
  /** Asks the attempt to stop; its final reply (with what it consumed) still comes. */
  cancel(reason: CancelReason): Promise<void>;
  /** Stops delivering this attempt's replies (the starter stopped listening). */
  release(): void;
}

/**
 * The port between the gateway's attempt loop and the code that runs attempts against the
 * upstreams (`AttemptExecutor`). Two implementations:
 * - Kafka (the split deployment): the request goes to `llm.requests.v1`, a connector runs it
 *   and its replies come back on this gateway's partition of `llm.replies.v1`;
 * - in-process (fused): the gateway runs the executor itself and its replies are handed over
 *   directly. Attempt records and usage events still go to Kafka in both.
 * The attempt loop cannot tell them apart except by latency.
 */
export interface GenerationTransport {
  readonly mode: 'kafka' | 'inprocess';
  /** Why attempts cannot be started now (a broker unreachable), or null when they can. */
  unavailable(): string | null;
  /**
   * Starts one attempt; its replies go to the listener, in order, until released. Rejects with
   * TransportRefusal when the attempt could not be handed over.
   */
  start(
    request: AttemptRequest,
    listener: AttemptListener,
    headers: Record<string, string>,
  ): Promise<AttemptLink>;
}
