/** OpenAI error bodies (`ErrorResponse`) and the statuses they go with. */
import { STATUS_CODES } from 'node:http';
import { proxyErrorBody } from '../core/proxy-errors.js';
import { redactKey, retryAfterHeaders, SimHttpError } from '../core/sim-error.js';
import type { ErrorBodyMode } from '../core/types.js';

export { proxyErrorBody, redactKey, retryAfterHeaders, SimHttpError };

export interface OpenAIErrorObject {
  message: string;
  type: string;
  param: string | null;
  code: string | null;
}

export interface OpenAIErrorBody {
  error: OpenAIErrorObject;
}

const err = (
  status: number,
  message: string,
  type: string,
  param: string | null = null,
  code: string | null = null,
  headers: Record<string, string> = {},
): SimHttpError => new SimHttpError(status, { error: { message, type, param, code } }, headers);

const invalid = (
  status: number,
  message: string,
  param: string | null = null,
  code: string | null = null,
) => err(status, message, 'invalid_request_error', param, code);

function formatWait(sec: number): string {
  return sec < 1 ? `${Math.round(sec * 1000)}ms` : `${Number(sec.toFixed(3))}s`;
}

export const RATE_LIMIT_REQUESTS = 10_000;
export const RATE_LIMIT_TOKENS = 30_000_000;

/** OpenAI's `x-ratelimit-*` headers; `limited` reports an exhausted request budget. */
export function rateLimitHeaders(limited: boolean, resetSec = 0.006): Record<string, string> {
  return {
    'x-ratelimit-limit-requests': String(RATE_LIMIT_REQUESTS),
    'x-ratelimit-limit-tokens': String(RATE_LIMIT_TOKENS),
    'x-ratelimit-remaining-requests': String(limited ? 0 : RATE_LIMIT_REQUESTS - 1),
    'x-ratelimit-remaining-tokens': String(limited ? 0 : RATE_LIMIT_TOKENS - 1_000),
    'x-ratelimit-reset-requests': formatWait(resetSec),
    'x-ratelimit-reset-tokens': formatWait(resetSec),
  };
}

export const errors = {
  invalidJson: () =>
    invalid(
      400,
      "We could not parse the JSON body of your request. (HINT: This likely means you aren't using your HTTP library correctly. The OpenAI API expects a JSON payload, but what was sent was not valid JSON. If you have trouble figuring out how to fix this, please contact us through our help center at help.openai.com.)",
    ),
  missingModel: () => invalid(400, 'you must provide a model parameter', 'model'),
  missingParam: (param: string) =>
    invalid(400, `Missing required parameter: '${param}'.`, param, 'missing_required_parameter'),
  invalidType: (param: string, expected: string, got: string) =>
    invalid(
      400,
      `Invalid type for '${param}': expected ${expected}, but got ${got} instead.`,
      param,
      'invalid_type',
    ),
  emptyArray: (param: string) =>
    invalid(
      400,
      `Invalid '${param}': empty array. Expected an array with minimum length 1, but got an empty array instead.`,
      param,
      'empty_array',
    ),
  invalidValue: (param: string, value: string, supported: readonly string[]) =>
    invalid(
      400,
      `Invalid value: '${value}'. Supported values are: ${supported.map((s) => `'${s}'`).join(', ')}.`,
      param,
      'invalid_value',
    ),
  belowMinimum: (param: string, value: number, min: number) =>
    invalid(
      400,
      `Invalid '${param}': integer below minimum value. Expected a value >= ${min}, but got ${value} instead.`,
      param,
      'integer_below_min_value',
    ),
  aboveMaximum: (param: string, value: number, max: number) =>
    invalid(
      400,
      `Invalid '${param}': integer above maximum value. Expected a value <= ${max}, but got ${value} instead.`,
      param,
      'integer_above_max_value',
    ),
  toolChoiceWithoutTools: () =>
    invalid(
      400,
      "Invalid value for 'tool_choice': 'tool_choice' is only allowed when 'tools' are specified.",
      'tool_choice',
    ),
  contextLengthExceeded: (max: number, actual: number) =>
    invalid(
      400,
      `This model's maximum context length is ${max} tokens. However, your messages resulted in ${actual} tokens. Please reduce the length of the messages.`,
      'messages',
      'context_length_exceeded',
    ),
  /** A malformed `[[sim ...]]` directive or `x-sim-*` header. */
  badKnob: (message: string) => invalid(400, message, null, 'sim_invalid_knob'),
  bodyTooLarge: (limit: number) =>
    invalid(413, `Request body too large: the limit is ${limit} bytes.`),
  missingApiKey: () =>
    invalid(
      401,
      "You didn't provide an API key. You need to provide your API key in an Authorization header using Bearer auth (i.e. Authorization: Bearer YOUR_KEY), or as the password field (with blank username) if you're accessing the API from your browser and are prompted for a username. You can obtain an API key from https://platform.openai.com/account/api-keys.",
    ),
  invalidApiKey: (key: string) =>
    invalid(
      401,
      `Incorrect API key provided: ${redactKey(key)}. You can find your API key at https://platform.openai.com/account/api-keys.`,
      null,
      'invalid_api_key',
    ),
  noModelAccess: (model: string) =>
    invalid(
      403,
      `Project \`proj_sim\` does not have access to model \`${model}\``,
      null,
      'model_not_found',
    ),
  modelNotFound: (model: string) =>
    invalid(
      404,
      `The model \`${model}\` does not exist or you do not have access to it.`,
      null,
      'model_not_found',
    ),
  invalidUrl: (method: string, path: string) => invalid(404, `Invalid URL (${method} ${path})`),
  rateLimited: (model: string, retryAfterSec: number | undefined) =>
    err(
      429,
      `Rate limit reached for ${model} in organization org-sim on requests per min (RPM): Limit ${RATE_LIMIT_REQUESTS}, Used ${RATE_LIMIT_REQUESTS}, Requested 1. Please try again in ${formatWait(retryAfterSec ?? 0.006)}. Visit https://platform.openai.com/account/rate-limits to learn more.`,
      'requests',
      null,
      'rate_limit_exceeded',
      { ...retryAfterHeaders(retryAfterSec), ...rateLimitHeaders(true, retryAfterSec) },
    ),
  serverError: () =>
    err(
      500,
      'The server had an error while processing your request. Sorry about that!',
      'server_error',
    ),
  overloaded: (retryAfterSec: number | undefined) =>
    err(
      503,
      'The server is overloaded or not ready yet.',
      'server_error',
      null,
      null,
      retryAfterHeaders(retryAfterSec),
    ),
};

export interface StatusContext {
  model: string;
  /** The API key the client sent, if any (echoed redacted in 401s). */
  apiKey?: string;
  retryAfterSec?: number;
  /** A proxy's body instead of OpenAI's JSON (the `body` knob). */
  body?: ErrorBodyMode;
  /** The JSON body's message instead of OpenAI's (the `message` knob). */
  message?: string;
  /** `host:port` the request reached, which an HTML error page names like Apache's. */
  server?: string;
}

/** The error answered for the `status` knob: OpenAI's, or a proxy's (`body`), or with `message`. */
export function errorForStatus(status: number, ctx: StatusContext): SimHttpError {
  const e = openAIErrorForStatus(status, ctx);
  if (ctx.body !== undefined)
    return new SimHttpError(
      e.status,
      e.body,
      e.headers,
      proxyErrorBody(status, ctx.body, ctx.server),
    );
  if (ctx.message !== undefined)
    return new SimHttpError(
      e.status,
      { error: { ...(e.body as OpenAIErrorBody).error, message: ctx.message } },
      e.headers,
    );
  return e;
}

/** The error OpenAI answers with for `status`. */
function openAIErrorForStatus(status: number, ctx: StatusContext): SimHttpError {
  switch (status) {
    case 400:
      return invalid(400, 'Invalid request: the request body was rejected by the upstream model.');
    case 401:
      return ctx.apiKey ? errors.invalidApiKey(ctx.apiKey) : errors.missingApiKey();
    case 403:
      return errors.noModelAccess(ctx.model);
    case 404:
      return errors.modelNotFound(ctx.model);
    case 408:
      return err(408, 'Request timed out.', 'server_error', null, 'timeout');
    case 429:
      return errors.rateLimited(ctx.model, ctx.retryAfterSec);
    case 500:
      return errors.serverError();
    case 502:
      return err(502, 'Bad gateway.', 'cf_bad_gateway');
    case 503:
      return errors.overloaded(ctx.retryAfterSec);
    case 504:
      return err(504, 'Gateway timeout.', 'cf_gateway_timeout');
    case 529:
      return err(
        529,
        'Overloaded',
        'overloaded_error',
        null,
        null,
        retryAfterHeaders(ctx.retryAfterSec),
      );
    default: {
      const text = STATUS_CODES[status] ?? 'Error';
      return status >= 500 ? err(status, `${text}.`, 'server_error') : invalid(status, `${text}.`);
    }
  }
}
