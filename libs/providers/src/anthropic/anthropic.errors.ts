/**
 * How Anthropic writes its errors: `{"type": "error", "error": {"type", "message"}, "request_id"}`
 * for an HTTP error, and the same object as the data of an `event: error` inside a stream. The
 * error `type` names what happened (Anthropic's "Errors" reference):
 *
 * | status | type                   |
 * |--------|------------------------|
 * | 400    | invalid_request_error  |
 * | 401    | authentication_error   |
 * | 402    | billing_error          |
 * | 403    | permission_error       |
 * | 404    | not_found_error        |
 * | 413    | request_too_large      |
 * | 429    | rate_limit_error       |
 * | 500    | api_error              |
 * | 504    | timeout_error          |
 * | 529    | overloaded_error       |
 *
 * Everything the client then sees is decided by the shared policy (`errors/policy.ts`).
 */
import {
  readCommonErrorBody,
  retryAfterFrom,
  upstreamHttpError,
  type ErrorDialect,
  type HeaderBag,
  type UpstreamError,
  type UpstreamErrorDetails,
} from '../errors/index.js';
import { isObj, str } from '../core/json.js';

/** The HTTP status each Anthropic error type goes with. */
export const ANTHROPIC_ERROR_STATUS: Readonly<Record<string, number>> = {
  invalid_request_error: 400,
  authentication_error: 401,
  billing_error: 402,
  permission_error: 403,
  not_found_error: 404,
  request_too_large: 413,
  rate_limit_error: 429,
  api_error: 500,
  timeout_error: 504,
  overloaded_error: 529,
};

/**
 * Anthropic's context-window wordings beyond the shared detector's ("prompt is too long: 210000
 * tokens > 200000 maximum"): the sum of the input and `max_tokens` over the window.
 */
const CONTEXT_LIMIT = /exceed(?:s|ed)? (?:the )?context limit|context window/i;

export const ANTHROPIC_ERROR_DIALECT: ErrorDialect = {
  read(json: unknown): UpstreamErrorDetails | null {
    if (isObj(json) && isObj(json['error']) && typeof json['error']['type'] === 'string') {
      const e = json['error'];
      const type = str(e['type']) ?? null;
      const message = str(e['message']);
      return {
        message: message !== undefined && message.trim() !== '' ? message : null,
        type,
        // Anthropic has no separate code: its type is the code clients switch on.
        code: type,
        param: null,
        // The status the type stands for: what an in-stream `overloaded_error` means.
        status: type !== null ? (ANTHROPIC_ERROR_STATUS[type] ?? null) : null,
      };
    }
    // A proxy or gateway in front of the API (OpenAI-shaped, `{detail}`, ...).
    return readCommonErrorBody(json);
  },
  isContextLength: (d) => d.type === 'invalid_request_error' && CONTEXT_LIMIT.test(d.message ?? ''),
};

const RATE_LIMIT_KINDS = ['requests', 'tokens', 'input-tokens', 'output-tokens'] as const;

function header(headers: HeaderBag, name: string): string | undefined {
  for (const [k, v] of Object.entries(headers))
    if (k.toLowerCase() === name) return Array.isArray(v) ? v[0] : v;
  return undefined;
}

/**
 * How long a 429 asks us to wait: `retry-after` when Anthropic sends it, else the reset time
 * (RFC 3339) of the exhausted `anthropic-ratelimit-<kind>-*` budget (the latest one, when several
 * are spent).
 */
export function anthropicRetryAfter(headers: HeaderBag, now = Date.now()): number | null {
  const explicit = retryAfterFrom(headers, now);
  if (explicit !== null) return explicit;
  let wait: number | null = null;
  for (const kind of RATE_LIMIT_KINDS) {
    const remaining = header(headers, `anthropic-ratelimit-${kind}-remaining`);
    const reset = header(headers, `anthropic-ratelimit-${kind}-reset`);
    if (remaining === undefined || reset === undefined || Number(remaining) > 0) continue;
    const at = Date.parse(reset);
    if (Number.isNaN(at)) continue;
    const sec = Math.max(0, Math.ceil((at - now) / 1000));
    wait = wait === null ? sec : Math.max(wait, sec);
  }
  return wait;
}

/** An Anthropic HTTP error through the one policy. */
export function anthropicHttpError(
  status: number,
  body: string,
  headers: HeaderBag,
  now = Date.now(),
): UpstreamError {
  const wait = anthropicRetryAfter(headers, now);
  const bag: HeaderBag = wait === null ? headers : { ...headers, 'retry-after': String(wait) };
  return upstreamHttpError(status, body, bag, ANTHROPIC_ERROR_DIALECT, now);
}
