import {
  createPrivateKey,
  createPublicKey,
  diffieHellman,
  generateKeyPairSync,
  hkdfSync,
  randomBytes,
  type KeyObject,
} from 'node:crypto';
import type { TransportKeyView, TransportSealed } from '@turnpike/contracts';
import { gcmEncrypt, openWithKey, SecretError } from './envelope.js';
import { deriveKey, type MasterKeyRing } from './master-keys.js';

/*
 * Sealing a payload to the connectors (the admin API's secrets on their way from the gateway to
 * a connector over Kafka): an X25519 key pair derived from each master key (so every connector
 * instance holds the same one, and only connectors do), ephemeral-static ECDH, HKDF-SHA256 over
 * the shared secret and both public keys, AES-256-GCM with the caller's additional data.
 */

const PKCS8_X25519 = Buffer.from('302e020100300506032b656e04220420', 'hex');
const SPKI_X25519 = Buffer.from('302a300506032b656e032100', 'hex');
const ALG = 'X25519-HKDF-SHA256-A256GCM';
const INFO = 'turnpike/connector/transport-seal/v1';

const rawPublic = (k: KeyObject): Buffer =>
  (k.export({ format: 'der', type: 'spki' }) as Buffer).subarray(SPKI_X25519.length);

function publicFromRaw(raw: Buffer): KeyObject {
  if (raw.length !== 32) throw new SecretError('transport key: an X25519 public key is 32 bytes');
  return createPublicKey({ key: Buffer.concat([SPKI_X25519, raw]), format: 'der', type: 'spki' });
}

interface TransportKeyPair {
  keyId: string;
  privateKey: KeyObject;
  publicRaw: Buffer;
}

function keyPairOf(material: Buffer, keyId: string): TransportKeyPair {
  const d = deriveKey(material, 'transport');
  const privateKey = createPrivateKey({
    key: Buffer.concat([PKCS8_X25519, d]),
    format: 'der',
    type: 'pkcs8',
  });
  d.fill(0);
  return { keyId, privateKey, publicRaw: rawPublic(createPublicKey(privateKey)) };
}

function sharedKey(
  privateKey: KeyObject,
  publicKey: KeyObject,
  epk: Buffer,
  recipient: Buffer,
): Buffer {
  const shared = diffieHellman({ privateKey, publicKey });
  if (shared.every((b) => b === 0))
    throw new SecretError('transport key: degenerate shared secret');
  return Buffer.from(hkdfSync('sha256', shared, Buffer.concat([epk, recipient]), INFO, 32));
}

/** The connectors' transport keys, one per master key (the current one first). */
export class TransportKeys {
  private readonly pairs: ReadonlyMap<string, TransportKeyPair>;
  private readonly currentId: string;

  constructor(ring: MasterKeyRing) {
    this.pairs = new Map(ring.keys.map((k) => [k.id, keyPairOf(k.material, k.id)]));
    this.currentId = ring.current.id;
  }

  /** What the gateway seals to: the current master key's transport public key. */
  current(): TransportKeyView {
    const p = this.pairs.get(this.currentId)!;
    return { keyId: p.keyId, publicKey: p.publicRaw.toString('base64'), alg: ALG };
  }

  /** Opens a payload sealed to any listed key; SecretError if it was not sealed for us or altered. */
  open(sealed: TransportSealed, aad: string): Buffer {
    const pair = this.pairs.get(sealed.keyId);
    if (!pair)
      throw new SecretError(`sealed to transport key '${sealed.keyId}', which is not ours`);
    const epk = Buffer.from(sealed.epk, 'base64');
    let key: Buffer;
    try {
      key = sharedKey(pair.privateKey, publicFromRaw(epk), epk, pair.publicRaw);
    } catch (e) {
      if (e instanceof SecretError) throw e;
      throw new SecretError('transport seal: invalid ephemeral key');
    }
    return openWithKey(key, sealed, aad, 'transport seal');
  }
}

/** Seals `plaintext` to a connector transport key (what the gateway does with admin secrets). */
export function sealToTransport(
  plaintext: Buffer,
  aad: string,
  to: Pick<TransportKeyView, 'keyId' | 'publicKey'>,
): TransportSealed {
  const recipientRaw = Buffer.from(to.publicKey, 'base64');
  const recipient = publicFromRaw(recipientRaw);
  const eph = generateKeyPairSync('x25519');
  const epk = rawPublic(eph.publicKey);
  const key = sharedKey(eph.privateKey, recipient, epk, recipientRaw);
  try {
    const nonce = randomBytes(12);
    return {
      keyId: to.keyId,
      epk: epk.toString('base64'),
      nonce: nonce.toString('base64'),
      ciphertext: gcmEncrypt(key, nonce, plaintext, aad).toString('base64'),
    };
  } finally {
    key.fill(0);
  }
}
