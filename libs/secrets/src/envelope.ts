import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import type { SealedSecret } from '@turnpike/contracts';
import { deriveKey, type MasterKeyRing } from './master-keys.js';

/** A secret that could not be opened; the message names no key material and no plaintext. */
export class SecretError extends Error {
  override readonly name = 'SecretError';
}

const ALG = 'aes-256-gcm';
const NONCE_BYTES = 12;
const TAG_BYTES = 16;

/** AES-256-GCM: ciphertext then tag. */
export function gcmEncrypt(key: Buffer, nonce: Buffer, plaintext: Buffer, aad: string): Buffer {
  const c = createCipheriv(ALG, key, nonce, { authTagLength: TAG_BYTES });
  c.setAAD(Buffer.from(aad, 'utf8'));
  return Buffer.concat([c.update(plaintext), c.final(), c.getAuthTag()]);
}

/** Throws SecretError when the key, nonce, data or additional data do not match. */
export function gcmDecrypt(
  key: Buffer,
  nonce: Buffer,
  sealed: Buffer,
  aad: string,
  what: string,
): Buffer {
  if (nonce.length !== NONCE_BYTES || sealed.length < TAG_BYTES)
    throw new SecretError(`${what}: malformed ciphertext`);
  try {
    const d = createDecipheriv(ALG, key, nonce, { authTagLength: TAG_BYTES });
    d.setAAD(Buffer.from(aad, 'utf8'));
    d.setAuthTag(sealed.subarray(sealed.length - TAG_BYTES));
    return Buffer.concat([d.update(sealed.subarray(0, sealed.length - TAG_BYTES)), d.final()]);
  } catch {
    throw new SecretError(`${what}: authentication failed (wrong key, or altered data)`);
  }
}

const wrapAad = (aad: string, masterKeyId: string) => `wrap|${masterKeyId}|${aad}`;

function wrapDataKey(
  dataKey: Buffer,
  aad: string,
  ring: MasterKeyRing,
): Pick<SealedSecret, 'masterKeyId' | 'wrappedKey' | 'wrapNonce'> {
  const master = ring.current;
  const wrapNonce = randomBytes(NONCE_BYTES);
  const wrapped = gcmEncrypt(
    deriveKey(master.material, 'wrap'),
    wrapNonce,
    dataKey,
    wrapAad(aad, master.id),
  );
  return {
    masterKeyId: master.id,
    wrappedKey: wrapped.toString('base64'),
    wrapNonce: wrapNonce.toString('base64'),
  };
}

function unwrapDataKey(sealed: SealedSecret, aad: string, ring: MasterKeyRing): Buffer {
  const master = ring.get(sealed.masterKeyId);
  if (!master)
    throw new SecretError(
      `sealed under master key '${sealed.masterKeyId}', which is not configured (known: ${ring.ids.join(', ')})`,
    );
  const key = gcmDecrypt(
    deriveKey(master.material, 'wrap'),
    Buffer.from(sealed.wrapNonce, 'base64'),
    Buffer.from(sealed.wrappedKey, 'base64'),
    wrapAad(aad, master.id),
    'data key',
  );
  if (key.length !== 32) throw new SecretError('data key: wrong length');
  return key;
}

/**
 * Envelope encryption: a fresh random 256-bit data key encrypts `plaintext` (AES-256-GCM, random
 * 96-bit nonce, `aad` authenticated), and is itself wrapped under the current master key (its
 * wrap subkey) with `aad` and the master key id authenticated too. Nothing in clear is returned.
 */
export function sealSecret(plaintext: Buffer, aad: string, ring: MasterKeyRing): SealedSecret {
  const dataKey = randomBytes(32);
  try {
    const nonce = randomBytes(NONCE_BYTES);
    const ciphertext = gcmEncrypt(dataKey, nonce, plaintext, aad);
    return {
      ...wrapDataKey(dataKey, aad, ring),
      nonce: nonce.toString('base64'),
      ciphertext: ciphertext.toString('base64'),
    };
  } finally {
    dataKey.fill(0);
  }
}

/** Decrypts `{nonce, ciphertext}` (base64) with a one-use key, which is wiped afterwards. */
export function openWithKey(
  key: Buffer,
  sealed: { nonce: string; ciphertext: string },
  aad: string,
  what: string,
): Buffer {
  try {
    return gcmDecrypt(
      key,
      Buffer.from(sealed.nonce, 'base64'),
      Buffer.from(sealed.ciphertext, 'base64'),
      aad,
      what,
    );
  } finally {
    key.fill(0);
  }
}

/** Opens a sealed secret; throws SecretError if anything (key, nonces, data, aad) is wrong. */
export function openSecret(sealed: SealedSecret, aad: string, ring: MasterKeyRing): Buffer {
  return openWithKey(unwrapDataKey(sealed, aad, ring), sealed, aad, 'secret');
}

/**
 * The same secret with its data key wrapped under the current master key (master key rotation):
 * the ciphertext is unchanged. Checks that the secret opens first.
 */
export function rewrapSecret(sealed: SealedSecret, aad: string, ring: MasterKeyRing): SealedSecret {
  openSecret(sealed, aad, ring).fill(0);
  const dataKey = unwrapDataKey(sealed, aad, ring);
  try {
    return { ...sealed, ...wrapDataKey(dataKey, aad, ring) };
  } finally {
    dataKey.fill(0);
  }
}
