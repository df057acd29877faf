/**
 * Cohere's error bodies, `{id, message}`, with the messages its errors reference documents
 * (https://docs.cohere.com/reference/errors) and its own statuses: 402 billing, 498 invalid
 * token, 499 cancelled.
 */
import { randomUUID } from 'node:crypto';
import { STATUS_CODES } from 'node:http';
import { retryAfterHeaders, SimHttpError } from '../core/sim-error.js';

const cohereError = (status: number, message: string, headers: Record<string, string> = {}) =>
  new SimHttpError(status, { id: randomUUID(), message }, headers);

export const cohereErrors = {
  invalid: (message: string) => cohereError(400, `invalid request: ${message}`),
  unauthorized: () => cohereError(401, 'invalid api token'),
  modelNotFound: (model: string) =>
    cohereError(
      404,
      `model '${model}' not found, make sure the correct model ID was used and that you have access to the model.`,
    ),
  notFound: () => cohereError(404, 'not found'),
  tooManyTokens: (max: number, actual: number) =>
    cohereError(
      400,
      `too many tokens: total number of tokens in the prompt cannot exceed ${max} - received ${actual}. Try using a shorter prompt, or enabling prompt truncating. See https://docs.cohere.com/reference/chat for more details.`,
    ),
  serverError: () =>
    cohereError(500, 'internal server error, this has been reported to our developers'),
};

/** The error Cohere answers with for the `status` knob. */
export function cohereErrorForStatus(
  status: number,
  ctx: { model: string; retryAfterSec?: number; message?: string },
): SimHttpError {
  const message = ((): string => {
    switch (status) {
      case 400:
        return 'invalid request: message must be at least 1 token long or tool results must be specified.';
      case 401:
        return 'invalid api token';
      case 402:
        return 'Please add or update your payment method at https://dashboard.cohere.com/billing?tab=payment to continue';
      case 403:
        return 'You do not have access to this resource.';
      case 404:
        return `model '${ctx.model}' not found, make sure the correct model ID was used and that you have access to the model.`;
      case 429:
        return 'You are past the per minute request limit, please wait and try again later.';
      case 498:
        return 'invalid token';
      case 499:
        return 'request cancelled';
      case 500:
        return 'internal server error, this has been reported to our developers';
      case 503:
        return 'service unavailable';
      default:
        return STATUS_CODES[status] ?? 'error';
    }
  })();
  const headers = status === 429 || status === 503 ? retryAfterHeaders(ctx.retryAfterSec) : {};
  return cohereError(status, ctx.message ?? message, headers);
}
