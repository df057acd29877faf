import { Injectable, Logger, type OnApplicationBootstrap } from '@nestjs/common';
import {
  markupRuleKey,
  markupScopeOf,
  TOPICS,
  type MarkupRuleRecord,
  type MarkupScope,
  type PricingRuleV1,
  type SetMarkupParams,
} from '@turnpike/contracts';
import { encode } from '@turnpike/kafka';
import { ProducerService } from '@turnpike/service-kit';
import { int, LedgerStore } from '../ledger/ledger.store.js';

/**
 * Markup rules: Postgres (`markup_rules`) is the record; every change is published on the
 * compacted `billing.pricing.v1`, from which every gateway prices in memory. At boot the table
 * is published again, so the topic always converges to it.
 */
@Injectable()
export class MarkupRulesService implements OnApplicationBootstrap {
  private readonly log = new Logger('markup');

  constructor(
    private readonly store: LedgerStore,
    private readonly producer: ProducerService,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    const rules = await this.list();
    for (const r of rules) await this.publish(r);
    if (rules.length) this.log.log(`published ${rules.length} markup rule(s)`);
  }

  async list(): Promise<MarkupRuleRecord[]> {
    return (await this.store.listMarkupRules()).map((r) => ({
      scope: r['scope'] as MarkupScope,
      tenantId: r['tenant_id'] as string | null,
      model: r['model'] as string | null,
      percentBps: int(r['percent_bps']),
      fixedMicros: int(r['fixed_micros']),
      updatedAt: (r['updated_at'] as Date).getTime(),
    }));
  }

  async set(p: SetMarkupParams): Promise<MarkupRuleRecord> {
    const scope = markupScopeOf(p.tenantId, p.model);
    const updatedAt = await this.store.upsertMarkupRule(markupRuleKey(p.tenantId, p.model), {
      scope,
      ...p,
    });
    const rule: MarkupRuleRecord = { scope, ...p, updatedAt: updatedAt.getTime() };
    await this.publish(rule);
    return rule;
  }

  async delete(tenantId: string | null, model: string | null): Promise<boolean> {
    const key = markupRuleKey(tenantId, model);
    const existed = await this.store.deleteMarkupRule(key);
    await this.producer.send(TOPICS.billingPricing, encode(TOPICS.billingPricing, key, null));
    return existed;
  }

  private async publish(r: MarkupRuleRecord): Promise<void> {
    const value: PricingRuleV1 = { v: 1, ...r };
    await this.producer.send(
      TOPICS.billingPricing,
      encode(TOPICS.billingPricing, markupRuleKey(r.tenantId, r.model), value),
    );
  }
}
