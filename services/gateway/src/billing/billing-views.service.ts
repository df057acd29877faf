import { Inject, Injectable } from '@nestjs/common';
import { TOPICS, type KeyBalanceV1, type TenantBalanceV1 } from '@turnpike/contracts';
import type { KafkaClient, MessageOf } from '@turnpike/kafka';
import { limitPeriodStart, MarkupBook } from '@turnpike/pricing';
import { KAFKA_CLIENT, Readiness, TopicViewService } from '@turnpike/service-kit';
import { ReservationBook } from './reservation-book.js';

/** How long a charge may wait for its balance update before its hold is dropped. */
export const LANDING_TIMEOUT_MS = 15 * 60_000;

/** This replica's reservations (one book per process). */
@Injectable()
export class Reservations extends ReservationBook {
  constructor() {
    super(LANDING_TIMEOUT_MS);
  }
}

/**
 * Balances of every tenant and key, in memory, from the compacted `billing.balances.v1`: the
 * gateway decides 402 with no call to billing. A tenant record lists the generations whose
 * charges it includes; their holds are released in the same step as the balance moves, so no
 * admission ever sees a charge counted twice or not at all.
 */
@Injectable()
export class BalancesView extends TopicViewService<typeof TOPICS.billingBalances> {
  private readonly tenants = new Map<string, TenantBalanceV1>();
  private readonly keys = new Map<string, KeyBalanceV1>();

  constructor(
    @Inject(KAFKA_CLIENT) kafka: KafkaClient,
    readiness: Readiness,
    private readonly reservations: Reservations,
  ) {
    super(kafka, readiness, {
      topic: TOPICS.billingBalances,
      name: 'gateway-balances',
      check: 'balances',
    });
  }

  protected apply(key: string, value: TenantBalanceV1 | KeyBalanceV1 | null): void {
    if (value === null) {
      const [kind, id] = splitKey(key);
      if (kind === 'tenant') this.tenants.delete(id);
      else this.keys.delete(id);
    } else if (value.kind === 'tenant') {
      const cur = this.tenants.get(value.tenantId);
      if (!cur || value.version >= cur.version) this.tenants.set(value.tenantId, value);
      this.reservations.landed(value.generations);
    } else {
      const cur = this.keys.get(value.keyId);
      if (!cur || value.version >= cur.version) this.keys.set(value.keyId, value);
    }
  }

  tenant(tenantId: string): TenantBalanceV1 | undefined {
    return this.tenants.get(tenantId);
  }

  /** What the tenant may still spend, as billing last published it (0 when never funded). */
  available(tenantId: string): number {
    return this.tenants.get(tenantId)?.balanceMicros ?? 0;
  }

  /** What the key may still spend in its current limit period; null when it has no limit. */
  keyRemaining(keyId: string, now = Date.now()): number | null {
    const k = this.keys.get(keyId);
    if (!k || k.limitMicros === null) return null;
    const start = limitPeriodStart(k.limitReset, now);
    const used =
      start === null
        ? k.usageMicros
        : k.limitReset === 'daily'
          ? k.day === start
            ? k.usageDailyMicros
            : 0
          : k.limitReset === 'weekly'
            ? k.week === start
              ? k.usageWeeklyMicros
              : 0
            : k.month === start
              ? k.usageMonthlyMicros
              : 0;
    return k.limitMicros - used;
  }
}

/** The markup rules, in memory, from the compacted `billing.pricing.v1`. */
@Injectable()
export class MarkupsView extends TopicViewService<typeof TOPICS.billingPricing> {
  readonly book = new MarkupBook();

  constructor(@Inject(KAFKA_CLIENT) kafka: KafkaClient, readiness: Readiness) {
    super(kafka, readiness, {
      topic: TOPICS.billingPricing,
      name: 'gateway-pricing',
      check: 'markups',
    });
  }

  protected apply(key: string, value: MessageOf<typeof TOPICS.billingPricing> | null): void {
    if (value === null) this.book.delete(key);
    else this.book.set(value);
  }
}

function splitKey(key: string): ['tenant' | 'key', string] {
  const i = key.indexOf('|');
  return [key.slice(0, i) === 'tenant' ? 'tenant' : 'key', key.slice(i + 1)];
}
