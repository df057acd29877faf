/**
 * How Bedrock writes its errors, read into the one error policy (`errors/policy.ts`).
 *
 * HTTP errors (restJson1): the exception's name is in the `x-amzn-errortype` header
 * (`ThrottlingException:http://internal.amazon.com/coral/com.amazon.bedrock/`), the body is
 * `{"message": "..."}`. In a ConverseStream the same exceptions arrive as event-stream frames
 * (`:message-type: exception`, `:exception-type: throttlingException`, camel case) with the same
 * body; `modelStreamErrorException` adds the model's `originalStatusCode` and `originalMessage`.
 *
 * What each exception means (the Converse API reference's list, and AWS's common errors):
 *
 * | exception                                   | HTTP | meaning here                  |
 * |---------------------------------------------|------|-------------------------------|
 * | ValidationException, SerializationException | 400  | invalid request (or context length; "The provided model identifier is invalid." = not found) |
 * | ServiceQuotaExceededException               | 400  | rate limited (our account's quota) |
 * | AccessDeniedException                       | 403  | auth (our account lacks model access) |
 * | UnrecognizedClientException, InvalidSignatureException, IncompleteSignatureException, MissingAuthenticationTokenException, ExpiredTokenException | 403 | auth (our credentials) |
 * | ResourceNotFoundException                   | 404  | the model is not served       |
 * | ModelTimeoutException                       | 408  | timeout                       |
 * | ModelErrorException                         | 424  | upstream error                |
 * | ThrottlingException                         | 429  | rate limited                  |
 * | ModelNotReadyException                      | 429  | overloaded (the model is loading; not our quota) |
 * | InternalServerException                     | 500  | upstream error                |
 * | ServiceUnavailableException                 | 503  | overloaded                    |
 * | modelStreamErrorException (in a stream)     |  -   | its `originalStatusCode`, else an upstream error |
 *
 * Auth failures carry AWS's own text, which can quote the canonical request (and with it a
 * session token): the policy never shows a tenant the text of a 401/403.
 */
import {
  readCommonErrorBody,
  upstreamHttpError,
  upstreamStreamError,
  type ErrorDialect,
  type UpstreamError,
  type UpstreamErrorDetails,
  type UpstreamErrorKind,
} from '../errors/index.js';
import { isObj } from '../core/json.js';

const KINDS: Readonly<Record<string, UpstreamErrorKind>> = {
  validationexception: 'invalid_request',
  serializationexception: 'invalid_request',
  conflictexception: 'invalid_request',
  servicequotaexceededexception: 'rate_limited',
  throttlingexception: 'rate_limited',
  modelnotreadyexception: 'overloaded',
  serviceunavailableexception: 'overloaded',
  accessdeniedexception: 'auth',
  unrecognizedclientexception: 'auth',
  invalidsignatureexception: 'auth',
  incompletesignatureexception: 'auth',
  missingauthenticationtokenexception: 'auth',
  expiredtokenexception: 'auth',
  resourcenotfoundexception: 'not_found',
  modeltimeoutexception: 'timeout',
  modelerrorexception: 'server',
  internalserverexception: 'server',
  modelstreamerrorexception: 'server',
};

/**
 * An AWS error type as the wire writes it → its bare name: `ThrottlingException:http://...`
 * (the header), `com.amazonaws.bedrockruntime#ThrottlingException` (a body's `__type`).
 */
export function errorTypeOf(raw: unknown): string | null {
  const v = Array.isArray(raw) ? (raw[0] as unknown) : raw;
  if (typeof v !== 'string' || v.trim() === '') return null;
  let t = v.trim();
  const colon = t.indexOf(':');
  if (colon >= 0) t = t.slice(0, colon);
  const hash = t.lastIndexOf('#');
  if (hash >= 0) t = t.slice(hash + 1);
  return /^[A-Za-z][A-Za-z0-9]*$/.test(t) ? t : null;
}

const INVALID_MODEL = /model identifier is invalid/i;
const CONTEXT_LENGTH = /too many input tokens|input is too long|prompt is too long/i;
const statusOf = (v: unknown): number | null =>
  typeof v === 'number' && Number.isInteger(v) && v >= 400 && v <= 599 ? v : null;

/** Reads a Bedrock error body (or an in-stream exception's data, with its type in `__type`). */
function readBedrockError(json: unknown, headerType: string | null): UpstreamErrorDetails | null {
  if (!isObj(json)) return null;
  const common = readCommonErrorBody(json);
  const message =
    (typeof json['message'] === 'string' && json['message']) ||
    (typeof json['Message'] === 'string' && json['Message']) ||
    common?.message ||
    null;
  // restJson1: the header first, then a top-level `code`, then `__type` (Smithy's protocol tests).
  const type =
    headerType ?? errorTypeOf(json['code']) ?? errorTypeOf(json['__type']) ?? common?.type ?? null;
  const details: UpstreamErrorDetails = {
    message,
    type,
    code: type,
    param: null,
    status: statusOf(json['originalStatusCode']) ?? null,
  };
  return Object.values(details).some((v) => v !== null) ? details : null;
}

/** The dialect of one Bedrock error; `headerType`: the type its HTTP response names, if any. */
export function bedrockErrorDialect(headerType: string | null = null): ErrorDialect {
  return {
    read: (json) => readBedrockError(json, headerType),
    isContextLength: (d) => CONTEXT_LENGTH.test(d.message ?? ''),
    kindOf(status, d) {
      const type = (d?.type ?? headerType)?.toLowerCase();
      if (type === undefined) return undefined;
      // A model error relayed in a stream: the model's own status decides, when it states one.
      if (type === 'modelstreamerrorexception' && status !== null) return undefined;
      if (type === 'validationexception' && INVALID_MODEL.test(d?.message ?? ''))
        return 'not_found';
      return KINDS[type];
    },
  };
}

/**
 * The exception an HTTP error response names, as restJson1 clients read it (Smithy's protocol
 * tests): the `x-amzn-errortype` header, else a top-level `code`, else `__type` of a JSON body.
 */
export function responseErrorType(
  headers: Record<string, string | string[] | undefined>,
  body: string,
): string | null {
  const header = errorTypeOf(headers['x-amzn-errortype'] ?? headers['X-Amzn-Errortype']);
  if (header) return header;
  let json: unknown;
  try {
    json = JSON.parse(body) as unknown;
  } catch {
    return null;
  }
  return isObj(json) ? (errorTypeOf(json['code']) ?? errorTypeOf(json['__type'])) : null;
}

/** An HTTP error response of Bedrock through the policy. */
export function bedrockHttpError(
  status: number,
  body: string,
  headers: Record<string, string | string[] | undefined>,
): UpstreamError {
  return upstreamHttpError(
    status,
    body,
    headers,
    bedrockErrorDialect(responseErrorType(headers, body)),
  );
}

/** An exception frame of a ConverseStream (`type` from `:exception-type`) through the policy. */
export function bedrockStreamError(type: string | null, data: unknown): UpstreamError {
  const body = isObj(data) ? data : {};
  return upstreamStreamError({ ...body, ...(type ? { __type: type } : {}) }, bedrockErrorDialect());
}
