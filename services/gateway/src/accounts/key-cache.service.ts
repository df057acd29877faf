import { Inject, Injectable } from '@nestjs/common';
import { TOPICS, type AccountKeyV1 } from '@turnpike/contracts';
import type { KafkaClient } from '@turnpike/kafka';
import { KAFKA_CLIENT, Readiness, TopicViewService } from '@turnpike/service-kit';

/**
 * Every active API key, by hash, in memory: loaded from the compacted `accounts.keys.v1` topic
 * at boot and kept fresh from it, so authenticating a request makes no database call.
 */
@Injectable()
export class KeyCacheService extends TopicViewService<typeof TOPICS.accountsKeys> {
  private readonly byHash = new Map<string, AccountKeyV1>();

  constructor(@Inject(KAFKA_CLIENT) kafka: KafkaClient, readiness: Readiness) {
    super(kafka, readiness, { topic: TOPICS.accountsKeys, name: 'gateway-keys', check: 'keys' });
  }

  /** Also called by this replica right after it changes a key, for immediate effect. */
  override apply(keyHash: string, value: AccountKeyV1 | null): void {
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
