import {
  Inject,
  Injectable,
  Logger,
  type OnApplicationShutdown,
  type OnModuleInit,
} from '@nestjs/common';
import { TOPICS, type AccountKeyV1 } from '@turnpike/contracts';
import { CompactedView, type KafkaClient } from '@turnpike/kafka';
import { KAFKA_CLIENT, Readiness } from '@turnpike/service-kit';

/**
 * Every active API key, by hash, in memory: loaded from the compacted `accounts.keys.v1` topic
 * at boot and kept fresh from it, so authenticating a request makes no database call.
 */
@Injectable()
export class KeyCacheService implements OnModuleInit, OnApplicationShutdown {
  private readonly byHash = new Map<string, AccountKeyV1>();
  private readonly view: CompactedView<typeof TOPICS.accountsKeys>;

  constructor(@Inject(KAFKA_CLIENT) kafka: KafkaClient, readiness: Readiness) {
    this.view = new CompactedView(kafka, new Logger('accounts.keys'), {
      topic: TOPICS.accountsKeys,
      name: 'gateway-keys',
      apply: (key, value) => this.apply(key, value),
    });
    readiness.register('keys', () => this.view.ready || 'loading keys');
  }

  async onModuleInit(): Promise<void> {
    await this.view.start();
  }

  async onApplicationShutdown(): Promise<void> {
    await this.view.stop();
  }

  apply(keyHash: string, value: AccountKeyV1 | null): void {
    if (value === null || value.disabled) this.byHash.delete(keyHash);
    else this.byHash.set(keyHash, value);
  }

  lookup(keyHash: string): AccountKeyV1 | undefined {
    return this.byHash.get(keyHash);
  }

  get size(): number {
    return this.byHash.size;
  }
}
