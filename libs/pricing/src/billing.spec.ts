import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  markupRuleKey,
  zeroTokens,
  type EndpointPricing,
  type MarkupRuleFields,
} from '@turnpike/contracts';
import {
  accounts,
  applyMarkup,
  attemptCostMicros,
  billableOf,
  creditPostings,
  limitPeriodStart,
  MarkupBook,
  maxOutputTokens,
  microsToCurrency,
  NO_MARKUP,
  parseMoneyMicros,
  periodsOf,
  priceGeneration,
  priceParts,
  tenantFigures,
  usagePostings,
  worstCaseChargeMicros,
  worstCaseUpstreamMicros,
} from './index.js';

const price: EndpointPricing = {
  promptPerM: 150_000,
  completionPerM: 600_000,
  cachedReadPerM: 75_000,
  cacheWritePerM: 0,
  reasoningPerM: 600_000,
  perRequest: 0,
};
const rule = (
  tenantId: string | null,
  model: string | null,
  percentBps: number,
  fixedMicros = 0,
): MarkupRuleFields => ({
  scope: tenantId && model ? 'tenant_model' : tenantId ? 'tenant' : model ? 'model' : 'global',
  tenantId,
  model,
  percentBps,
  fixedMicros,
});

test('price-and-markup matrix: percentage, fixed fee, both; rounded up once to the micro-unit', () => {
  // [upstream, bps, fixed, expected charged]
  const cases: Array<[number, number, number, number]> = [
    [0, 0, 0, 0],
    [1_000, 0, 0, 1_000], // no markup
    [1_000, 1_000, 0, 1_100], // 10%
    [1_000, 0, 250, 1_250], // fixed fee
    [1_000, 1_000, 250, 1_350], // both
    [5, 1_000, 0, 6], // 10% of 5 = 0.5 -> 1 (rounded up)
    [3, 3_333, 0, 4], // 0.9999 -> 1
    [1, 1, 0, 2], // any fraction of a micro-unit rounds up
    [0, 5_000, 100, 100], // a free model still pays the fixed fee
    [999_999, 10_000, 0, 1_999_998], // 100%
    [9_000_000_000_000, 100_000, 0, 99_000_000_000_000], // 1000% of $9M stays exact
  ];
  for (const [up, bps, fixed, want] of cases) {
    assert.equal(
      applyMarkup(up, { percentBps: bps, fixedMicros: fixed }),
      want,
      `${up} +${bps}bps +${fixed}`,
    );
  }
  assert.throws(() => applyMarkup(1.5, NO_MARKUP));
  assert.throws(() => applyMarkup(-1, NO_MARKUP));
});

test('price of a generation: errors and empty completions are free, aborted streams pay for what was produced', () => {
  const t = { ...zeroTokens(), prompt: 1_000, completion: 100 };
  const m = { percentBps: 2_000, fixedMicros: 10 };
  // 1000 * 0.15 + 100 * 0.6 = 150 + 60 = 210 upstream; +20% = 252; +10 = 262
  assert.deepEqual(priceGeneration(t, price, m, true), { upstreamMicros: 210, chargedMicros: 262 });
  assert.deepEqual(priceGeneration(t, price, m, false), { upstreamMicros: 210, chargedMicros: 0 });
  assert.deepEqual(priceGeneration({ ...t, completion: 0 }, price, m, true), {
    upstreamMicros: 150,
    chargedMicros: 0,
  });
});

test('markup rules: the most specific wins (tenant+model > tenant > model > global > none)', () => {
  const book = new MarkupBook();
  assert.deepEqual(book.resolve('t1', 'a/m'), NO_MARKUP);
  book.set(rule(null, null, 100));
  book.set(rule(null, 'a/m', 200));
  book.set(rule('t1', null, 300));
  book.set(rule('t1', 'a/m', 400, 7));
  const bps = (t: string, m: string) => book.resolve(t, m).percentBps;
  assert.equal(bps('t1', 'a/m'), 400);
  assert.equal(book.resolve('t1', 'a/m').fixedMicros, 7);
  assert.equal(bps('t1', 'b/n'), 300);
  assert.equal(bps('t2', 'a/m'), 200);
  assert.equal(bps('t2', 'b/n'), 100);
  book.delete(markupRuleKey('t1', 'a/m'));
  assert.equal(bps('t1', 'a/m'), 300);
  book.delete(markupRuleKey('t1', null));
  assert.equal(bps('t1', 'a/m'), 200);
  book.delete(markupRuleKey(null, 'a/m'));
  assert.equal(bps('t1', 'a/m'), 100);
  book.delete(markupRuleKey(null, null));
  assert.deepEqual(book.resolve('t1', 'a/m'), NO_MARKUP);
});

test('worst case: dearest prices, max_tokens or the endpoint cap, n choices, markup', () => {
  const ep = { pricing: price, maxOutputTokens: 4096, contextLength: 8192 };
  assert.equal(maxOutputTokens({}, ep), 4096);
  assert.equal(maxOutputTokens({ max_tokens: 100 }, ep), 100);
  assert.equal(maxOutputTokens({ max_completion_tokens: 50, max_tokens: 100 }, ep), 50);
  assert.equal(maxOutputTokens({ max_tokens: 100_000 }, ep), 4096);
  assert.equal(maxOutputTokens({ max_tokens: 10, n: 3 }, ep), 30);
  assert.equal(maxOutputTokens({}, { maxOutputTokens: null, contextLength: 8192 }), 8192);
  // 1000 prompt at 0.15 + 100 out at 0.6 = 150 + 60
  assert.equal(worstCaseUpstreamMicros(1_000, 100, price), 210);
  assert.equal(
    worstCaseUpstreamMicros(1_000, 100, { ...price, reasoningPerM: 2_000_000, perRequest: 5 }),
    150 + 200 + 5,
  );
  const body = { messages: [{ role: 'user', content: 'x'.repeat(300) }], max_tokens: 100 };
  assert.equal(worstCaseChargeMicros(body, ep, { percentBps: 10_000, fixedMicros: 1 }, 1_000), 421);
});

test('an actual charge never exceeds the worst case for the same tokens', () => {
  const m = { percentBps: 1_500, fixedMicros: 3 };
  for (const [prompt, completion, cached, reasoning] of [
    [10, 5, 0, 0],
    [1_000, 4_096, 500, 1_000],
    [7, 1, 7, 1],
  ] as const) {
    const actual = priceGeneration(
      { prompt, completion, cachedRead: cached, cacheWrite: 0, reasoning },
      price,
      m,
      true,
    ).chargedMicros;
    const worst = applyMarkup(worstCaseUpstreamMicros(prompt, completion, price), m);
    assert.ok(actual <= worst, `${actual} <= ${worst}`);
  }
});

test('periods: UTC day, week from Monday, month; limit periods', () => {
  assert.deepEqual(periodsOf('2026-11-24T23:59:59.999Z'), {
    day: '2026-11-24',
    week: '2026-11-23',
    month: '2026-11-01',
  });
  assert.deepEqual(periodsOf('2026-11-23T00:00:00Z'), {
    day: '2026-11-23',
    week: '2026-11-23',
    month: '2026-11-01',
  });
  assert.deepEqual(periodsOf('2026-11-22T12:00:00Z'), {
    day: '2026-11-22',
    week: '2026-11-16',
    month: '2026-11-01',
  });
  assert.deepEqual(periodsOf('2027-01-01T00:00:00Z'), {
    day: '2027-01-01',
    week: '2026-12-28',
    month: '2027-01-01',
  });
  const at = Date.parse('2026-11-26T10:00:00Z');
  assert.equal(limitPeriodStart('daily', at), '2026-11-26');
  assert.equal(limitPeriodStart('weekly', at), '2026-11-23');
  assert.equal(limitPeriodStart('monthly', at), '2026-11-01');
  assert.equal(limitPeriodStart(null, at), null);
});

test('money: decimal amounts to micro-units exactly', () => {
  assert.equal(parseMoneyMicros('12.5'), 12_500_000);
  assert.equal(parseMoneyMicros(12.5), 12_500_000);
  assert.equal(parseMoneyMicros(0.1), 100_000);
  assert.equal(parseMoneyMicros('0.000001'), 1);
  assert.equal(parseMoneyMicros('-3.25'), -3_250_000);
  assert.equal(parseMoneyMicros('-0'), 0);
  assert.throws(() => parseMoneyMicros('0.0000001'));
  assert.throws(() => parseMoneyMicros(1e-7));
  assert.throws(() => parseMoneyMicros('1e3'));
  assert.throws(() => parseMoneyMicros('abc'));
  // The largest amounts parse exactly or not at all: never a rounded, unsafe integer.
  assert.equal(parseMoneyMicros('9007199254.740991'), Number.MAX_SAFE_INTEGER);
  assert.throws(() => parseMoneyMicros('9007199254.740992'), /too large/);
  assert.throws(() => parseMoneyMicros('999999999999.999999'), /too large/);
  assert.throws(() => parseMoneyMicros('-999999999999'), /too large/);
  assert.equal(microsToCurrency(1_500_000), 1.5);
});

const sum = (ps: Array<{ amount: number }>) => ps.reduce((a, p) => a + p.amount, 0);

test('ledger: every posting sums to zero; usage splits into provider cost and markup revenue', () => {
  const u = usagePostings('t1', 'sim', { chargedMicros: 130, upstreamMicros: 100 });
  assert.equal(sum(u), 0);
  assert.deepEqual(
    u.map((p) => [p.account, p.kind, p.amount]),
    [
      [accounts.tenantUsage('t1'), 'usage_charge', 130],
      [accounts.providerCost('sim'), 'provider_cost', -100],
      [accounts.markup, 'markup_revenue', -30],
    ],
  );
  // An error: nothing charged, the upstream cost is absorbed (a debit of markup revenue).
  const absorbed = usagePostings('t1', 'sim', { chargedMicros: 0, upstreamMicros: 40 });
  assert.equal(sum(absorbed), 0);
  assert.deepEqual(
    absorbed.map((p) => p.amount),
    [-40, 40],
  );
  assert.deepEqual(usagePostings('t1', null, { chargedMicros: 0, upstreamMicros: 0 }), []);
  for (const [kind, amount] of [
    ['grant', 5_000],
    ['adjustment', -700],
    ['adjustment', 700],
    ['refund', 30],
  ] as const) {
    const ps = creditPostings('t1', kind, amount);
    assert.equal(ps.length, 2);
    assert.equal(sum(ps), 0);
  }
  assert.throws(() => creditPostings('t1', 'grant', -1));
  assert.throws(() => creditPostings('t1', 'refund', 0));
  // credits 5000 - usage (130 - 30 refund) = 4900
  assert.deepEqual(tenantFigures(-5_000, 100), {
    creditsMicros: 5_000,
    usageMicros: 100,
    balanceMicros: 4_900,
  });
});

test('ledger: billing books the event, but never charges errors or empty completions', () => {
  const e = (status: 'success' | 'error' | 'cancelled', completion: number) => ({
    status,
    tokens: { ...zeroTokens(), prompt: 10, completion },
    cost: { currency: 'USD' as const, upstreamMicros: 8, chargedMicros: 9 },
  });
  const none = { failedAttempts: [] };
  assert.deepEqual(billableOf(e('success', 5)), { chargedMicros: 9, upstreamMicros: 8, ...none });
  assert.deepEqual(billableOf(e('cancelled', 2)), { chargedMicros: 9, upstreamMicros: 8, ...none });
  assert.deepEqual(billableOf(e('error', 5)), { chargedMicros: 0, upstreamMicros: 8, ...none });
  assert.deepEqual(billableOf(e('success', 0)), { chargedMicros: 0, upstreamMicros: 8, ...none });
});

test('ledger: failed attempts cost us, not the tenant: provider cost against the expense account', () => {
  const attempts = [
    { provider: 'b', served: false, upstreamMicros: 7 },
    { provider: 'a', served: false, upstreamMicros: 5 },
    { provider: 'a', served: false, upstreamMicros: 0 },
    { provider: 'b', served: false, upstreamMicros: 3 },
    { provider: 'c', served: true, upstreamMicros: 8 },
    // An event from before per-attempt costs: nothing to book.
    { provider: 'd' },
  ];
  const b = billableOf({
    status: 'success',
    tokens: { ...zeroTokens(), prompt: 10, completion: 5 },
    cost: { currency: 'USD', upstreamMicros: 8, chargedMicros: 9 },
    attempts,
  });
  assert.deepEqual(b, {
    chargedMicros: 9,
    upstreamMicros: 8,
    failedAttempts: [
      { provider: 'a', micros: 5 },
      { provider: 'b', micros: 10 },
    ],
  });
  const ps = usagePostings('t1', 'c', b);
  assert.equal(sum(ps), 0);
  assert.deepEqual(
    ps.map((p) => [p.account, p.kind, p.amount]),
    [
      [accounts.tenantUsage('t1'), 'usage_charge', 9],
      [accounts.providerCost('c'), 'provider_cost', -8],
      [accounts.markup, 'markup_revenue', -1],
      [accounts.failedAttempts, 'attempt_cost', 5],
      [accounts.providerCost('a'), 'attempt_cost', -5],
      [accounts.failedAttempts, 'attempt_cost', 10],
      [accounts.providerCost('b'), 'attempt_cost', -10],
    ],
  );
  // An errored generation: the tenant pays nothing, the failed attempt is still our cost.
  const err = billableOf({
    status: 'error',
    tokens: zeroTokens(),
    cost: { currency: 'USD', upstreamMicros: 0, chargedMicros: 0 },
    attempts: [{ provider: 'a', served: false, upstreamMicros: 4 }],
  });
  assert.deepEqual(
    usagePostings('t1', null, err).map((p) => [p.account, p.amount]),
    [
      [accounts.failedAttempts, 4],
      [accounts.providerCost('a'), -4],
    ],
  );
});

test('attemptCostMicros: an attempt that consumed nothing costs nothing, not even per request', () => {
  const p = { ...price, perRequest: 5 };
  assert.equal(attemptCostMicros(zeroTokens(), p), 0);
  assert.equal(attemptCostMicros({ ...zeroTokens(), prompt: 1_000 }, p), 150 + 5);
});

test('priceParts: one part is priceGeneration; a resumed answer pays each producer for what it delivered', () => {
  const tokens = { ...zeroTokens(), prompt: 1_000, completion: 200 };
  const p = { ...price, perRequest: 7 };
  const markup = { percentBps: 1_000, fixedMicros: 50 };
  for (const chargeable of [true, false]) {
    const one = priceParts([{ tokens, price: p, markup, first: true }], chargeable);
    const direct = priceGeneration(tokens, p, markup, chargeable);
    assert.deepEqual(
      { upstreamMicros: one.upstreamMicros, chargedMicros: one.chargedMicros },
      direct,
    );
  }
  // Cut after 40 tokens at $0.60/M, resumed elsewhere at $4/M (another model, 25 % markup): the
  // first part pays the prompt, the per-request price and the fixed fee; the continuation only
  // its delivered completion, at its own price and markup percentage.
  const dear = { ...price, promptPerM: 1_000_000, completionPerM: 4_000_000, perRequest: 9 };
  const r = priceParts(
    [
      { tokens: { ...zeroTokens(), prompt: 1_000, completion: 40 }, price: p, markup, first: true },
      {
        tokens: { ...zeroTokens(), completion: 160 },
        price: dear,
        markup: { percentBps: 2_500, fixedMicros: 50 },
        first: false,
      },
    ],
    true,
  );
  // 1000 x 0.15 + 40 x 0.6 = 174 (+7 per request) = 181; +10 % = 200 (rounded up), +50 fixed.
  // 160 x 4 = 640, no per-request price; +25 % = 800, no fixed fee.
  assert.deepEqual(r.parts, [
    { upstreamMicros: 181, chargedMicros: 250 },
    { upstreamMicros: 640, chargedMicros: 800 },
  ]);
  assert.equal(r.upstreamMicros, 821);
  assert.equal(r.chargedMicros, 1_050);
  assert.equal(
    priceParts(
      r.parts.map(() => ({ tokens, price: p, markup, first: false })),
      false,
    ).chargedMicros,
    0,
  );
});

test('ledger: a resumed answer books each producer its billed part, the rest is our expense', () => {
  // Attempt 1 (a) failed before output; 2 (b) was cut after delivering some output; 3 (c)
  // continued it: its prompt (with the prefill) is ours, its delivered completion billed.
  const attempts = [
    { provider: 'a', served: false, role: 'primary', upstreamMicros: 0, billedUpstreamMicros: 0 },
    { provider: 'b', served: true, role: 'fallback', upstreamMicros: 30, billedUpstreamMicros: 25 },
    {
      provider: 'c',
      served: true,
      role: 'continuation',
      upstreamMicros: 90,
      billedUpstreamMicros: 60,
    },
  ];
  const b = billableOf({
    status: 'success',
    tokens: { ...zeroTokens(), prompt: 10, completion: 5 },
    cost: { currency: 'USD', upstreamMicros: 85, chargedMicros: 100 },
    attempts,
  });
  assert.deepEqual(b, {
    chargedMicros: 100,
    upstreamMicros: 85,
    providerCosts: [
      { provider: 'b', micros: 25 },
      { provider: 'c', micros: 60 },
    ],
    failedAttempts: [
      { provider: 'b', micros: 5 },
      { provider: 'c', micros: 30 },
    ],
  });
  const ps = usagePostings('t1', 'c', b);
  assert.equal(sum(ps), 0);
  assert.deepEqual(
    ps.map((p) => [p.account, p.kind, p.amount]),
    [
      [accounts.tenantUsage('t1'), 'usage_charge', 100],
      [accounts.providerCost('b'), 'provider_cost', -25],
      [accounts.providerCost('c'), 'provider_cost', -60],
      [accounts.markup, 'markup_revenue', -15],
      [accounts.failedAttempts, 'attempt_cost', 5],
      [accounts.providerCost('b'), 'attempt_cost', -5],
      [accounts.failedAttempts, 'attempt_cost', 30],
      [accounts.providerCost('c'), 'attempt_cost', -30],
    ],
  );
  // The same generation failing in the end (an in-band error): nothing billed, all of it ours.
  const failed = billableOf({
    status: 'error',
    tokens: zeroTokens(),
    cost: { currency: 'USD', upstreamMicros: 0, chargedMicros: 0 },
    attempts: attempts.map((a) => ({ ...a, billedUpstreamMicros: 0 })),
  });
  const fp = usagePostings('t1', null, failed);
  assert.equal(sum(fp), 0);
  assert.deepEqual(
    fp.filter((p) => p.account === accounts.failedAttempts).map((p) => p.amount),
    [30, 90],
  );
  // A plain generation books exactly as before the roles existed.
  const plain = { status: 'success' as const, tokens: { ...zeroTokens(), completion: 3 } };
  const cost = { currency: 'USD' as const, upstreamMicros: 8, chargedMicros: 9 };
  const legacy = usagePostings(
    't1',
    'c',
    billableOf({ ...plain, cost, attempts: [{ provider: 'c', served: true, upstreamMicros: 8 }] }),
  );
  const roles = usagePostings(
    't1',
    'c',
    billableOf({
      ...plain,
      cost,
      attempts: [
        {
          provider: 'c',
          served: true,
          role: 'primary',
          upstreamMicros: 8,
          billedUpstreamMicros: 8,
        },
      ],
    }),
  );
  assert.deepEqual(roles, legacy);
});
