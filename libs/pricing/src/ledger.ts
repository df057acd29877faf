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
 * - `platform:cost:provider:<p>`   what we owe provider <p> for the tokens it served (upstream cost),
 *                                  failed attempts included.
 * - `platform:expense:failed_attempts` (expense) the upstream cost nobody is billed for: attempts
 *   that did not serve the generation (failed, superseded, timed out), and of a resumed answer
 *   the continuation's prompt and output that never reached the client: we owe the provider, the
 *   tenant pays nothing.
 */
export type AccountKind =
  | 'tenant_credit'
  | 'tenant_usage'
  | 'funding'
  | 'adjustments'
  | 'refunds'
  | 'revenue_markup'
  | 'provider_cost'
  | 'attempt_loss';

export type EntryKind =
  | 'credit_grant'
  | 'usage_charge'
  | 'markup_revenue'
  | 'provider_cost'
  | 'attempt_cost'
  | 'refund'
  | 'adjustment';

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
  failedAttempts: 'platform:expense:failed_attempts',
} as const;

/** What the ledger books for one usage event: the charge and the upstream costs. */
export interface Billable {
  chargedMicros: Micros;
  /** The upstream cost of what the tenant is billed (the charge's basis). */
  upstreamMicros: Micros;
  /**
   * That cost by provider (sorted), when the billed tokens came from several attempts (an answer
   * resumed by a continuation); absent: all of it is the event's provider's.
   */
  providerCosts?: Array<{ provider: string; micros: Micros }>;
  /**
   * Upstream cost nobody is billed for, by provider (sorted): attempts that did not serve the
   * generation, and the part of a serving attempt the tenant does not pay (a continuation's
   * prompt, output that never reached the client).
   */
  failedAttempts?: Array<{ provider: string; micros: Micros }>;
}

interface BillableAttempt {
  provider: string;
  served?: boolean;
  upstreamMicros?: number;
  role?: string | null;
  billedUpstreamMicros?: number;
}

/** Sums per provider, sorted by provider, leaving out zeros. */
function byProvider(
  items: Iterable<[string, number]>,
): Array<{ provider: string; micros: Micros }> {
  const out = new Map<string, number>();
  for (const [p, m] of items) if (m > 0) out.set(p, (out.get(p) ?? 0) + m);
  return [...out.entries()]
    .sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0))
    .map(([provider, micros]) => ({ provider, micros }));
}

/**
 * The ledger follows the gateway: it books the `chargedMicros` the tenant was shown in
 * `usage.cost` (markup included, computed when the generation ended) and the upstream costs we
 * owe. It only re-applies the policy on what is never charged, whatever the event says: an
 * errored generation and an empty completion cost the tenant nothing. Booking the event's
 * amounts, rather than re-pricing with today's rules, is what makes a replay reproduce every
 * balance exactly.
 *
 * Events whose attempts carry a `role` book per attempt: each attempt's `billedUpstreamMicros`
 * (what the charge covers) as its provider's cost of the generation, and the rest of its
 * `upstreamMicros` as our expense. Older events book as they always did: the event's upstream
 * cost for its provider, and the attempts that did not serve it as our expense.
 */
export function billableOf(
  e: Pick<UsageEventV1, 'status' | 'tokens' | 'cost'> & {
    attempts?: ReadonlyArray<BillableAttempt>;
  },
): Billable {
  const free = e.status === 'error' || e.tokens.completion === 0;
  const attempts = e.attempts ?? [];
  if (attempts.some((a) => a.role !== undefined && a.role !== null)) {
    const providerCosts = byProvider(
      attempts.map((a) => [a.provider, a.billedUpstreamMicros ?? 0]),
    );
    return {
      chargedMicros: free ? 0 : e.cost.chargedMicros,
      upstreamMicros: providerCosts.reduce((s, p) => s + p.micros, 0),
      providerCosts,
      failedAttempts: byProvider(
        attempts.map((a) => [a.provider, (a.upstreamMicros ?? 0) - (a.billedUpstreamMicros ?? 0)]),
      ),
    };
  }
  return {
    chargedMicros: free ? 0 : e.cost.chargedMicros,
    upstreamMicros: e.cost.upstreamMicros,
    failedAttempts: byProvider(
      attempts.filter((a) => a.served !== true).map((a) => [a.provider, a.upstreamMicros ?? 0]),
    ),
  };
}

/**
 * Usage: debit the tenant's usage, credit the providers' cost and our markup revenue; and for
 * each provider whose unbilled attempts cost us something, credit its cost account against the
 * failed-attempts expense (one balanced transaction per generation in all).
 */
export function usagePostings(tenantId: string, provider: string | null, b: Billable): Posting[] {
  const costs = b.providerCosts ?? [{ provider: provider ?? 'unknown', micros: b.upstreamMicros }];
  const upstream = costs.reduce((s, c) => s + c.micros, 0);
  const markup = b.chargedMicros - upstream;
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
  for (const c of costs) {
    if (c.micros === 0) continue;
    out.push({
      account: accounts.providerCost(c.provider),
      accountKind: 'provider_cost',
      tenantId: null,
      provider: c.provider,
      kind: 'provider_cost',
      amount: -c.micros,
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
  for (const f of b.failedAttempts ?? []) {
    if (f.micros === 0) continue;
    out.push(
      {
        account: accounts.failedAttempts,
        accountKind: 'attempt_loss',
        tenantId: null,
        provider: null,
        kind: 'attempt_cost',
        amount: f.micros,
      },
      {
        account: accounts.providerCost(f.provider),
        accountKind: 'provider_cost',
        tenantId: null,
        provider: f.provider,
        kind: 'attempt_cost',
        amount: -f.micros,
      },
    );
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
