import { hkdfSync } from 'node:crypto';

/** One operator master key: 256 random bits, and the id secrets wrapped under it carry. */
export interface MasterKey {
  readonly id: string;
  /** The key's material. Never logged, never serialised. */
  readonly material: Buffer;
}

/** Why a master key setting was refused; the message never contains key material. */
export class MasterKeyError extends Error {
  override readonly name = 'MasterKeyError';
}

const ID = /^[A-Za-z0-9._-]{1,32}$/;
const BASE64 = /^[A-Za-z0-9+/_-]+={0,2}$/;

/** The purposes a master key is used for, each with a key of its own (HKDF-SHA256). */
export type KeyPurpose = 'wrap' | 'fingerprint' | 'record' | 'transport' | 'id';

const INFO: Record<KeyPurpose, string> = {
  wrap: 'turnpike/connector/data-key-wrap/v1',
  fingerprint: 'turnpike/connector/fingerprint/v1',
  record: 'turnpike/connector/record-mac/v1',
  transport: 'turnpike/connector/transport-x25519/v1',
  id: 'turnpike/connector/key-id/v1',
};

/** A subkey of a master key for one purpose: keys for different jobs never coincide. */
export function deriveKey(material: Buffer, purpose: KeyPurpose): Buffer {
  return Buffer.from(hkdfSync('sha256', material, Buffer.alloc(0), INFO[purpose], 32));
}

function decodeKey(text: string, where: string): Buffer {
  if (!BASE64.test(text))
    throw new MasterKeyError(
      `${where}: not base64 (give 32 random bytes, e.g. openssl rand -base64 32)`,
    );
  const material = Buffer.from(text.replace(/-/g, '+').replace(/_/g, '/'), 'base64');
  if (material.length !== 32)
    throw new MasterKeyError(
      `${where}: decodes to ${material.length} bytes; a master key is 32 bytes (256 bits), base64`,
    );
  return material;
}

/**
 * The master keys the connector knows, newest first: new secrets are wrapped under `current`;
 * secrets wrapped under any listed key can be read. To rotate the master key, put a new key in
 * front and keep the old one listed until every account has been re-wrapped (the connector
 * re-wraps them at boot), then drop it.
 */
export class MasterKeyRing {
  private readonly byId: ReadonlyMap<string, MasterKey>;

  constructor(readonly keys: readonly MasterKey[]) {
    if (keys.length === 0) throw new MasterKeyError('no master key');
    const byId = new Map<string, MasterKey>();
    for (const k of keys) {
      if (!ID.test(k.id)) throw new MasterKeyError(`invalid master key id '${k.id}'`);
      if (k.material.length !== 32)
        throw new MasterKeyError(`master key ${k.id}: a master key is 32 bytes (256 bits)`);
      if (byId.has(k.id)) throw new MasterKeyError(`master key id ${k.id} is listed twice`);
      byId.set(k.id, k);
    }
    this.byId = byId;
  }

  get current(): MasterKey {
    return this.keys[0]!;
  }

  get(id: string): MasterKey | undefined {
    return this.byId.get(id);
  }

  get ids(): string[] {
    return this.keys.map((k) => k.id);
  }

  /**
   * Reads `CONNECTOR_MASTER_KEY` (or the file it names): either one base64 key (its id is
   * derived from it), or `id:base64` entries separated by commas or white space, the current
   * key first.
   */
  static parse(text: string): MasterKeyRing {
    const entries = text
      .split(/[\s,]+/)
      .map((e) => e.trim())
      .filter((e) => e !== '');
    if (entries.length === 0) throw new MasterKeyError('the master key setting is empty');
    const keys = entries.map((entry, i): MasterKey => {
      const at = entry.indexOf(':');
      const where = `master key #${i + 1}`;
      if (at < 0) {
        if (entries.length > 1)
          throw new MasterKeyError(`${where}: with several keys, each needs an id (id:base64)`);
        const material = decodeKey(entry, where);
        return { id: derivedKeyId(material), material };
      }
      const id = entry.slice(0, at);
      if (!ID.test(id))
        throw new MasterKeyError(`${where}: the id must be 1-32 letters, digits, '.', '_' or '-'`);
      return { id, material: decodeKey(entry.slice(at + 1), `master key ${id}`) };
    });
    return new MasterKeyRing(keys);
  }
}

/** The id of a key given without one: `k` and 8 hex digits of a subkey (not of the key). */
export function derivedKeyId(material: Buffer): string {
  return `k${deriveKey(material, 'id').toString('hex').slice(0, 8)}`;
}

/**
 * The master key ring of a service's configuration: from its variable (`names.value`) or the
 * file it names (`names.file`, a mounted secret), never both. `problem` names the variable and
 * what is wrong, never the key.
 */
export function loadMasterKeyRing(
  value: string | undefined,
  file: string | undefined,
  names: { value: string; file: string },
  read: (path: string) => string,
): { ring: MasterKeyRing | null; problem: string | null } {
  if (value !== undefined && file !== undefined)
    return { ring: null, problem: `${names.value} and ${names.file}: give one of them, not both` };
  let text = value ?? null;
  if (file !== undefined) {
    try {
      text = read(file);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code ?? 'error';
      return { ring: null, problem: `${names.file}: cannot read ${file} (${code})` };
    }
  }
  if (text === null) return { ring: null, problem: null };
  try {
    return { ring: MasterKeyRing.parse(text), problem: null };
  } catch (err) {
    if (!(err instanceof MasterKeyError)) throw err;
    return {
      ring: null,
      problem: `${file !== undefined ? names.file : names.value}: ${err.message}`,
    };
  }
}
