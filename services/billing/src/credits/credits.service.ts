import { Injectable } from '@nestjs/common';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  ApplyCreditParams,
  MAX_CREDIT_BALANCE_MICROS,
  TOPICS,
  type CreditEventV1,
  type CreditMovement,
  type TenantCredits,
} from '@turnpike/contracts';
import { encode, RpcFailure } from '@turnpike/kafka';
import { ProducerService } from '@turnpike/service-kit';
import { BillingConfig } from '../billing.config.js';
import { LedgerStore } from '../ledger/ledger.store.js';

/**
 * Operator credit movements. A movement is not written to the ledger here: it is appended to
 * `billing.credits.v1`, and the ledger consumer books it like any other input, so the topics
 * alone can rebuild every balance. The command then waits until the movement is booked and
 * answers with it. Idempotent on (tenant, idempotency key): a retry answers the same movement;
 * the same key for a different movement is a 409.
 */
@Injectable()
export class CreditsService {
  constructor(
    private readonly store: LedgerStore,
    private readonly producer: ProducerService,
    private readonly config: BillingConfig,
  ) {}

  async apply(
    input: ApplyCreditParams,
  ): Promise<{ movement: CreditMovement; credits: TenantCredits }> {
    const p = ApplyCreditParams.parse(input);
    if (p.kind !== 'adjustment' && p.amountMicros < 0)
      throw RpcFailure.of(400, `A ${p.kind} must be a positive amount.`, null, 'amount');
    const check = async (m: CreditMovement) => {
      if (m.kind !== p.kind || m.amountMicros !== p.amountMicros) {
        throw RpcFailure.of(
          409,
          'This idempotency key was already used for a different credit movement.',
          'idempotency_key_reused',
        );
      }
      return { movement: m, credits: await this.credits(p.tenantId) };
    };
    const existing = await this.store.findCredit(p.tenantId, p.idempotencyKey);
    if (existing) return check(existing);
    // Refused here, not booked: a credit beyond the bound would make the ledger's sums unsafe.
    const { creditsMicros } = await this.credits(p.tenantId);
    if (Math.abs(creditsMicros + p.amountMicros) > MAX_CREDIT_BALANCE_MICROS)
      throw RpcFailure.of(
        400,
        `This movement would take the tenant's credit to ${creditsMicros + p.amountMicros} micro-units, ` +
          `beyond the limit of ${MAX_CREDIT_BALANCE_MICROS} either way.`,
        'credit_limit_exceeded',
        'amount',
      );
    const event: CreditEventV1 = {
      v: 1,
      tenantId: p.tenantId,
      kind: p.kind,
      amountMicros: p.amountMicros,
      idempotencyKey: p.idempotencyKey,
      note: p.note,
      generationId: p.generationId,
      createdAt: new Date().toISOString(),
    };
    await this.producer.send(
      TOPICS.billingCredits,
      encode(TOPICS.billingCredits, p.tenantId, event),
    );
    const until = Date.now() + this.config.creditWaitMs;
    for (;;) {
      await sleep(20);
      const m = await this.store.findCredit(p.tenantId, p.idempotencyKey);
      if (m) return check(m);
      if (Date.now() > until) {
        throw RpcFailure.of(
          503,
          'The credit movement is accepted but not booked yet; retry with the same idempotency key.',
          'credit_pending',
        );
      }
    }
  }

  async credits(tenantId: string): Promise<TenantCredits> {
    const s = (await this.store.tenantStates([tenantId])).get(tenantId)!;
    return {
      tenantId,
      creditsMicros: s.creditsMicros,
      usageMicros: s.usageMicros,
      balanceMicros: s.balanceMicros,
    };
  }
}
