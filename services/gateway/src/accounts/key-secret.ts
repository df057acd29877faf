import { createHash, randomBytes } from 'node:crypto';

const ALPHABET = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789';

/** Random string over [A-Za-z0-9], unbiased. */
export function randomToken(length: number): string {
  let out = '';
  while (out.length < length) {
    for (const b of randomBytes(length * 2)) {
      if (b < 248 && out.length < length) out += ALPHABET[b % 62];
    }
  }
  return out;
}

/** A new API key secret: `sk-tp-v1-` and 48 random characters (~285 bits). */
export function newKeySecret(): string {
  return `sk-tp-v1-${randomToken(48)}`;
}

/** Keys are long random strings, so a plain SHA-256 is the right hash: fast and not guessable. */
export function hashKey(secret: string): string {
  return createHash('sha256').update(secret).digest('hex');
}
