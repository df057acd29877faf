import {
  Catch,
  HttpException,
  Logger,
  type ArgumentsHost,
  type ExceptionFilter,
} from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import {
  ApiError,
  internal,
  invalidJson,
  isApiError,
  payloadTooLarge,
  routeNotFound,
} from '@turnpike/openai-api';

/** Fastify's own errors (body parsing, limits) as OpenAI errors. */
export function fromFastifyError(err: unknown, maxBodyBytes: number): ApiError | null {
  if (typeof err !== 'object' || err === null) return null;
  const e = err as { code?: string; statusCode?: number; message?: string };
  if (e.code === 'FST_ERR_CTP_BODY_TOO_LARGE' || e.statusCode === 413)
    return payloadTooLarge(maxBodyBytes);
  if (e.code === 'FST_ERR_CTP_EMPTY_JSON_BODY') return invalidJson('the body is empty');
  if (
    e.code === 'FST_ERR_CTP_INVALID_JSON_BODY' ||
    (e.statusCode === 400 && e instanceof SyntaxError)
  )
    return invalidJson(e.message);
  if (e.code?.startsWith('FST_ERR_CTP')) return invalidJson(e.message);
  return null;
}

/** Every error leaves the gateway in OpenAI's error shape, `{error:{message,type,param,code}}`. */
export function toOpenAIError(err: unknown, req: FastifyRequest, maxBodyBytes: number): ApiError {
  if (isApiError(err)) return err;
  const fastify = fromFastifyError(err, maxBodyBytes);
  if (fastify) return fastify;
  if (err instanceof HttpException) {
    const status = err.getStatus();
    if (status === 413) return payloadTooLarge(maxBodyBytes);
    if (status === 404) {
      const url = req.originalUrl ?? req.url; // as the client sent it (before /api/v1 rewriting)
      return routeNotFound(req.method, url.split('?')[0] ?? url);
    }
    return new ApiError({
      status,
      type: status >= 500 ? 'server_error' : 'invalid_request_error',
      message: err.message,
    });
  }
  return internal(err);
}

export function sendApiError(reply: FastifyReply, error: ApiError): void {
  void reply
    .status(error.status)
    .headers(error.headers())
    .type('application/json')
    .send(error.toBody());
}

@Catch()
export class OpenAIExceptionFilter implements ExceptionFilter {
  private readonly log = new Logger('errors');

  constructor(private readonly maxBodyBytes: number) {}

  catch(exception: unknown, host: ArgumentsHost): void {
    const ctx = host.switchToHttp();
    const req = ctx.getRequest<FastifyRequest>();
    const reply = ctx.getResponse<FastifyReply>();
    const error = toOpenAIError(exception, req, this.maxBodyBytes);
    if (error.status >= 500)
      this.log.error(
        `${req.method} ${req.url}: ${(exception as Error)?.stack ?? String(exception)}`,
      );
    if (reply.sent || reply.raw.headersSent) {
      reply.raw.end();
      return;
    }
    sendApiError(reply, error);
  }
}
