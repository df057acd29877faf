/**
 * The Kafka broker restarts under load: streams and unary requests in flight, new ones during
 * the outage. Afterwards every service is ready again (every consumer runs), a credit grant
 * made after the restart takes effect, charges land, and the tenant's ledger equals the sum
 * of `usage.cost` its clients received, to the micro-unit. Meanwhile: requests during the
 * outage get a prompt 503 with Retry-After, streams in flight end (completed or with a clean
 * error) instead of hanging, and an admin call that cannot be sent does not kill the gateway.
 *
 * It restarts the shared platform's broker: it leaves the platform healthy (every service
 * ready) when it ends, for the suites after it.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import pg from 'pg';
import { expectedContent, isAlive } from '@turnpike/testing';
import { runningServices, startBroker, stopBroker } from '../support/broker.js';
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

async function call(
  method: string,
  path: string,
  token: string,
  body?: unknown,
  headers: Record<string, string> = {},
  url = ctx().gatewayUrl,
): Promise<{ status: number; body: Json; headers: Headers; ms: number }> {
  const t0 = Date.now();
  const res = await fetch(`${url}${path}`, {
    method,
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json', ...headers },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    signal: AbortSignal.timeout(60_000),
  });
  const text = await res.text();
  let json: Json = {};
  try {
    json = JSON.parse(text) as Json;
  } catch {
    /* not JSON */
  }
  return { status: res.status, body: json, headers: res.headers, ms: Date.now() - t0 };
}

const admin = (method: string, path: string, body?: unknown, headers?: Record<string, string>) =>
  call(method, path, ctx().adminToken, body, headers);

async function newTenant(label: string): Promise<{ id: string; key: string }> {
  const id = `restart-${label}-${Math.random().toString(36).slice(2, 8)}`;
  assert.equal((await admin('POST', '/admin/tenants', { id, name: label })).status, 201);
  const k = await admin('POST', `/admin/tenants/${id}/keys`, { name: 'k' });
  assert.equal(k.status, 201);
  return { id, key: k.body['key'] as string };
}

async function grant(tenantId: string, micros: number, ref: string) {
  return admin(
    'POST',
    `/admin/tenants/${tenantId}/credits`,
    { amount_micros: micros, note: 'broker restart test' },
    { 'idempotency-key': ref },
  );
}

async function ready(url: string): Promise<boolean> {
  try {
    const r = await fetch(`${url}/health/ready`, { signal: AbortSignal.timeout(2000) });
    return r.status === 200;
  } catch {
    return false;
  }
}

async function tenantUsage(tenantId: string): Promise<number> {
  const r = await db.query<{ balance: string }>(
    `SELECT balance FROM billing.balances WHERE account = $1`,
    [`tenant:${tenantId}:usage`],
  );
  return Number(r.rows[0]?.balance ?? 0);
}

async function storedEvents(ids: string[]): Promise<number> {
  const r = await db.query<{ n: string }>(
    `SELECT count(*) AS n FROM billing.usage_events WHERE generation_id = ANY($1)`,
    [ids],
  );
  return Number(r.rows[0]?.n ?? 0);
}

interface Outcome {
  kind: 'stream' | 'unary';
  phase: 'before' | 'outage' | 'after';
  status: number;
  /** For streams: how it ended. */
  end: 'done' | 'sse-error' | 'http-error' | 'network-error';
  generationId: string | null;
  costMicros: number;
  ms: number;
  complete: boolean;
}

/** A streamed completion read by hand (SSE), so that every way it can end is seen. */
async function stream(
  key: string,
  phase: Outcome['phase'],
  tokens: number,
  tps: number,
): Promise<Outcome> {
  const text = `restart stream ${marker('rs')}`;
  const t0 = Date.now();
  const base = { kind: 'stream' as const, phase, costMicros: 0, complete: false };
  let res: Response;
  try {
    res = await fetch(`${ctx().gatewayUrl}/v1/chat/completions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
      body: JSON.stringify({
        model: 'turnpike/sim-small',
        stream: true,
        stream_options: { include_usage: true },
        messages: [{ role: 'user', content: `${text} [[sim tokens=${tokens} tps=${tps}]]` }],
      }),
      signal: AbortSignal.timeout(60_000),
    });
  } catch {
    return { ...base, status: 0, end: 'network-error', generationId: null, ms: Date.now() - t0 };
  }
  const generationId = res.headers.get('x-generation-id');
  if (res.status !== 200 || !res.body) {
    await res.text().catch(() => '');
    return { ...base, status: res.status, end: 'http-error', generationId, ms: Date.now() - t0 };
  }
  let buf = '';
  let content = '';
  let end: Outcome['end'] = 'network-error';
  let cost = 0;
  try {
    const decoder = new TextDecoder();
    for await (const bytes of res.body) {
      buf += decoder.decode(bytes as Uint8Array, { stream: true });
      let i: number;
      while ((i = buf.indexOf('\n\n')) >= 0) {
        const event = buf.slice(0, i);
        buf = buf.slice(i + 2);
        if (!event.startsWith('data: ')) continue;
        const data = event.slice(6);
        if (data === '[DONE]') {
          if (end !== 'sse-error') end = 'done';
          continue;
        }
        const chunk = JSON.parse(data) as Json;
        if (chunk['error']) end = 'sse-error';
        const choices = (chunk['choices'] as Array<{ delta?: { content?: string } }>) ?? [];
        content += choices[0]?.delta?.content ?? '';
        const usage = chunk['usage'] as { cost?: number } | null | undefined;
        if (usage?.cost !== undefined) cost = usage.cost;
      }
    }
  } catch {
    end = 'network-error';
  }
  return {
    ...base,
    status: 200,
    end,
    generationId,
    costMicros: Math.round(cost * 1e6),
    complete: end === 'done' && content === expectedContent(text, tokens),
    ms: Date.now() - t0,
  };
}

async function unary(key: string, phase: Outcome['phase']): Promise<Outcome> {
  const text = `restart unary ${marker('ru')}`;
  const t0 = Date.now();
  try {
    const r = await call('POST', '/v1/chat/completions', key, {
      model: 'turnpike/sim-small',
      messages: [{ role: 'user', content: `${text} [[sim tokens=5]]` }],
    });
    const choices = r.body['choices'] as Array<{ message: { content: string } }> | undefined;
    return {
      kind: 'unary',
      phase,
      status: r.status,
      end: r.status === 200 ? 'done' : 'http-error',
      generationId: r.headers.get('x-generation-id'),
      costMicros: Math.round((((r.body['usage'] as Json)?.['cost'] as number) ?? 0) * 1e6),
      complete: r.status === 200 && choices?.[0]?.message.content === expectedContent(text, 5),
      ms: r.ms,
    };
  } catch {
    return {
      kind: 'unary',
      phase,
      status: 0,
      end: 'network-error',
      generationId: null,
      costMicros: 0,
      complete: false,
      ms: Date.now() - t0,
    };
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('a Kafka broker restart under load', () => {
  test('every consumer recovers, new credit takes effect, and the ledger matches what clients were told', async (t) => {
    const c = ctx();
    const payer = await newTenant('payer');
    const broke = await newTenant('broke');
    assert.equal((await grant(payer.id, 50_000_000, `grant-${payer.id}`)).status, 200);
    const outcomes: Outcome[] = [];
    await eventually(
      async () => {
        const o = await unary(payer.key, 'before');
        outcomes.push(o);
        return o.status === 200;
      },
      'the payer to be admitted',
      15_000,
    );
    const refused = await unary(broke.key, 'before');
    assert.equal(refused.status, 402, 'a tenant with no credit is refused before the restart');

    // Readiness of every service, sampled throughout.
    const seenUnready = new Set<string>();
    let watching = true;
    const watcher = (async () => {
      while (watching) {
        await Promise.all(
          c.services.map(async (s) => {
            if (!(await ready(s.url))) seenUnready.add(s.name);
          }),
        );
        await sleep(250);
      }
    })();

    // Load: 10 streams in flight across the stop, and unary requests back to back throughout.
    let phase: Outcome['phase'] = 'before';
    const streams = Array.from({ length: 10 }, () =>
      stream(payer.key, 'before', 40, 10).then((o) => outcomes.push(o)),
    );
    let loading = true;
    const workers = Array.from({ length: 2 }, async () => {
      while (loading) {
        const o = await unary(payer.key, phase);
        outcomes.push(o);
        if (o.status !== 200) await sleep(200);
      }
    });
    await sleep(1500);

    // What runs now (earlier suites restarted some services, and left stopped extras behind).
    const running = runningServices().filter((s) => isAlive(s.pid));
    const tStop = Date.now();
    phase = 'outage';
    await stopBroker();
    const stoppedAfter = Date.now() - tStop;

    // New requests during the outage: a prompt 503 with Retry-After, not a hang.
    await sleep(1000);
    const duringStreams = await Promise.all(
      Array.from({ length: 3 }, () => stream(payer.key, 'outage', 5, 50)),
    );
    outcomes.push(...duringStreams);
    const probe = await call('POST', '/v1/chat/completions', payer.key, {
      model: 'turnpike/sim-small',
      messages: [{ role: 'user', content: `during ${marker('out')}` }],
    });
    assert.equal(probe.status, 503, JSON.stringify(probe.body));
    assert.ok(Number(probe.headers.get('retry-after')) > 0, 'Retry-After on the 503');
    assert.equal((probe.body['error'] as Json)['code'], 'kafka_unavailable');
    assert.ok(probe.ms < 5000, `refused in ${probe.ms} ms`);

    // An admin call that needs billing over Kafka cannot be sent: a clean error, no crash.
    const adminCall = await admin('GET', `/admin/tenants/${payer.id}/credits`);
    assert.ok([503, 504].includes(adminCall.status), `admin call: ${adminCall.status}`);
    assert.ok(adminCall.body['error'], 'in OpenAI error shape');

    // Stay down past the RPC timeout (10 s): an unhandled rejection would kill a gateway then.
    await sleep(Math.max(0, 12_000 - (Date.now() - tStop)));
    // The split gateways, which cannot serve a generation without the broker. A fused gateway
    // (gateway-fused-N) runs its attempts itself: it goes unready only when its producer fails.
    const gateways = c.services.filter((s) => /^gateway-\d+$/.test(s.name));
    const gatewayUnready = gateways.every((g) => seenUnready.has(g.name));
    // No process of the platform crashed: every service, fused gateways included, is the same
    // (asserted once the broker is back, so that a failure leaves the platform whole for the
    // suites after this one).
    const crashed = running.filter((svc) => !isAlive(svc.pid)).map((svc) => svc.name);

    const tStart = Date.now();
    await startBroker();
    const brokerUpMs = Date.now() - tStart;
    phase = 'after';
    assert.deepEqual(crashed, [], 'processes that did not survive the outage');

    // Every service ready again: every consumer runs and fetches.
    await eventually(
      async () => (await Promise.all(c.services.map((s) => ready(s.url)))).every(Boolean),
      'every service to be ready again',
      120_000,
    );
    const readyAfterMs = Date.now() - tStart;

    // A NEW grant after the restart takes effect: the tenant refused before is served.
    const g = await eventually(
      async () => {
        const r = await grant(broke.id, 5_000_000, `grant-${broke.id}`);
        return r.status === 200 ? r : undefined;
      },
      'the grant to be accepted',
      60_000,
    );
    assert.equal(g.status, 200);
    const served = await eventually(
      async () => {
        const r = await unary(broke.key, 'after');
        return r.status === 200 ? r : undefined;
      },
      'the new grant to take effect',
      60_000,
    );
    outcomes.push(served);
    const servedAfterMs = Date.now() - tStart;

    await Promise.all(streams);
    await sleep(2000);
    loading = false;
    await Promise.all(workers);
    watching = false;
    await watcher;

    // Every request ended: served, or refused/failed cleanly; none hung until the client gave up.
    const payerOutcomes = outcomes.filter((o) => o !== served);
    for (const o of payerOutcomes) {
      assert.notEqual(o.end, 'network-error', `a ${o.kind} (${o.phase}) ended without an answer`);
      if (o.end === 'done') assert.ok(o.complete, `a ${o.kind} (${o.phase}) arrived whole`);
      if (o.end === 'http-error')
        assert.ok([402, 503, 504].includes(o.status), `${o.kind} ${o.phase}: ${o.status}`);
    }
    const inFlight = payerOutcomes.filter((o) => o.kind === 'stream' && o.phase === 'before');
    assert.equal(inFlight.length, 10);
    for (const o of inFlight) assert.ok(o.ms < 55_000, `a stream in flight took ${o.ms} ms`);
    const afterOk = payerOutcomes.filter((o) => o.phase === 'after' && o.status === 200);
    assert.ok(afterOk.length > 0, 'requests are served after the restart');

    // Charges land: every generation the gateway answered is booked, and the ledger holds
    // exactly what the payer's clients were told, to the micro-unit.
    const told = payerOutcomes.reduce((n, o) => n + o.costMicros, 0);
    const answered = payerOutcomes
      .filter((o) => o.status === 200 && o.generationId)
      .map((o) => o.generationId!);
    await eventually(
      async () => (await storedEvents(answered)) === answered.length,
      'every answered generation to be booked',
      60_000,
    );
    await eventually(
      async () => (await tenantUsage(payer.id)) === told,
      'the ledger to reach what the clients were told',
      30_000,
    ).catch(() => undefined);
    assert.equal(await tenantUsage(payer.id), told, 'ledger = sum of usage.cost received');

    assert.ok(gatewayUnready, `every gateway went unready during the outage (${[...seenUnready]})`);
    const statuses = new Map<string, number>();
    for (const o of payerOutcomes) {
      const k = `${o.kind}/${o.phase}/${o.status}/${o.end}`;
      statuses.set(k, (statuses.get(k) ?? 0) + 1);
    }
    t.diagnostic(
      `requests ${payerOutcomes.length + 2}; broker stopped in ${stoppedAfter} ms, down ${tStart - tStop} ms, ` +
        `up again in ${brokerUpMs} ms; every service ready ${readyAfterMs} ms after the start, ` +
        `new grant served ${servedAfterMs} ms after; outage 503 in ${probe.ms} ms; ` +
        `unready seen: ${[...seenUnready].join(',')}; ledger ${told} micro-units; outcomes ${JSON.stringify(Object.fromEntries(statuses))}`,
    );
  });
});
