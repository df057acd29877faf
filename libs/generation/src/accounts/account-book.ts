import {
  PLATFORM_OWNER,
  type ProviderAccountV1,
  type ProviderConnection,
  type ProviderPresence,
} from '@turnpike/contracts';
import { adapterFor, type ProviderAdapter } from '@turnpike/providers';
import { SecretError, type MasterKeyRing } from '@turnpike/secrets';
import { accountAuthentic, openPayload } from './account-sealing.js';
import {
  AccountState,
  DEFAULT_POOL_POLICY,
  KeyPool,
  type AccountOutcome,
  type PoolPolicy,
} from './key-pool.js';

/** One account as this connector holds it: the record, and (when it opens) its connection. */
export interface LiveAccount {
  record: ProviderAccountV1;
  adapter: ProviderAdapter | null;
  /** The decrypted connection; null when the account cannot be used. */
  connection: ProviderConnection | null;
  /** Why it cannot be used (no secret in it). */
  unusable: string | null;
  state: AccountState;
}

/** One request's use of one account; `end` exactly once. */
export interface Lease {
  account: LiveAccount;
  adapter: ProviderAdapter;
  connection: ProviderConnection;
  /** Chosen although not ready (every account cooling or refused): a probe. */
  lastResort: boolean;
  end(outcome: AccountOutcome): void;
}

export type Acquired =
  | { ok: true; lease: Lease }
  /** No active account that opens and fits its kind (or every one was tried already). */
  | { ok: false; reason: 'none'; tried: number; why: string };

export interface BookLog {
  warn(message: string): void;
  log(message: string): void;
}

/**
 * The provider accounts this connector holds in memory (from `connector.accounts.v1`), decrypted
 * with the master key, grouped in key pools by provider. What the hot path reads: no database,
 * no network.
 */
export class AccountBook {
  private readonly accounts = new Map<string, LiveAccount>();
  private readonly pools = new Map<string, KeyPool>();

  constructor(
    private readonly ring: MasterKeyRing | null,
    private readonly policy: PoolPolicy = DEFAULT_POOL_POLICY,
    private readonly log: BookLog = { warn: () => undefined, log: () => undefined },
    private readonly now: () => number = Date.now,
  ) {}

  get size(): number {
    return this.accounts.size;
  }

  get(id: string): LiveAccount | undefined {
    return this.accounts.get(id);
  }

  all(): LiveAccount[] {
    return [...this.accounts.values()];
  }

  /** The records held, by id (what reconciliation compares with the database). */
  records(): Map<string, ProviderAccountV1> {
    return new Map([...this.accounts].map(([id, a]) => [id, a.record]));
  }

  /** A record (or tombstone) from the topic. Older revisions than the one held are ignored. */
  apply(id: string, record: ProviderAccountV1 | null): void {
    const held = this.accounts.get(id);
    if (record === null) {
      if (held) this.log.log(`account ${id} of ${held.record.providerId} deleted`);
      this.accounts.delete(id);
      return;
    }
    if (held && record.revision < held.record.revision) return;
    // A record whose fields were not written by a connector holding the master key (altered on
    // the topic: another base URL to send the secret to, a status...) is not applied.
    if (this.ring && !accountAuthentic(record, this.ring)) {
      this.log.warn(`account ${id}: a record that fails authentication was ignored`);
      return;
    }
    const { adapter, connection, unusable } = this.open(record);
    // A new secret or address starts with a clean slate; a label or weight change keeps it.
    const same =
      held &&
      held.record.secretVersion === record.secretVersion &&
      held.record.baseUrl === record.baseUrl;
    const state = same ? held.state : new AccountState(this.policy);
    this.accounts.set(id, { record, adapter, connection, unusable, state });
    if (unusable)
      this.log.warn(`account ${id} of ${record.providerId} cannot be used: ${unusable}`);
    else if (!held || held.record.secretVersion !== record.secretVersion)
      this.log.log(
        `account ${id} of ${record.providerId} (${record.hint}, secret v${record.secretVersion}) ${record.status}`,
      );
  }

  private open(r: ProviderAccountV1): Pick<LiveAccount, 'adapter' | 'connection' | 'unusable'> {
    const adapter = adapterFor(r.kind) ?? null;
    if (!adapter) return { adapter, connection: null, unusable: `no adapter for kind '${r.kind}'` };
    if (!adapter.credentialTypes.includes(r.credentialType))
      return {
        adapter,
        connection: null,
        unusable: `kind '${r.kind}' takes no '${r.credentialType}' credentials`,
      };
    if (!this.ring) return { adapter, connection: null, unusable: 'no master key configured' };
    try {
      const payload = openPayload(r, this.ring);
      if (payload.credentials.type !== r.credentialType)
        return { adapter, connection: null, unusable: 'credential type differs from the record' };
      const connection: ProviderConnection = {
        baseUrl: r.baseUrl,
        credentials: payload.credentials,
        ...(Object.keys(payload.headers).length > 0 ? { headers: payload.headers } : {}),
      };
      return { adapter, connection, unusable: null };
    } catch (e) {
      if (e instanceof SecretError) return { adapter, connection: null, unusable: e.message };
      throw e;
    }
  }

  /**
   * The active, usable accounts of a provider: the platform's own. A tenant's account (BYOK)
   * would serve only that tenant's requests, which routing cannot ask for yet: never pooled.
   */
  usable(providerId: string, kind?: string): LiveAccount[] {
    return this.all().filter(
      (a) =>
        a.record.providerId === providerId &&
        a.record.owner === PLATFORM_OWNER &&
        a.record.status === 'active' &&
        a.connection !== null &&
        (kind === undefined || a.record.kind === kind),
    );
  }

  /**
   * An account of `providerId` for one request (not one of `exclude`: those this request tried
   * already), by the provider's key pool.
   */
  acquire(providerId: string, exclude: ReadonlySet<string> = new Set()): Acquired {
    const now = this.now();
    const usable = this.usable(providerId);
    const members = usable.map((a) => ({
      id: a.record.id,
      weight: a.record.weight,
      state: a.state,
    }));
    let pool = this.pools.get(providerId);
    if (!pool) this.pools.set(providerId, (pool = new KeyPool()));
    const pick = pool.pick(members, now, exclude);
    if (!pick.ok) {
      const all = this.all().filter((a) => a.record.providerId === providerId);
      const why =
        usable.length > 0
          ? `every usable account was tried (${usable.length})`
          : all.length === 0
            ? 'no account'
            : all.every((a) => a.record.status !== 'active')
              ? `no active account (${all.length} disabled)`
              : `no usable account (${
                  all
                    .map((a) => a.unusable)
                    .filter(Boolean)
                    .join('; ') || 'none active'
                })`;
      return { ok: false, reason: 'none', tried: exclude.size, why };
    }
    const account = this.accounts.get(pick.member.id)!;
    const { state } = account;
    state.begin(now);
    let ended = false;
    return {
      ok: true,
      lease: {
        account,
        adapter: account.adapter!,
        connection: account.connection!,
        lastResort: pick.lastResort,
        end: (outcome) => {
          if (ended) return;
          ended = true;
          state.end(outcome, this.now());
        },
      },
    };
  }

  presence(provider: { id: string; kind: string }): ProviderPresence {
    const mine = this.all().filter((a) => a.record.providerId === provider.id);
    return {
      id: provider.id,
      kind: provider.kind,
      accounts: mine.length,
      active: mine.filter((a) => a.record.status === 'active').length,
      usable: this.usable(provider.id, provider.kind).length,
      kind_mismatch: mine.filter((a) => a.record.kind !== provider.kind).length,
    };
  }
}
