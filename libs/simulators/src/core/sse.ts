/** Server-sent events over a node:http response, one write per flush, no buffering. */
import type { ServerResponse } from 'node:http';

export const SSE_HEADERS: Readonly<Record<string, string>> = {
  'content-type': 'text/event-stream; charset=utf-8',
  'cache-control': 'no-cache, must-revalidate',
  'x-accel-buffering': 'no',
};

export class SseWriter {
  private pending = '';

  constructor(private readonly res: ServerResponse) {}

  /** Sends the status line and headers right away. */
  open(headers: Record<string, string>): void {
    this.res.socket?.setNoDelay(true);
    this.res.writeHead(200, { ...headers, ...SSE_HEADERS });
    this.res.flushHeaders();
  }

  /** Queues `[event: <name>\n]data: <json>\n\n` until the next {@link flush}. */
  event(payload: unknown, name?: string): void {
    this.pending += `${name ? `event: ${name}\n` : ''}data: ${JSON.stringify(payload)}\n\n`;
  }

  /**
   * Queues an event whose data cannot be parsed: `payload`'s JSON cut in half (what a proxy
   * that truncates a line, or a buggy upstream, sends). The `malformed` knob.
   */
  garbled(payload: unknown, name?: string): void {
    this.pending += `${name ? `event: ${name}\n` : ''}data: ${garble(payload)}\n\n`;
  }

  /** Queues raw text (a comment, a keep-alive). */
  raw(text: string): void {
    this.pending += text;
  }

  /** Writes what is queued; returns false when the socket buffer is full (wait for drain). */
  flush(): boolean {
    if (this.pending === '' || this.res.destroyed) return true;
    const chunk = this.pending;
    this.pending = '';
    return this.res.write(chunk);
  }

  /** Writes what is queued, then OpenAI's `data: [DONE]`, and ends the response. */
  done(): void {
    this.end('data: [DONE]\n\n');
  }

  /** Writes what is queued and `tail`, and ends the response. */
  end(tail = ''): void {
    const text = `${this.pending}${tail}`;
    this.pending = '';
    this.res.end(text);
  }
}

/** `payload`'s JSON cut in half: never valid JSON (an object's closing brace is gone). */
export function garble(payload: unknown): string {
  const json = JSON.stringify(payload);
  return json.slice(0, Math.ceil(json.length / 2));
}
