import type { CreditKind, Micros, UsageEventV1 } from '@turnpike/contracts';

/**
 * The posting rules of the double-entry ledger: which accounts every movement debits and
 * credits. Amounts are signed integer micro-units (debit > 0, credit < 0), and the entries of
 * every transaction sum to zero.
 *
 * Accounts:
 * - `tenant:<t>:credit`   (liability) what the tenant has put in: grants and adjustments credit it.
 * - `tenant:<t>:usage`    (contra-liability) what the tenant has used: usage debits it, refunds credit it.
 *   The tenant's balance is `-(credit + usage)` = credits - usage.
 * - `platform:funding`             the other side of grants (cash, promotions).
 * - `platform:adjustments`         the other side of adjustments.
 * - `platform:refunds`             the other side of refunds.
 * - `platform:revenue:markup`      our margin: charged - upstream cost (a debit when we absorb cost).
 * - `platform:cost:provider:<p>`   what we owe provider <p> for the tokens it served (upstream cost).
 */
export type AccountKind =
  | 'tenant_credit'
  | 'tenant_usage'
  | 'funding'
  | 'adjustments'
  | 'refunds'
  | 'revenue_markup'
  | 'provider_cost';

export type EntryKind =
  'credit_grant' | 'usage_charge' | 'markup_revenue' | 'provider_cost' | 'refund' | 'adjustment';

export type TransactionKind = 'usage' | 'credit_grant' | 'adjustment' | 'refund';

export interface Posting {
  account: string;
  accountKind: AccountKind;
  tenantId: string | null;
  provider: string | null;
  kind: EntryKind;
  amount: Micros;
}

export const accounts = {
  tenantCredit: (tenantId: string) => `tenant:${tenantId}:credit`,
  tenantUsage: (tenantId: string) => `tenant:${tenantId}:usage`,
  funding: 'platform:funding',
  adjustments: 'platform:adjustments',
  refunds: 'platform:refunds',
  markup: 'platform:revenue:markup',
  providerCost: (provider: string) => `platform:cost:provider:${provider}`,
} as const;

/** What the ledger books for one usage event: the charge and the upstream cost. */
export interface Billable {
  chargedMicros: Micros;
  upstreamMicros: Micros;
}

/**
 * The ledger follows the gateway: it books the `chargedMicros` the tenant was shown in
 * `usage.cost` (markup included, computed when the generation ended) and the `upstreamMicros`
 * we owe. It only re-applies the policy on what is never charged, whatever the event says:
 * an errored generation and an empty completion cost the tenant nothing. (Failed attempts a
 * fallback replaced are never in the event's tokens.) Booking the event's amounts, rather than
 * re-pricing with today's rules, is what makes a replay reproduce every balance exactly.
 */
export function billableOf(e: Pick<UsageEventV1, 'status' | 'tokens' | 'cost'>): Billable {
  const free = e.status === 'error' || e.tokens.completion === 0;
  return { chargedMicros: free ? 0 : e.cost.chargedMicros, upstreamMicros: e.cost.upstreamMicros };
}

/** Usage: debit the tenant's usage, credit the provider's cost and our markup revenue. */
export function usagePostings(tenantId: string, provider: string | null, b: Billable): Posting[] {
  const p = provider ?? 'unknown';
  const markup = b.chargedMicros - b.upstreamMicros;
  const out: Posting[] = [];
  if (b.chargedMicros !== 0) {
    out.push({
      account: accounts.tenantUsage(tenantId),
      accountKind: 'tenant_usage',
      tenantId,
      provider: null,
      kind: 'usage_charge',
      amount: b.chargedMicros,
    });
  }
  if (b.upstreamMicros !== 0) {
    out.push({
      account: accounts.providerCost(p),
      accountKind: 'provider_cost',
      tenantId: null,
      provider: p,
      kind: 'provider_cost',
      amount: -b.upstreamMicros,
    });
  }
  if (markup !== 0) {
    out.push({
      account: accounts.markup,
      accountKind: 'revenue_markup',
      tenantId: null,
      provider: null,
      kind: 'markup_revenue',
      amount: -markup,
    });
  }
  return out;
}

/** Credit movements: grants and adjustments move the tenant's credit, refunds its usage. */
export function creditPostings(
  tenantId: string,
  kind: CreditKind,
  amountMicros: Micros,
): Posting[] {
  if (!Number.isSafeInteger(amountMicros) || amountMicros === 0)
    throw new RangeError(`bad amount ${amountMicros}`);
  if ((kind === 'grant' || kind === 'refund') && amountMicros < 0)
    throw new RangeError(`a ${kind} must be positive`);
  switch (kind) {
    case 'grant':
      return [
        {
          account: accounts.funding,
          accountKind: 'funding',
          tenantId: null,
          provider: null,
          kind: 'credit_grant',
          amount: amountMicros,
        },
        {
          account: accounts.tenantCredit(tenantId),
          accountKind: 'tenant_credit',
          tenantId,
          provider: null,
          kind: 'credit_grant',
          amount: -amountMicros,
        },
      ];
    case 'adjustment':
      return [
        {
          account: accounts.adjustments,
          accountKind: 'adjustments',
          tenantId: null,
          provider: null,
          kind: 'adjustment',
          amount: amountMicros,
        },
        {
          account: accounts.tenantCredit(tenantId),
          accountKind: 'tenant_credit',
          tenantId,
          provider: null,
          kind: 'adjustment',
          amount: -amountMicros,
        },
      ];
    case 'refund':
      return [
        {
          account: accounts.refunds,
          accountKind: 'refunds',
          tenantId: null,
          provider: null,
          kind: 'refund',
          amount: amountMicros,
        },
        {
          account: accounts.tenantUsage(tenantId),
          accountKind: 'tenant_usage',
          tenantId,
          provider: null,
          kind: 'refund',
          amount: -amountMicros,
        },
      ];
  }
}

export const creditTransactionKind = (kind: CreditKind): TransactionKind =>
  kind === 'grant' ? 'credit_grant' : kind;

/** A tenant's figures from the balances of its two accounts. */
export function tenantFigures(
  creditAccountBalance: Micros,
  usageAccountBalance: Micros,
): {
  creditsMicros: Micros;
  usageMicros: Micros;
  balanceMicros: Micros;
} {
  const creditsMicros = -creditAccountBalance;
  return {
    creditsMicros,
    usageMicros: usageAccountBalance,
    balanceMicros: creditsMicros - usageAccountBalance,
  };
}
