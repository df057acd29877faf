import type { LlmReplyV1, ReplyChunksV1 } from '@turnpike/contracts';

/** A reply of an attempt as the executor makes it: the sink adds the envelope (ids, `seq`). */
export type ReplyBody =
  Exclude<LlmReplyV1, { type: 'alive' | 'chunks' }> extends infer R
    ? R extends unknown
      ? Omit<R, 'v' | 'generationId' | 'attempt' | 'seq'>
      : never
    : never;

/** Where the replies of one attempt go, in order (see the two sinks below). */
export interface ReplySink {
  /** One reply, in order. `headers` carry the attempt's trace context. */
  reply(body: ReplyBody, headers: Record<string, string>): void;
  /** Resolves once every reply handed in is delivered; rejects when one could not be. */
  flush(): Promise<void>;
}

type Envelope = Pick<LlmReplyV1, 'generationId' | 'attempt'>;

/**
 * Replies straight to a function of the same process (the in-process transport): the gateway's
 * attempt loop gets each reply as the executor makes it, numbered, with no encoding at all.
 */
export class DirectReplySink implements ReplySink {
  private seq = 0;
  private closed = false;

  constructor(
    private readonly to: Envelope,
    private readonly deliver: (reply: LlmReplyV1) => void,
  ) {}

  /** Drops whatever comes after (the receiver stopped listening). */
  close(): void {
    this.closed = true;
  }

  reply(body: ReplyBody, _headers?: Record<string, string>): void {
    if (this.closed) return;
    this.deliver({ v: 1, ...this.to, seq: this.seq++, ...body } as LlmReplyV1);
  }

  flush(): Promise<void> {
    return Promise.resolve();
  }
}

/** Sends one reply message (the Kafka transport: encode and produce to the reply partition). */
export type SendReply = (message: LlmReplyV1, headers: Record<string, string>) => Promise<void>;

/**
 * How often a silent attempt says it is alive over a message transport: the gateway takes an
 * attempt it has heard nothing from for {@link ATTEMPT_SILENCE_LIMIT_MS} as lost.
 */
export const KEEPALIVE_MS = 5_000;
/** Three keep-alives missed: the request or a reply was lost, or the connector died. */
export const ATTEMPT_SILENCE_LIMIT_MS = 3 * KEEPALIVE_MS;

/**
 * Replies over a message transport, coalesced: the chunks an attempt produces within one flush
 * window travel as ONE `chunks` message instead of one message each. The first chunk of the
 * attempt is sent at once (the time to first token is never held back); a final reply sends
 * what is held first, in order. `windowMs` 0 is one turn of the event loop: chunks that arrive
 * together (an upstream writes several events per network read) share a message, at no added
 * latency; a longer window trades latency for fewer messages.
 *
 * The chunks are forwarded as the executor made them: the message's envelope is what the
 * receiver validates (libs/contracts `ReplyChunksV1`), not each chunk.
 */
export class CoalescingReplySink implements ReplySink {
  private seq = 0;
  private held: Array<Record<string, unknown>> = [];
  private heldHeaders: Record<string, string> = {};
  private timer: NodeJS.Timeout | NodeJS.Immediate | null = null;
  private chunksSeen = 0;
  /** Sends not settled yet, and the first that failed. */
  private readonly sending = new Set<Promise<void>>();
  private failure: unknown = null;
  private keepalive: NodeJS.Timeout | null = null;
  private sentSinceTick = false;
  private ended = false;
  /** Messages sent, and chunks they carried (for tests and metrics). */
  readonly stats = { messages: 0, chunks: 0 };

  constructor(
    private readonly to: Envelope,
    private readonly send: SendReply,
    private readonly windowMs = 0,
    /** The most chunks one message carries (a message stays well under its topic's limit). */
    private readonly maxChunks = 256,
    /** An `alive` message when nothing else was sent for this long (0: never). */
    keepaliveMs = KEEPALIVE_MS,
  ) {
    if (keepaliveMs > 0) {
      this.keepalive = setInterval(() => this.tick(), keepaliveMs);
      this.keepalive.unref();
    }
  }

  private tick(): void {
    if (!this.sentSinceTick && !this.ended)
      this.emit({ v: 1, ...this.to, seq: this.seq++, type: 'alive' }, this.heldHeaders);
    this.sentSinceTick = false;
  }

  reply(body: ReplyBody, headers: Record<string, string>): void {
    if (body.type === 'chunk') {
      this.chunksSeen++;
      this.held.push(body.chunk);
      this.heldHeaders = headers;
      if (this.chunksSeen === 1 || this.held.length >= this.maxChunks) this.flushHeld();
      else this.schedule();
      return;
    }
    this.flushHeld();
    this.stopKeepalive();
    this.emit({ v: 1, ...this.to, seq: this.seq++, ...body } as LlmReplyV1, headers);
  }

  private stopKeepalive(): void {
    this.ended = true;
    if (this.keepalive) clearInterval(this.keepalive);
    this.keepalive = null;
  }

  async flush(): Promise<void> {
    this.stopKeepalive();
    this.flushHeld();
    while (this.sending.size > 0) await Promise.allSettled([...this.sending]);
    if (this.failure !== null) throw this.failure;
  }

  private schedule(): void {
    if (this.timer) return;
    this.timer =
      this.windowMs <= 0
        ? setImmediate(() => this.flushHeld())
        : setTimeout(() => this.flushHeld(), this.windowMs);
  }

  private flushHeld(): void {
    if (this.timer) {
      clearTimeout(this.timer as NodeJS.Timeout);
      clearImmediate(this.timer as NodeJS.Immediate);
      this.timer = null;
    }
    if (this.held.length === 0) return;
    const chunks = this.held;
    this.held = [];
    const msg: ReplyChunksV1 | LlmReplyV1 =
      chunks.length === 1
        ? { v: 1, ...this.to, seq: this.seq++, type: 'chunk', chunk: chunks[0]! }
        : { v: 1, ...this.to, seq: this.seq++, type: 'chunks', chunks };
    this.emit(msg, this.heldHeaders);
  }

  private emit(msg: LlmReplyV1, headers: Record<string, string>): void {
    this.sentSinceTick = true;
    this.stats.messages++;
    if (msg.type === 'chunk') this.stats.chunks++;
    else if (msg.type === 'chunks') this.stats.chunks += msg.chunks.length;
    const p = this.send(msg, headers).then(
      () => void this.sending.delete(p),
      (e: unknown) => {
        this.sending.delete(p);
        this.failure ??= e;
      },
    );
    this.sending.add(p);
  }
}
