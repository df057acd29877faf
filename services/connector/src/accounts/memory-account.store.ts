import type { AccountRow, AccountStore, AccountTx } from './account.store.js';

/**
 * The account store in memory, with the Postgres store's semantics: one write at a time (the
 * write lock), and a write that throws leaves nothing behind (rollback). For tests, and for a
 * connector run without a database in a test harness.
 */
export class MemoryAccountStore implements AccountStore {
  private rows = new Map<string, AccountRow>();
  private imports = new Map<string, Set<string>>();
  private lock: Promise<void> = Promise.resolve();
  /** How many writes ran (tests check the lock serialised them). */
  writes = 0;

  async write<T>(fn: (tx: AccountTx) => Promise<T>): Promise<T> {
    const previous = this.lock;
    let release!: () => void;
    this.lock = new Promise<void>((r) => (release = r));
    await previous;
    const rows = new Map(this.rows);
    const imports = new Map([...this.imports].map(([k, v]) => [k, new Set(v)]));
    const tx: AccountTx = {
      list: async (providerId) =>
        [...rows.values()].filter((r) => providerId === undefined || r.providerId === providerId),
      get: async (id) => rows.get(id) ?? null,
      insert: async (a) => {
        if (rows.has(a.id)) throw new Error(`duplicate id ${a.id}`);
        if (
          [...rows.values()].some(
            (r) => r.providerId === a.providerId && r.fingerprint === a.fingerprint,
          )
        )
          throw new Error('duplicate fingerprint');
        rows.set(a.id, a);
      },
      update: async (a) => {
        rows.set(a.id, a);
      },
      delete: async (id) => rows.delete(id),
      bootstrapImports: async (providerId) => [...(imports.get(providerId) ?? [])],
      recordBootstrapImport: async (providerId, fingerprint) => {
        const set = imports.get(providerId) ?? new Set<string>();
        set.add(fingerprint);
        imports.set(providerId, set);
      },
    };
    try {
      const out = await fn(tx);
      this.rows = rows;
      this.imports = imports;
      this.writes++;
      return out;
    } finally {
      release();
    }
  }

  async list(providerId?: string): Promise<AccountRow[]> {
    return [...this.rows.values()].filter(
      (r) => providerId === undefined || r.providerId === providerId,
    );
  }

  async get(id: string): Promise<AccountRow | null> {
    return this.rows.get(id) ?? null;
  }
}
