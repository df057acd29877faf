/**
 * Mistral's error bodies and statuses: `{object: 'error', message, type, param, code}` from the
 * API (an unknown model is a 400 `invalid_model`, code `"1500"`; a rate limit a 429
 * `rate_limited`, code `"1300"`), FastAPI's `{detail: [...]}` for a 422 validation error (the
 * SDK's `HTTPValidationError`), and `{message: 'Unauthorized', request_id}` from its gateway.
 */
import { randomBytes } from 'node:crypto';
import { STATUS_CODES } from 'node:http';
import { retryAfterHeaders, SimHttpError } from '../core/sim-error.js';

const apiError = (
  status: number,
  message: string,
  type: string,
  code: string | null = null,
  headers: Record<string, string> = {},
  param: string | null = null,
): SimHttpError =>
  new SimHttpError(status, { object: 'error', message, type, param, code }, headers);

export interface ValidationDetail {
  type: string;
  loc: Array<string | number>;
  msg: string;
  input?: unknown;
}

export const mistralErrors = {
  invalid: (message: string, param: string | null = null) =>
    apiError(400, message, 'invalid_request_error', null, {}, param),
  validation: (detail: ValidationDetail[]) => new SimHttpError(422, { detail }),
  missing: (loc: Array<string | number>) =>
    mistralErrors.validation([{ type: 'missing', loc: ['body', ...loc], msg: 'Field required' }]),
  extra: (key: string, input: unknown) =>
    mistralErrors.validation([
      { type: 'extra_forbidden', loc: ['body', key], msg: 'Extra inputs are not permitted', input },
    ]),
  unauthorized: () =>
    new SimHttpError(401, { message: 'Unauthorized', request_id: randomBytes(16).toString('hex') }),
  invalidModel: (model: string) =>
    apiError(400, `Invalid model: ${model}`, 'invalid_model', '1500'),
  notFound: () => new SimHttpError(404, { detail: 'Not Found' }),
  contextLength: (max: number, actual: number) =>
    apiError(
      400,
      `Prompt contains ${actual} tokens and 0 draft tokens, too large for model with ${max} maximum context length`,
      'invalid_request_error',
    ),
  rateLimited: (retryAfterSec: number | undefined) =>
    apiError(429, 'Rate limit exceeded', 'rate_limited', '1300', retryAfterHeaders(retryAfterSec)),
  serverError: () => apiError(500, 'Internal server error', 'internal_server_error', '3000'),
  unavailable: (retryAfterSec: number | undefined) =>
    apiError(
      503,
      'Service unavailable, please retry later',
      'service_unavailable',
      '3505',
      retryAfterHeaders(retryAfterSec),
    ),
};

/** The error Mistral answers with for the `status` knob. */
export function mistralErrorForStatus(
  status: number,
  ctx: { model: string; retryAfterSec?: number; message?: string },
): SimHttpError {
  const e = ((): SimHttpError => {
    switch (status) {
      case 400:
        return mistralErrors.invalid('Invalid request: the request was rejected by the model.');
      case 401:
        return mistralErrors.unauthorized();
      case 403:
        return apiError(403, 'Forbidden', 'forbidden');
      case 404:
        return mistralErrors.notFound();
      case 422:
        return mistralErrors.missing(['messages']);
      case 429:
        return mistralErrors.rateLimited(ctx.retryAfterSec);
      case 500:
        return mistralErrors.serverError();
      case 503:
        return mistralErrors.unavailable(ctx.retryAfterSec);
      default:
        return apiError(status, STATUS_CODES[status] ?? 'Error', 'api_error');
    }
  })();
  if (ctx.message === undefined) return e;
  const body = e.body as Record<string, unknown>;
  return new SimHttpError(e.status, { ...body, message: ctx.message }, e.headers);
}
