import { randomBytes } from 'node:crypto';
import {
  PLATFORM_OWNER,
  type AccountStatus,
  type ProviderAccountV1,
  type ProviderCredentials,
} from '@turnpike/contracts';
import { RpcFailure } from '@turnpike/kafka';
import { adapterFor, type ProviderAdapter } from '@turnpike/providers';
import { fingerprintMatches, type MasterKeyRing } from '@turnpike/secrets';
import {
  fingerprintOf,
  openPayload,
  rewrapPayload,
  sealPayload,
  secretOf,
  signAccount,
  type SealedPayload,
  type UnsignedAccount,
} from '@turnpike/generation';
import type { AccountRow, AccountStore, AccountTx } from './account.store.js';

/** Publishes an account's record (null: its tombstone) on `connector.accounts.v1`. */
export type AccountPublisher = (id: string, record: ProviderAccountV1 | null) => Promise<void>;

export const BOOTSTRAP_LABEL = 'bootstrap';

export const newAccountId = (): string => `acct_${randomBytes(12).toString('hex')}`;

export interface NewAccount {
  provider: { id: string; kind: string };
  owner?: string;
  label?: string;
  /** Default: the adapter's `defaultBaseUrl`. */
  baseUrl?: string | undefined;
  weight?: number;
  status?: AccountStatus;
  payload: SealedPayload;
}

export interface AccountChanges {
  label?: string | undefined;
  weight?: number | undefined;
  baseUrl?: string | undefined;
  headers?: Record<string, string> | undefined;
}

/** No master key configured: no account can be stored or opened (503). */
export const masterKeyMissing = () =>
  RpcFailure.of(
    503,
    'The connector has no master key configured (CONNECTOR_MASTER_KEY): provider accounts cannot be stored.',
    'master_key_missing',
  );

export const accountNotFound = (providerId: string, accountId: string) =>
  RpcFailure.of(
    404,
    `Account '${accountId}' of provider '${providerId}' not found.`,
    'account_not_found',
  );

/** The adapter of `kind`, and a check that it takes these credentials: a 400 if not. */
export function adapterTaking(kind: string, credentials: ProviderCredentials): ProviderAdapter {
  const adapter = adapterFor(kind);
  if (!adapter)
    throw RpcFailure.of(
      400,
      `The provider's kind '${kind}' has no adapter in this connector.`,
      'unknown_provider_kind',
    );
  if (!adapter.credentialTypes.includes(credentials.type))
    throw RpcFailure.of(
      400,
      `A '${kind}' provider takes ${adapter.credentialTypes.map((t) => `'${t}'`).join(' or ')} credentials, not '${credentials.type}'.`,
      'invalid_credential_type',
      'credentials.type',
    );
  return adapter;
}

/**
 * The provider accounts' commands: every one runs under the store's write lock and publishes
 * the record it wrote before its transaction commits (a failed publication rolls the write back).
 * Secrets arrive here in clear (opened from the admin call's transport seal, or the bootstrap
 * configuration) and leave sealed under the master key; they are never logged.
 */
export class AccountManager {
  constructor(
    private readonly store: AccountStore,
    private readonly ring: MasterKeyRing | null,
    private readonly publish: AccountPublisher,
    private readonly now: () => number = Date.now,
  ) {}

  private keys(): MasterKeyRing {
    if (!this.ring) throw masterKeyMissing();
    return this.ring;
  }

  /** An account of `providerId` whose secret is that of `credentials`, if any. */
  private duplicateOf(
    rows: AccountRow[],
    credentials: ProviderCredentials,
    except?: string,
  ): AccountRow | undefined {
    const { material } = secretOf(credentials);
    return rows.find(
      (r) => r.id !== except && fingerprintMatches(r.fingerprint, material, this.keys()),
    );
  }

  /** Signs the record (its MAC under the current master key), stores and publishes it. */
  private async save(
    tx: AccountTx,
    unsigned: UnsignedAccount,
    isNew: boolean,
  ): Promise<AccountRow> {
    const row = signAccount(unsigned, this.keys());
    if (isNew) await tx.insert(row);
    else await tx.update(row);
    await this.publish(row.id, row);
    return row;
  }

  private seal(id: string, version: number, payload: SealedPayload) {
    return sealPayload(payload, id, version, this.keys());
  }

  async create(n: NewAccount): Promise<AccountRow> {
    const ring = this.keys();
    const adapter = adapterTaking(n.provider.kind, n.payload.credentials);
    const now = this.now();
    return this.store.write(async (tx) => {
      const dup = this.duplicateOf(await tx.list(n.provider.id), n.payload.credentials);
      if (dup)
        throw RpcFailure.of(
          409,
          `Provider '${n.provider.id}' already has an account with this secret: '${dup.id}'.`,
          'duplicate_account',
        );
      const id = newAccountId();
      const { hint } = secretOf(n.payload.credentials);
      const row: UnsignedAccount = {
        v: 1,
        id,
        providerId: n.provider.id,
        kind: n.provider.kind,
        owner: n.owner ?? PLATFORM_OWNER,
        label: n.label ?? '',
        baseUrl: n.baseUrl ?? adapter.defaultBaseUrl,
        credentialType: n.payload.credentials.type,
        status: n.status ?? 'active',
        weight: n.weight ?? 1,
        secretVersion: 1,
        revision: 1,
        secret: this.seal(id, 1, n.payload),
        hint,
        fingerprint: fingerprintOf(n.payload.credentials, ring),
        headerNames: Object.keys(n.payload.headers).sort(),
        createdAt: now,
        updatedAt: now,
        rotatedAt: now,
      };
      return this.save(tx, row, true);
    });
  }

  /** Changes an account under the lock: `change` gets the current row and returns the next. */
  private async change(
    providerId: string,
    accountId: string,
    change: (row: AccountRow, tx: AccountTx) => Promise<UnsignedAccount> | UnsignedAccount,
  ): Promise<AccountRow> {
    return this.store.write(async (tx) => {
      const row = await tx.get(accountId);
      if (!row || row.providerId !== providerId) throw accountNotFound(providerId, accountId);
      const next = await change(row, tx);
      return this.save(tx, { ...next, revision: row.revision + 1, updatedAt: this.now() }, false);
    });
  }

  /** A new secret version: requests in flight finish on the old one. */
  rotate(
    providerId: string,
    accountId: string,
    credentials: ProviderCredentials,
  ): Promise<AccountRow> {
    const ring = this.keys();
    return this.change(providerId, accountId, async (row, tx) => {
      adapterTaking(row.kind, credentials);
      const dup = this.duplicateOf(await tx.list(providerId), credentials, row.id);
      if (dup)
        throw RpcFailure.of(
          409,
          `Provider '${providerId}' already has an account with this secret: '${dup.id}'.`,
          'duplicate_account',
        );
      const { headers } = openPayload(row, ring);
      const version = row.secretVersion + 1;
      return {
        ...row,
        credentialType: credentials.type,
        secretVersion: version,
        secret: this.seal(row.id, version, { credentials, headers }),
        hint: secretOf(credentials).hint,
        fingerprint: fingerprintOf(credentials, ring),
        rotatedAt: this.now(),
      };
    });
  }

  update(providerId: string, accountId: string, c: AccountChanges): Promise<AccountRow> {
    return this.change(providerId, accountId, (row) => {
      let next: UnsignedAccount = {
        ...row,
        ...(c.label !== undefined ? { label: c.label } : {}),
        ...(c.weight !== undefined ? { weight: c.weight } : {}),
        ...(c.baseUrl !== undefined ? { baseUrl: c.baseUrl } : {}),
      };
      if (c.headers !== undefined) {
        // Header values may be secrets too: they are re-sealed with the credentials (new version).
        const ring = this.keys();
        const { credentials } = openPayload(row, ring);
        const version = row.secretVersion + 1;
        next = {
          ...next,
          secretVersion: version,
          secret: this.seal(row.id, version, { credentials, headers: c.headers }),
          headerNames: Object.keys(c.headers).sort(),
        };
      }
      return next;
    });
  }

  setStatus(providerId: string, accountId: string, status: AccountStatus): Promise<AccountRow> {
    return this.change(providerId, accountId, (row) => ({ ...row, status }));
  }

  async delete(providerId: string, accountId: string): Promise<void> {
    await this.store.write(async (tx) => {
      const row = await tx.get(accountId);
      if (!row || row.providerId !== providerId) throw accountNotFound(providerId, accountId);
      await tx.delete(accountId);
      await this.publish(accountId, null);
    });
  }

  /**
   * Imports `CONNECTOR_PROVIDERS` once: each entry becomes an account (owner platform, label
   * `bootstrap`) unless its provider has an account with the same secret, or had one imported
   * from the bootstrap before (an operator may have deleted it since: it stays deleted).
   * Idempotent across restarts, and across instances booting at once (the write lock).
   */
  async bootstrap(
    entries: Readonly<
      Record<
        string,
        {
          kind: string;
          baseUrl: string;
          credentials: ProviderCredentials;
          headers: Record<string, string>;
        }
      >
    >,
  ): Promise<{ imported: AccountRow[]; present: number }> {
    const ring = this.keys();
    const imported: AccountRow[] = [];
    let present = 0;
    for (const [providerId, e] of Object.entries(entries)) {
      adapterTaking(e.kind, e.credentials);
      await this.store.write(async (tx) => {
        const { material, hint } = secretOf(e.credentials);
        const known = [
          ...(await tx.list(providerId)).map((r) => r.fingerprint),
          ...(await tx.bootstrapImports(providerId)),
        ];
        if (known.some((fp) => fingerprintMatches(fp, material, ring))) {
          present++;
          return;
        }
        const id = newAccountId();
        const now = this.now();
        const payload = { credentials: e.credentials, headers: e.headers };
        const row: UnsignedAccount = {
          v: 1,
          id,
          providerId,
          kind: e.kind,
          owner: PLATFORM_OWNER,
          label: BOOTSTRAP_LABEL,
          baseUrl: e.baseUrl,
          credentialType: e.credentials.type,
          status: 'active',
          weight: 1,
          secretVersion: 1,
          revision: 1,
          secret: this.seal(id, 1, payload),
          hint,
          fingerprint: fingerprintOf(e.credentials, ring),
          headerNames: Object.keys(e.headers).sort(),
          createdAt: now,
          updatedAt: now,
          rotatedAt: now,
        };
        const saved = await this.save(tx, row, true);
        await tx.recordBootstrapImport(providerId, saved.fingerprint, id);
        imported.push(saved);
      });
    }
    return { imported, present };
  }

  /**
   * Makes the topic agree with the database (the source of truth), under the write lock: a row
   * the topic lacks or holds otherwise is published again (with a higher revision than either,
   * so every view takes it), a record the database lacks gets a tombstone. Secrets wrapped under
   * an older master key (or fingerprinted under one) are re-wrapped under the current key on the
   * way. `view` is what this instance's view holds.
   */
  async reconcile(
    view: ReadonlyMap<string, ProviderAccountV1>,
  ): Promise<{ republished: number; rewrapped: number; removed: number }> {
    const ring = this.ring;
    let republished = 0;
    let rewrapped = 0;
    let removed = 0;
    await this.store.write(async (tx) => {
      const rows = await tx.list();
      const ids = new Set(rows.map((r) => r.id));
      for (const row of rows) {
        let next: UnsignedAccount = row;
        const current = `${ring?.current.id}:`;
        const stale =
          ring !== null &&
          (row.secret.masterKeyId !== ring.current.id ||
            !row.fingerprint.startsWith(current) ||
            !row.mac.startsWith(current));
        if (stale) {
          const { credentials } = openPayload(row, ring);
          next = {
            ...row,
            secret: rewrapPayload(row, ring),
            fingerprint: fingerprintOf(credentials, ring),
          };
          rewrapped++;
        }
        const seen = view.get(row.id);
        if (!stale && seen !== undefined && JSON.stringify(seen) === JSON.stringify(row)) continue;
        next = { ...next, revision: Math.max(row.revision, seen?.revision ?? 0) + 1 };
        await this.save(tx, next, false);
        republished++;
      }
      for (const id of view.keys()) {
        if (ids.has(id)) continue;
        await this.publish(id, null);
        removed++;
      }
    });
    return { republished, rewrapped, removed };
  }
}
