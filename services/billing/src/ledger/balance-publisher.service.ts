import { Injectable } from '@nestjs/common';
import {
  balanceKey,
  balancePartition,
  TOPIC_SPECS,
  TOPICS,
  type KeyBalanceV1,
  type TenantBalanceV1,
} from '@turnpike/contracts';
import { encode, type OutgoingMessage } from '@turnpike/kafka';
import { ProducerService } from '@turnpike/service-kit';
import { BillingConfig } from '../billing.config.js';
import { LedgerStore, type IngestResult } from './ledger.store.js';

const PARTITIONS = TOPIC_SPECS.find((t) => t.topic === TOPICS.billingBalances)?.partitions ?? 1;
/** Generation ids per tenant record (a record stays far below Kafka's message size limit). */
const MAX_IDS_PER_RECORD = 1_000;

/**
 * Publishes balances on the compacted `billing.balances.v1` after each committed batch: first
 * the records of the batch's keys, then each tenant's record listing the batch's generations,
 * all on the tenant's partition. The gateways keep them in memory; a gateway releases the
 * reservation of a generation it served when the tenant record listing it arrives (the charge
 * has landed). Values are read back from the ledger after the commit, so a redelivered batch
 * republishes the same figures and lists its generations again.
 */
@Injectable()
export class BalancePublisher {
  readonly enabled: boolean;

  constructor(
    private readonly store: LedgerStore,
    private readonly producer: ProducerService,
    config: BillingConfig,
  ) {
    this.enabled = config.mode === 'primary';
  }

  async publish(r: Pick<IngestResult, 'tenants' | 'keys'>): Promise<void> {
    if (!this.enabled || (r.tenants.size === 0 && r.keys.size === 0)) return;
    const now = Date.now();
    const [tenants, keys] = await Promise.all([
      this.store.tenantStates([...r.tenants.keys()]),
      this.store.keyStates(r.keys, new Date(now)),
    ]);
    const sends: Array<Promise<void>> = [];
    const send = (
      tenantId: string,
      key: string,
      value: TenantBalanceV1 | KeyBalanceV1,
      out: OutgoingMessage[] = [],
    ) => {
      const m = encode(TOPICS.billingBalances, key, value, {
        partition: balancePartition(tenantId, PARTITIONS),
      });
      out.push(m);
      sends.push(this.producer.send(TOPICS.billingBalances, m));
    };
    for (const k of keys) {
      send(k.tenantId, balanceKey.key(k.keyId), {
        v: 1,
        kind: 'key',
        keyId: k.keyId,
        tenantId: k.tenantId,
        limitMicros: k.limitMicros,
        limitReset: k.limitReset,
        usageMicros: k.usageMicros,
        day: k.periods.day,
        usageDailyMicros: k.usageDailyMicros,
        week: k.periods.week,
        usageWeeklyMicros: k.usageWeeklyMicros,
        month: k.periods.month,
        usageMonthlyMicros: k.usageMonthlyMicros,
        version: k.version,
        updatedAt: now,
      });
    }
    for (const [tenantId, generations] of r.tenants) {
      const t = tenants.get(tenantId)!;
      const chunks = generations.length === 0 ? [[]] : chunk(generations, MAX_IDS_PER_RECORD);
      for (const ids of chunks) {
        send(tenantId, balanceKey.tenant(tenantId), {
          v: 1,
          kind: 'tenant',
          tenantId,
          creditsMicros: t.creditsMicros,
          usageMicros: t.usageMicros,
          balanceMicros: t.balanceMicros,
          version: t.version,
          generations: ids,
          updatedAt: now,
        });
      }
    }
    await Promise.all(sends);
  }
}

function chunk<T>(xs: T[], n: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < xs.length; i += n) out.push(xs.slice(i, i + n));
  return out;
}
