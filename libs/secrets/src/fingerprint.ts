import { createHmac, timingSafeEqual } from 'node:crypto';
import { deriveKey, type KeyPurpose, type MasterKeyRing } from './master-keys.js';

/** `<master key id>:<hex HMAC-SHA256>` of `text` under the `purpose` subkey of a master key. */
export function keyedMac(
  purpose: Extract<KeyPurpose, 'fingerprint' | 'record'>,
  text: string,
  ring: MasterKeyRing,
  keyId: string = ring.current.id,
): string {
  const key = ring.get(keyId);
  if (!key) throw new Error(`no master key '${keyId}'`);
  const mac = createHmac('sha256', deriveKey(key.material, purpose))
    .update(text, 'utf8')
    .digest('hex');
  return `${keyId}:${mac}`;
}

/** True when `mac` (made under any listed master key) is that of `text` for `purpose`. */
export function keyedMacMatches(
  purpose: Extract<KeyPurpose, 'fingerprint' | 'record'>,
  mac: string,
  text: string,
  ring: MasterKeyRing,
): boolean {
  const at = mac.indexOf(':');
  const keyId = mac.slice(0, at);
  if (at < 0 || !ring.get(keyId)) return false;
  const want = Buffer.from(mac);
  const got = Buffer.from(keyedMac(purpose, text, ring, keyId));
  return want.length === got.length && timingSafeEqual(want, got);
}

/**
 * A secret's fingerprint: the same secret always gives the same fingerprint under the same key,
 * so a duplicate is found without decrypting anything, and it reveals nothing without the key.
 */
export function fingerprintSecret(secret: string, ring: MasterKeyRing, keyId?: string): string {
  return keyedMac('fingerprint', secret, ring, keyId);
}

/** True when `fingerprint` (made under any listed master key) is that of `secret`. */
export function fingerprintMatches(
  fingerprint: string,
  secret: string,
  ring: MasterKeyRing,
): boolean {
  return keyedMacMatches('fingerprint', fingerprint, secret, ring);
}

/** JSON with every object's keys sorted: the same value always gives the same text. */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(value, (_k, v: unknown) =>
    v !== null && typeof v === 'object' && !Array.isArray(v)
      ? Object.fromEntries(
          Object.entries(v as Record<string, unknown>).sort(([a], [b]) =>
            a < b ? -1 : a > b ? 1 : 0,
          ),
        )
      : v,
  );
}
