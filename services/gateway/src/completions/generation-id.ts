import { randomToken } from '../accounts/key-secret.js';

/** `gen-<unix seconds>-<20 random alphanumerics>`, as OpenRouter's generation ids look. */
export function newGenerationId(now = Date.now()): string {
  return `gen-${Math.floor(now / 1000)}-${randomToken(20)}`;
}
