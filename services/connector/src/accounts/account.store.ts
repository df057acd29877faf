import type { ProviderAccountV1 } from '@turnpike/contracts';

/** An account as stored: the topic record (secrets sealed), nothing in clear. */
export type AccountRow = ProviderAccountV1;

/** What one write transaction may do, holding the accounts' write lock. */
export interface AccountTx {
  list(providerId?: string): Promise<AccountRow[]>;
  get(id: string): Promise<AccountRow | null>;
  insert(a: AccountRow): Promise<void>;
  update(a: AccountRow): Promise<void>;
  /** True when it existed. */
  delete(id: string): Promise<boolean>;
  /** Fingerprints of the bootstrap secrets already imported for this provider (even if deleted since). */
  bootstrapImports(providerId: string): Promise<string[]>;
  recordBootstrapImport(providerId: string, fingerprint: string, accountId: string): Promise<void>;
}

/**
 * The connector's storage port for provider accounts (the Postgres adapter is
 * `PgAccountStore`). Every write runs in `write`, one transaction holding one lock shared by
 * every connector instance: writes, and their publication on `connector.accounts.v1` (done
 * inside the transaction), happen in one order everywhere, so the last record on the topic is
 * always the database's.
 */
export interface AccountStore {
  write<T>(fn: (tx: AccountTx) => Promise<T>): Promise<T>;
  list(providerId?: string): Promise<AccountRow[]>;
  get(id: string): Promise<AccountRow | null>;
}
