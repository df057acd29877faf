/**
 * Google's error bodies (AIP-193): `{error: {code, message, status, details}}`, `code` the HTTP
 * status, `status` the canonical code name, `details` typed objects (`ErrorInfo`, `RetryInfo`,
 * `QuotaFailure`, `Help`, ...). Written as Google writes them: indented by two spaces, with a
 * final line break; `Content-Type: application/json; charset=UTF-8`, or `text/event-stream` when
 * the request asked for `alt=sse` (so Google answers errors to streamed requests).
 */
import { STATUS_CODES } from 'node:http';
import { SimHttpError } from '../core/sim-error.js';

export type GeminiRoute = 'gemini' | 'vertex';

/** The canonical status name of each HTTP status Google uses. */
const STATUS_NAMES: Readonly<Record<number, string>> = {
  400: 'INVALID_ARGUMENT',
  401: 'UNAUTHENTICATED',
  403: 'PERMISSION_DENIED',
  404: 'NOT_FOUND',
  409: 'ABORTED',
  413: 'INVALID_ARGUMENT',
  429: 'RESOURCE_EXHAUSTED',
  499: 'CANCELLED',
  500: 'INTERNAL',
  501: 'UNIMPLEMENTED',
  503: 'UNAVAILABLE',
  504: 'DEADLINE_EXCEEDED',
};

export const statusName = (status: number): string =>
  STATUS_NAMES[status] ?? (status < 500 ? 'FAILED_PRECONDITION' : 'UNKNOWN');

type Detail = Record<string, unknown>;

const SERVICE: Record<GeminiRoute, string> = {
  gemini: 'generativelanguage.googleapis.com',
  vertex: 'aiplatform.googleapis.com',
};

/** The body of a Google error, as text. */
export const errorText = (body: unknown): string => `${JSON.stringify(body, null, 2)}\n`;

export interface ErrorContext {
  route: GeminiRoute;
  /** The request asked for `alt=sse`. */
  sse: boolean;
}

/** A Google error answered with `status`. */
export function googleError(
  status: number,
  message: string,
  ctx: ErrorContext,
  details: Detail[] = [],
  name = statusName(status),
): SimHttpError {
  const body = {
    error: { code: status, message, status: name, ...(details.length > 0 ? { details } : {}) },
  };
  return new SimHttpError(
    status,
    body,
    {},
    {
      contentType: ctx.sse ? 'text/event-stream' : 'application/json; charset=UTF-8',
      text: errorText(body),
    },
  );
}

const errorInfo = (reason: string, route: GeminiRoute, metadata: Detail = {}): Detail => ({
  '@type': 'type.googleapis.com/google.rpc.ErrorInfo',
  reason,
  domain: 'googleapis.com',
  metadata: { service: SERVICE[route], ...metadata },
});

/** `RetryInfo`: how Google tells a client when to retry (no `Retry-After` header). */
const retryInfo = (sec: number | undefined): Detail[] =>
  sec === undefined
    ? []
    : [{ '@type': 'type.googleapis.com/google.rpc.RetryInfo', retryDelay: `${sec}s` }];

const OAUTH_HINT =
  'Expected OAuth 2 access token, login cookie or other valid authentication credential. See https://developers.google.com/identity/sign-in/web/devconsole-project.';

export const geminiErrors = {
  invalidArgument: (message: string, ctx: ErrorContext) => googleError(400, message, ctx),
  invalidJson: (ctx: ErrorContext) =>
    googleError(400, 'Invalid JSON payload received. Unexpected token.', ctx),
  badKnob: (message: string, ctx: ErrorContext) =>
    googleError(400, message, ctx, [
      {
        '@type': 'type.googleapis.com/google.rpc.ErrorInfo',
        reason: 'SIM_INVALID_KNOB',
        domain: 'turnpike.simulator',
      },
    ]),
  /** The Gemini API without a key. */
  missingKey: (ctx: ErrorContext) =>
    googleError(
      403,
      "Method doesn't allow unregistered callers (callers without established identity). Please use API Key or other form of API consumer identity to call this API.",
      ctx,
    ),
  /** The Gemini API's answer to a wrong key: a 400, not a 401. */
  invalidKey: (ctx: ErrorContext) =>
    googleError(400, 'API key not valid. Please pass a valid API key.', ctx, [
      errorInfo('API_KEY_INVALID', ctx.route),
      {
        '@type': 'type.googleapis.com/google.rpc.LocalizedMessage',
        locale: 'en-US',
        message: 'API key not valid. Please pass a valid API key.',
      },
    ]),
  missingToken: (ctx: ErrorContext) =>
    googleError(401, `Request is missing required authentication credential. ${OAUTH_HINT}`, ctx, [
      errorInfo('CREDENTIALS_MISSING', ctx.route),
    ]),
  invalidToken: (ctx: ErrorContext) =>
    googleError(401, `Request had invalid authentication credentials. ${OAUTH_HINT}`, ctx, [
      errorInfo('ACCESS_TOKEN_TYPE_UNSUPPORTED', ctx.route),
    ]),
  modelNotFound: (model: string, resource: string, ctx: ErrorContext) =>
    ctx.route === 'vertex'
      ? googleError(
          404,
          `Publisher Model \`${resource}\` was not found or your project does not have access to it. Please ensure you are using a valid model version. For more information, see: https://cloud.google.com/vertex-ai/generative-ai/docs/learn/model-versions`,
          ctx,
        )
      : googleError(
          404,
          `models/${model} is not found for API version v1beta, or is not supported for generateContent. Call ListModels to see the list of available models and their supported methods.`,
          ctx,
        ),
  methodNotFound: (ctx: ErrorContext) => googleError(404, 'Method not found.', ctx),
  contextLengthExceeded: (max: number, actual: number, ctx: ErrorContext) =>
    googleError(
      400,
      `The input token count (${actual}) exceeds the maximum number of tokens allowed (${max}).`,
      ctx,
    ),
  internal: (ctx: ErrorContext) =>
    googleError(
      500,
      'An internal error has occurred. Please retry or report in https://developers.generativeai.google/guide/troubleshooting',
      ctx,
    ),
};

export interface StatusContext extends ErrorContext {
  model: string;
  /** The credential the request carried (a 403 names the API key's consumer, as Google does). */
  credential: string;
  retryAfterSec?: number;
  message?: string;
  /** The Vertex resource name of the model. */
  resource: string;
}

/** The error Google answers with for `status` (the `status` knob). */
export function errorForStatus(status: number, ctx: StatusContext): SimHttpError {
  const e = defaultError(status, ctx);
  if (ctx.message === undefined) return e;
  const body = e.body as { error: Record<string, unknown> };
  return googleError(
    status,
    ctx.message,
    ctx,
    (body.error['details'] as Detail[] | undefined) ?? [],
    body.error['status'] as string,
  );
}

function defaultError(status: number, ctx: StatusContext): SimHttpError {
  switch (status) {
    case 400:
      return googleError(400, 'Request contains an invalid argument.', ctx);
    case 401:
      return geminiErrors.invalidToken(ctx);
    case 403:
      return ctx.route === 'vertex'
        ? googleError(
            403,
            `Permission 'aiplatform.endpoints.predict' denied on resource '//aiplatform.googleapis.com/${ctx.resource}' (or it may not exist).`,
            ctx,
            [
              errorInfo('IAM_PERMISSION_DENIED', ctx.route, {
                permission: 'aiplatform.endpoints.predict',
              }),
            ],
          )
        : googleError(
            403,
            `Permission denied: Consumer 'api_key:${ctx.credential}' has been suspended.`,
            ctx,
            [errorInfo('CONSUMER_SUSPENDED', ctx.route, { consumer: 'projects/123456789012' })],
          );
    case 404:
      return geminiErrors.modelNotFound(ctx.model, ctx.resource, ctx);
    case 429:
      return googleError(
        429,
        'You exceeded your current quota, please check your plan and billing details. For more information on this error, head to: https://ai.google.dev/gemini-api/docs/rate-limits.',
        ctx,
        [
          {
            '@type': 'type.googleapis.com/google.rpc.QuotaFailure',
            violations: [
              {
                quotaMetric: `${SERVICE[ctx.route]}/generate_content_requests`,
                quotaId: 'GenerateRequestsPerMinutePerProjectPerModel',
                quotaDimensions: { location: 'global', model: ctx.model },
                quotaValue: '10000',
              },
            ],
          },
          {
            '@type': 'type.googleapis.com/google.rpc.Help',
            links: [
              {
                description: 'Learn more about Gemini API quotas',
                url: 'https://ai.google.dev/gemini-api/docs/rate-limits',
              },
            ],
          },
          ...retryInfo(ctx.retryAfterSec),
        ],
      );
    case 500:
      return geminiErrors.internal(ctx);
    case 503:
      return googleError(
        503,
        'The model is overloaded. Please try again later.',
        ctx,
        retryInfo(ctx.retryAfterSec),
      );
    case 504:
      return googleError(504, 'Deadline expired before operation could complete.', ctx);
    default:
      return googleError(status, `${STATUS_CODES[status] ?? 'Error'}.`, ctx);
  }
}
