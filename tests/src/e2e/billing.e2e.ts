/**
 * Billing on the running platform: prices with markup, the double-entry ledger, credits and
 * key limits, 402 before any upstream call, the overspend bound across both gateway replicas,
 * `/v1/generation`, `/v1/activity`, duplicate usage events, a `kill -9` of billing under load,
 * and a replay of the topics into an empty ledger.
 */
import assert from 'node:assert/strict';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import kafkajs from 'kafkajs';
import pg from 'pg';
import { TOPICS, type UsageEventV1 } from '@turnpike/contracts';
import {
  loadOpenAISpecValidators,
  readState,
  restartService,
  stopPid,
  usageEventFixture,
  type OpenAISpecValidators,
} from '@turnpike/testing';
import { ctx, eventually, marker, simRequests } from '../support/context.js';

let db: pg.Client;
let spec: OpenAISpecValidators;
const stateDir = () => path.dirname(process.env['TURNPIKE_TEST_CONTEXT']!);

before(async () => {
  db = new pg.Client({ connectionString: ctx().databaseUrl });
  await db.connect();
  spec = loadOpenAISpecValidators();
});
after(async () => {
  await db.end();
});

// ---------------------------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------------------------

type Json = Record<string, unknown>;
interface Res {
  status: number;
  body: Json;
  text: string;
  headers: Headers;
}

async function call(
  url: string,
  method: string,
  p: string,
  auth: string,
  body?: unknown,
  headers: Record<string, string> = {},
): Promise<Res> {
  const res = await fetch(`${url}${p}`, {
    method,
    headers: {
      authorization: `Bearer ${auth}`,
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      ...headers,
    },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const text = await res.text();
  let json: Json = {};
  try {
    json = JSON.parse(text) as Json;
  } catch {
    /* CSV and the like */
  }
  return { status: res.status, body: json, text, headers: res.headers };
}

const admin = (
  method: string,
  p: string,
  body?: unknown,
  headers?: Record<string, string>,
  url = ctx().gatewayUrl,
) => call(url, method, p, ctx().adminToken, body, headers);

interface Tenant {
  tenantId: string;
  keyId: string;
  key: string;
}

/** A fresh tenant with one key and `micros` of credit, visible to both gateway replicas. */
async function newTenant(label: string, micros = 0): Promise<Tenant> {
  const id = `bill-${label}-${Math.random().toString(36).slice(2, 8)}`;
  assert.equal((await admin('POST', '/admin/tenants', { id, name: label })).status, 201);
  const k = await admin('POST', `/admin/tenants/${id}/keys`, { name: `${label}-key` });
  assert.equal(k.status, 201);
  if (micros > 0) {
    const g = await admin(
      'POST',
      `/admin/tenants/${id}/credits`,
      { amount_micros: micros, note: 'test' },
      { 'idempotency-key': `grant-${id}` },
    );
    assert.equal(g.status, 200, g.text);
    await visibleBalance(id, micros);
  }
  return { tenantId: id, keyId: k.body['id'] as string, key: k.body['key'] as string };
}

/** Waits until every gateway replica sees the tenant's balance at `micros`. */
async function visibleBalance(tenantId: string, micros: number): Promise<void> {
  for (const url of ctx().gatewayUrls) {
    await eventually(async () => {
      const r = await admin('GET', `/admin/tenants/${tenantId}/credits`, undefined, undefined, url);
      return (r.body['gateway_view'] as Json | undefined)?.['balance_micros'] === micros;
    }, `${url} to see ${tenantId}'s balance of ${micros}`);
  }
}

async function setMarkup(rule: {
  tenant_id?: string | null;
  model?: string | null;
  percent_bps: number;
  fixed_fee_micros?: number;
}): Promise<void> {
  const r = await admin('PUT', '/admin/markups', rule);
  assert.equal(r.status, 200, r.text);
  for (const url of ctx().gatewayUrls) {
    await eventually(async () => {
      const list = await admin('GET', '/admin/markups', undefined, undefined, url);
      return (list.body['data'] as Json[]).some(
        (x) =>
          x['tenant_id'] === (rule.tenant_id ?? null) &&
          x['model'] === (rule.model ?? null) &&
          x['percent_bps'] === rule.percent_bps,
      );
    }, `${url} to price with the markup rule`);
  }
}

async function deleteMarkup(q: { tenant_id?: string; model?: string }): Promise<void> {
  const qs = new URLSearchParams(q as Record<string, string>).toString();
  assert.equal((await admin('DELETE', `/admin/markups?${qs}`)).status, 200);
  for (const url of ctx().gatewayUrls) {
    await eventually(async () => {
      const list = await admin('GET', '/admin/markups', undefined, undefined, url);
      return !(list.body['data'] as Json[]).some(
        (x) => x['tenant_id'] === (q.tenant_id ?? null) && x['model'] === (q.model ?? null),
      );
    }, `${url} to drop the markup rule`);
  }
}

const chat = (t: Tenant, body: Json, url = ctx().gatewayUrl) =>
  call(url, 'POST', '/v1/chat/completions', t.key, body);

/** The prices of the test catalog, in micro-units per million tokens. */
const PRICES = {
  'turnpike/sim-small': { prompt: 150_000, completion: 600_000 },
  'turnpike/sim-large': { prompt: 2_500_000, completion: 10_000_000 },
} as const;

function upstreamOf(model: keyof typeof PRICES, prompt: number, completion: number): number {
  const p = PRICES[model];
  return Math.ceil((prompt * p.prompt + completion * p.completion) / 1_000_000);
}

const withMarkup = (upstream: number, bps: number, fixed: number) =>
  upstream + Math.ceil((upstream * bps) / 10_000) + fixed;

async function ledgerRow(
  generationId: string,
): Promise<{ charged: number; upstream: number; status: string } | undefined> {
  const r = await db.query<{ charged_micros: string; upstream_micros: string; status: string }>(
    'SELECT charged_micros, upstream_micros, status FROM billing.usage_events WHERE generation_id = $1',
    [generationId],
  );
  const row = r.rows[0];
  return row
    ? {
        charged: Number(row.charged_micros),
        upstream: Number(row.upstream_micros),
        status: row.status,
      }
    : undefined;
}

async function entriesOf(generationId: string): Promise<Record<string, number>> {
  const r = await db.query<{ kind: string; amount: string }>(
    `SELECT e.kind, e.amount FROM billing.entries e JOIN billing.transactions t ON t.id = e.txn_id WHERE t.ref = $1`,
    [`usage:${generationId}`],
  );
  return Object.fromEntries(r.rows.map((x) => [x.kind, Number(x.amount)]));
}

async function tenantUsage(tenantId: string): Promise<number> {
  const r = await db.query<{ balance: string }>(
    `SELECT balance FROM billing.balances WHERE account = $1`,
    [`tenant:${tenantId}:usage`],
  );
  return Number(r.rows[0]?.balance ?? 0);
}

async function usageEventCount(tenantId: string): Promise<number> {
  const r = await db.query<{ n: number }>(
    'SELECT count(*)::int AS n FROM billing.usage_events WHERE tenant_id = $1',
    [tenantId],
  );
  return r.rows[0]!.n;
}

async function verifyLedger(): Promise<void> {
  const v = await admin('GET', '/admin/billing/verify');
  assert.equal(v.status, 200, v.text);
  assert.equal(v.body['unbalancedTransactions'], 0);
  assert.equal(v.body['balanceMismatches'], 0);
  assert.equal(v.body['keyUsageMismatches'], 0);
  assert.ok((v.body['transactions'] as number) > 0);
}

function syntheticEvent(
  tenantId: string,
  i: number,
  charged: number,
  upstream: number,
): UsageEventV1 {
  return usageEventFixture(tenantId, charged, {
    generationId: `gen-${Math.floor(Date.now() / 1000)}-syn${tenantId.slice(-6)}${String(i).padStart(7, '0')}`,
    cost: { currency: 'USD', upstreamMicros: upstream, chargedMicros: charged },
  });
}

async function withProducer<T>(fn: (p: kafkajs.Producer) => Promise<T>): Promise<T> {
  const kafka = new kafkajs.Kafka({
    clientId: 'billing-test',
    brokers: [ctx().kafkaBrokers],
    logLevel: kafkajs.logLevel.NOTHING,
  });
  const producer = kafka.producer();
  await producer.connect();
  try {
    return await fn(producer);
  } finally {
    await producer.disconnect();
  }
}

// ---------------------------------------------------------------------------------------------

describe('billing', () => {
  let rich: Tenant;
  let other: Tenant;

  before(async () => {
    rich = await newTenant('rich', 10_000_000); // $10
    other = await newTenant('other', 10_000_000);
  });

  test('usage.cost is the charged price: upstream plus tenant, model, tenant+model and global markups', async () => {
    const m = marker('markup');
    const ask = async (t: Tenant, model: keyof typeof PRICES, stream = false) => {
      const r = await chat(t, {
        model,
        messages: [{ role: 'user', content: `${m} [[sim tokens=12]]` }],
        ...(stream ? { stream: true, stream_options: { include_usage: true } } : {}),
      });
      assert.equal(r.status, 200, r.text);
      if (!stream) return { id: r.body['id'] as string, usage: r.body['usage'] as Json };
      const chunks = r.text
        .split('\n')
        .filter((l) => l.startsWith('data: {'))
        .map((l) => JSON.parse(l.slice(6)) as Json);
      const last = chunks.findLast((c) => c['usage']);
      return { id: chunks[0]!['id'] as string, usage: last!['usage'] as Json };
    };
    const expectCost = (usage: Json, model: keyof typeof PRICES, bps: number, fixed: number) => {
      const upstream = upstreamOf(
        model,
        usage['prompt_tokens'] as number,
        usage['completion_tokens'] as number,
      );
      const charged = withMarkup(upstream, bps, fixed);
      assert.equal(
        Math.round((usage['cost'] as number) * 1e6),
        charged,
        `${model} +${bps}bps +${fixed}`,
      );
      assert.equal(
        Math.round(((usage['cost_details'] as Json)['upstream_inference_cost'] as number) * 1e6),
        upstream,
      );
      return { upstream, charged };
    };

    await setMarkup({ tenant_id: rich.tenantId, percent_bps: 1_000, fixed_fee_micros: 100 }); // 10% + $0.0001
    await setMarkup({ tenant_id: rich.tenantId, model: 'turnpike/sim-large', percent_bps: 2_500 }); // 25% on large
    await setMarkup({ model: 'turnpike/sim-large', percent_bps: 2_000 }); // 20% on large for everyone else
    await setMarkup({ percent_bps: 500 }); // 5% global default
    try {
      const a = await ask(rich, 'turnpike/sim-small');
      const ca = expectCost(a.usage, 'turnpike/sim-small', 1_000, 100);
      const s = await ask(rich, 'turnpike/sim-small', true);
      expectCost(s.usage, 'turnpike/sim-small', 1_000, 100);
      const b = await ask(rich, 'turnpike/sim-large');
      expectCost(b.usage, 'turnpike/sim-large', 2_500, 0);
      const c = await ask(other, 'turnpike/sim-large');
      expectCost(c.usage, 'turnpike/sim-large', 2_000, 0);
      const d = await ask(other, 'turnpike/sim-small');
      expectCost(d.usage, 'turnpike/sim-small', 500, 0);

      // The ledger books exactly that: the tenant's usage, the provider's cost, our markup.
      await eventually(() => ledgerRow(a.id), 'the charge to land');
      assert.deepEqual(await entriesOf(a.id), {
        usage_charge: ca.charged,
        provider_cost: -ca.upstream,
        markup_revenue: -(ca.charged - ca.upstream),
      });
    } finally {
      await deleteMarkup({});
      await deleteMarkup({ model: 'turnpike/sim-large' });
    }
  });

  test('402 before any upstream call: no credit, or a worst case the balance cannot cover', async () => {
    const broke = await newTenant('broke');
    const m = marker('no-credit');
    const r = await chat(broke, {
      model: 'turnpike/sim-small',
      messages: [{ role: 'user', content: `${m} hello` }],
    });
    assert.equal(r.status, 402, r.text);
    assert.deepEqual(spec.errorResponse(r.body), []);
    const err = r.body['error'] as Json;
    assert.equal(err['code'], 'insufficient_quota');
    assert.equal(err['type'], 'insufficient_quota');
    const streamed = await chat(broke, {
      model: 'turnpike/sim-small',
      stream: true,
      messages: [{ role: 'user', content: `${m} again` }],
    });
    assert.equal(streamed.status, 402);

    // $0.002: sim-large's default max output (16384 tokens at $10/M) is far beyond it, 10 tokens are not.
    const poor = await newTenant('poor', 2_000);
    const big = await chat(poor, {
      model: 'turnpike/sim-large',
      messages: [{ role: 'user', content: `${m} big` }],
    });
    assert.equal(big.status, 402, big.text);
    assert.match((big.body['error'] as Json)['message'] as string, /lower max_tokens/);
    const small = await chat(poor, {
      model: 'turnpike/sim-large',
      max_tokens: 10,
      messages: [{ role: 'user', content: `${m} small [[sim tokens=10]]` }],
    });
    assert.equal(small.status, 200, small.text);

    await new Promise((r) => setTimeout(r, 500));
    const seen = (await Promise.all(ctx().simulators.map((_, i) => simRequests(m, i)))).flat();
    assert.equal(seen.length, 1, 'only the affordable request reached an upstream');
    assert.match(JSON.stringify(seen[0]!.body), /small/);
  });

  test('/v1/credits, /v1/key and a per-key daily limit (402 past it)', async () => {
    const t = await newTenant('keyed', 5_000_000);
    const r = await chat(t, {
      model: 'turnpike/sim-small',
      messages: [{ role: 'user', content: `${marker('key')} [[sim tokens=20]]` }],
    });
    assert.equal(r.status, 200);
    const cost = Math.round(((r.body['usage'] as Json)['cost'] as number) * 1e6);
    await eventually(async () => (await tenantUsage(t.tenantId)) === cost, 'the charge to land');

    const credits = await call(ctx().gatewayUrl, 'GET', '/v1/credits', t.key);
    assert.equal(credits.status, 200);
    assert.deepEqual(credits.body, { data: { total_credits: 5, total_usage: cost / 1e6 } });

    const key = await call(ctx().gatewayUrl, 'GET', '/v1/key', t.key);
    assert.equal(key.status, 200);
    const k = key.body['data'] as Json;
    assert.equal(k['label'], 'keyed-key');
    assert.equal(k['limit'], null);
    assert.equal(k['limit_remaining'], null);
    for (const f of ['usage', 'usage_daily', 'usage_weekly', 'usage_monthly'])
      assert.equal(k[f], cost / 1e6, f);

    // A daily limit of $0.001: a request that may cost more is refused; a small one passes.
    const set = await admin('PUT', `/admin/tenants/${t.tenantId}/keys/${t.keyId}/limit`, {
      limit: '0.001',
      limit_reset: 'daily',
    });
    assert.equal(set.status, 200, set.text);
    assert.equal((set.body['data'] as Json)['limit_remaining'], (1_000 - cost) / 1e6);
    for (const url of ctx().gatewayUrls) {
      await eventually(
        async () =>
          (
            await chat(
              t,
              { model: 'turnpike/sim-small', messages: [{ role: 'user', content: 'x' }] },
              url,
            )
          ).status === 402,
        `${url} to apply the key limit`,
      );
    }
    const refused = await chat(t, {
      model: 'turnpike/sim-small',
      messages: [{ role: 'user', content: 'x' }],
    });
    assert.equal((refused.body['error'] as Json)['code'], 'key_limit_exceeded');
    const ok = await chat(t, {
      model: 'turnpike/sim-small',
      max_tokens: 5,
      messages: [{ role: 'user', content: 'x [[sim tokens=5]]' }],
    });
    assert.equal(ok.status, 200, ok.text);
    const after = (await call(ctx().gatewayUrl, 'GET', '/v1/key', t.key)).body['data'] as Json;
    assert.equal(after['limit'], 0.001);
    assert.equal(after['limit_reset'], 'daily');

    // Credits are idempotent on the key: a retry is one grant; the same key for another amount is a 409.
    const grant = () =>
      admin(
        'POST',
        `/admin/tenants/${t.tenantId}/credits`,
        { amount: '1.5' },
        { 'idempotency-key': 'topup-1' },
      );
    const [g1, g2] = await Promise.all([grant(), grant()]);
    assert.equal(g1.status, 200, g1.text);
    assert.equal(g2.status, 200, g2.text);
    assert.equal(g1.body['id'], g2.body['id']);
    const conflict = await admin(
      'POST',
      `/admin/tenants/${t.tenantId}/credits`,
      { amount: '2' },
      { 'idempotency-key': 'topup-1' },
    );
    assert.equal(conflict.status, 409);
    assert.equal(
      (await admin('POST', `/admin/tenants/${t.tenantId}/credits`, { amount: '2' })).status,
      400,
      'no idempotency key',
    );
    const adj = await admin(
      'POST',
      `/admin/tenants/${t.tenantId}/credits`,
      { kind: 'adjustment', amount: '-0.5' },
      { 'idempotency-key': 'adj-1' },
    );
    assert.equal(adj.status, 200, adj.text);
    const c2 = await call(ctx().gatewayUrl, 'GET', '/v1/credits', t.key);
    assert.equal((c2.body['data'] as Json)['total_credits'], 6);
  });

  test('errors and empty completions are not charged; a cancelled stream pays for what was produced', async () => {
    const t = await newTenant('free', 1_000_000);
    const failed = await chat(t, {
      model: 'turnpike/sim-small',
      messages: [{ role: 'user', content: `${marker('err')} [[sim status=500]]` }],
    });
    assert.ok(failed.status >= 500, failed.text);
    const empty = await chat(t, {
      model: 'turnpike/sim-small',
      messages: [{ role: 'user', content: `${marker('empty')} [[sim tokens=0]]` }],
    });
    assert.equal(empty.status, 200, empty.text);
    const emptyId = empty.body['id'] as string;
    assert.equal((empty.body['usage'] as Json)['cost'], 0);

    const controller = new AbortController();
    const res = await fetch(`${ctx().gatewayUrl}/v1/chat/completions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${t.key}`, 'content-type': 'application/json' },
      body: JSON.stringify({
        model: 'turnpike/sim-small',
        stream: true,
        messages: [{ role: 'user', content: `${marker('abort')} [[sim tokens=200 tps=20]]` }],
      }),
      signal: controller.signal,
    });
    const cancelledId = res.headers.get('x-generation-id')!;
    const reader = res.body!.getReader();
    let chunks = 0;
    while (chunks < 3) {
      const { value } = await reader.read();
      chunks += (new TextDecoder().decode(value).match(/"content":"[^"]/g) ?? []).length;
    }
    controller.abort();

    await eventually(
      async () => (await usageEventCount(t.tenantId)) === 3,
      'three usage events',
      15_000,
    );
    const rows = await db.query<{
      generation_id: string;
      status: string;
      charged_micros: string;
      upstream_micros: string;
    }>(
      'SELECT generation_id, status, charged_micros, upstream_micros FROM billing.usage_events WHERE tenant_id = $1',
      [t.tenantId],
    );
    const byStatus = Object.fromEntries(
      rows.rows.map((r) => [r.generation_id === emptyId ? 'empty' : r.status, r]),
    );
    assert.equal(Number(byStatus['error']!.charged_micros), 0);
    assert.equal(Number(byStatus['empty']!.charged_micros), 0);
    assert.equal(byStatus['cancelled']!.generation_id, cancelledId);
    const cancelledCharge = Number(byStatus['cancelled']!.charged_micros);
    assert.ok(cancelledCharge > 0, 'the aborted stream is charged');
    assert.equal(
      await tenantUsage(t.tenantId),
      cancelledCharge,
      'only the aborted stream was charged',
    );
  });

  test('200 concurrent requests across both gateway replicas: overspend within the stated bound', async (t) => {
    const replicas = ctx().gatewayUrls.length;
    assert.equal(replicas, 2);
    // Every request has the same worst case W: same prompt length, max_tokens 100 on sim-large.
    const m = marker('conc');
    const body = (i: number): Json => ({
      model: 'turnpike/sim-large',
      max_tokens: 100,
      // 100 tokens at 100 tokens/s: all 200 are in flight at once.
      messages: [
        { role: 'user', content: `${m} ${String(i).padStart(3, '0')} [[sim tokens=100 tps=100]]` },
      ],
    });
    const probe = await chat(await newTenant('probe'), body(0));
    assert.equal(probe.status, 402);
    const W = ((probe.body['error'] as Json)['metadata'] as Json)[
      'worst_case_cost_micros'
    ] as number;
    assert.ok(W > 1_000, `W = ${W}`);

    const measure = async (label: string, balance: number) => {
      const tenant = await newTenant(label, balance);
      const results = await Promise.all(
        Array.from({ length: 200 }, (_, i) =>
          chat(tenant, body(i), ctx().gatewayUrls[i % replicas]),
        ),
      );
      const ok = results.filter((r) => r.status === 200);
      const refused = results.filter((r) => r.status === 402);
      assert.equal(ok.length + refused.length, 200, results.map((r) => r.status).join(','));
      await eventually(
        async () => (await usageEventCount(tenant.tenantId)) === ok.length,
        'every charge to land',
        30_000,
      );
      const spent = await tenantUsage(tenant.tenantId);
      const charged = ok.reduce(
        (a, r) => a + Math.round(((r.body['usage'] as Json)['cost'] as number) * 1e6),
        0,
      );
      assert.equal(spent, charged, 'the ledger charged what the responses said');
      // Stated bound: overspend <= (R - 1) * max(floor(B / R), W) in general, and
      // <= (R - 1) * W for a burst during which no charge lands (as here: every admitted
      // generation runs for about a second, all 200 requests are decided before).
      const bound = (replicas - 1) * Math.max(Math.floor(balance / replicas), W);
      const burstBound = (replicas - 1) * W;
      const overspend = Math.max(0, spent - balance);
      const perReplica = ctx().gatewayUrls.map(
        (_, g) => results.filter((r, i) => i % replicas === g && r.status === 200).length,
      );
      t.diagnostic(
        `${label}: balance ${balance}, W ${W}, admitted ${ok.length} (${perReplica.join('+')}), spent ${spent}, ` +
          `overspend ${overspend} micro-units (bound ${bound}, burst bound ${burstBound})`,
      );
      assert.ok(overspend <= bound, `overspend ${overspend} > bound ${bound}`);
      assert.ok(overspend <= burstBound, `overspend ${overspend} > burst bound ${burstBound}`);
      return { ok: ok.length, perReplica, spent, overspend, bound };
    };

    // B = 1.5 W: each replica's share (0.75 W) covers nothing, but each idle replica admits one
    // request: 2 W spent, an overspend of about 0.5 W, within the bound of W.
    const tight = await measure('tight', Math.floor(1.5 * W));
    assert.deepEqual(tight.perReplica, [1, 1]);
    // B = 10 W: each replica may hold 5 W.
    const roomy = await measure('roomy', 10 * W);
    assert.deepEqual(roomy.perReplica, [5, 5]);
    assert.equal(roomy.overspend, 0);
    const sims = await simRequests(m);
    assert.equal(sims.length, tight.ok + roomy.ok, 'refused requests never reached the upstream');
  });

  test('/v1/generation returns the stored record to its own tenant only', async () => {
    const r = await call(ctx().gatewayUrl, 'POST', '/v1/chat/completions', rich.key, {
      model: 'turnpike/sim-multi',
      messages: [{ role: 'user', content: `${marker('gen')} [[sim tokens=7 ttft_ms=20]]` }],
    });
    assert.equal(r.status, 200, r.text);
    const id = r.body['id'] as string;
    const usage = r.body['usage'] as Json;
    const g = await eventually(async () => {
      const x = await call(ctx().gatewayUrl, 'GET', `/v1/generation?id=${id}`, rich.key);
      return x.status === 200 ? (x.body['data'] as Json) : undefined;
    }, 'the generation record');
    assert.equal(g['id'], id);
    assert.equal(g['model'], 'turnpike/sim-multi');
    assert.equal(typeof g['provider_name'], 'string');
    assert.equal(g['tokens_prompt'], usage['prompt_tokens']);
    assert.equal(g['tokens_completion'], 7);
    assert.equal(g['native_tokens_completion'], 7);
    assert.equal(g['native_tokens_cached'], 0);
    assert.equal(g['total_cost'], usage['cost']);
    assert.equal(
      g['upstream_inference_cost'],
      (usage['cost_details'] as Json)['upstream_inference_cost'],
    );
    assert.equal(g['finish_reason'], 'stop');
    assert.equal(g['native_finish_reason'], 'stop');
    assert.equal(g['streamed'], false);
    assert.ok((g['ttft'] as number) >= 20);
    assert.ok((g['latency'] as number) >= (g['ttft'] as number));
    const attempts = g['provider_responses'] as Json[];
    assert.ok(attempts.length >= 1);
    assert.equal(attempts.at(-1)!['outcome'], 'success');

    for (const [who, key] of [
      ['another tenant', other.key],
      ['a tenant of the seeded fixtures', ctx().tenants[1]!.key],
    ] as const) {
      const x = await call(ctx().gatewayUrl, 'GET', `/v1/generation?id=${id}`, key);
      assert.equal(x.status, 404, who);
      assert.deepEqual(spec.errorResponse(x.body), []);
    }
    assert.equal(
      (await call(ctx().gatewayUrl, 'GET', '/v1/generation?id=gen-0-nothing-here', rich.key))
        .status,
      404,
    );
    assert.equal((await call(ctx().gatewayUrl, 'GET', '/v1/generation', rich.key)).status, 400);
  });

  test('/v1/activity lists usage per day, model and key; CSV export', async () => {
    const t = await newTenant('activity', 1_000_000);
    for (const model of ['turnpike/sim-small', 'turnpike/sim-small', 'turnpike/sim-large']) {
      const r = await chat(t, {
        model,
        messages: [{ role: 'user', content: `${marker('act')} [[sim tokens=3]]` }],
      });
      assert.equal(r.status, 200);
    }
    await eventually(async () => (await usageEventCount(t.tenantId)) === 3, 'the usage to land');
    // Answered by analytics from its day buckets: it may count the events a moment after billing.
    const a = await eventually(async () => {
      const r = await call(ctx().gatewayUrl, 'GET', '/v1/activity', t.key);
      assert.equal(r.status, 200, r.text);
      const n = (r.body['data'] as Json[]).reduce((x, row) => x + (row['requests'] as number), 0);
      return n === 3 && r;
    }, 'the activity of the three generations');
    const rows = a.body['data'] as Json[];
    assert.equal(rows.length, 2);
    const today = new Date().toISOString().slice(0, 10);
    const small = rows.find((r) => r['model'] === 'turnpike/sim-small')!;
    assert.equal(small['date'], today);
    assert.equal(small['requests'], 2);
    assert.equal(small['completion_tokens'], 6);
    assert.equal(small['key_id'], t.keyId);
    const total = rows.reduce((s, r) => s + Math.round((r['usage'] as number) * 1e6), 0);
    assert.equal(total, await tenantUsage(t.tenantId));

    const csv = await fetch(`${ctx().gatewayUrl}/v1/activity?format=csv`, {
      headers: { authorization: `Bearer ${t.key}` },
    });
    assert.equal(csv.status, 200);
    assert.match(csv.headers.get('content-type') ?? '', /^text\/csv/);
    const lines = (await csv.text()).trim().split('\r\n');
    assert.equal(
      lines[0],
      'date,model,provider,endpoint_id,key_id,requests,prompt_tokens,completion_tokens,reasoning_tokens,cached_tokens,usage,upstream_cost',
    );
    assert.equal(lines.length, 3);
    assert.match(
      lines.find((l) => l.includes('sim-large'))!,
      new RegExp(
        `^${today},turnpike/sim-large,sim,[^,]+,${t.keyId},1,\\d+,3,0,0,0\\.\\d{6},0\\.\\d{6}$`,
      ),
    );
    assert.deepEqual(
      (await call(ctx().gatewayUrl, 'GET', `/v1/activity?date=${today}&key_id=nope`, t.key)).body[
        'data'
      ],
      [],
    );
    assert.equal(
      (await call(ctx().gatewayUrl, 'GET', '/v1/activity?date=yesterday', t.key)).status,
      400,
    );
  });

  test('a duplicated usage event is charged once', async () => {
    const t = await newTenant('dup', 1_000_000);
    const r = await chat(t, {
      model: 'turnpike/sim-small',
      messages: [{ role: 'user', content: `${marker('dup')} [[sim tokens=9]]` }],
    });
    assert.equal(r.status, 200);
    const id = r.body['id'] as string;
    await eventually(() => ledgerRow(id), 'the charge to land');
    const before = await tenantUsage(t.tenantId);
    const stored = await db.query<{ event: UsageEventV1; kafka_partition: number }>(
      'SELECT event, kafka_partition FROM billing.usage_events WHERE generation_id = $1',
      [id],
    );
    const { event, kafka_partition: partition } = stored.rows[0]!;
    // The same record three times (as redeliveries would bring it), then a sentinel behind it.
    const sentinel = syntheticEvent(t.tenantId, 1, 1, 1);
    await withProducer(async (p) => {
      for (let i = 0; i < 3; i++)
        await p.send({
          topic: TOPICS.usageEvents,
          messages: [{ key: id, value: JSON.stringify(event), partition }],
        });
      await p.send({
        topic: TOPICS.usageEvents,
        messages: [{ key: sentinel.generationId, value: JSON.stringify(sentinel), partition }],
      });
    });
    await eventually(() => ledgerRow(sentinel.generationId), 'the sentinel behind the duplicates');
    const txns = await db.query<{ n: number }>(
      'SELECT count(*)::int AS n FROM billing.transactions WHERE generation_id = $1',
      [id],
    );
    assert.equal(txns.rows[0]!.n, 1);
    assert.equal(await tenantUsage(t.tenantId), before + 1, 'only the sentinel was added');
  });

  test('the ledger refuses unbalanced transactions and edits; balances equal the sum of entries', async () => {
    await verifyLedger();
    const c = new pg.Client({ connectionString: ctx().databaseUrl });
    await c.connect();
    try {
      await c.query('BEGIN');
      const txn = await c.query<{ id: string }>(
        `INSERT INTO billing.transactions (ref, kind, tenant_id, occurred_at, amount, source) VALUES ('test:unbalanced', 'adjustment', 'x', now(), 1, 'test') RETURNING id`,
      );
      await assert.rejects(
        c.query(
          `INSERT INTO billing.entries (txn_id, account, kind, amount) VALUES ($1, 'platform:funding', 'adjustment', 5), ($1, 'platform:funding', 'adjustment', -4)`,
          [txn.rows[0]!.id],
        ),
        /does not balance/,
      );
      await c.query('ROLLBACK');
      await assert.rejects(
        c.query(
          'UPDATE billing.entries SET amount = amount + 1 WHERE id = (SELECT min(id) FROM billing.entries)',
        ),
        /append-only/,
      );
      await assert.rejects(
        c.query(
          'DELETE FROM billing.transactions WHERE id = (SELECT min(id) FROM billing.transactions)',
        ),
        /append-only/,
      );
    } finally {
      await c.end();
    }
  });

  test('kill -9 of billing in the middle of a batch under load, then a restart: no duplicate, no missing charge', async (t) => {
    const tenantId = `bill-kill-${Math.random().toString(36).slice(2, 8)}`;
    const n = 20_000;
    const events = Array.from({ length: n }, (_, i) =>
      syntheticEvent(tenantId, i, 100 + (i % 7), 80 + (i % 5)),
    );
    const expected = events.reduce((s, e) => s + e.cost.chargedMicros, 0);
    const billing = readState(stateDir())!.services.find((s) => s.name === 'billing-1')!;
    let atKill = 0;
    const lock = new pg.Client({ connectionString: ctx().databaseUrl });
    await lock.connect();
    try {
      await withProducer(async (p) => {
        const send = (es: UsageEventV1[]) =>
          p.send({
            topic: TOPICS.usageEvents,
            messages: es.map((e) => ({ key: e.generationId, value: JSON.stringify(e) })),
          });
        const producing = (async () => {
          for (let i = 0; i < n; i += 500) await send(events.slice(i, i + 500));
          // Redeliveries of the first 1000, as a producer retry would bring them.
          for (let i = 0; i < 1_000; i += 500) await send(events.slice(i, i + 500));
        })();
        await eventually(
          async () => (await usageEventCount(tenantId)) >= 2_000,
          'the ledger to be busy',
          60_000,
        );
        // Hold billing inside its next database transaction: its rows for the batch are written
        // but not committed when it is killed.
        await lock.query('BEGIN');
        await lock.query('LOCK TABLE billing.balances IN SHARE ROW EXCLUSIVE MODE');
        const blocked = await eventually(
          async () => {
            const r = await db.query<{ query: string }>(
              `SELECT query FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND xact_start IS NOT NULL AND query LIKE '%balances%'`,
            );
            return r.rows[0];
          },
          'billing to be blocked inside a batch',
          30_000,
        );
        assert.match(blocked.query, /INSERT INTO "billing"\.balances/);
        atKill = await usageEventCount(tenantId);
        process.kill(billing.pid, 'SIGKILL');
        await lock.query('ROLLBACK');
        await producing;
      });
    } finally {
      await lock.end();
    }
    assert.ok(atKill < n, `killed mid-stream (${atKill} of ${n} booked)`);
    const restarted = await restartService(stateDir(), 'billing-1');
    t.diagnostic(
      `billing killed inside a booking transaction after ${atKill} of ${n} events were booked; restarted as pid ${restarted.pid}`,
    );
    await eventually(
      async () => (await usageEventCount(tenantId)) === n,
      'every event booked after the restart',
      180_000,
    );
    const sums = await db.query<{
      n: number;
      charged: string;
      txns: number;
      distinct_refs: number;
    }>(
      `SELECT (SELECT count(*)::int FROM billing.usage_events WHERE tenant_id = $1) AS n,
              (SELECT sum(charged_micros) FROM billing.usage_events WHERE tenant_id = $1) AS charged,
              (SELECT count(*)::int FROM billing.transactions WHERE tenant_id = $1) AS txns,
              (SELECT count(DISTINCT generation_id)::int FROM billing.transactions WHERE tenant_id = $1) AS distinct_refs`,
      [tenantId],
    );
    const s = sums.rows[0]!;
    assert.equal(s.n, n);
    assert.equal(Number(s.charged), expected);
    assert.equal(s.txns, n, 'one transaction per generation');
    assert.equal(s.distinct_refs, n);
    assert.equal(await tenantUsage(tenantId), expected, 'the balance is the sum of the charges');
    const keyAll = await db.query<{ usage: string }>(
      `SELECT usage FROM billing.key_usage WHERE key_id = $1 AND period = 'all'`,
      [`${tenantId}-key`],
    );
    assert.equal(Number(keyAll.rows[0]!.usage), expected);
    await verifyLedger();
  });

  test('replaying the topics from offset 0 into an empty ledger reproduces every balance', async (t) => {
    const schema = `billing_replay_${Math.random().toString(36).slice(2, 8)}`;
    const replay = await restartService(stateDir(), 'billing-1', {
      as: 'billing-replay',
      env: { BILLING_MODE: 'replay', BILLING_SCHEMA: schema, BILLING_GROUP_ID: `${schema}-group` },
    });
    try {
      const counts = async (s: string) =>
        (
          await db.query<{ events: number; txns: number; parked: number }>(
            `SELECT (SELECT count(*)::int FROM ${s}.usage_events) AS events, (SELECT count(*)::int FROM ${s}.transactions) AS txns,
                    (SELECT count(*)::int FROM ${s}.parked_records) AS parked`,
          )
        ).rows[0]!;
      const primary = await counts('billing');
      await eventually(
        async () => {
          const r = await counts(schema).catch(() => undefined);
          return (
            r?.events === primary.events && r.txns === primary.txns && r.parked === primary.parked
          );
        },
        'the replay to catch up',
        180_000,
      );
      const diff = async (table: string, cols: string) =>
        (
          await db.query(
            `(SELECT ${cols} FROM billing.${table} EXCEPT SELECT ${cols} FROM ${schema}.${table})
             UNION ALL (SELECT ${cols} FROM ${schema}.${table} EXCEPT SELECT ${cols} FROM billing.${table})`,
          )
        ).rows;
      assert.deepEqual(
        await diff('balances', 'account, balance'),
        [],
        'every account balance, to the micro-unit',
      );
      assert.deepEqual(
        await diff('key_usage', 'key_id, period, period_start, usage'),
        [],
        'every key usage bucket',
      );
      assert.deepEqual(
        await diff('usage_events', 'generation_id, charged_micros, upstream_micros'),
        [],
        'every generation',
      );
      // Records the ledger refused (billing-parked.e2e puts one on the topic) are parked again.
      assert.deepEqual(
        await diff('parked_records', 'topic, kafka_partition, kafka_offset, ref, sqlstate, record'),
        [],
        'the same parked records',
      );
      const accounts = await db.query<{ n: number }>(
        `SELECT count(*)::int AS n FROM ${schema}.balances`,
      );
      t.diagnostic(
        `replayed ${primary.events} usage events and ${primary.txns} transactions: ${accounts.rows[0]!.n} balances equal, ${primary.parked} parked record(s) in both`,
      );
      const rebuilt = await db.query<{ n: number }>(
        `SELECT count(*)::int AS n FROM (SELECT account, sum(amount) AS total FROM ${schema}.entries GROUP BY account) e
           FULL JOIN ${schema}.balances b USING (account) WHERE e.total IS DISTINCT FROM b.balance`,
      );
      assert.equal(rebuilt.rows[0]!.n, 0, 'the replayed balances are the sums of their entries');
    } finally {
      await stopPid(replay.pid, 30_000);
      await db.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
    }
  });
});
