import type { ServerResponse } from 'node:http';

type Json = Record<string, unknown>;

/**
 * Writes one chat completion stream to the client as server-sent events, unbuffered: each
 * chunk goes out as soon as it arrives. The 200 status and headers are sent with the first
 * chunk, so an attempt that fails before its first token can still be answered with a proper
 * error status (or replaced by a fallback).
 */
export class CompletionStream {
  private started = false;
  private ended = false;

  constructor(
    private readonly res: ServerResponse,
    private readonly headers: Record<string, string>,
  ) {}

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
