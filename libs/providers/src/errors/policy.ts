/**
 * The one upstream-error policy. Every way an upstream call can fail (an HTTP error status, an
 * error inside a stream, a malformed answer, a failed connection, a timeout, the connector's own
 * failure) becomes an `UpstreamError` here, and nowhere else. It carries two views:
 *
 * - `reply`: what the client may see (the `ReplyError` of `llm.replies.v1`): status, type, code,
 *   message and retryability are ours. The upstream's own text reaches the client only for a
 *   request the upstream refused as invalid (400, 413, 422), scrubbed (`tenantSafeMessage`);
 *   for every other failure the message is our own fixed text, which names no address, no
 *   account, no credential.
 * - `detail`: what only operators may see (logs, `llm.attempts.v1`): the upstream's status,
 *   own code, type and message, or the system error of a failed connection.
 *
 * A provider takes part only through its `ErrorDialect` (how to read its error bodies).
 *
 * | upstream                          | client status | code                         | retryable |
 * |-----------------------------------|---------------|------------------------------|-----------|
 * | 400, 422                          | 400           | the provider's (if safe)     | no        |
 * | context length (code or message)  | 400           | context_length_exceeded      | yes (*)   |
 * | 413                               | 413           | the provider's or request_too_large | no |
 * | 401, 403                          | 502           | upstream_auth_failed         | yes       |
 * | 402, quota                        | 502           | upstream_payment_required    | yes       |
 * | 404, 410                          | 502           | upstream_model_not_found     | yes       |
 * | 429                               | 503 + Retry-After | upstream_rate_limited    | yes       |
 * | 503, 529                          | 503 + Retry-After | upstream_overloaded      | yes       |
 * | 408, 504, 524                     | 504           | upstream_timeout             | yes       |
 * | other status                      | 502           | upstream_error               | yes       |
 * | refused, reset, DNS, TLS          | 502           | upstream_connection_error    | yes       |
 * | connect/header/idle timeout, deadline | 504       | timeout                      | yes       |
 * | stream cut, malformed answer      | 502           | upstream_stream_cut / _bad_* | yes       |
 * | stream silent past the stall limit | 504          | upstream_stalled             | yes       |
 * | no usable account for the provider | 502          | provider_not_configured      | yes (**)  |
 *
 * (*) for fallback only to endpoints with a larger window (the gateway's `FallbackPlan`).
 * (**) for fallback only to endpoints of other providers; never retried by the client.
 */
import { UPSTREAM_ERROR_CODES as CODES, type ReplyError } from '@turnpike/contracts';
import {
  OPENAI_ERROR_DIALECT,
  type ErrorDialect,
  type UpstreamErrorDetails,
  type UpstreamErrorKind,
} from './dialect.js';
import { retryAfterFrom, type HeaderBag } from './retry-after.js';
import { safeIdentifier, tenantSafeMessage, withoutSecret } from './scrub.js';

/** What operators may know about a failure; never sent to a tenant. */
export interface OperatorDetail {
  /** The upstream's HTTP status, when it answered (or the status an in-stream error states). */
  upstreamStatus: number | null;
  /** The upstream's own error code, or the system's code of a failed connection. */
  providerCode: string | null;
  providerType: string | null;
  /** The upstream's message or body text, or the connection error's message (capped). */
  providerMessage: string | null;
}

/** A failed attempt: the client's view (`reply`) and the operators' (`detail`). */
export class UpstreamError extends Error {
  override readonly name = 'UpstreamError';

  constructor(
    readonly reply: ReplyError,
    readonly detail: OperatorDetail,
  ) {
    super(reply.message);
  }

  /**
   * The same failure with `secret` (the provider key of the call) and every 8-character piece of
   * it removed from both views: the last guard behind the scrubbing.
   */
  without(secret: string): UpstreamError {
    const clean = <T extends string | null | undefined>(v: T): T =>
      (typeof v === 'string' ? withoutSecret(v, secret) : v) as T;
    return new UpstreamError(
      {
        ...this.reply,
        message: clean(this.reply.message),
        code: clean(this.reply.code),
        param: clean(this.reply.param),
        ...(this.reply.providerCode !== undefined
          ? { providerCode: clean(this.reply.providerCode) }
          : {}),
      },
      {
        ...this.detail,
        providerCode: clean(this.detail.providerCode),
        providerType: clean(this.detail.providerType),
        providerMessage: clean(this.detail.providerMessage),
      },
    );
  }
}

const INVALID = 'invalid_request_error';
const SERVER = 'server_error';
/** Longest upstream text kept for operators. */
const MAX_DETAIL = 2000;

/** The wordings of a context-length error across providers. */
const CONTEXT_LENGTH =
  /context[ _-]?(?:length|window)|maximum context|too many tokens|prompt is too long|input is too long|reduce the length|(?:exceeds|exceeded) the (?:maximum|max) (?:number of )?(?:input )?tokens|input token count .* exceeds/i;

/** What an HTTP status means when the provider's dialect says nothing more. */
export function kindOfStatus(status: number): UpstreamErrorKind {
  switch (status) {
    case 400:
    case 422:
      return 'invalid_request';
    case 413:
      return 'too_large';
    case 401:
    case 403:
      return 'auth';
    case 402:
      return 'payment';
    case 404:
    case 410:
      return 'not_found';
    case 429:
      return 'rate_limited';
    case 503:
    case 529:
      return 'overloaded';
    case 408:
    case 504:
    case 524:
      return 'timeout';
    default:
      return 'server';
  }
}

/** The status an in-stream error stands for when it states none. */
const CANONICAL_STATUS: Record<UpstreamErrorKind, number> = {
  invalid_request: 400,
  context_length: 400,
  too_large: 413,
  auth: 401,
  payment: 402,
  not_found: 404,
  rate_limited: 429,
  overloaded: 503,
  timeout: 504,
  server: 502,
};

function isContextLength(dialect: ErrorDialect, d: UpstreamErrorDetails): boolean {
  return (
    d.code === CODES.contextLength ||
    dialect.isContextLength?.(d) === true ||
    CONTEXT_LENGTH.test(d.message ?? '')
  );
}

function resolveKind(
  dialect: ErrorDialect,
  status: number | null,
  details: UpstreamErrorDetails | null,
): UpstreamErrorKind {
  const kind = dialect.kindOf?.(status, details) ?? (status === null ? null : kindOfStatus(status));
  const mayBeContext =
    kind === 'invalid_request' ||
    kind === 'too_large' ||
    kind === null ||
    kind === 'context_length';
  if (mayBeContext && details && isContextLength(dialect, details)) return 'context_length';
  return kind ?? 'server';
}

const cap = (s: string | null, max = MAX_DETAIL): string | null =>
  s === null ? null : s.length <= max ? s : `${s.slice(0, max)}…`;

interface Facts {
  kind: UpstreamErrorKind;
  upstreamStatus: number | null;
  /** The status named in our messages ("(HTTP 401)"); null for an in-stream error without one. */
  shownStatus: number | null;
  details: UpstreamErrorDetails | null;
  retryAfterSec: number | null;
  /** The text of a body that was not JSON (an HTML page, plain text), for operators only. */
  rawText: string | null;
}

/** The client's and the operators' view of a classified upstream failure. */
function classified(f: Facts): UpstreamError {
  const http = f.shownStatus === null ? '' : ` (HTTP ${f.shownStatus})`;
  const upstreamText = tenantSafeMessage(f.details?.message);
  const providerCode = safeIdentifier(f.details?.code);
  const param = safeIdentifier(f.details?.param);
  const client = (
    status: number,
    code: string | null,
    fallback: string,
    retryable: boolean,
  ): ReplyError => ({
    status,
    type: INVALID,
    code,
    param,
    message: upstreamText ?? fallback,
    retryable,
    upstreamStatus: f.upstreamStatus,
    retryAfterSec: null,
    providerCode,
  });
  const server = (status: number, code: string, message: string): ReplyError =>
    serverReply(status, code, message, f.upstreamStatus, f.retryAfterSec);
  const reply = ((): ReplyError => {
    switch (f.kind) {
      case 'invalid_request':
        return client(
          400,
          providerCode,
          `The upstream provider rejected the request as invalid${http}.`,
          false,
        );
      case 'context_length':
        return client(
          400,
          CODES.contextLength,
          `The request is longer than the model's context window${http}.`,
          true,
        );
      case 'too_large':
        return client(
          413,
          providerCode ?? 'request_too_large',
          `The upstream provider rejected the request as too large${http}.`,
          false,
        );
      case 'auth':
        return server(
          502,
          CODES.auth,
          `The upstream provider rejected the gateway's credentials${http}. This is not a problem with your API key.`,
        );
      case 'payment':
        return server(
          502,
          CODES.payment,
          `The upstream provider refused the gateway's account for billing reasons${http}. This is not a problem with your API key or your credits.`,
        );
      case 'not_found':
        return server(
          502,
          CODES.notFound,
          `The upstream provider does not serve the requested model${http}.`,
        );
      case 'rate_limited':
        return server(
          503,
          CODES.rateLimited,
          `The upstream provider is rate limiting the gateway${http}. Please try again later.`,
        );
      case 'overloaded':
        return server(
          503,
          CODES.overloaded,
          `The upstream provider is overloaded or unavailable${http}. Please try again later.`,
        );
      case 'timeout':
        return server(
          504,
          CODES.timeout,
          `The upstream provider timed out${http}. Please try again later.`,
        );
      case 'server':
        return server(
          502,
          CODES.error,
          f.shownStatus === null
            ? 'The upstream provider reported an error during the response.'
            : `The upstream provider returned an error${http}.`,
        );
    }
  })();
  return new UpstreamError(reply, {
    upstreamStatus: f.upstreamStatus,
    providerCode: cap(f.details?.code ?? null, 128),
    providerType: cap(f.details?.type ?? null, 128),
    providerMessage: cap(f.details?.message ?? f.rawText),
  });
}

/** Parses a body that claims to be JSON; undefined for anything else (HTML, text, empty). */
function parseJsonBody(body: string): unknown {
  const text = body.trim();
  if (!text.startsWith('{') && !text.startsWith('[')) return undefined;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}

/** An upstream that answered with an HTTP error status. */
export function upstreamHttpError(
  status: number,
  body: string,
  headers: HeaderBag = {},
  dialect: ErrorDialect = OPENAI_ERROR_DIALECT,
  now = Date.now(),
): UpstreamError {
  const json = parseJsonBody(body);
  const details = json === undefined ? null : dialect.read(json);
  const text = body.replace(/\s+/g, ' ').trim();
  return classified({
    kind: resolveKind(dialect, status, details),
    upstreamStatus: status,
    shownStatus: status,
    details,
    retryAfterSec: retryAfterFrom(headers, now),
    rawText: details === null && text !== '' ? text : null,
  });
}

/**
 * An error the upstream sent inside a stream (an `error` event, or a data event holding an
 * `error` object), after a 200. It states its status in a numeric `code`, or none.
 */
export function upstreamStreamError(
  json: unknown,
  dialect: ErrorDialect = OPENAI_ERROR_DIALECT,
): UpstreamError {
  const details = dialect.read(json);
  const stated = details?.status ?? null;
  const kind = resolveKind(dialect, stated, details);
  return classified({
    kind,
    upstreamStatus: stated ?? CANONICAL_STATUS[kind],
    shownStatus: stated,
    details,
    retryAfterSec: null,
    rawText: null,
  });
}

/**
 * The client's view of a failure that is not the request's fault: a `server_error`, worth another
 * endpoint, in our own words.
 */
export function serverReply(
  status: number,
  code: string,
  message: string,
  upstreamStatus: number | null = null,
  retryAfterSec: number | null = null,
): ReplyError {
  return {
    status,
    type: SERVER,
    code,
    param: null,
    message,
    retryable: true,
    upstreamStatus,
    retryAfterSec,
  };
}

const failure = (
  status: number,
  code: string,
  message: string,
  detail: Partial<OperatorDetail> = {},
  upstreamStatus: number | null = null,
): UpstreamError =>
  new UpstreamError(serverReply(status, code, message, upstreamStatus), {
    upstreamStatus,
    providerCode: null,
    providerType: null,
    providerMessage: null,
    ...detail,
  });

/** The answer started (200) but could not be read, or the stream ended before it finished. */
export function protocolError(
  what: 'stream_cut' | 'bad_response' | 'bad_stream',
  upstreamStatus: number | null = null,
): UpstreamError {
  switch (what) {
    case 'stream_cut':
      return failure(
        502,
        CODES.streamCut,
        'The upstream stream ended unexpectedly.',
        {},
        upstreamStatus,
      );
    case 'bad_response':
      return failure(
        502,
        CODES.badResponse,
        'The upstream returned a malformed response.',
        {},
        upstreamStatus,
      );
    case 'bad_stream':
      return failure(
        502,
        CODES.badStream,
        'The upstream sent a malformed stream event.',
        {},
        upstreamStatus,
      );
  }
}

/**
 * The upstream's stream (or a non-streamed body, once begun) went silent for longer than the
 * attempt's stall limit: the connector ended the call. Retryable, like a cut: whatever was
 * already delivered stands, and the gateway may continue the answer elsewhere.
 */
export function stallError(limitMs: number): UpstreamError {
  const seconds = Math.round(limitMs / 100) / 10;
  return failure(
    504,
    CODES.stalled,
    `The upstream provider stopped sending its response (nothing for ${seconds} s).`,
    { providerMessage: `no stream event for ${limitMs} ms` },
  );
}

/** Our own deadline: before the call could start, or while waiting for the upstream. */
export function deadlineError(beforeCall = false): UpstreamError {
  return failure(
    504,
    CODES.deadline,
    beforeCall
      ? 'The request timed out before the upstream provider was called.'
      : 'The upstream provider did not answer in time.',
  );
}

/**
 * The connector has no usable account for the endpoint's provider: a configuration error of
 * ours, not an outage. `retryable` (another provider's endpoint may serve the request): the
 * gateway drops the other endpoints of the same provider from the request's candidates, and the
 * client is told not to retry (`x-should-retry: false`); the router's health ignores it.
 */
export function providerNotConfigured(
  providerId: string,
  why = 'no active account',
): UpstreamError {
  return failure(
    502,
    CODES.notConfigured,
    "This endpoint's provider is not configured on the gateway (it has no usable provider account). An operator must add one; retrying the request will not help.",
    { providerMessage: `provider '${providerId}': ${why}` },
  );
}

/** The connector itself failed (a bug): fixed text for the client, the error for the logs. */
export function connectorError(e: unknown): UpstreamError {
  return failure(502, CODES.connector, 'The gateway failed while calling the upstream provider.', {
    providerMessage: cap(e instanceof Error ? `${e.name}: ${e.message}` : String(e)),
  });
}
