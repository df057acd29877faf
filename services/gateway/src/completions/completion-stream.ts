import type { ServerResponse } from 'node:http';
import { metrics } from '@turnpike/service-kit';

type Json = Record<string, unknown>;

const slowClients = metrics.counter(
  'turnpike_gateway_slow_client_streams_total',
  'Streams the gateway closed because the client read too slowly (its unsent buffer passed GATEWAY_STREAM_BUFFER_BYTES).',
);

/** The default bound of a stream's unsent bytes (GATEWAY_STREAM_BUFFER_BYTES). */
export const DEFAULT_STREAM_BUFFER_BYTES = 1024 * 1024;

/**
 * Writes one chat completion stream to the client as server-sent events, unbuffered: each
 * chunk goes out as soon as it arrives. The 200 status and headers are sent with the first
 * chunk, so an attempt that fails before its first token can still be answered with a proper
 * error status (or replaced by a fallback).
 *
 * A client that reads slower than the upstream writes makes the bytes pile up in the response's
 * buffer (the socket's own buffers full): past `maxBufferedBytes` the stream is closed, as if
 * the client had left (the generation is cancelled and billed for what it produced), so one
 * slow reader cannot grow the gateway's memory without bound. The replies cannot be held back
 * instead: they come from the connector over Kafka at the upstream's pace.
 */
export class CompletionStream {
  private started = false;
  private ended = false;
  private overflowed = false;

  constructor(
    private readonly res: ServerResponse,
    private readonly headers: Record<string, string>,
    private readonly maxBufferedBytes: number = DEFAULT_STREAM_BUFFER_BYTES,
  ) {}

  /** True once the stream was closed for a client that read too slowly. */
  get tooSlow(): boolean {
    return this.overflowed;
  }

  get headersSent(): boolean {
    return this.started;
  }

  get closed(): boolean {
    return this.ended || this.res.destroyed;
  }

  private start(): void {
    if (this.started) return;
    this.started = true;
    this.res.socket?.setNoDelay(true);
    this.res.writeHead(200, {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-cache',
      connection: 'keep-alive',
      'x-accel-buffering': 'no',
      ...this.headers,
    });
  }

  chunk(chunk: Json): void {
    if (this.closed) return;
    this.start();
    this.res.write(`data: ${JSON.stringify(chunk)}\n\n`);
    if (this.res.writableLength > this.maxBufferedBytes) {
      this.overflowed = true;
      slowClients.inc();
      this.res.destroy();
    }
  }

  /**
   * Ends a stream that failed after its first chunk: an error chunk in OpenRouter's shape
   * (`error` plus `finish_reason: "error"`, see `streamErrorChunk`), which the OpenAI SDKs and
   * `@openrouter/sdk` raise as an error, then `[DONE]`. Never a silent end.
   */
  fail(errorChunk: Json): void {
    this.chunk(errorChunk);
    this.done();
  }

  done(): void {
    if (this.closed) return;
    this.start();
    this.ended = true;
    this.res.end('data: [DONE]\n\n');
  }
}
