import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { MAX_CREDIT_BALANCE_MICROS, MAX_CREDIT_MICROS } from '@turnpike/contracts';
import { RpcFailure } from '@turnpike/kafka';
import type { ProducerService } from '@turnpike/service-kit';
import type { BillingConfig } from '../billing.config.js';
import type { LedgerStore } from '../ledger/ledger.store.js';
import { CreditsService } from './credits.service.js';

/** A ledger holding `creditsMicros` for the tenant, and a producer that records what it sends. */
function service(creditsMicros: number) {
  const sent: unknown[] = [];
  const store = {
    findCredit: async () => undefined,
    tenantStates: async (ids: string[]) =>
      new Map(
        ids.map((tenantId) => [
          tenantId,
          { tenantId, creditsMicros, usageMicros: 0, balanceMicros: creditsMicros, version: 1 },
        ]),
      ),
  } as unknown as LedgerStore;
  const producer = {
    send: async (_topic: string, record: unknown) => {
      sent.push(record);
      throw new Error('stop here: the movement was produced');
    },
  } as unknown as ProducerService;
  const config = { creditWaitMs: 100 } as BillingConfig;
  return { credits: new CreditsService(store, producer, config), sent };
}

const grant = (amountMicros: number, kind: 'grant' | 'adjustment' = 'grant') => ({
  tenantId: 'tenant-x',
  kind,
  amountMicros,
  idempotencyKey: `k-${amountMicros}`,
});

describe('credit movements are bounded before they reach the ledger', () => {
  test('a movement beyond the per-movement bound is refused by its schema', async () => {
    const { credits, sent } = service(0);
    for (const amount of [MAX_CREDIT_MICROS + 1, -MAX_CREDIT_MICROS - 1, Number.MAX_SAFE_INTEGER])
      await assert.rejects(credits.apply(grant(amount, 'adjustment')), /amountMicros|Too/);
    assert.equal(sent.length, 0);
  });

  test("a movement that would take the tenant's credit beyond the bound is a 400, not produced", async () => {
    const { credits, sent } = service(MAX_CREDIT_BALANCE_MICROS - MAX_CREDIT_MICROS + 1);
    await assert.rejects(credits.apply(grant(MAX_CREDIT_MICROS)), (e: unknown) => {
      assert.ok(e instanceof RpcFailure);
      assert.deepEqual(
        [e.error.status, e.error.code, e.error.param],
        [400, 'credit_limit_exceeded', 'amount'],
      );
      return true;
    });
    const negative = service(-MAX_CREDIT_BALANCE_MICROS + 5);
    await assert.rejects(negative.credits.apply(grant(-6, 'adjustment')), RpcFailure);
    assert.equal(sent.length + negative.sent.length, 0);
  });

  test('a movement within the bounds goes on to the ledger', async () => {
    const { credits, sent } = service(MAX_CREDIT_BALANCE_MICROS - MAX_CREDIT_MICROS);
    await assert.rejects(credits.apply(grant(MAX_CREDIT_MICROS)), /stop here/);
    assert.equal(sent.length, 1);
  });
});
