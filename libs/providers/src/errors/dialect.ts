/**
 * How a provider writes its errors: the only part of error handling a provider supplies. A
 * dialect reads message, type, code and param out of its error bodies, and may name a
 * context-length error or give a status a meaning of its own; the shared policy
 * (`policy.ts`) decides everything the client sees.
 */

/** What one upstream error body (or in-stream error event) says, as read by its dialect. */
export interface UpstreamErrorDetails {
  message: string | null;
  type: string | null;
  code: string | null;
  param: string | null;
  /** An HTTP status the body itself states (a numeric `code`, as in-stream errors carry). */
  status: number | null;
}

/** What an upstream failure means; the policy maps each to a status, a code and a message. */
export type UpstreamErrorKind =
  /** The request is invalid (400, 422): the tenant's to fix. */
  | 'invalid_request'
  /** The prompt does not fit the context window: another endpoint may hold it. */
  | 'context_length'
  /** The request is too large (413). */
  | 'too_large'
  /** Our provider credentials were rejected (401, 403). */
  | 'auth'
  /** Our provider account cannot pay (402, OpenAI's `insufficient_quota`). */
  | 'payment'
  /** The upstream does not serve the model our catalog names (404, 410). */
  | 'not_found'
  /** Our provider account is rate limited (429). */
  | 'rate_limited'
  /** The upstream is overloaded or down (503, 529). */
  | 'overloaded'
  /** The upstream timed out (408, 504, 524). */
  | 'timeout'
  /** Anything else: a 5xx, an unexpected 4xx or 3xx. */
  | 'server';

export interface ErrorDialect {
  /**
   * Reads a parsed error body, or the parsed data of an in-stream error event. Null when the
   * body says nothing this dialect can read.
   */
  read(json: unknown): UpstreamErrorDetails | null;
  /**
   * Whether the error says the prompt is longer than the context window, beyond what the shared
   * detector sees (OpenAI's `context_length_exceeded` code and the usual wordings).
   */
  isContextLength?(details: UpstreamErrorDetails): boolean;
  /**
   * What this provider means by an error when its status alone says otherwise (e.g. a quota
   * error sent as a 429, a throttling exception sent as a 400). `status` is null for an
   * in-stream error that states none. Undefined: the status decides.
   */
  kindOf?(
    status: number | null,
    details: UpstreamErrorDetails | null,
  ): UpstreamErrorKind | undefined;
}

type Json = Record<string, unknown>;
const isObj = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);
const str = (v: unknown): string | null => (typeof v === 'string' && v.trim() !== '' ? v : null);

/** A numeric `code` that is an HTTP error status. */
const statusOf = (v: unknown): number | null =>
  typeof v === 'number' && Number.isInteger(v) && v >= 400 && v <= 599 ? v : null;

/** FastAPI's validation errors: `[{loc: ['body', 'messages'], msg: 'field required'}]`. */
function validationMessage(detail: unknown[]): string | null {
  const parts = detail.flatMap((d) => {
    if (!isObj(d)) return typeof d === 'string' ? [d] : [];
    const msg = str(d['msg']) ?? str(d['message']);
    if (!msg) return [];
    const loc = Array.isArray(d['loc']) ? d['loc'].map(String).join('.') : null;
    return [loc ? `${loc}: ${msg}` : msg];
  });
  return parts.length > 0 ? parts.slice(0, 5).join('; ') : null;
}

/**
 * Reads the error shapes that OpenAI-compatible servers send:
 * - OpenAI's `{error: {message, type, param, code}}` (also Anthropic's `{type: 'error', error:
 *   {type, message}}`, Mistral, Groq, DeepSeek, Azure, OpenRouter with a numeric `code`);
 * - `{error: "text"}`;
 * - the flat `{message, type, param, code}` / `{object: 'error', ...}` of vLLM and others;
 * - `{detail: "text"}` (FastAPI, TGI) and FastAPI's `{detail: [{loc, msg}]}`;
 * - `{errors: [{message}]}`; and a one-element array of any of these.
 */
export function readCommonErrorBody(json: unknown): UpstreamErrorDetails | null {
  let value = Array.isArray(json) && json.length > 0 ? json[0] : json;
  if (!isObj(value)) return null;
  if (Array.isArray(value['errors']) && !('error' in value) && !('message' in value))
    value = isObj(value['errors'][0]) ? value['errors'][0] : value;
  const inner = value['error'];
  const source = isObj(inner) ? inner : value;
  const detail = source['detail'];
  const message =
    str(inner) ??
    str(source['message']) ??
    str(detail) ??
    (Array.isArray(detail) ? validationMessage(detail) : null) ??
    (isObj(detail) ? str(detail['message']) : null);
  const rawCode = source['code'] ?? value['code'];
  const details: UpstreamErrorDetails = {
    message,
    type: str(source['type']),
    code:
      typeof rawCode === 'string' && rawCode !== ''
        ? rawCode
        : typeof rawCode === 'number' && Number.isFinite(rawCode) && statusOf(rawCode) === null
          ? String(rawCode)
          : null,
    param: str(source['param']),
    status: statusOf(rawCode) ?? statusOf(source['status']) ?? statusOf(value['status']),
  };
  return Object.values(details).some((v) => v !== null) ? details : null;
}

/** The dialect of OpenAI itself and of most OpenAI-compatible servers. */
export const OPENAI_ERROR_DIALECT: ErrorDialect = {
  read: readCommonErrorBody,
  // OpenAI answers 429 both for a rate limit and for an account out of credit.
  kindOf: (status, d) =>
    status === 429 && d?.code === 'insufficient_quota' ? 'payment' : undefined,
};
