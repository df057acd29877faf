import { Inject, Injectable, Logger } from '@nestjs/common';
import { TOPICS, type ProviderAccountV1 } from '@turnpike/contracts';
import type { KafkaClient } from '@turnpike/kafka';
import { KAFKA_CLIENT, Readiness, TopicViewService } from '@turnpike/service-kit';
import { ConnectorConfig } from '../connector.config.js';
import { AccountBook } from '@turnpike/generation';

/**
 * Every connector instance follows `connector.accounts.v1` from the beginning into its
 * `AccountBook` (decrypting each secret with the master key), so an account created, rotated,
 * disabled or deleted through any connector reaches all of them within moments, without a
 * restart. The service is unready until the view has caught up.
 */
@Injectable()
export class AccountsView extends TopicViewService<typeof TOPICS.connectorAccounts> {
  readonly book: AccountBook;
  private readonly waiters = new Set<() => void>();

  constructor(
    @Inject(KAFKA_CLIENT) kafka: KafkaClient,
    readiness: Readiness,
    config: ConnectorConfig,
  ) {
    super(kafka, readiness, {
      topic: TOPICS.connectorAccounts,
      name: `connector-accounts-${config.instanceId}`,
      check: 'accounts-view',
    });
    this.book = new AccountBook(
      config.masterKeys,
      config.poolPolicy,
      new Logger(AccountsView.name),
    );
  }

  protected apply(key: string, value: ProviderAccountV1 | null): void {
    this.book.apply(key, value);
    for (const w of [...this.waiters]) w();
  }

  /**
   * Resolves once this instance's view satisfies `done` (read-your-writes for an admin call
   * this instance answered), or after `timeoutMs` anyway.
   */
  waitFor(done: (book: AccountBook) => boolean, timeoutMs = 5_000): Promise<boolean> {
    if (done(this.book)) return Promise.resolve(true);
    return new Promise((resolve) => {
      const check = () => {
        if (!done(this.book)) return;
        finish(true);
      };
      const timer = setTimeout(() => finish(false), timeoutMs);
      const finish = (ok: boolean) => {
        clearTimeout(timer);
        this.waiters.delete(check);
        resolve(ok);
      };
      this.waiters.add(check);
    });
  }

  /** Waits until the view holds `record`'s revision (or a later one), or no account `id`. */
  applied(id: string, revision: number | null): Promise<boolean> {
    return this.waitFor((b) => {
      const held = b.get(id);
      return revision === null ? held === undefined : (held?.record.revision ?? 0) >= revision;
    });
  }
}
