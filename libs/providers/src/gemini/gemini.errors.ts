/**
 * How Google's APIs write their errors (AIP-193), read into the one error policy. The body is
 * `{error: {code, message, status, details}}` (a one-element array of it where the answer is a
 * JSON array, as `streamGenerateContent` without `alt=sse` sends), `code` the HTTP status and
 * `status` the canonical gRPC code name. `details` holds typed objects: `ErrorInfo` (a `reason`
 * such as `API_KEY_INVALID`), `RetryInfo` (`retryDelay: "7s"`), `QuotaFailure`, `Help`, ...
 *
 * Google's own meanings that the HTTP status does not carry:
 * - an invalid or expired API key is a 400 `INVALID_ARGUMENT` with reason `API_KEY_INVALID`:
 *   our credentials, never the tenant's request (and never echoed);
 * - `FAILED_PRECONDITION` (a 400): the account's free tier is unavailable, billing must be
 *   enabled: our account's billing;
 * - an error inside a stream states its status only by name (`status: "UNAVAILABLE"`) when its
 *   `code` is missing.
 */
import {
  upstreamHttpError,
  upstreamStreamError,
  type ErrorDialect,
  type HeaderBag,
  type UpstreamError,
  type UpstreamErrorDetails,
  type UpstreamErrorKind,
} from '../errors/index.js';
import { isObj, str, type Json } from '../core/json.js';

/** The canonical status names and what each means to the policy. */
const KIND_OF_STATUS: Readonly<Record<string, UpstreamErrorKind>> = {
  INVALID_ARGUMENT: 'invalid_request',
  OUT_OF_RANGE: 'invalid_request',
  FAILED_PRECONDITION: 'payment',
  UNAUTHENTICATED: 'auth',
  PERMISSION_DENIED: 'auth',
  NOT_FOUND: 'not_found',
  RESOURCE_EXHAUSTED: 'rate_limited',
  UNAVAILABLE: 'overloaded',
  DEADLINE_EXCEEDED: 'timeout',
  INTERNAL: 'server',
  UNKNOWN: 'server',
  ABORTED: 'server',
  CANCELLED: 'server',
};

/** `ErrorInfo` reasons that say our credentials were refused, whatever the status. */
const AUTH_REASONS: ReadonlySet<string> = new Set([
  'API_KEY_INVALID',
  'API_KEY_EXPIRED',
  'API_KEY_SERVICE_BLOCKED',
  'API_KEY_HTTP_REFERRER_BLOCKED',
  'API_KEY_IP_ADDRESS_BLOCKED',
  'ACCESS_TOKEN_EXPIRED',
  'ACCESS_TOKEN_TYPE_UNSUPPORTED',
  'ACCESS_TOKEN_SCOPE_INSUFFICIENT',
  'CREDENTIALS_MISSING',
  'SERVICE_DISABLED',
  'CONSUMER_SUSPENDED',
  'BILLING_DISABLED',
]);

const BILLING_REASONS: ReadonlySet<string> = new Set(['BILLING_DISABLED']);

/** The `error` object of a Google error body, or null. */
function errorObject(json: unknown): Json | null {
  const value = Array.isArray(json) && json.length > 0 ? (json[0] as unknown) : json;
  if (!isObj(value) || !isObj(value['error'])) return null;
  return value['error'];
}

function detailsOf(error: Json): Json[] {
  return Array.isArray(error['details']) ? error['details'].filter(isObj) : [];
}

const typeIs = (d: Json, name: string): boolean =>
  typeof d['@type'] === 'string' && d['@type'].endsWith(`/google.rpc.${name}`);

/** The `ErrorInfo` reason of an error (`API_KEY_INVALID`, `RATE_LIMIT_EXCEEDED`, ...). */
function reasonOf(error: Json): string | null {
  for (const d of detailsOf(error)) if (typeIs(d, 'ErrorInfo')) return str(d['reason']) ?? null;
  return null;
}

const httpStatus = (v: unknown): number | null =>
  typeof v === 'number' && Number.isInteger(v) && v >= 400 && v <= 599 ? v : null;

/** The HTTP status a canonical status name stands for (an in-stream error without a `code`). */
const STATUS_OF_NAME: Readonly<Record<string, number>> = {
  INVALID_ARGUMENT: 400,
  FAILED_PRECONDITION: 400,
  OUT_OF_RANGE: 400,
  UNAUTHENTICATED: 401,
  PERMISSION_DENIED: 403,
  NOT_FOUND: 404,
  ABORTED: 409,
  RESOURCE_EXHAUSTED: 429,
  CANCELLED: 499,
  INTERNAL: 500,
  UNKNOWN: 500,
  UNAVAILABLE: 503,
  DEADLINE_EXCEEDED: 504,
};

export const GEMINI_ERROR_DIALECT: ErrorDialect = {
  read(json: unknown): UpstreamErrorDetails | null {
    const error = errorObject(json);
    if (!error) return null;
    const status = str(error['status']) ?? null;
    const reason = reasonOf(error);
    return {
      message: str(error['message']) ?? null,
      // The canonical status name is the error's type; the ErrorInfo reason, the finer code.
      type: status,
      code: reason ?? status,
      param: null,
      status: httpStatus(error['code']) ?? (status ? (STATUS_OF_NAME[status] ?? null) : null),
    };
  },
  kindOf(_status, d): UpstreamErrorKind | undefined {
    if (!d) return undefined;
    if (d.code && BILLING_REASONS.has(d.code)) return 'payment';
    if (d.code && AUTH_REASONS.has(d.code)) return 'auth';
    return d.type ? KIND_OF_STATUS[d.type] : undefined;
  },
};

/** `"7s"`, `"7.889s"` (a protobuf Duration in JSON) → seconds. */
export function parseDuration(v: unknown): number | null {
  if (typeof v !== 'string') return null;
  const m = /^(\d+(?:\.\d+)?)s$/.exec(v.trim());
  return m ? Number(m[1]) : null;
}

/** How long a Google error body asks the client to wait (`RetryInfo.retryDelay`), in seconds. */
export function retryDelayOf(json: unknown): number | null {
  const error = errorObject(json);
  if (!error) return null;
  for (const d of detailsOf(error))
    if (typeIs(d, 'RetryInfo')) return parseDuration(d['retryDelay']);
  return null;
}

function tryJson(body: string): unknown {
  try {
    return JSON.parse(body) as unknown;
  } catch {
    return undefined;
  }
}

/**
 * An HTTP error of the Gemini API or Vertex AI. Google states how long to wait in the body
 * (`RetryInfo`) rather than a `Retry-After` header: it stands for the header when none came.
 */
export function geminiHttpError(status: number, body: string, headers: HeaderBag): UpstreamError {
  const hasHeader = Object.keys(headers).some((k) => /^retry-after(-ms)?$/i.test(k));
  const delay = hasHeader ? null : retryDelayOf(tryJson(body.trim()));
  return upstreamHttpError(
    status,
    body,
    delay === null ? headers : { ...headers, 'retry-after': String(delay) },
    GEMINI_ERROR_DIALECT,
  );
}

/** An error object inside a stream (`{error: {...}}` as a data event or as bare JSON lines). */
export function geminiStreamError(json: unknown): UpstreamError {
  return upstreamStreamError(json, GEMINI_ERROR_DIALECT);
}

/** Whether a parsed stream event is an error object. */
export const isGeminiError = (json: unknown): boolean => errorObject(json) !== null;
