/**
 * One record the ledger cannot book never stops billing for everyone: on the running platform,
 * a usage event that passes its contract but that the ledger refuses (a charge that would take
 * the tenant's usage beyond the safe integers, the very figure of the credit grant that once
 * wedged billing) is produced onto the real topic between valid ones. Billing parks it, books
 * the others and everything after it, lists it on the admin API, refuses to book it on retry
 * while its cause remains. (billing.e2e's replay, which runs after this suite, checks that a
 * replay of the topics parks the same records.)
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import kafkajs from 'kafkajs';
import pg from 'pg';
import { TOPICS, type UsageEventV1 } from '@turnpike/contracts';
import { readState, seedTenant, usageEventFixture } from '@turnpike/testing';
import { ctx, eventually, marker } from '../support/context.js';
import { assertOpenAIError, assertPlatformHealthy, send } from '../support/http.js';

const stateDir = () => path.dirname(process.env['TURNPIKE_TEST_CONTEXT']!);
let db: pg.Client;

before(async () => {
  db = new pg.Client({ connectionString: ctx().databaseUrl });
  await db.connect();
});
after(async () => {
  await db.end();
});

type Json = Record<string, unknown>;

/** A charge of the test tenant's own key. */
const usageEvent = (tenantId: string, keyId: string, chargedMicros: number) =>
  usageEventFixture(tenantId, chargedMicros, { keyId });

async function usageOf(tenantId: string, schema = 'billing'): Promise<number> {
  const r = await db.query<{ balance: string }>(
    `SELECT balance FROM ${schema}.balances WHERE account = $1`,
    [`tenant:${tenantId}:usage`],
  );
  return Number(r.rows[0]?.balance ?? 0);
}

const admin = (method: string, p: string) => send(method, p, { auth: 'admin' });

describe('a record the ledger cannot book', () => {
  let tenant: { tenantId: string; keyId: string; key: string };
  let poison: UsageEventV1;
  let poisonOffset: string;
  let expectedUsage = 0;

  before(async () => {
    const id = `parked-${Math.random().toString(36).slice(2, 8)}`;
    tenant = await seedTenant(ctx().gatewayUrl, ctx().adminToken, { id, name: id }, 'k', 10);
  });

  test('is parked; its batch and everything after it are booked', async (t) => {
    const valid = [usageEvent(tenant.tenantId, tenant.keyId, 1_000)];
    // 2^53 - 1 micro-units on a tenant that already used 1 000: the usage balance would leave
    // the safe integers. The contract takes it (any safe integer), the database refuses it.
    poison = usageEvent(tenant.tenantId, tenant.keyId, Number.MAX_SAFE_INTEGER);
    valid.push(usageEvent(tenant.tenantId, tenant.keyId, 2_000));
    const kafka = new kafkajs.Kafka({
      clientId: 'billing-parked-test',
      brokers: [ctx().kafkaBrokers],
      logLevel: kafkajs.logLevel.NOTHING,
    });
    const producer = kafka.producer();
    await producer.connect();
    try {
      // One partition, in this order: the poison between two valid charges of its tenant.
      const [meta] = await producer.send({
        topic: TOPICS.usageEvents,
        messages: [valid[0]!, poison, valid[1]!].map((e) => ({
          key: e.generationId,
          value: JSON.stringify(e),
          partition: 0,
        })),
      });
      poisonOffset = String(Number(meta!.baseOffset) + 1);
    } finally {
      await producer.disconnect();
    }
    expectedUsage = 3_000;
    await eventually(
      async () => (await usageOf(tenant.tenantId)) === expectedUsage,
      'the two valid charges to be booked',
      30_000,
    );

    // Billing goes on: a real completion through the gateway, after the poison, is charged,
    // and both gateways see the tenant's balance move by exactly that.
    const r = await send('POST', '/v1/chat/completions', {
      auth: { bearer: tenant.key },
      body: {
        model: 'turnpike/sim-small',
        messages: [{ role: 'user', content: `${marker('after-poison')} [[sim tokens=7]]` }],
      },
    });
    assert.equal(r.status, 200, r.text);
    const cost = Math.round((((r.json as Json)['usage'] as Json)['cost'] as number) * 1e6);
    assert.ok(cost > 0);
    expectedUsage += cost;
    await eventually(
      async () => (await usageOf(tenant.tenantId)) === expectedUsage,
      'the completion after the poison to be charged',
      30_000,
    );
    for (const url of ctx().gatewayUrls) {
      await eventually(async () => {
        const v = await send('GET', `/admin/tenants/${tenant.tenantId}/credits`, {
          auth: 'admin',
          base: url,
        });
        return (
          ((v.json as Json)['gateway_view'] as Json)['balance_micros'] ===
          10_000_000 - expectedUsage
        );
      }, `${url} to see the balance of the valid charges`);
    }
    const booked = await db.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM billing.usage_events WHERE generation_id = $1`,
      [poison.generationId],
    );
    assert.equal(booked.rows[0]!.n, 0, 'the poison is not in the ledger');

    // Operators are told, at error level, where it was read.
    const billing = readState(stateDir())!.services.find((s) => s.name === 'billing-1')!;
    const line = readFileSync(billing.logFile, 'utf8')
      .split('\n')
      .find((l) => l.includes(`PARKED ${TOPICS.usageEvents}/0@${poisonOffset} `));
    assert.ok(line, 'a log line naming the parked record');
    assert.match(line, /ERROR/);
    t.diagnostic(line.replace(new RegExp(`${String.fromCharCode(27)}\\[[0-9;]*m`, 'g'), ''));

    const v = await admin('GET', '/admin/billing/verify');
    assert.equal(v.status, 200, v.text);
    assert.equal((v.json as Json)['unbalancedTransactions'], 0);
    assert.equal((v.json as Json)['balanceMismatches'], 0);
    assert.equal((v.json as Json)['keyUsageMismatches'], 0);
    // Every service is ready (billing's ledger consumers included) and serving.
    await assertPlatformHealthy();
  });

  test('the admin API lists it, and a retry refuses it while its cause remains', async () => {
    const list = await admin('GET', '/admin/billing/parked?limit=100');
    assert.equal(list.status, 200, list.text);
    const body = list.json as Json;
    assert.equal(body['object'], 'list');
    assert.ok((body['parked_since_start'] as number) >= 1);
    const data = body['data'] as Json[];
    const p = data.find((x) => x['ref'] === `usage:${poison.generationId}`);
    assert.ok(p, `listed: ${list.text.slice(0, 500)}`);
    assert.equal(p['topic'], TOPICS.usageEvents);
    assert.equal(p['partition'], 0);
    assert.equal(p['offset'], poisonOffset);
    assert.equal(p['key'], poison.generationId);
    assert.equal(p['tenant_id'], tenant.tenantId);
    assert.equal(p['sqlstate'], '23514');
    assert.match(p['error'] as string, /balances_tenant_safe_integer/);
    assert.deepEqual(p['record'], JSON.parse(JSON.stringify(poison)));
    assert.equal(p['retries'], 0);
    assert.ok((body['total'] as number) >= data.length);

    // Paging: after the one before it, one at a time.
    const id = p['id'] as string;
    const page = await admin('GET', `/admin/billing/parked?limit=1&after=${BigInt(id) - 1n}`);
    assert.equal(page.status, 200, page.text);
    assert.deepEqual(
      ((page.json as Json)['data'] as Json[]).map((x) => x['id']),
      [id],
    );

    // Admin only; bad parameters are a 400 naming them.
    assertOpenAIError(
      await send('GET', '/admin/billing/parked', { auth: { bearer: tenant.key } }),
      401,
    );
    assertOpenAIError(
      await send('POST', `/admin/billing/parked/${id}/retry`, { auth: { bearer: tenant.key } }),
      401,
    );
    assertOpenAIError(await admin('GET', '/admin/billing/parked?limit=0'), 400, { param: 'limit' });
    assertOpenAIError(await admin('GET', '/admin/billing/parked?after=x'), 400, { param: 'after' });
    assertOpenAIError(await admin('POST', '/admin/billing/parked/abc/retry'), 400, {
      param: 'id',
    });
    assertOpenAIError(await admin('POST', '/admin/billing/parked/999999999999/retry'), 404, {
      code: 'not_found',
    });

    // Its cause remains (the tenant's usage plus 2^53 - 1): still refused, still parked.
    assertOpenAIError(await admin('POST', `/admin/billing/parked/${id}/retry`), 409, {
      code: 'still_unbookable',
      message: /23514/,
    });
    const again = await admin('GET', `/admin/billing/parked?limit=1&after=${BigInt(id) - 1n}`);
    const row = ((again.json as Json)['data'] as Json[])[0]!;
    assert.equal(row['id'], id);
    assert.equal(row['retries'], 1);
    assert.equal(await usageOf(tenant.tenantId), expectedUsage, 'nothing booked by the retry');
  });
});
