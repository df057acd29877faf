/**
 * What a generation costs when the upstream does not say, on the running platform:
 * - a silent upstream (no usage, unary and streamed) is billed on the project's tokenizer count,
 *   marked as estimated to the client, in `/v1/generation` and in the usage event;
 * - failed and superseded attempts record what they cost us, and the ledger books it as provider
 *   cost against the failed-attempts expense (the tenant pays nothing for them);
 * - streams the client abandons are billed for what was produced, however late the connector's
 *   final count arrives.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import pg from 'pg';
import type { UsageEventV1 } from '@turnpike/contracts';
import { countTokens, estimatePrompt } from '@turnpike/providers';
import { ctx, eventually, marker } from '../support/context.js';

type Json = Record<string, unknown>;

let db: pg.Client;
before(async () => {
  db = new pg.Client({ connectionString: ctx().databaseUrl });
  await db.connect();
});
after(async () => {
  await db.end();
});

const admin = async (method: string, p: string, body?: unknown, headers = {}, url?: string) => {
  const res = await fetch(`${url ?? ctx().gatewayUrl}${p}`, {
    method,
    headers: {
      authorization: `Bearer ${ctx().adminToken}`,
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      ...headers,
    },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const text = await res.text();
  return { status: res.status, text, body: (text ? JSON.parse(text) : {}) as Json };
};

interface Tenant {
  tenantId: string;
  key: string;
}

/** A fresh tenant with one key and `micros` of credit, visible to every gateway replica. */
async function newTenant(label: string, micros: number): Promise<Tenant> {
  const id = `settle-${label}-${Math.random().toString(36).slice(2, 8)}`;
  assert.equal((await admin('POST', '/admin/tenants', { id, name: label })).status, 201);
  const k = await admin('POST', `/admin/tenants/${id}/keys`, { name: `${label}-key` });
  assert.equal(k.status, 201, k.text);
  const g = await admin(
    'POST',
    `/admin/tenants/${id}/credits`,
    { amount_micros: micros, note: 'test' },
    { 'idempotency-key': `grant-${id}` },
  );
  assert.equal(g.status, 200, g.text);
  for (const url of ctx().gatewayUrls) {
    await eventually(async () => {
      const r = await admin('GET', `/admin/tenants/${id}/credits`, undefined, {}, url);
      return (r.body['gateway_view'] as Json | undefined)?.['balance_micros'] === micros;
    }, `${url} to see ${id}'s balance`);
  }
  return { tenantId: id, key: k.body['key'] as string };
}

async function chat(t: Tenant, body: Json, url = ctx().gatewayUrl) {
  const res = await fetch(`${url}/v1/chat/completions`, {
    method: 'POST',
    headers: { authorization: `Bearer ${t.key}`, 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  return { status: res.status, headers: res.headers, text: await res.text() };
}

/** The SSE data payloads of a streamed response (without `[DONE]`). */
const events = (text: string): Json[] =>
  text
    .split('\n\n')
    .map((b) => b.trim())
    .filter((b) => b.startsWith('data: ') && b !== 'data: [DONE]')
    .map((b) => JSON.parse(b.slice(6)) as Json);

const contentOf = (chunks: Json[]) =>
  chunks
    .map(
      (c) =>
        ((c['choices'] as Json[] | undefined)?.[0]?.['delta'] as Json | undefined)?.['content'],
    )
    .filter((x): x is string => typeof x === 'string')
    .join('');

async function usageEvent(generationId: string, timeoutMs = 20_000): Promise<UsageEventV1> {
  return eventually(
    async () => {
      const r = await db.query<{ event: UsageEventV1 }>(
        'SELECT event FROM billing.usage_events WHERE generation_id = $1',
        [generationId],
      );
      return r.rows[0]?.event;
    },
    `the usage event of ${generationId}`,
    timeoutMs,
  );
}

/** The ledger entries of a generation's transaction: [account, kind, amount]. */
async function entriesOf(generationId: string): Promise<Array<[string, string, number]>> {
  const r = await db.query<{ account: string; kind: string; amount: string }>(
    `SELECT e.account, e.kind, e.amount FROM billing.entries e JOIN billing.transactions t ON t.id = e.txn_id
      WHERE t.ref = $1 ORDER BY e.id`,
    [`usage:${generationId}`],
  );
  return r.rows.map((x) => [x.account, x.kind, Number(x.amount)]);
}

async function balance(account: string): Promise<number> {
  const r = await db.query<{ balance: string }>(
    'SELECT balance FROM billing.balances WHERE account = $1',
    [account],
  );
  return Number(r.rows[0]?.balance ?? 0);
}

async function verifyLedger(): Promise<void> {
  const v = await admin('GET', '/admin/billing/verify');
  assert.equal(v.status, 200, v.text);
  assert.equal(v.body['unbalancedTransactions'], 0);
  assert.equal(v.body['balanceMismatches'], 0);
  assert.equal(v.body['keyUsageMismatches'], 0);
}

/** Within 10 % (and 2 tokens) of the expected count. */
const close = (got: number, want: number, what: string) =>
  assert.ok(Math.abs(got - want) <= Math.max(2, want * 0.1), `${what}: ${got} vs ${want}`);

const SIM_LARGE = { prompt: 2_500_000, completion: 10_000_000 };

describe('settlement', () => {
  let t: Tenant;
  before(async () => {
    t = await newTenant('est', 20_000_000);
  });

  test('a silent upstream, unary: usage estimated with the tokenizer, marked, and billed', async () => {
    const messages = [
      {
        role: 'user',
        content: `${marker('silent')} tell me about the sea [[sim tokens=40 usage=none]]`,
      },
    ];
    const r = await chat(t, { model: 'turnpike/sim-large', messages });
    assert.equal(r.status, 200, r.text);
    const body = JSON.parse(r.text) as Json;
    const usage = body['usage'] as Json;
    const content = ((body['choices'] as Json[])[0]!['message'] as Json)['content'] as string;
    assert.equal(usage['estimated'], true, 'the client is told the counts are ours');
    const completion = usage['completion_tokens'] as number;
    const prompt = usage['prompt_tokens'] as number;
    assert.ok(completion > 0 && prompt > 0, JSON.stringify(usage));
    close(completion, countTokens(content), 'completion tokens against the text received');
    close(prompt, estimatePrompt({ messages }).tokens, 'prompt tokens');
    const cost = usage['cost'] as number;
    const upstream = Math.ceil(
      (prompt * SIM_LARGE.prompt + completion * SIM_LARGE.completion) / 1_000_000,
    );
    assert.ok(cost > 0);

    const id = r.headers.get('x-generation-id')!;
    const e = await usageEvent(id);
    assert.equal(e.usageReported, false);
    assert.deepEqual([e.tokens.prompt, e.tokens.completion], [prompt, completion]);
    assert.equal(e.cost.upstreamMicros, upstream);
    assert.equal(e.cost.chargedMicros, Math.round(cost * 1_000_000));
    assert.equal(e.attempts[0]?.served, true);
    assert.equal(e.attempts[0]?.usageReported, false);

    const g = await eventually(async () => {
      const res = await fetch(`${ctx().gatewayUrl}/v1/generation?id=${id}`, {
        headers: { authorization: `Bearer ${t.key}` },
      });
      return res.status === 200 ? ((await res.json()) as { data: Json }).data : null;
    }, '/v1/generation');
    assert.equal(g['usage_reported'], false);
    assert.equal(g['native_tokens_completion'], completion);
    assert.equal(g['total_cost_micros'], e.cost.chargedMicros);
    const entries = await entriesOf(id);
    assert.deepEqual(
      entries.find(([, kind]) => kind === 'usage_charge'),
      [`tenant:${t.tenantId}:usage`, 'usage_charge', e.cost.chargedMicros],
      'the ledger charged the estimate',
    );
  });

  test('a silent upstream, streamed: the usage chunk carries the estimate, billed', async () => {
    const messages = [
      { role: 'user', content: `${marker('silent-s')} a long story [[sim tokens=60 usage=none]]` },
    ];
    const r = await chat(t, {
      model: 'turnpike/sim-large',
      messages,
      stream: true,
      stream_options: { include_usage: true },
    });
    assert.equal(r.status, 200, r.text);
    const chunks = events(r.text);
    const last = chunks[chunks.length - 1]!;
    const usage = last['usage'] as Json;
    assert.equal(usage['estimated'], true);
    const completion = usage['completion_tokens'] as number;
    assert.ok(completion > 0);
    close(
      completion,
      countTokens(contentOf(chunks)),
      'completion tokens against the text streamed',
    );
    close(usage['prompt_tokens'] as number, estimatePrompt({ messages }).tokens, 'prompt tokens');
    const e = await usageEvent(r.headers.get('x-generation-id')!);
    assert.equal(e.usageReported, false);
    assert.equal(e.tokens.completion, completion);
    assert.ok(e.cost.chargedMicros > 0);
    assert.equal(e.cost.chargedMicros, Math.round((usage['cost'] as number) * 1_000_000));
    // A reporting upstream is not marked.
    const reported = await chat(t, {
      model: 'turnpike/sim-large',
      messages: [{ role: 'user', content: `${marker('loud')} [[sim tokens=5]]` }],
    });
    assert.equal((JSON.parse(reported.text) as { usage: Json }).usage['estimated'], undefined);
  });

  test('a stream cut after its first token: the failed attempt is our cost, not the tenant\u2019s', async () => {
    const before = await balance('platform:expense:failed_attempts');
    const r = await chat(t, {
      model: 'turnpike/sim-large',
      stream: true,
      messages: [
        {
          role: 'user',
          content: `${marker('cut')} ${'a prompt the upstream read in full. '.repeat(40)} [[sim cut=after_first]]`,
        },
      ],
    });
    assert.equal(r.status, 200);
    assert.match(r.text, /"finish_reason":"error"/);
    const id = r.headers.get('x-generation-id')!;
    const e = await usageEvent(id);
    assert.equal(e.status, 'error');
    assert.equal(e.cost.chargedMicros, 0, 'errors are not charged');
    const a = e.attempts[0]!;
    // Its output reached the client (served), but the generation failed: nothing is billed.
    assert.equal(a.served, true);
    assert.equal(a.billedUpstreamMicros, 0);
    assert.ok(a.tokens.prompt > 200, `the prompt was processed: ${a.tokens.prompt}`);
    assert.ok(a.tokens.completion >= 1, 'and the first token produced');
    const cost = Math.ceil(
      (a.tokens.prompt * SIM_LARGE.prompt + a.tokens.completion * SIM_LARGE.completion) / 1_000_000,
    );
    assert.equal(a.upstreamMicros, cost);
    assert.deepEqual(await entriesOf(id), [
      ['platform:expense:failed_attempts', 'attempt_cost', cost],
      ['platform:cost:provider:sim', 'attempt_cost', -cost],
    ]);
    assert.ok((await balance('platform:expense:failed_attempts')) >= before + cost);
    await verifyLedger();
  });

  test('an attempt superseded for being slow, then a fallback: both attempts cost us, one is charged', async () => {
    const sim = ctx().simulators.find((s) => s.id === 'sim')!;
    const config = (knobs: Json) =>
      fetch(`${sim.url}/__sim/config`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(knobs),
      });
    assert.equal((await config({ ttftMs: 60_000 })).status, 200);
    let r: Awaited<ReturnType<typeof chat>>;
    try {
      r = await chat(t, {
        model: 'turnpike/sim-multi',
        stream: true,
        provider: { order: ['sim', 'sim-b'] },
        messages: [
          {
            role: 'user',
            content: `${marker('superseded')} ${'the same long prompt, sent twice. '.repeat(60)}`,
          },
        ],
      });
    } finally {
      assert.equal((await fetch(`${sim.url}/__sim/reset`, { method: 'POST' })).status, 200);
    }
    assert.equal(r.status, 200, r.text);
    const id = r.headers.get('x-generation-id')!;
    const e = await usageEvent(id);
    assert.deepEqual(
      e.attempts.map((a) => [a.provider, a.outcome, a.served]),
      [
        ['sim', 'timeout', false],
        ['sim-b', 'success', true],
      ],
    );
    const [slow, served] = e.attempts as [UsageEventV1['attempts'][0], UsageEventV1['attempts'][0]];
    // The slow upstream had the prompt when we gave up on it: prompt tokens at its price.
    assert.ok(slow.tokens.prompt > 300, `prompt counted: ${slow.tokens.prompt}`);
    const slowCost = Math.ceil((slow.tokens.prompt * 100_000) / 1_000_000);
    assert.equal(slow.upstreamMicros, slowCost);
    assert.equal(served.upstreamMicros, e.cost.upstreamMicros);
    const entries = await entriesOf(id);
    assert.deepEqual(
      entries.filter(([, kind]) => kind === 'attempt_cost'),
      [
        ['platform:expense:failed_attempts', 'attempt_cost', slowCost],
        ['platform:cost:provider:sim', 'attempt_cost', -slowCost],
      ],
    );
    assert.deepEqual(
      entries.find(([, kind]) => kind === 'usage_charge'),
      [`tenant:${t.tenantId}:usage`, 'usage_charge', e.cost.chargedMicros],
      'the tenant pays for the serving attempt only',
    );
    await verifyLedger();
  });

  test('streams abandoned after their first chunk are all billed for what was produced', async (tc) => {
    const n = 150;
    const tenant = await newTenant('abandon', 50_000_000);
    const m = marker('abandon');
    const ids: string[] = [];
    await Promise.all(
      Array.from({ length: n }, async (_, i) => {
        const controller = new AbortController();
        const res = await fetch(
          `${ctx().gatewayUrls[i % ctx().gatewayUrls.length]}/v1/chat/completions`,
          {
            method: 'POST',
            headers: { authorization: `Bearer ${tenant.key}`, 'content-type': 'application/json' },
            body: JSON.stringify({
              model: 'turnpike/sim-large',
              stream: true,
              max_tokens: 300,
              messages: [{ role: 'user', content: `${m} ${i} [[sim tokens=300 tps=20]]` }],
            }),
            signal: controller.signal,
          },
        );
        assert.equal(res.status, 200);
        ids.push(res.headers.get('x-generation-id')!);
        const reader = res.body!.getReader();
        let text = '';
        while (!/"content":"[^"]/.test(text)) {
          const { value, done } = await reader.read();
          assert.equal(done, false, 'the stream ended before its first chunk');
          text += new TextDecoder().decode(value);
        }
        controller.abort();
        await reader.cancel().catch(() => undefined);
      }),
    );
    // Bounded wait for billing to settle: every usage event in the ledger.
    const rows = await eventually(
      async () => {
        const r = await db.query<{
          generation_id: string;
          status: string;
          completion_tokens: string;
          charged_micros: string;
          event: UsageEventV1;
        }>(
          'SELECT generation_id, status, completion_tokens, charged_micros, event FROM billing.usage_events WHERE tenant_id = $1',
          [tenant.tenantId],
        );
        return r.rows.length === n ? r.rows : null;
      },
      `${n} usage events`,
      120_000,
    );
    assert.deepEqual(rows.map((r) => r.generation_id).sort(), [...ids].sort());
    const zero = rows.filter(
      (r) => Number(r.completion_tokens) === 0 || Number(r.charged_micros) === 0,
    );
    const reported = rows.filter((r) => r.event.attempts[0]?.usageReported).length;
    tc.diagnostic(
      `${n} abandoned streams: ${zero.length} billed nothing; completion tokens ${Math.min(...rows.map((r) => Number(r.completion_tokens)))}..${Math.max(...rows.map((r) => Number(r.completion_tokens)))}; ${reported} with upstream-reported usage`,
    );
    assert.deepEqual(zero, [], 'every abandoned stream is billed');
    for (const r of rows) assert.equal(r.status, 'cancelled');
    const total = rows.reduce((s, r) => s + Number(r.charged_micros), 0);
    await eventually(
      async () => (await balance(`tenant:${tenant.tenantId}:usage`)) === total,
      'the tenant usage balance to equal the sum of the charges',
    );
    await verifyLedger();
  });
});
