/**
 * How Mistral writes its errors (read by the shared policy):
 * - `{object: 'error', message, type, param, code}` (code a numeric string, e.g. `"1300"` with
 *   type `rate_limited`), the API's own errors;
 * - `{detail: [{type, loc, msg, input}]}` for a 422 validation error (the SDK's
 *   `HTTPValidationError`);
 * - `{message: 'Unauthorized', request_id}` or `{detail: 'Unauthorized'}` from its gateway (401).
 * A prompt too long reads "Prompt contains N tokens ... too large for model with M maximum
 * context length", which the shared detector recognises. Sources: API reference,
 * https://docs.mistral.ai/api/#tag/chat (422 `HTTPValidationError`); bodies quoted in
 * mistralai/client-python and client issues (see fixtures/README.md).
 */
import { readCommonErrorBody, type ErrorDialect } from '../errors/index.js';

export const MISTRAL_ERROR_DIALECT: ErrorDialect = {
  read: readCommonErrorBody,
  kindOf: (status, d) => {
    // An unknown model is a 400 `invalid_model`: our catalog's mistake, not the tenant's.
    if (d?.type === 'invalid_model') return 'not_found';
    // A 429 that says the account is out of credit is a billing failure, not a rate limit.
    if (status === 429 && /billing|payment|credit/i.test(d?.message ?? '')) return 'payment';
    return undefined;
  },
};
