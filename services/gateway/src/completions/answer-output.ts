import type { FastifyReply } from 'fastify';
import { performance } from 'node:perf_hooks';
import type { AttemptRole, ReplyCompletionV1, ReplyEndV1 } from '@turnpike/contracts';
import type { ApiError } from '@turnpike/openai-api';
import { OutputTally } from '@turnpike/providers';
import { errorBodyFor } from '../http/request-context.js';
import { AnswerSplicer, type Recovery } from './answer-splicer.js';
import { CompletionStream } from './completion-stream.js';
import {
  excludesReasoning,
  presentChunk,
  presentCompletion,
  streamErrorChunk,
} from './completion.presenter.js';
import type { Generation } from './generation.js';
import type { Candidate } from './route-planner.service.js';

type Json = Record<string, unknown>;
const isObj = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);

/** What of the current attempt's output reached the client. */
export interface AttemptDelivery {
  /** Something of this attempt's output reached the client. */
  delivered: boolean;
  tally: OutputTally;
  /** The repeated tail of the prefill dropped from its start (a continuation's). */
  dropped: string;
  /** The upstream's `usage` object (a stream's usage chunk, a completion's `usage`). */
  usage: Json | null;
}

/**
 * Where the answer of one request goes: a JSON body (unary) or an SSE stream. The request's loop
 * (CompletionsService) runs the attempts; this writes what they produce, in the client's shape.
 */
export interface AnswerOutput {
  /** Something reached the client: an error can no longer be an HTTP status. */
  readonly committed: boolean;
  /** A new attempt starts on `candidate`. */
  begin(role: AttemptRole, candidate: Candidate): void;
  /** A chunk of the current attempt (streams). */
  chunk(chunk: Json): void;
  delivery(): AttemptDelivery;
  /** What can still save an answer that failed after output. */
  recovery(): Recovery;
  /** The text delivered so far: a continuation's prefill. */
  prefill(): string;
  /** The current attempt ended the answer. */
  done(reply: ReplyEndV1 | ReplyCompletionV1, roundTripMs: number): void;
  /** The answer failed: an error status, or after output the in-band error chunk. */
  fail(error: ApiError): void;
  /** The client left. */
  abandon(): void;
}

/** Writes an error as the HTTP answer (nothing was sent yet). */
export function respondError(reply: FastifyReply, headers: Record<string, string>, err: ApiError) {
  reply.raw.writeHead(err.status, {
    'content-type': 'application/json',
    ...err.headers(),
    ...headers,
  });
  reply.raw.end(JSON.stringify(errorBodyFor(reply.request, err)));
}

function chunkBase(gen: Generation, candidate: Candidate): Json {
  return {
    id: gen.id,
    object: 'chat.completion.chunk',
    created: Math.floor(gen.createdAt.getTime() / 1000),
    model: candidate.model.id,
    provider: candidate.endpoint.provider,
  };
}

/**
 * A streamed answer: chunks go out as the splicer releases them (tool calls whole, a
 * continuation's repeated prefill dropped), under our id and the model and provider of the
 * attempt that produced them; headers with the first; the usage chunk (cost included) at the
 * end when the client asked for it.
 */
export class StreamAnswer implements AnswerOutput {
  private readonly out: CompletionStream;
  private readonly splicer = new AnswerSplicer();
  private readonly excludeReasoning: boolean;
  private readonly includeUsage: boolean;
  private candidate: Candidate | null = null;
  private tally = new OutputTally();
  private usage: Json | null = null;

  constructor(
    private readonly gen: Generation,
    private readonly reply: FastifyReply,
    private readonly headers: Record<string, string>,
    /** The usage object of the answer (billing is the service's). */
    private readonly presentUsage: (upstream: Json | null) => Json,
    /** The most unsent bytes the client may leave behind before the stream is closed. */
    maxBufferedBytes?: number,
  ) {
    this.out = new CompletionStream(reply.raw, headers, maxBufferedBytes);
    this.excludeReasoning = excludesReasoning(gen.body as Json);
    this.includeUsage =
      isObj(gen.body.stream_options) && gen.body.stream_options['include_usage'] === true;
  }

  get committed(): boolean {
    return this.out.headersSent;
  }

  /** True when the stream was closed because the client read too slowly. */
  get closedForSlowClient(): boolean {
    return this.out.tooSlow;
  }

  begin(role: AttemptRole, candidate: Candidate): void {
    this.candidate = candidate;
    this.tally = new OutputTally();
    this.usage = null;
    this.splicer.beginAttempt(role === 'continuation' ? 'continuation' : 'first');
  }

  chunk(chunk: Json): void {
    if (isObj(chunk['usage'])) this.usage = chunk['usage'];
    for (const c of this.splicer.push(chunk)) this.send(c);
  }

  private send(chunk: Json): void {
    this.tally.addChunk(chunk);
    // The usage-only chunk (null here) goes at the end, with the cost.
    const shaped = presentChunk(chunk, chunkBase(this.gen, this.candidate!), {
      excludeReasoning: this.excludeReasoning,
    });
    if (!shaped) return;
    if (this.gen.firstTokenAt === null) {
      this.gen.firstTokenAt = performance.now();
      this.gen.span.addEvent('first_token');
    }
    this.out.chunk(shaped);
  }

  delivery(): AttemptDelivery {
    return {
      delivered: this.splicer.attemptDelivered,
      tally: this.tally,
      dropped: this.splicer.dropped,
      usage: this.usage,
    };
  }

  recovery(): Recovery {
    return this.splicer.recovery();
  }

  prefill(): string {
    return this.splicer.text;
  }

  done(): void {
    for (const c of this.splicer.end()) this.send(c);
    if (this.includeUsage)
      this.out.chunk({
        ...chunkBase(this.gen, this.candidate!),
        choices: [],
        usage: this.presentUsage(this.usage),
      });
    this.out.done();
  }

  fail(error: ApiError): void {
    if (!this.committed) return respondError(this.reply, this.headers, error);
    this.out.fail(
      streamErrorChunk(chunkBase(this.gen, this.candidate!), {
        status: error.status,
        message: error.message,
        code: error.code,
        type: error.type,
      }),
    );
  }

  abandon(): void {
    if (!this.reply.raw.destroyed) this.reply.raw.destroy();
  }
}

/** A non-streamed answer: one JSON body, with a Server-Timing split of where the time went. */
export class UnaryAnswer implements AnswerOutput {
  private candidate: Candidate | null = null;
  private usage: Json | null = null;
  readonly committed = false;

  constructor(
    private readonly gen: Generation,
    private readonly reply: FastifyReply,
    private readonly headers: Record<string, string>,
    private readonly presentUsage: (upstream: Json | null) => Json,
    /** How the attempts travel (`kafka`, `inprocess`): the name of the hop's Server-Timing part. */
    private readonly hop: string = 'kafka',
  ) {}

  begin(_role: AttemptRole, candidate: Candidate): void {
    this.candidate = candidate;
    this.usage = null;
  }

  chunk(): void {}

  delivery(): AttemptDelivery {
    return { delivered: false, tally: new OutputTally(), dropped: '', usage: this.usage };
  }

  recovery(): Recovery {
    return 'restart';
  }

  prefill(): string {
    return '';
  }

  done(r: ReplyEndV1 | ReplyCompletionV1, roundTripMs: number): void {
    if (r.type !== 'completion') throw new Error(`unexpected reply ${r.type}`);
    this.gen.firstTokenAt ??= performance.now();
    const candidate = this.candidate!;
    const usage = isObj(r.completion['usage']) ? r.completion['usage'] : null;
    const completion = presentCompletion(
      r.completion,
      { id: this.gen.id, model: candidate.model.id, provider: candidate.endpoint.provider },
      this.presentUsage(usage),
      { excludeReasoning: excludesReasoning(this.gen.body as Json) },
    );
    const total = performance.now() - this.gen.t0;
    const serverTiming = [
      `gateway;dur=${(total - roundTripMs).toFixed(2)}`,
      `${this.hop};dur=${Math.max(0, roundTripMs - r.timing.connectorMs).toFixed(2)}`,
      `connector;dur=${Math.max(0, r.timing.connectorMs - r.timing.upstreamMs).toFixed(2)}`,
      `upstream;dur=${r.timing.upstreamMs.toFixed(2)}`,
      `total;dur=${total.toFixed(2)}`,
    ].join(', ');
    const payload = JSON.stringify(completion);
    this.reply.raw.writeHead(200, {
      'content-type': 'application/json',
      'content-length': Buffer.byteLength(payload),
      'server-timing': serverTiming,
      ...this.headers,
    });
    this.reply.raw.end(payload);
  }

  fail(error: ApiError): void {
    respondError(this.reply, this.headers, error);
  }

  abandon(): void {
    if (!this.reply.raw.destroyed) this.reply.raw.destroy();
  }
}
