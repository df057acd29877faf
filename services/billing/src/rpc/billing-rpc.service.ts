import { Injectable, type OnModuleInit } from '@nestjs/common';
import {
  ApplyCreditParams,
  BILLING_RPC,
  DeleteMarkupParams,
  GetGenerationParams,
  KeyParams,
  ListActivityParams,
  ListParkedParams,
  ParkedIdParams,
  type ParkedList,
  SetKeyLimitParams,
  SetMarkupParams,
  TenantParams,
} from '@turnpike/contracts';
import { RpcFailure, rpcParams as parse } from '@turnpike/kafka';
import { RpcServerService } from '@turnpike/service-kit';
import { CreditsService } from '../credits/credits.service.js';
import { BalancePublisher } from '../ledger/balance-publisher.service.js';
import { LedgerConsumer } from '../ledger/ledger-consumer.service.js';
import { RetryRefused } from '../ledger/ledger-writer.js';
import { LedgerStore } from '../ledger/ledger.store.js';
import { MarkupRulesService } from '../markup/markup-rules.service.js';

const DAY_MS = 86_400_000;
const isoDay = (ms: number) => new Date(ms).toISOString().slice(0, 10);

/** Billing's answers over `rpc.billing.v1`: credits, keys, markup rules, generations, activity. */
@Injectable()
export class BillingRpcService implements OnModuleInit {
  constructor(
    private readonly rpc: RpcServerService,
    private readonly store: LedgerStore,
    private readonly credits: CreditsService,
    private readonly markups: MarkupRulesService,
    private readonly publisher: BalancePublisher,
    private readonly ledger: LedgerConsumer,
  ) {}

  onModuleInit(): void {
    const h = (method: string, fn: (params: unknown) => Promise<unknown>) =>
      this.rpc.handle(method, (params) => fn(params));

    h(BILLING_RPC.applyCredit, (p) => this.credits.apply(parse(ApplyCreditParams, p)));
    h(BILLING_RPC.getCredits, (p) => this.credits.credits(parse(TenantParams, p).tenantId));
    h(BILLING_RPC.getKey, async (p) => {
      const { tenantId, keyId } = parse(KeyParams, p);
      return this.store.keyUsage(tenantId, keyId);
    });
    h(BILLING_RPC.setKeyLimit, async (p) => {
      const { tenantId, keyId, limitMicros, limitReset } = parse(SetKeyLimitParams, p);
      await this.store.setKeyLimit(tenantId, keyId, limitMicros, limitReset);
      await this.publisher.publish({ tenants: new Map(), keys: new Map([[keyId, tenantId]]) });
      return this.store.keyUsage(tenantId, keyId);
    });
    h(BILLING_RPC.setMarkup, (p) => this.markups.set(parse(SetMarkupParams, p)));
    h(BILLING_RPC.deleteMarkup, async (p) => {
      const { tenantId, model } = parse(DeleteMarkupParams, p);
      return { deleted: await this.markups.delete(tenantId, model) };
    });
    h(BILLING_RPC.listMarkups, () => this.markups.list());
    h(BILLING_RPC.getGeneration, async (p) => {
      const { tenantId, generationId } = parse(GetGenerationParams, p);
      const g = await this.store.generation(tenantId, generationId);
      // Another tenant's generation is as unknown as a missing one.
      if (!g)
        throw RpcFailure.of(404, `Generation '${generationId}' not found.`, 'not_found', 'id');
      return g;
    });
    h(BILLING_RPC.listActivity, async (p) => {
      const q = parse(ListActivityParams, p);
      const today = Date.parse(`${isoDay(Date.now())}T00:00:00Z`);
      const [from, to] = q.date
        ? [q.date, isoDay(Date.parse(`${q.date}T00:00:00Z`) + DAY_MS)]
        : [isoDay(today - (q.days - 1) * DAY_MS), isoDay(today + DAY_MS)];
      return this.store.activity(q.tenantId, from, to, q.keyId);
    });
    h(BILLING_RPC.verifyLedger, () => this.store.verify());
    h(BILLING_RPC.listParked, async (p): Promise<ParkedList> => {
      const q = parse(ListParkedParams, p);
      const page = await this.store.listParked(q.limit, q.after);
      return { ...page, parkedSinceStart: this.ledger.stats.parked };
    });
    h(BILLING_RPC.retryParked, async (p) => {
      const { id } = parse(ParkedIdParams, p);
      try {
        return await this.ledger.writer.retry(id);
      } catch (e) {
        if (!(e instanceof RetryRefused)) {
          throw RpcFailure.of(
            503,
            `The ledger could not retry parked record ${id} now; try again shortly.`,
            'ledger_unavailable',
          );
        }
        if (e.reason === 'not_parked') throw RpcFailure.of(404, e.message, 'not_found', 'id');
        throw RpcFailure.of(
          409,
          e.message,
          e.reason === 'unbookable' ? 'still_unbookable' : 'invalid_record',
        );
      }
    });
  }
}
