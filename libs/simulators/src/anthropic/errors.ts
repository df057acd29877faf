/**
 * Anthropic's error bodies, `{"type": "error", "error": {"type", "message"}, "request_id"}` (the
 * `request_id` is added per exchange by the protocol), with the statuses the API documents:
 * 400 invalid_request_error, 401 authentication_error, 402 billing_error, 403 permission_error,
 * 404 not_found_error, 413 request_too_large, 429 rate_limit_error, 500 api_error,
 * 504 timeout_error, 529 overloaded_error.
 */
import { STATUS_CODES } from 'node:http';
import { SimHttpError } from '../core/sim-error.js';

export interface AnthropicErrorBody {
  type: 'error';
  error: { type: string; message: string };
  request_id?: string;
}

export const errorBody = (type: string, message: string): AnthropicErrorBody => ({
  type: 'error',
  error: { type, message },
});

const err = (status: number, type: string, message: string, headers: Record<string, string> = {}) =>
  new SimHttpError(status, errorBody(type, message), headers);

/** The limits reported in the `anthropic-ratelimit-*` headers. */
export const RATE_LIMITS = {
  requests: 4_000,
  tokens: 2_000_000,
  'input-tokens': 2_000_000,
  'output-tokens': 400_000,
};

/**
 * `anthropic-ratelimit-<kind>-{limit,remaining,reset}` for requests, tokens, input and output
 * tokens; `limited` reports an exhausted request budget that resets in `resetSec`.
 */
export function rateLimitHeaders(
  limited: boolean,
  resetSec = 1,
  now = Date.now(),
): Record<string, string> {
  const out: Record<string, string> = {};
  const reset = new Date(Math.ceil((now + resetSec * 1000) / 1000) * 1000)
    .toISOString()
    .replace('.000Z', 'Z');
  for (const [kind, limit] of Object.entries(RATE_LIMITS)) {
    out[`anthropic-ratelimit-${kind}-limit`] = String(limit);
    out[`anthropic-ratelimit-${kind}-remaining`] = String(
      limited && kind === 'requests' ? 0 : limit - 1,
    );
    out[`anthropic-ratelimit-${kind}-reset`] = reset;
  }
  return out;
}

export const errors = {
  invalid: (message: string) => err(400, 'invalid_request_error', message),
  invalidJson: () =>
    err(
      400,
      'invalid_request_error',
      'There was an issue with the format or content of your request: the body is not valid JSON.',
    ),
  badKnob: (message: string) => err(400, 'invalid_request_error', message),
  missingApiKey: () => err(401, 'authentication_error', 'x-api-key header is required'),
  invalidApiKey: () => err(401, 'authentication_error', 'invalid x-api-key'),
  missingVersion: () => err(400, 'invalid_request_error', 'anthropic-version: header is required'),
  invalidVersion: (v: string) =>
    err(400, 'invalid_request_error', `anthropic-version: invalid version '${v}'`),
  billing: () =>
    err(
      402,
      'billing_error',
      'Your credit balance is too low to access the Anthropic API. Please go to Plans & Billing to upgrade or purchase credits.',
    ),
  permission: () =>
    err(
      403,
      'permission_error',
      'Your API key does not have permission to use the specified resource.',
    ),
  modelNotFound: (model: string) => err(404, 'not_found_error', `model: ${model}`),
  notFound: () => err(404, 'not_found_error', 'Not Found'),
  tooLarge: () =>
    err(413, 'request_too_large', 'Request exceeds the maximum allowed number of bytes.'),
  contextLengthExceeded: (max: number, actual: number) =>
    err(400, 'invalid_request_error', `prompt is too long: ${actual} tokens > ${max} maximum`),
  rateLimited: (retryAfterSec: number | undefined) =>
    err(
      429,
      'rate_limit_error',
      `This request would exceed the rate limit for your organization of ${RATE_LIMITS.requests} requests per minute. For details, refer to: https://docs.claude.com/en/api/rate-limits. You can see the response headers for current usage. Please reduce the prompt length or the maximum tokens requested, or try again later.`,
      {
        ...rateLimitHeaders(true, retryAfterSec ?? 1),
        // Anthropic's retry-after is whole seconds.
        'retry-after': String(Math.ceil(retryAfterSec ?? 1)),
      },
    ),
  apiError: () => err(500, 'api_error', 'Internal server error'),
  timeout: () => err(504, 'timeout_error', 'Request timed out'),
  overloaded: (status: number, retryAfterSec: number | undefined) =>
    err(
      status,
      'overloaded_error',
      'Overloaded',
      retryAfterSec === undefined ? {} : { 'retry-after': String(Math.ceil(retryAfterSec)) },
    ),
};

/** The in-stream `error` event of an overloaded API. */
export const OVERLOADED_EVENT = errorBody('overloaded_error', 'Overloaded');

/** The error the `status` knob answers with (the `message` knob replaces its message). */
export function errorForStatus(
  status: number,
  ctx: { retryAfterSec?: number; message?: string; model: string; apiKey: string },
): SimHttpError {
  const e = anthropicErrorForStatus(status, ctx);
  if (ctx.message === undefined) return e;
  const body = e.body as AnthropicErrorBody;
  return new SimHttpError(e.status, errorBody(body.error.type, ctx.message), e.headers);
}

function anthropicErrorForStatus(
  status: number,
  ctx: { retryAfterSec?: number; model: string; apiKey: string },
): SimHttpError {
  switch (status) {
    case 400:
      return errors.invalid(
        'Invalid request: the request body was rejected by the upstream model.',
      );
    case 401:
      return ctx.apiKey ? errors.invalidApiKey() : errors.missingApiKey();
    case 402:
      return errors.billing();
    case 403:
      return errors.permission();
    case 404:
      return errors.modelNotFound(ctx.model);
    case 413:
      return errors.tooLarge();
    case 429:
      return errors.rateLimited(ctx.retryAfterSec);
    case 500:
      return errors.apiError();
    case 504:
      return errors.timeout();
    case 503:
    case 529:
      return errors.overloaded(status, ctx.retryAfterSec);
    default: {
      const text = STATUS_CODES[status] ?? 'Error';
      // "We may also use this error type for other 4XX status codes."
      return status >= 500 ? err(status, 'api_error', text) : errors.invalid(text);
    }
  }
}
