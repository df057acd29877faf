import { z } from 'zod';
import { ProviderId } from './catalog-admin.js';

/**
 * Provider accounts: the credentials the connector calls a catalog provider with. The connector
 * owns them (Postgres schema `connector`), and every connector instance holds them in memory from
 * the compacted `connector.accounts.v1`. A secret exists in clear text only in a connector's
 * memory (and, for the instant of an admin call, in the gateway that sealed it for the
 * connectors): at rest and on every topic it is ciphertext.
 *
 * - At rest and on `connector.accounts.v1`: envelope encryption. A random 256-bit data key per
 *   account and secret version encrypts the sealed payload (AES-256-GCM, random 96-bit nonce,
 *   the account id and secret version as additional authenticated data); the data key is
 *   wrapped (AES-256-GCM) under a key derived from the operator's master key.
 * - From the gateway to the connector (`rpc.connector.v1`): the payload is sealed to the
 *   connectors' transport key (X25519, derived from the master key; ephemeral-static ECDH,
 *   HKDF-SHA256, AES-256-GCM), so the admin call carries no clear text either.
 */

/** Base64 (standard alphabet, padded). */
const B64 = z.string().regex(/^[A-Za-z0-9+/]*={0,2}$/, 'base64');

/** `acct_` and 24 lowercase hex digits. */
export const AccountId = z.string().regex(/^acct_[0-9a-f]{24}$/, 'an account id (acct_...)');

/**
 * Who an account belongs to: `platform` (the operator's own accounts, the only kind today), or
 * `tenant:<id>` for a tenant's own provider key (bring your own key), which the routing will
 * one day use for that tenant's requests only.
 */
export const AccountOwner = z
  .string()
  .regex(/^(platform|tenant:[A-Za-z0-9_-]{1,64})$/, 'platform or tenant:<id>');
export const PLATFORM_OWNER = 'platform';

export const AccountStatus = z.enum(['active', 'disabled']);
export type AccountStatus = z.infer<typeof AccountStatus>;

export const CredentialType = z.enum(['api_key', 'azure', 'aws', 'vertex']);
export type CredentialType = z.infer<typeof CredentialType>;

export const AccountWeight = z.number().int().min(1).max(1000);

/** A master key id: names the key a secret was wrapped under (`CONNECTOR_MASTER_KEY`). */
export const MasterKeyId = z.string().regex(/^[A-Za-z0-9._-]{1,32}$/, 'a master key id');

/** Envelope-encrypted secret: the ciphertext and its data key wrapped under a master key. */
export const SealedSecret = z.object({
  /** The master key the data key is wrapped under. */
  masterKeyId: MasterKeyId,
  /** The 256-bit data key, AES-256-GCM-encrypted (ciphertext then 16-byte tag). */
  wrappedKey: B64,
  wrapNonce: B64,
  /** AES-256-GCM of the payload under the data key (ciphertext then 16-byte tag). */
  nonce: B64,
  ciphertext: B64,
});
export type SealedSecret = z.infer<typeof SealedSecret>;

/**
 * A payload sealed by the gateway to the connectors' transport key: the X25519 public key of a
 * one-time key pair, and AES-256-GCM under the key both sides derive.
 */
export const TransportSealed = z.object({
  /** The transport key it was sealed to (one per master key). */
  keyId: MasterKeyId,
  /** The ephemeral X25519 public key, raw (32 bytes). */
  epk: B64,
  nonce: B64,
  ciphertext: B64,
});
export type TransportSealed = z.infer<typeof TransportSealed>;

/**
 * `connector.accounts.v1` (compacted, key = account id; a tombstone deletes the account): one
 * provider account, secrets sealed. Only the connectors write and read this topic.
 */
export const ProviderAccountV1 = z.object({
  v: z.literal(1),
  id: AccountId,
  /** The catalog provider the account serves (`routing.table.v1` endpoints' `provider`). */
  providerId: ProviderId,
  /** The adapter kind (the catalog provider's `kind` when the account was created). */
  kind: z.string().min(1).max(64),
  owner: AccountOwner,
  label: z.string().max(200),
  baseUrl: z.url(),
  credentialType: CredentialType,
  status: AccountStatus,
  /** Share of the provider's traffic among its active accounts. */
  weight: AccountWeight,
  /** Version of the sealed secret: a new one on every rotation (bound into the ciphertext). */
  secretVersion: z.number().int().min(1),
  /** Bumped on every change of the record; a view never goes back to an older revision. */
  revision: z.number().int().min(1),
  /** `{credentials, headers}`, envelope-encrypted. */
  secret: SealedSecret,
  /** The secret masked for people (`sk-…wxyz`). */
  hint: z.string().max(32),
  /** `<master key id>:<hex HMAC-SHA256 of the secret>`, to find a duplicate without decrypting. */
  fingerprint: z.string().regex(/^[A-Za-z0-9._-]{1,32}:[0-9a-f]{64}$/),
  /** Names of the extra headers (their values are in the sealed secret). */
  headerNames: z.array(z.string().max(128)).max(32),
  /** Epoch ms. */
  createdAt: z.number().int().positive(),
  updatedAt: z.number().int().positive(),
  /** When the current secret version was set. */
  rotatedAt: z.number().int().positive(),
  /**
   * `<master key id>:<hex HMAC-SHA256>` of every other field (canonical JSON) under a subkey of
   * the master key: a record altered on the topic (another base URL, kind, status, revision...)
   * is refused by every connector, as a secret altered is by its AES-GCM tag.
   */
  mac: z.string().regex(/^[A-Za-z0-9._-]{1,32}:[0-9a-f]{64}$/),
});
export type ProviderAccountV1 = z.infer<typeof ProviderAccountV1>;

// --- the admin API (`/admin/providers/{provider}/accounts`, over `rpc.connector.v1`) ------------

/** RPC methods `connector` answers on `rpc.connector.v1`. */
export const CONNECTOR_RPC = {
  transportKey: 'accounts.transport_key',
  create: 'accounts.create',
  list: 'accounts.list',
  get: 'accounts.get',
  rotate: 'accounts.rotate',
  update: 'accounts.update',
  setStatus: 'accounts.status',
  delete: 'accounts.delete',
  presence: 'accounts.presence',
} as const;

/** What the transport key query answers: seal admin payloads to `publicKey`. */
export interface TransportKeyView {
  keyId: string;
  /** Raw X25519 public key, base64. */
  publicKey: string;
  alg: 'X25519-HKDF-SHA256-A256GCM';
}

/** What the gateway learnt from the router about the account's provider. */
export const AccountProviderRef = z.object({ id: ProviderId, kind: z.string().min(1).max(64) });

/** Extra headers of an account: bounded, header-name tokens, no CR/LF. */
export const AccountHeaders = z
  .record(
    z.string().regex(/^[A-Za-z0-9!#$%&'*+.^_`|~-]{1,128}$/, 'a header name'),
    z
      .string()
      .max(8192)
      .regex(/^[^\r\n]*$/, 'a header value without line breaks'),
  )
  .refine((h) => Object.keys(h).length <= 32, 'at most 32 headers');

/**
 * A provider base URL: http(s), no user name or password, no query or fragment (credentials go
 * in the sealed secret, never in the URL).
 */
export const AccountBaseUrl = z
  .url()
  .max(2048)
  .refine((u) => {
    const url = new URL(u);
    return (
      (url.protocol === 'https:' || url.protocol === 'http:') &&
      url.username === '' &&
      url.password === '' &&
      url.search === '' &&
      url.hash === ''
    );
  }, 'an http(s) URL without credentials, query or fragment');

export const CreateAccountParams = z.object({
  provider: AccountProviderRef,
  owner: AccountOwner.default(PLATFORM_OWNER),
  label: z.string().max(200).default(''),
  /** Default: the adapter's `defaultBaseUrl`. */
  baseUrl: AccountBaseUrl.optional(),
  weight: AccountWeight.default(1),
  status: AccountStatus.default('active'),
  /** `{credentials, headers?}` sealed to the transport key. */
  sealed: TransportSealed,
});
export type CreateAccountParams = z.infer<typeof CreateAccountParams>;

export const AccountRefParams = z.object({ providerId: ProviderId, accountId: AccountId });
export const ListAccountsParams = z.object({ providerId: ProviderId });
export const RotateAccountParams = AccountRefParams.extend({
  /** `{credentials}` sealed to the transport key. */
  sealed: TransportSealed,
});
export const UpdateAccountParams = AccountRefParams.extend({
  label: z.string().max(200).optional(),
  weight: AccountWeight.optional(),
  baseUrl: AccountBaseUrl.optional(),
  /** `{headers}` sealed to the transport key: replaces the extra headers. */
  sealedHeaders: TransportSealed.optional(),
});
export const SetAccountStatusParams = AccountRefParams.extend({ status: AccountStatus });
export const PresenceParams = z.object({ providers: z.array(AccountProviderRef).max(2000) });

/** The clear-text payloads the transport seal carries, by call. */
export const TRANSPORT_PURPOSE = {
  create: 'create',
  rotate: 'rotate',
  headers: 'headers',
} as const;
export type TransportPurpose = (typeof TRANSPORT_PURPOSE)[keyof typeof TRANSPORT_PURPOSE];

/** The additional data a transport seal is bound to: what it is for, and for which account. */
export const transportAad = (
  purpose: TransportPurpose,
  providerId: string,
  accountId = '',
): string => `turnpike/connector/transport/v1|${purpose}|${providerId}|${accountId}`;

/** Live figures of one account as the connector instance that answered sees them. */
export interface AccountHealthView {
  instance: string;
  /** `ready`, `cooling_down` (429), `circuit_open` (credentials refused), or `unusable`. */
  state: 'ready' | 'cooling_down' | 'circuit_open' | 'unusable' | 'disabled';
  /** Why the account cannot be used (it does not decrypt, its kind takes no such credentials). */
  reason: string | null;
  in_flight: number;
  requests: number;
  successes: number;
  failures: number;
  rate_limited: number;
  consecutive_failures: number;
  cooling_until: string | null;
  circuit_open_until: string | null;
  last_used_at: string | null;
  last_error_code: string | null;
}

/** An account as the admin API shows it: never the secret. */
export interface ProviderAccountView {
  id: string;
  provider: string;
  kind: string;
  owner: string;
  label: string;
  base_url: string;
  credential_type: CredentialType;
  status: AccountStatus;
  weight: number;
  secret_version: number;
  hint: string;
  fingerprint: string;
  header_names: string[];
  created_at: string;
  updated_at: string;
  rotated_at: string;
  health: AccountHealthView | null;
}

/** Whether a provider can be called: accounts it has, active ones, usable ones. */
export interface ProviderPresence {
  id: string;
  kind: string;
  accounts: number;
  active: number;
  /** Active, decrypted by this connector, and of a credential type the kind takes. */
  usable: number;
  /** Accounts made for another adapter kind than the provider's current one. */
  kind_mismatch: number;
}

/** A configuration problem the admin API reports beside a successful change. */
export interface AdminWarning {
  code: 'provider_has_no_account' | 'accounts_unverified';
  provider: string | null;
  message: string;
}
