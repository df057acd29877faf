/**
 * How Cohere writes its errors: `{id, message}` (or just `{message}`), and what its own statuses
 * mean: 498 an invalid token (our credentials), 499 a cancelled request (retryable), 402 billing.
 * A prompt over the window reads "too many tokens: total number of tokens in the prompt cannot
 * exceed N - received M", which the shared detector recognises. Sources: errors reference,
 * https://docs.cohere.com/reference/errors; the official SDK's error classes (cohere-ai
 * `src/api/errors/`: 400, 401, 403, 404, 422, 429, 498 InvalidToken, 499 ClientClosedRequest,
 * 500, 501, 503, 504).
 */
import { readCommonErrorBody, type ErrorDialect } from '../errors/index.js';

export const COHERE_ERROR_DIALECT: ErrorDialect = {
  read: readCommonErrorBody,
  kindOf: (status) => (status === 498 ? 'auth' : status === 499 ? 'server' : undefined),
};
