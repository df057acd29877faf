import { createHmac, timingSafeEqual } from 'node:crypto';
import { deriveKey, type MasterKeyRing } from './master-keys.js';

/**
 * `<master key id>:<hex HMAC-SHA256>` of a secret under the fingerprint subkey of a master key:
 * the same secret always gives the same fingerprint under the same key, so a duplicate is found
 * without decrypting anything, and the fingerprint reveals nothing without the master key.
 */
export function fingerprintSecret(
  secret: string,
  ring: MasterKeyRing,
  keyId: string = ring.current.id,
): string {
  const key = ring.get(keyId);
  if (!key) throw new Error(`no master key '${keyId}'`);
  const mac = createHmac('sha256', deriveKey(key.material, 'fingerprint'))
    .update(secret, 'utf8')
    .digest('hex');
  return `${keyId}:${mac}`;
}

/** True when `fingerprint` (made under any listed master key) is that of `secret`. */
export function fingerprintMatches(
  fingerprint: string,
  secret: string,
  ring: MasterKeyRing,
): boolean {
  const at = fingerprint.indexOf(':');
  const keyId = fingerprint.slice(0, at);
  if (at < 0 || !ring.get(keyId)) return false;
  const want = Buffer.from(fingerprint);
  const got = Buffer.from(fingerprintSecret(secret, ring, keyId));
  return want.length === got.length && timingSafeEqual(want, got);
}
