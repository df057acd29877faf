import type { NativeTokens } from '@turnpike/contracts';
import type { UpstreamError } from '../errors/index.js';
import type { Json } from './json.js';

/** One thing a stream decoder recognised in the bytes pushed so far. */
export type DecodedEvent =
  /** An OpenAI `chat.completion.chunk`; `hasOutput` when it carries generated output. */
  | { type: 'chunk'; chunk: Json; hasOutput: boolean }
  /** The upstream reported an error inside the stream (through the error policy). */
  | { type: 'error'; error: UpstreamError }
  /**
   * An event that could not be parsed, skipped; `event` is its position (from 1) among the
   * events read (`StreamDecoder.events`). `callUpstream` fails the attempt only past the
   * tolerance (`core/stream-tolerance.ts`).
   */
  | { type: 'malformed'; event: number }
  /** The protocol's own end marker (`[DONE]`, `message_stop`, ...): nothing follows. */
  | { type: 'done' };

/** What a decoder knows once the upstream closed the body. */
export interface StreamSummary {
  /** Usage the upstream reported (normalised), or null when it sent none. */
  tokens: NativeTokens | null;
  /** The finish reason in OpenAI's vocabulary, and the provider's own. */
  finishReason: string | null;
  nativeFinishReason: string | null;
  /**
   * The stream ended as the protocol says a stream ends (an end marker, or a finish reason on a
   * protocol without one). False: it was cut.
   */
  complete: boolean;
  /** Events that could not be parsed and were skipped. */
  malformedEvents: number;
}

/**
 * A stateful decoder of ONE streamed response, framing-neutral: it is pushed the raw bytes as
 * they arrive (SSE, JSON lines or AWS event-stream frames, whatever the protocol uses) and
 * returns OpenAI chunks. Protocols that carry state across events (Anthropic's content-block
 * indexes, Gemini's cumulative usage, Bedrock's binary frames) keep it here.
 */
export interface StreamDecoder {
  push(bytes: Uint8Array): DecodedEvent[];
  end(): StreamSummary;
  /**
   * Events of the protocol read so far, well-formed or not (an SSE event, a bare JSON value, an
   * event-stream frame); comments and keep-alive bytes are not events. What the stall limit
   * watches: a stream is alive while this moves.
   */
  readonly events: number;
}

/**
 * The events a decoder read and the malformed ones it skipped: every decoder counts the same
 * way, so `events` and `malformedEvents` mean the same whatever the protocol.
 */
export class EventTally {
  events = 0;
  malformed = 0;

  /** One more event of the protocol. */
  read(): void {
    this.events++;
  }

  /** The last event read could not be parsed: skipped and counted. */
  skip(): DecodedEvent & { type: 'malformed' } {
    this.malformed++;
    return { type: 'malformed', event: this.events };
  }
}
