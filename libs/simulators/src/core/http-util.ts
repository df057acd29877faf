/** Small node:http helpers: body reading, JSON replies, dropping connections. */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { constants as http2Constants, type ServerHttp2Stream } from 'node:http2';
import type { Socket } from 'node:net';
import { performance } from 'node:perf_hooks';
import { requestId } from './ids.js';
import { SimHttpError } from './sim-error.js';

export const MAX_BODY_BYTES = 32 * 1024 * 1024;

/** Per-request response context: the id and timing behind the protocol's common headers. */
export class Exchange {
  readonly id = requestId();
  readonly receivedAt = Date.now();
  private readonly t0 = performance.now();

  constructor(
    readonly req: IncomingMessage,
    readonly res: ServerResponse,
    private readonly simName: string,
    private readonly baseHeaders: (ex: Exchange) => Record<string, string> = () => ({}),
    /** The protocol's last touch to an error body (Anthropic's `request_id`). */
    private readonly errorBody: (ex: Exchange, body: unknown) => unknown = (_ex, body) => body,
  ) {}

  /** Milliseconds since the request arrived. */
  get elapsedMs(): number {
    return Math.round(performance.now() - this.t0);
  }

  get method(): string {
    return this.req.method ?? 'GET';
  }

  /** Headers sent with every response. */
  headers(extra: Record<string, string> = {}): Record<string, string> {
    return { ...this.baseHeaders(this), 'x-sim-name': this.simName, ...extra };
  }

  json(status: number, body: unknown, extra: Record<string, string> = {}): void {
    const payload = JSON.stringify(body);
    this.res.writeHead(status, {
      ...this.headers(extra),
      'content-type': 'application/json',
      'content-length': String(Buffer.byteLength(payload)),
    });
    this.res.end(payload);
  }

  error(e: SimHttpError, extra: Record<string, string> = {}): void {
    if (!e.raw)
      return this.json(e.status, this.errorBody(this, e.body), { ...extra, ...e.headers });
    this.res.writeHead(e.status, {
      ...this.headers({ ...extra, ...e.headers }),
      'content-type': e.raw.contentType,
      'content-length': String(Buffer.byteLength(e.raw.text)),
    });
    this.res.end(e.raw.text);
  }
}

/** Reads the whole body; rejects with a 413 {@link SimHttpError} above `limit`. */
export function readBody(
  req: IncomingMessage,
  limit = MAX_BODY_BYTES,
  tooLarge: (limit: number) => SimHttpError = (l) =>
    new SimHttpError(413, {
      error: { message: `Request body too large: the limit is ${l} bytes.` },
    }),
): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > limit) {
        req.removeAllListeners('data');
        req.resume();
        reject(tooLarge(limit));
        return;
      }
      chunks.push(c);
    });
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

/** Parses JSON; undefined when the body is not valid JSON. */
export function parseJson(raw: Buffer): unknown {
  try {
    return JSON.parse(raw.toString('utf8'));
  } catch {
    return undefined;
  }
}

/** Flushes what was written, then closes the connection mid-response (the client sees a truncated body). */
export function dropConnection(socket: Socket | null): void {
  if (!socket || socket.destroyed) return;
  socket.end(() => socket.destroy());
  setTimeout(() => socket.destroy(), 100).unref();
}

/**
 * Ends a response abruptly, mid-body: its connection is closed (HTTP/1.1), or its stream is reset
 * with INTERNAL_ERROR once what was written went out (HTTP/2, where closing the stream cleanly
 * would look like a complete body).
 */
export function dropResponse(res: ServerResponse): void {
  const stream = (res as unknown as { stream?: ServerHttp2Stream }).stream;
  if (!stream) return dropConnection(res.socket);
  if (stream.destroyed || stream.closed) return;
  const reset = () => {
    if (!stream.destroyed && !stream.closed) stream.close(http2Constants.NGHTTP2_INTERNAL_ERROR);
  };
  res.write(Buffer.alloc(0), reset);
  setTimeout(reset, 100).unref();
}

/** Lower-cased request headers, each as the list of its values (HTTP/1.1 and HTTP/2 alike). */
export function headerLists(req: IncomingMessage): Record<string, string[]> {
  if (req.headersDistinct) return req.headersDistinct as Record<string, string[]>;
  const out: Record<string, string[]> = {};
  for (const [k, v] of Object.entries(req.headers)) {
    if (v === undefined) continue;
    out[k] = Array.isArray(v) ? v : [v];
  }
  return out;
}

/** Closes the connection at once with a TCP RST (ECONNRESET on the client). */
export function resetConnection(socket: Socket | null): void {
  if (!socket || socket.destroyed) return;
  if (typeof socket.resetAndDestroy === 'function') socket.resetAndDestroy();
  else socket.destroy();
}

/** Headers that carry a credential: never recorded. */
export const CREDENTIAL_HEADERS: ReadonlySet<string> = new Set([
  'authorization',
  'x-api-key',
  'api-key',
  'x-goog-api-key',
  'x-amz-security-token',
]);

/** Lower-cased request headers without the credential ones. */
export function recordHeaders(req: IncomingMessage): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(req.headers)) {
    if (CREDENTIAL_HEADERS.has(k) || v === undefined) continue;
    out[k] = Array.isArray(v) ? v.join(', ') : v;
  }
  return out;
}

/** The bearer token of an `Authorization` header, '' when absent. */
export function bearerToken(req: IncomingMessage): string {
  const h = req.headers.authorization ?? '';
  const m = /^Bearer\s+(.+)$/i.exec(h.trim());
  return m?.[1]?.trim() ?? '';
}
