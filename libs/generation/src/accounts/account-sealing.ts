import { z } from 'zod';
import {
  AccountHeaders,
  ProviderCredentials,
  type ProviderAccountV1,
  type SealedSecret,
} from '@turnpike/contracts';
import {
  canonicalJson,
  fingerprintSecret,
  keyedMac,
  keyedMacMatches,
  maskSecret,
  openSecret,
  rewrapSecret,
  sealSecret,
  SecretError,
  type MasterKeyRing,
} from '@turnpike/secrets';

/** What an account's sealed secret holds: its credentials and extra headers. */
export const SealedPayload = z.object({
  credentials: ProviderCredentials,
  headers: AccountHeaders.default({}),
});
export type SealedPayload = z.infer<typeof SealedPayload>;

/** The additional data of an account's secret: it opens for this account and version only. */
export const accountAad = (accountId: string, secretVersion: number): string =>
  `turnpike/connector/account/v1|${accountId}|${secretVersion}`;

/**
 * Parses decrypted JSON against `schema`. The text is a secret: neither the JSON parser's message
 * (which quotes the input) nor the schema's (which may name values) leaves this function.
 */
export function parseSecretJson<T>(plaintext: Buffer, schema: z.ZodType<T>, what: string): T {
  let json: unknown;
  try {
    json = JSON.parse(plaintext.toString('utf8'));
  } catch {
    throw new SecretError(`${what}: not JSON`);
  } finally {
    plaintext.fill(0);
  }
  const r = schema.safeParse(json);
  if (!r.success) {
    const issue = r.error.issues[0];
    throw new SecretError(
      `${what}: invalid ${issue?.path.join('.') || 'payload'}${issue?.code ? ` (${issue.code})` : ''}`,
    );
  }
  return r.data;
}

export function sealPayload(
  payload: SealedPayload,
  accountId: string,
  secretVersion: number,
  ring: MasterKeyRing,
): SealedSecret {
  const plaintext = Buffer.from(JSON.stringify(payload), 'utf8');
  try {
    return sealSecret(plaintext, accountAad(accountId, secretVersion), ring);
  } finally {
    plaintext.fill(0);
  }
}

/** Decrypts an account's secret; SecretError (naming no secret) when it cannot. */
export function openPayload(
  a: Pick<ProviderAccountV1, 'id' | 'secretVersion' | 'secret'>,
  ring: MasterKeyRing,
): SealedPayload {
  return parseSecretJson(
    openSecret(a.secret, accountAad(a.id, a.secretVersion), ring),
    SealedPayload,
    'account secret',
  );
}

export function rewrapPayload(
  a: Pick<ProviderAccountV1, 'id' | 'secretVersion' | 'secret'>,
  ring: MasterKeyRing,
): SealedSecret {
  return rewrapSecret(a.secret, accountAad(a.id, a.secretVersion), ring);
}

/**
 * The secret of a set of credentials that identifies it (for the fingerprint), and what people
 * may see of it (the masked hint): the API key; AWS's access key id and secret (the hint shows
 * the key id's ends, not the secret's); Vertex's token.
 */
export function secretOf(c: ProviderCredentials): { material: string; hint: string } {
  switch (c.type) {
    case 'api_key':
    case 'azure':
      return { material: c.apiKey, hint: maskSecret(c.apiKey) };
    case 'aws':
      return {
        material: `${c.accessKeyId}\n${c.secretAccessKey}`,
        hint: maskSecret(c.accessKeyId),
      };
    case 'vertex':
      return { material: c.accessToken, hint: maskSecret(c.accessToken) };
  }
}

export function fingerprintOf(c: ProviderCredentials, ring: MasterKeyRing): string {
  return fingerprintSecret(secretOf(c).material, ring);
}

/** A record without its MAC (what the MAC covers). */
export type UnsignedAccount = Omit<ProviderAccountV1, 'mac'>;

const unsigned = (r: UnsignedAccount & { mac?: string }): UnsignedAccount => {
  const { mac: _mac, ...rest } = r;
  return rest;
};

/** The record with its MAC (over every other field) under the current master key. */
export function signAccount(
  r: UnsignedAccount & { mac?: string },
  ring: MasterKeyRing,
): ProviderAccountV1 {
  const body = unsigned(r);
  return { ...body, mac: keyedMac('record', canonicalJson(body), ring) };
}

/** Whether a record's fields are as a connector holding the master key wrote them. */
export function accountAuthentic(r: ProviderAccountV1, ring: MasterKeyRing): boolean {
  return keyedMacMatches('record', r.mac, canonicalJson(unsigned(r)), ring);
}
