import { Inject, Injectable, Logger, type OnApplicationBootstrap } from '@nestjs/common';
import {
  TOPICS,
  type AccountHealthView,
  type ProviderAccountV1,
  type ProviderAccountView,
} from '@turnpike/contracts';
import { encode } from '@turnpike/kafka';
import { ProducerService, Readiness } from '@turnpike/service-kit';
import { ConnectorConfig } from '../connector.config.js';
import type { LiveAccount } from '@turnpike/generation';
import { AccountManager } from './account-manager.js';
import type { AccountStore } from './account.store.js';
import { AccountsView } from './accounts-view.service.js';

export const ACCOUNT_STORE = Symbol('ACCOUNT_STORE');

/** How long a publication of an account change may be retried inside its admin call. */
const PUBLISH_RETRY_MS = 5_000;

const iso = (ms: number | null): string | null => (ms === null ? null : new Date(ms).toISOString());

/**
 * The connector's provider accounts: boots them (reconciles the topic with the database,
 * re-wraps secrets under the current master key, imports `CONNECTOR_PROVIDERS`), and gives the
 * admin handlers the commands (`manager`) and the views.
 */
@Injectable()
export class AccountsService implements OnApplicationBootstrap {
  private readonly log = new Logger(AccountsService.name);
  readonly manager: AccountManager;
  private booted = false;
  private readonly bootedPromise: Promise<void>;
  private markBooted!: () => void;

  constructor(
    @Inject(ACCOUNT_STORE) readonly store: AccountStore,
    readonly view: AccountsView,
    private readonly producer: ProducerService,
    private readonly config: ConnectorConfig,
    readiness: Readiness,
  ) {
    this.manager = new AccountManager(store, config.masterKeys, (id, record) =>
      this.publish(id, record),
    );
    this.bootedPromise = new Promise((r) => (this.markBooted = r));
    readiness.register('accounts', () => this.booted || 'bootstrapping provider accounts');
  }

  private async publish(id: string, record: ProviderAccountV1 | null): Promise<void> {
    await this.producer.send(
      TOPICS.connectorAccounts,
      encode(TOPICS.connectorAccounts, id, record),
      {
        retryMs: PUBLISH_RETRY_MS,
      },
    );
  }

  /** Resolves once the accounts are booted (admin calls wait for it). */
  ready(): Promise<void> {
    return this.bootedPromise;
  }

  async onApplicationBootstrap(): Promise<void> {
    const rows = await this.store.list();
    if (this.config.masterKeys === null && (rows.length > 0 || this.view.book.size > 0))
      throw new Error(
        `refusing to start: ${Math.max(rows.length, this.view.book.size)} provider account(s) exist, but no master key is configured to decrypt them. ` +
          'Set CONNECTOR_MASTER_KEY or CONNECTOR_MASTER_KEY_FILE to the master key they were sealed with.',
      );
    const r = await this.manager.reconcile(this.view.book.records());
    if (r.republished + r.removed > 0)
      this.log.log(
        `accounts reconciled with the database: ${r.republished} republished (${r.rewrapped} re-wrapped under master key ${this.config.masterKeys?.current.id}), ${r.removed} removed`,
      );
    if (this.config.masterKeys !== null) {
      const b = await this.manager.bootstrap(this.config.bootstrap);
      for (const a of b.imported)
        this.log.log(`bootstrap: imported ${a.id} for ${a.providerId} (${a.hint})`);
      if (b.present > 0) this.log.log(`bootstrap: ${b.present} account(s) already present`);
    }
    // Ready when this instance's view holds what the database holds.
    const expected = await this.store.list();
    await Promise.all(expected.map((a) => this.view.applied(a.id, a.revision)));
    const providers = new Map<string, number>();
    for (const a of this.view.book.all())
      if (a.connection && a.record.status === 'active')
        providers.set(a.record.providerId, (providers.get(a.record.providerId) ?? 0) + 1);
    this.log.log(
      `provider accounts: ${[...providers].map(([p, n]) => `${p} (${n})`).join(', ') || 'none usable'}`,
    );
    this.booted = true;
    this.markBooted();
  }

  /** The admin view of an account (never its secret), with this instance's live figures. */
  present(row: ProviderAccountV1): ProviderAccountView {
    const live = this.view.book.get(row.id);
    return {
      id: row.id,
      provider: row.providerId,
      kind: row.kind,
      owner: row.owner,
      label: row.label,
      base_url: row.baseUrl,
      credential_type: row.credentialType,
      status: row.status,
      weight: row.weight,
      secret_version: row.secretVersion,
      hint: row.hint,
      fingerprint: row.fingerprint,
      header_names: row.headerNames,
      created_at: new Date(row.createdAt).toISOString(),
      updated_at: new Date(row.updatedAt).toISOString(),
      rotated_at: new Date(row.rotatedAt).toISOString(),
      health: live ? this.health(live) : null,
    };
  }

  private health(a: LiveAccount, now = Date.now()): AccountHealthView {
    const s = a.state;
    const circuit = s.circuit(now);
    return {
      instance: this.config.instanceId,
      state:
        a.record.status === 'disabled'
          ? 'disabled'
          : a.connection === null
            ? 'unusable'
            : circuit === 'open'
              ? 'circuit_open'
              : s.cooling(now)
                ? 'cooling_down'
                : 'ready',
      reason: a.unusable,
      in_flight: s.inFlight,
      requests: s.requests,
      successes: s.successes,
      failures: s.failures,
      rate_limited: s.rateLimited,
      consecutive_failures: s.consecutiveRefusals,
      cooling_until: s.cooling(now) ? iso(s.coolingUntil) : null,
      circuit_open_until: iso(s.circuitOpenUntil),
      last_used_at: iso(s.lastUsedAt),
      last_error_code: s.lastErrorCode,
    };
  }
}
