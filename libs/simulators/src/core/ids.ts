/** Identifiers shaped like OpenAI's. */
import { createHash, randomBytes } from 'node:crypto';

const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';

export function randomAlnum(length: number): string {
  const bytes = randomBytes(length);
  let out = '';
  for (const b of bytes) out += ALPHABET[b % ALPHABET.length];
  return out;
}

/** `req_` + 32 hex, as in OpenAI's `x-request-id`. */
export const requestId = (): string => `req_${randomBytes(16).toString('hex')}`;

/** `chatcmpl-` + 29 alphanumerics. */
export const completionId = (): string => `chatcmpl-${randomAlnum(29)}`;

/** `call_` + 24 alphanumerics. */
export const toolCallId = (): string => `call_${randomAlnum(24)}`;

/** `fp_` + 10 hex, stable per simulator name. */
export const systemFingerprint = (seed: string): string =>
  `fp_${createHash('sha256').update(seed).digest('hex').slice(0, 10)}`;

/** Padding like the `obfuscation` field OpenAI adds to stream chunks (1–16 characters); not secret. */
export function obfuscation(): string {
  const length = 1 + Math.floor(Math.random() * 16);
  let out = '';
  for (let i = 0; i < length; i++) out += ALPHABET[Math.floor(Math.random() * ALPHABET.length)];
  return out;
}
