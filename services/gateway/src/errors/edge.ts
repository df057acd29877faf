import { randomBytes } from 'node:crypto';
import { STATUS_CODES } from 'node:http';
import type { Duplex } from 'node:stream';
import type { FastifyRequest } from 'fastify';
import {
  ApiError,
  MAX_JSON_DEPTH,
  badHttpRequest,
  headersTooLarge,
  jsonDepthExceeds,
  jsonTooDeep,
  uriTooLong,
} from '@turnpike/openai-api';
import { errorBodyIn, errorDialectOf, type ErrorDialect } from '../http/request-context.js';

/**
 * What the gateway answers before a request reaches any route, in OpenAI's error shape like
 * everything else: requests Node's HTTP parser refused (431 oversized headers, 400 malformed),
 * Fastify's router refused (414 over-long path parameter, 400 bad URL), and bodies nested deeper
 * than {@link MAX_JSON_DEPTH} (400, checked while the body streams in, before it is parsed).
 */

const newTraceId = (): string => randomBytes(16).toString('hex');

/**
 * The error dialect of a request Node's parser refused, read from the start of the packet it
 * failed on (`rawPacket`): its request line and User-Agent when they are in it (they are unless
 * the headers spanned several packets), else OpenAI's.
 */
function dialectOfRefused(err: NodeJS.ErrnoException): ErrorDialect {
  const raw = (err as { rawPacket?: unknown }).rawPacket;
  if (!Buffer.isBuffer(raw)) return 'openai';
  const head = raw.subarray(0, 16 * 1024).toString('latin1');
  const target = /^[A-Z]+ (\S+) HTTP\/1\.[01]\r?\n/.exec(head)?.[1];
  if (target === undefined) return 'openai';
  return errorDialectOf(target, /\r?\nuser-agent:[ \t]*([^\r\n]*)/i.exec(head)?.[1]);
}

/** Fastify's `clientErrorHandler`: Node's `clientError`, answered on the raw socket. */
export function clientErrorHandler(err: NodeJS.ErrnoException, socket: Duplex): void {
  if (err.code === 'ECONNRESET' || socket.destroyed) return;
  let e: ApiError;
  if (err.code === 'HPE_HEADER_OVERFLOW') e = headersTooLarge();
  else if (err.code === 'ERR_HTTP_REQUEST_TIMEOUT')
    e = new ApiError({
      status: 408,
      type: 'invalid_request_error',
      message: 'The request was not received in time.',
      code: 'request_timeout',
    });
  else e = badHttpRequest();
  if (socket.writable) {
    const body = JSON.stringify(errorBodyIn(dialectOfRefused(err), e.status, e.toBody()));
    socket.write(
      `HTTP/1.1 ${e.status} ${STATUS_CODES[e.status] ?? 'Error'}\r\n` +
        'Content-Type: application/json\r\n' +
        `Content-Length: ${Buffer.byteLength(body)}\r\n` +
        `X-Trace-Id: ${newTraceId()}\r\n` +
        'Connection: close\r\n\r\n' +
        body,
    );
  }
  socket.destroy();
}

/**
 * Fastify's `frameworkErrors`: errors of its router (FST_ERR_MAX_PARAM_LENGTH, FST_ERR_BAD_URL),
 * in the client's error dialect (OpenRouter's numeric code under `/api/v1`), like every other
 * error (those go through the `onSend` hook, which these raw answers skip).
 */
export function frameworkErrors(
  err: { code?: string },
  req: RequestLike,
  reply: { raw: RawLike },
): void {
  const e =
    err.code === 'FST_ERR_MAX_PARAM_LENGTH'
      ? uriTooLong()
      : badHttpRequest('The request URL is malformed: a path component is not valid.');
  if (reply.raw.headersSent) return;
  const dialect = errorDialectOf(req.originalUrl ?? req.url ?? '/', req.headers?.['user-agent']);
  const body = JSON.stringify(errorBodyIn(dialect, e.status, e.toBody()));
  reply.raw.writeHead(e.status, {
    'content-type': 'application/json',
    'content-length': String(Buffer.byteLength(body)),
    'x-trace-id': newTraceId(),
  });
  reply.raw.end(body);
}

/** The part of the request used here. */
interface RequestLike {
  readonly originalUrl?: string;
  readonly url?: string;
  readonly headers?: { 'user-agent'?: string | undefined };
}

/** The part of the raw response used here (HTTP/1 and HTTP/2 alike). */
interface RawLike {
  readonly headersSent: boolean;
  writeHead(status: number, headers: Record<string, string>): unknown;
  end(body: string): unknown;
}

type ParserDone = (err: Error | null, body?: unknown) => void;
type BodyParser = (req: FastifyRequest, body: Buffer, done: ParserDone) => void;

/**
 * The JSON body parser: the depth check over the raw bytes (no parse, string contents skipped
 * natively), then Fastify's own JSON parser (with its prototype-poisoning protection).
 */
export function depthCheckedJsonParser(
  jsonParser: (req: FastifyRequest, body: string, done: ParserDone) => void,
  maxDepth: number = MAX_JSON_DEPTH,
): BodyParser {
  return (req, body, done) => {
    if (jsonDepthExceeds(body, maxDepth)) return done(jsonTooDeep(maxDepth));
    // JSON.parse wants a string: the decode the default parser would do anyway.
    jsonParser(req, body.toString('utf8'), done);
  };
}
