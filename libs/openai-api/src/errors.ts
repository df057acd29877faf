/**
 * The error shape of the public API: OpenAI's `ErrorResponse`
 * (`{ error: { message, type, param, code } }`), optionally with OpenRouter's
 * `error.metadata` object.
 *
 * Choices, in short (see each factory for details):
 *
 * | factory               | status | type                    | code                      | retryable |
 * |-----------------------|--------|-------------------------|---------------------------|-----------|
 * | invalidJson           | 400    | invalid_request_error   | null                      | no        |
 * | invalidRequest        | 400    | invalid_request_error   | (given) / null            | no        |
 * | unauthorized          | 401    | invalid_request_error   | invalid_api_key           | no        |
 * | insufficientCredits   | 402    | insufficient_quota      | insufficient_quota        | no        |
 * | forbidden             | 403    | invalid_request_error   | permission_denied         | no        |
 * | modelNotFound         | 404    | invalid_request_error   | model_not_found           | no        |
 * | notFound              | 404    | invalid_request_error   | not_found                 | no        |
 * | routeNotFound         | 404    | invalid_request_error   | null                      | no        |
 * | payloadTooLarge       | 413    | invalid_request_error   | request_too_large         | no        |
 * | jsonTooDeep           | 400    | invalid_request_error   | json_too_deep             | no        |
 * | uriTooLong            | 414    | invalid_request_error   | uri_too_long              | no        |
 * | headersTooLarge       | 431    | invalid_request_error   | request_headers_too_large | no        |
 * | rateLimited           | 429    | requests                | rate_limit_exceeded       | no        |
 * | internal              | 500    | server_error            | null                      | no        |
 * | upstreamError         | 502    | server_error            | upstream_error            | yes       |
 * | serviceUnavailable    | 503    | server_error            | service_unavailable       | yes       |
 * | timeout               | 504    | server_error            | timeout                   | yes       |
 *
 * `retryable` answers "may the gateway try this request again on another
 * provider / fallback model (or later)?". It is true only for failures that are
 * attributable to one upstream attempt (provider down, overloaded, timed out,
 * rejected our provider credentials, ...). It is false whenever the request
 * itself or the tenant is at fault (bad input, bad key, no credits, the
 * tenant's own rate limit): trying another provider cannot fix those.
 */

import { UPSTREAM_ERROR_CODES, type ReplyError } from '@turnpike/contracts';

export interface OpenAIErrorObject {
  message: string;
  type: string;
  param: string | null;
  code: string | null;
  /** OpenRouter extension: free-form details (e.g. `upstream_status`, `provider_name`). */
  metadata?: Record<string, unknown>;
}

export interface OpenAIErrorBody {
  error: OpenAIErrorObject;
}

export interface ApiErrorInit {
  status: number;
  type: string;
  message: string;
  code?: string | null;
  param?: string | null;
  metadata?: Record<string, unknown>;
  /** Defaults to false. */
  retryable?: boolean;
  /** Seconds; surfaced as a `Retry-After` header by {@link ApiError.headers}. */
  retryAfterSec?: number;
  /** HTTP status of the upstream response this error was derived from, if any. */
  upstreamStatus?: number;
  /**
   * Tells clients whether to retry (`x-should-retry`, which the official OpenAI SDKs obey over
   * their status rules); unset: their own rules apply.
   */
  clientShouldRetry?: boolean;
  cause?: unknown;
}

const API_ERROR_BRAND = Symbol.for('@turnpike/openai-api/ApiError');

export class ApiError extends Error {
  readonly status: number;
  readonly type: string;
  readonly code: string | null;
  readonly param: string | null;
  readonly metadata?: Record<string, unknown>;
  readonly retryable: boolean;
  readonly retryAfterSec?: number;
  readonly upstreamStatus?: number;
  readonly clientShouldRetry?: boolean;

  constructor(init: ApiErrorInit) {
    super(init.message, init.cause === undefined ? undefined : { cause: init.cause });
    this.name = 'ApiError';
    this.status = init.status;
    this.type = init.type;
    this.code = init.code ?? null;
    this.param = init.param ?? null;
    if (init.metadata !== undefined) this.metadata = init.metadata;
    this.retryable = init.retryable ?? false;
    if (init.retryAfterSec !== undefined) this.retryAfterSec = init.retryAfterSec;
    if (init.upstreamStatus !== undefined) this.upstreamStatus = init.upstreamStatus;
    if (init.clientShouldRetry !== undefined) this.clientShouldRetry = init.clientShouldRetry;
    Object.defineProperty(this, API_ERROR_BRAND, { value: true });
  }

  /** The JSON body to send to the client (OpenAI `ErrorResponse`). */
  toBody(): OpenAIErrorBody {
    const error: OpenAIErrorObject = {
      message: this.message,
      type: this.type,
      param: this.param,
      code: this.code,
    };
    if (this.metadata !== undefined) error.metadata = this.metadata;
    return { error };
  }

  /** Extra response headers the error calls for: `retry-after`, `x-should-retry`. */
  headers(): Record<string, string> {
    return {
      ...(this.retryAfterSec === undefined
        ? {}
        : { 'retry-after': String(Math.max(0, Math.ceil(this.retryAfterSec))) }),
      ...(this.clientShouldRetry === undefined
        ? {}
        : { 'x-should-retry': String(this.clientShouldRetry) }),
    };
  }
}

export function isApiError(x: unknown): x is ApiError {
  return (
    x instanceof ApiError ||
    (typeof x === 'object' &&
      x !== null &&
      (x as Record<symbol, unknown>)[API_ERROR_BRAND] === true)
  );
}

/** Any thrown value → an ApiError (ApiErrors unchanged, anything else → {@link internal}). */
export function toApiError(err: unknown): ApiError {
  return isApiError(err) ? err : internal(err);
}

// ---------------------------------------------------------------------------
// Factories
// ---------------------------------------------------------------------------

const INVALID_REQUEST = 'invalid_request_error';
const SERVER_ERROR = 'server_error';

export const INVALID_JSON_MESSAGE =
  "We could not parse the JSON body of your request. (HINT: This likely means you aren't using your HTTP library correctly. " +
  'The API expects a JSON payload, but what was sent was not valid JSON.)';

/** 400 — the body is not valid JSON. `detail` (e.g. the parser's message) is appended when given. */
export function invalidJson(detail?: string): ApiError {
  const message =
    detail === undefined || detail === ''
      ? INVALID_JSON_MESSAGE
      : `${INVALID_JSON_MESSAGE} Parser error: ${detail}`;
  return new ApiError({ status: 400, type: INVALID_REQUEST, message, code: null, param: null });
}

/** 400 — the JSON body nests arrays/objects deeper than we accept. */
export function jsonTooDeep(maxDepth: number): ApiError {
  return new ApiError({
    status: 400,
    type: INVALID_REQUEST,
    message: `The JSON body of your request nests arrays and objects deeper than ${maxDepth} levels.`,
    code: 'json_too_deep',
    param: null,
  });
}

/** 431 — the request's headers are larger than the server accepts. */
export function headersTooLarge(): ApiError {
  return new ApiError({
    status: 431,
    type: INVALID_REQUEST,
    message: 'The request headers are too large.',
    code: 'request_headers_too_large',
  });
}

/** 414 — a path parameter (or the path) is longer than the server accepts. */
export function uriTooLong(): ApiError {
  return new ApiError({
    status: 414,
    type: INVALID_REQUEST,
    message: 'The request path is too long: a path parameter exceeds the maximum length.',
    code: 'uri_too_long',
  });
}

/** 400 — the HTTP request itself is malformed (the server could not parse it). */
export function badHttpRequest(message = 'The HTTP request is malformed.'): ApiError {
  return new ApiError({ status: 400, type: INVALID_REQUEST, message, code: 'bad_request' });
}

/** 400 — a request that is well-formed JSON but invalid. */
export function invalidRequest(
  message: string,
  param: string | null = null,
  code: string | null = null,
): ApiError {
  return new ApiError({ status: 400, type: INVALID_REQUEST, message, param, code });
}

export const MISSING_API_KEY_MESSAGE =
  "You didn't provide an API key. You need to provide your API key in an Authorization header using Bearer auth " +
  '(i.e. Authorization: Bearer YOUR_KEY).';

/** `Incorrect API key provided: sk-tp-ab***yz.` — never echoes the full key. */
export function incorrectApiKeyMessage(key: string): string {
  const shown = key.length <= 8 ? '***' : `${key.slice(0, 6)}***${key.slice(-4)}`;
  return `Incorrect API key provided: ${shown}.`;
}

/**
 * 401, `invalid_request_error` / `invalid_api_key` (what OpenAI sends for a bad
 * key). Without a message: the "You didn't provide an API key" text OpenAI
 * uses when the Authorization header is missing.
 */
export function unauthorized(message: string = MISSING_API_KEY_MESSAGE): ApiError {
  return new ApiError({ status: 401, type: INVALID_REQUEST, message, code: 'invalid_api_key' });
}

/**
 * 402 (OpenRouter's status for "Insufficient credits"), with OpenAI's
 * `insufficient_quota` as both type and code (OpenAI itself sends those with a
 * 429, which SDKs would retry — a 402 is not retried by the OpenAI SDKs).
 */
export function insufficientCredits(message: string): ApiError {
  return new ApiError({
    status: 402,
    type: 'insufficient_quota',
    message,
    code: 'insufficient_quota',
  });
}

/** 403 — authenticated but not allowed (key disabled for this model, tenant suspended, ...). */
export function forbidden(message: string, code: string = 'permission_denied'): ApiError {
  return new ApiError({ status: 403, type: INVALID_REQUEST, message, code });
}

/** 404 exactly as OpenAI words it. */
export function modelNotFound(model: string): ApiError {
  return new ApiError({
    status: 404,
    type: INVALID_REQUEST,
    message: `The model \`${model}\` does not exist or you do not have access to it.`,
    code: 'model_not_found',
    param: 'model',
  });
}

/** 404 for a resource: `notFound("Generation 'gen-1'")` → "Generation 'gen-1' not found." */
export function notFound(what: string): ApiError {
  return new ApiError({
    status: 404,
    type: INVALID_REQUEST,
    message: `${what} not found.`,
    code: 'not_found',
  });
}

/** 404 for an unknown route, as OpenAI words it: "Invalid URL (POST /v1/foo)". */
export function routeNotFound(method: string, path: string): ApiError {
  return new ApiError({
    status: 404,
    type: INVALID_REQUEST,
    message: `Invalid URL (${method.toUpperCase()} ${path})`,
    code: null,
  });
}

/** 413 — the request body exceeds our limit. */
export function payloadTooLarge(limitBytes: number): ApiError {
  return new ApiError({
    status: 413,
    type: INVALID_REQUEST,
    message: `Request body too large. The maximum request body size is ${limitBytes} bytes.`,
    code: 'request_too_large',
  });
}

/**
 * 429 — the tenant hit one of OUR limits. OpenAI's rate-limit bodies use type
 * `requests` (or `tokens`) and code `rate_limit_exceeded`. Not retryable in the
 * fallback sense (another provider would not help); the client should honour
 * `Retry-After` (see {@link ApiError.headers}).
 */
export function rateLimited(
  message: string,
  retryAfterSec?: number,
  kind: 'requests' | 'tokens' = 'requests',
): ApiError {
  return new ApiError({
    status: 429,
    type: kind,
    message,
    code: 'rate_limit_exceeded',
    ...(retryAfterSec === undefined ? {} : { retryAfterSec }),
  });
}

/** OpenAI's own 500 text. `cause` is kept on the error for logging, never sent. */
export const INTERNAL_ERROR_MESSAGE =
  'The server had an error while processing your request. Sorry about that!';

/** 500 — a bug or unexpected failure inside the gateway. */
export function internal(cause?: unknown): ApiError {
  return new ApiError({
    status: 500,
    type: SERVER_ERROR,
    message: INTERNAL_ERROR_MESSAGE,
    code: null,
    cause,
  });
}

/**
 * 502 — an upstream provider failed (OpenRouter: 502 "Provider returned error").
 * Type `server_error` like every 5xx OpenAI sends; the code tells the cases apart.
 * `metadata.upstream_status` carries the provider's status when known.
 */
export function upstreamError(
  message: string,
  upstreamStatus?: number,
  opts: {
    code?: string;
    metadata?: Record<string, unknown>;
    retryable?: boolean;
    retryAfterSec?: number;
  } = {},
): ApiError {
  const metadata = mergeMetadata(upstreamStatus, opts.metadata);
  return new ApiError({
    status: 502,
    type: SERVER_ERROR,
    message,
    code: opts.code ?? 'upstream_error',
    retryable: opts.retryable ?? true,
    ...(opts.retryAfterSec === undefined ? {} : { retryAfterSec: opts.retryAfterSec }),
    ...(metadata === undefined ? {} : { metadata }),
    ...(upstreamStatus === undefined ? {} : { upstreamStatus }),
  });
}

/** 503 — no provider can take the request right now (all down / overloaded / circuit open). */
export function serviceUnavailable(
  message: string,
  retryAfterSec?: number,
  opts: { code?: string; metadata?: Record<string, unknown>; upstreamStatus?: number } = {},
): ApiError {
  const metadata = mergeMetadata(opts.upstreamStatus, opts.metadata);
  return new ApiError({
    status: 503,
    type: SERVER_ERROR,
    message,
    code: opts.code ?? 'service_unavailable',
    retryable: true,
    ...(retryAfterSec === undefined ? {} : { retryAfterSec }),
    ...(metadata === undefined ? {} : { metadata }),
    ...(opts.upstreamStatus === undefined ? {} : { upstreamStatus: opts.upstreamStatus }),
  });
}

/**
 * 504 — the upstream did not answer in time. We pick 504 Gateway Timeout over
 * OpenRouter's 408: 408 means the *client* was too slow to send its request,
 * while here the gateway timed out waiting for a provider. Both are retried by
 * the OpenAI SDKs.
 */
export function timeout(
  message: string = 'The upstream provider did not respond in time. Please try again later.',
  opts: { code?: string; metadata?: Record<string, unknown>; upstreamStatus?: number } = {},
): ApiError {
  const metadata = mergeMetadata(opts.upstreamStatus, opts.metadata);
  return new ApiError({
    status: 504,
    type: SERVER_ERROR,
    message,
    code: opts.code ?? 'timeout',
    retryable: true,
    ...(metadata === undefined ? {} : { metadata }),
    ...(opts.upstreamStatus === undefined ? {} : { upstreamStatus: opts.upstreamStatus }),
  });
}

function mergeMetadata(
  upstreamStatus: number | undefined,
  extra: Record<string, unknown> | undefined,
): Record<string, unknown> | undefined {
  if (upstreamStatus === undefined && extra === undefined) return undefined;
  return { ...(upstreamStatus === undefined ? {} : { upstream_status: upstreamStatus }), ...extra };
}

// ---------------------------------------------------------------------------
// Upstream failures
// ---------------------------------------------------------------------------

/**
 * The client's error for an upstream failure that the connector reported. Every field of a
 * `ReplyError` was chosen by the one upstream-error policy (`libs/providers/src/errors`), which
 * already decided what the tenant may read; this only puts it in the public shape, with the
 * upstream's status as `metadata.upstream_status` and, for a request the upstream refused as
 * invalid, its own code as `metadata.provider_code` (OpenRouter-style metadata).
 */
export function fromReplyError(e: ReplyError): ApiError {
  const metadata: Record<string, unknown> = {};
  if (e.upstreamStatus !== null) metadata['upstream_status'] = e.upstreamStatus;
  if (typeof e.providerCode === 'string') metadata['provider_code'] = e.providerCode;
  return new ApiError({
    status: e.status,
    type: e.type,
    message: e.message,
    code: e.code,
    param: e.param,
    retryable: e.retryable,
    ...(e.retryAfterSec !== null ? { retryAfterSec: e.retryAfterSec } : {}),
    ...(e.upstreamStatus !== null ? { upstreamStatus: e.upstreamStatus } : {}),
    ...(Object.keys(metadata).length > 0 ? { metadata } : {}),
    // Our configuration error: the same request fails the same way until an operator acts.
    ...(e.code === UPSTREAM_ERROR_CODES.notConfigured ? { clientShouldRetry: false } : {}),
  });
}
