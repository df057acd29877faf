/**
 * Provider accounts managed live, on the real platform (Kafka, Postgres, the services as
 * processes), and bulk catalog changes:
 *
 * - a provider with no account: the catalog admin API warns; requests get a non-retryable 502
 *   `provider_not_configured` that falls back to other providers and never harms the endpoint's
 *   health;
 * - accounts are write-only (masked hint, fingerprint), validated, refused twice;
 * - a second connector instance boots with the same accounts (the bootstrap imported once);
 * - while unary and streaming requests flow through the official `openai` client, an operator
 *   adds a second account, rotates the first one's key (the upstream then takes only the new
 *   key) and disables an account: no restart, no failed request, the new key in use within
 *   seconds; the usage events name the accounts;
 * - bulk catalog documents: validated as a whole, applied at once, warned about;
 * - last: no provider secret of the run in any log file, exported span, Kafka log segment or
 *   Postgres file.
 *
 * The upstream of this suite's provider is a simulator in this test process, so its accepted
 * keys can change at will (`setApiKeys`) and its records name the key each request used.
 */
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import OpenAI from 'openai';
import pg from 'pg';
import type { UsageEventV1 } from '@turnpike/contracts';
import {
  readState,
  restartService,
  startOpenAISimulator,
  stopPid,
  type OpenAISimulator,
} from '@turnpike/testing';
import { catalogAdmin, ctx, eventually, marker, storedUsageEvent } from '../support/context.js';

const stateDir = () => path.dirname(process.env['TURNPIKE_TEST_CONTEXT']!);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const sha = (k: string) => createHash('sha256').update(k).digest('hex');

const suffix = randomBytes(3).toString('hex');
/** This suite's provider and model, served by the in-process simulator. */
const PROVIDER = `acct-${suffix}`;
const MODEL = `turnpike/acct-${suffix}`;
/** A provider in the catalog that no connector has an account for (until the suite adds one). */
const ORPHAN = `orphan-${suffix}`;
const ORPHAN_MODEL = `turnpike/orphan-${suffix}`;
const ORPHAN_MODEL_2 = `turnpike/orphan2-${suffix}`;
/** Served by ORPHAN (cheaper, first) and by `sim` (bootstrap account). */
const FALLBACK_MODEL = `turnpike/fallback-${suffix}`;

/** Every provider secret this suite makes: the last test looks for each of them everywhere. */
const secrets: string[] = [];
const newKey = (label: string) => {
  const k = `sk-${label}-${randomBytes(16).toString('hex')}`;
  secrets.push(k);
  return k;
};

interface Res {
  status: number;
  headers: Headers;
  json: Record<string, unknown> & {
    error?: {
      message: string;
      code: string | null;
      type: string;
      param: string | null;
      metadata?: Record<string, unknown>;
    };
    warnings?: Array<{ code: string; provider: string | null; message: string }>;
  };
  text: string;
}

async function admin(method: string, p: string, body?: unknown): Promise<Res> {
  const res = await fetch(`${ctx().gatewayUrl}/admin/${p}`, {
    method,
    headers: {
      authorization: `Bearer ${ctx().adminToken}`,
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
    },
    ...(body === undefined ? {} : { body: typeof body === 'string' ? body : JSON.stringify(body) }),
  });
  const text = await res.text();
  return { status: res.status, headers: res.headers, json: JSON.parse(text) as Res['json'], text };
}

async function chat(body: Record<string, unknown>): Promise<Res> {
  const res = await fetch(`${ctx().gatewayUrl}/v1/chat/completions`, {
    method: 'POST',
    headers: {
      authorization: `Bearer ${ctx().tenants[0]!.key}`,
      'content-type': 'application/json',
    },
    body: JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, headers: res.headers, json: JSON.parse(text) as Res['json'], text };
}

const ENDPOINT = {
  upstream_model: 'sim-gpt-small',
  pricing: { prompt: '0.10', completion: '0.40' },
  context_length: 8192,
};

async function routable(model: string): Promise<void> {
  await eventually(
    async () => (await fetch(`${ctx().gatewayUrl}/v1/models/${model}/endpoints`)).status === 200,
    `${model} in the gateway's routing table`,
  );
}

let db: pg.Client;
let upstream: OpenAISimulator;
let connector2: { pid: number } | null = null;

const usageEvent = (generationId: string) => storedUsageEvent(db, generationId);

before(async () => {
  db = new pg.Client({ connectionString: ctx().databaseUrl });
  await db.connect();
  upstream = await startOpenAISimulator({
    name: 'accounts-upstream',
    apiKey: newKey('unused'),
    defaults: { ttftMs: 10, tokensPerSecond: 400, completionTokens: 8 },
  });
  assert.equal(
    (await catalogAdmin('PUT', `providers/${PROVIDER}`, { name: PROVIDER, kind: 'openai' })).status,
    200,
  );
  assert.equal(
    (await catalogAdmin('PUT', `models/${MODEL}`, { name: MODEL, context_length: 8192 })).status,
    200,
  );
  assert.equal(
    (await catalogAdmin('PUT', `models/${MODEL}/endpoints/${PROVIDER}`, ENDPOINT)).status,
    200,
  );
});

after(async () => {
  for (const m of [MODEL, ORPHAN_MODEL, ORPHAN_MODEL_2, FALLBACK_MODEL])
    await catalogAdmin('DELETE', `models/${m}`).catch(() => undefined);
  if (connector2) await stopPid(connector2.pid, 30_000);
  await upstream?.close();
  await db?.end();
});

describe('a provider with no usable account', () => {
  test('the admin API warns when the provider and its endpoints are created', async () => {
    const p = await admin('PUT', `catalog/providers/${ORPHAN}`, { name: 'Orphan', kind: 'openai' });
    assert.equal(p.status, 200, p.text);
    assert.deepEqual(
      p.json.warnings?.map((w) => [w.code, w.provider]),
      [['provider_has_no_account', ORPHAN]],
    );
    assert.match(p.json.warnings![0]!.message, /POST \/admin\/providers\/orphan-\w+\/accounts/);
    for (const m of [ORPHAN_MODEL, ORPHAN_MODEL_2, FALLBACK_MODEL])
      assert.equal(
        (await admin('PUT', `catalog/models/${m}`, { name: m, context_length: 8192 })).status,
        200,
      );
    for (const m of [ORPHAN_MODEL, ORPHAN_MODEL_2]) {
      const e = await admin('PUT', `catalog/models/${m}/endpoints/${ORPHAN}`, ENDPOINT);
      assert.equal(e.status, 200, e.text);
      assert.deepEqual(
        e.json.warnings?.map((w) => w.provider),
        [ORPHAN],
      );
    }
    const cheap = await admin('PUT', `catalog/models/${FALLBACK_MODEL}/endpoints/${ORPHAN}`, {
      ...ENDPOINT,
      pricing: { prompt: '0.01', completion: '0.01' },
    });
    assert.equal(cheap.json.warnings?.length, 1);
    // `sim` has its bootstrap account: no warning.
    const served = await admin('PUT', `catalog/models/${FALLBACK_MODEL}/endpoints/sim`, {
      ...ENDPOINT,
      pricing: { prompt: '5', completion: '5' },
    });
    assert.equal(served.status, 200, served.text);
    assert.deepEqual(served.json.warnings, []);
    for (const m of [ORPHAN_MODEL, ORPHAN_MODEL_2, FALLBACK_MODEL]) await routable(m);
  });

  test('requests get a non-retryable 502 provider_not_configured, retried by no client', async () => {
    const raw = await chat({
      model: ORPHAN_MODEL,
      messages: [{ role: 'user', content: marker('orphan') }],
    });
    assert.equal(raw.status, 502, raw.text);
    assert.equal(raw.json.error?.code, 'provider_not_configured');
    assert.equal(raw.json.error?.type, 'server_error');
    assert.equal(raw.headers.get('x-should-retry'), 'false');
    assert.equal(raw.headers.get('retry-after'), null);
    assert.match(raw.json.error!.message, /not configured.*retrying the request will not help/);
    for (const leak of ['connector', 'credentials', ORPHAN])
      assert.ok(!raw.text.includes(leak), leak);

    // The official client, told it may retry 3 times, sends it once.
    let calls = 0;
    const sdk = new OpenAI({
      baseURL: `${ctx().gatewayUrl}/v1`,
      apiKey: ctx().tenants[0]!.key,
      maxRetries: 3,
      fetch: (url, init) => {
        calls++;
        return fetch(url, init);
      },
    });
    for (const stream of [false, true]) {
      calls = 0;
      await assert.rejects(
        (async () => {
          const r = await sdk.chat.completions.create({
            model: ORPHAN_MODEL,
            stream,
            messages: [{ role: 'user', content: marker('sdk') }],
          });
          if (stream) for await (const _ of r as AsyncIterable<unknown>) void _;
        })(),
        (e: unknown) =>
          e instanceof OpenAI.APIError && e.status === 502 && e.code === 'provider_not_configured',
      );
      assert.equal(calls, 1, `stream=${stream}: the client retried`);
    }
    // More than the consecutive failures that would open a circuit.
    for (let i = 0; i < 6; i++)
      assert.equal(
        (await chat({ model: ORPHAN_MODEL, messages: [{ role: 'user', content: 'x' }] })).status,
        502,
      );
  });

  test("other providers' endpoints still serve; the same provider's other endpoints are not tried", async () => {
    const fb = await chat({
      model: FALLBACK_MODEL,
      messages: [{ role: 'user', content: marker('fb') }],
    });
    assert.equal(fb.status, 200, fb.text);
    assert.equal(fb.json['provider'], 'sim');
    const fbEvent = await usageEvent(fb.headers.get('x-generation-id')!);
    assert.deepEqual(
      fbEvent.attempts.map((a) => [a.provider, a.errorCode, a.served]),
      [
        [ORPHAN, 'provider_not_configured', false],
        ['sim', null, true],
      ],
    );
    assert.ok(fbEvent.accountId?.startsWith('acct_'), 'the serving account is named');

    // `models` fallbacks: the second model at the same provider is skipped.
    const list = await chat({
      model: ORPHAN_MODEL,
      models: [ORPHAN_MODEL, ORPHAN_MODEL_2, 'turnpike/sim-small'],
      messages: [{ role: 'user', content: marker('models') }],
    });
    assert.equal(list.status, 200, list.text);
    const ev = await usageEvent(list.headers.get('x-generation-id')!);
    assert.deepEqual(
      ev.attempts.map((a) => a.endpointId),
      [`${ORPHAN_MODEL}@${ORPHAN}`, 'turnpike/sim-small@sim'],
    );
  });

  test("the endpoint's health is untouched, and it serves once an account is added", async () => {
    const health = async () => {
      const m = await admin('GET', `catalog/models/${ORPHAN_MODEL}`);
      const e = (
        m.json['endpoints'] as Array<{ provider: string; health: Record<string, unknown> }>
      ).find((x) => x.provider === ORPHAN)!;
      return e.health as {
        circuit: string;
        attempts30m: number;
        consecutiveFailures: number;
        uptime: { last5m: number | null };
      };
    };
    // Nine failed requests so far: none of them counted.
    await sleep(1000);
    const h = await health();
    assert.deepEqual(
      [h.circuit, h.attempts30m, h.consecutiveFailures, h.uptime.last5m],
      ['closed', 0, 0, null],
    );

    const key = newKey('orphan');
    upstream.setApiKeys([key]);
    const created = await admin('POST', `providers/${ORPHAN}/accounts`, {
      api_key: key,
      base_url: upstream.url,
      label: 'late',
    });
    assert.equal(created.status, 201, created.text);
    const ok = await chat({
      model: ORPHAN_MODEL,
      messages: [{ role: 'user', content: marker('now') }],
    });
    assert.equal(ok.status, 200, ok.text);
    const after1 = await eventually(async () => {
      const x = await health();
      return x.attempts30m >= 1 ? x : undefined;
    }, 'the success in the endpoint health');
    assert.deepEqual(
      [after1.circuit, after1.attempts30m, after1.consecutiveFailures, after1.uptime.last5m],
      ['closed', 1, 0, 1],
    );
    // And the admin API no longer warns about it.
    const again = await admin('PUT', `catalog/providers/${ORPHAN}`, {
      name: 'Orphan',
      kind: 'openai',
    });
    assert.deepEqual(again.json.warnings, []);
  });
});

let accountA = '';
let accountB = '';
let keyA0 = '';

describe('accounts: write-only, validated', () => {
  test('created with a masked hint and a fingerprint; the secret is never answered', async () => {
    keyA0 = newKey('a0');
    upstream.setApiKeys([keyA0]);
    const r = await admin('POST', `providers/${PROVIDER}/accounts`, {
      api_key: keyA0,
      base_url: upstream.url,
      label: 'first',
      headers: { 'x-upstream-team': 'team-secretish-0123456789' },
    });
    assert.equal(r.status, 201, r.text);
    accountA = String(r.json['id']);
    assert.match(accountA, /^acct_[0-9a-f]{24}$/);
    assert.equal(r.json['hint'], `sk-…${keyA0.slice(-4)}`);
    assert.match(String(r.json['fingerprint']), /^local-1:[0-9a-f]{64}$/);
    assert.deepEqual(
      [
        r.json['provider'],
        r.json['kind'],
        r.json['owner'],
        r.json['status'],
        r.json['weight'],
        r.json['secret_version'],
      ],
      [PROVIDER, 'openai', 'platform', 'active', 1, 1],
    );
    assert.deepEqual(r.json['header_names'], ['x-upstream-team']);
    assert.ok(!r.text.includes(keyA0.slice(3, 20)) && !r.text.includes('team-secretish'));
    const list = await admin('GET', `providers/${PROVIDER}/accounts`);
    assert.equal((list.json['data'] as unknown[]).length, 1);
    assert.ok(!list.text.includes(keyA0.slice(3, 20)));
    const one = await admin('GET', `providers/${PROVIDER}/accounts/${accountA}`);
    assert.equal(one.status, 200);
    assert.equal((one.json['health'] as { state: string }).state, 'ready');

    const ok = await chat({ model: MODEL, messages: [{ role: 'user', content: marker('first') }] });
    assert.equal(ok.status, 200, ok.text);
    const rec = upstream.requests().at(-1)!;
    assert.equal(rec.credentialSha256, sha(keyA0));
    assert.equal(
      rec.headers['x-upstream-team'],
      'team-secretish-0123456789',
      'the extra header is sent',
    );
  });

  test('refused: the same key twice, credentials the kind does not take, unknown providers, bad input', async () => {
    const dup = await admin('POST', `providers/${PROVIDER}/accounts`, { api_key: keyA0 });
    assert.equal(dup.status, 409, dup.text);
    assert.equal(dup.json.error?.code, 'duplicate_account');
    assert.ok(dup.json.error!.message.includes(accountA));
    const aws = await admin('POST', `providers/${PROVIDER}/accounts`, {
      credentials: {
        type: 'aws',
        accessKeyId: 'AKIAIOSFODNN7EXAMPLE',
        secretAccessKey: newKey('aws-secret'),
        region: 'us-east-1',
      },
    });
    assert.equal(aws.status, 400, aws.text);
    assert.equal(aws.json.error?.code, 'invalid_credential_type');
    const none = await admin('POST', `providers/no-such-${suffix}/accounts`, {
      api_key: newKey('x'),
    });
    assert.equal(none.status, 404);
    assert.equal(none.json.error?.code, 'provider_not_found');
    const both = await admin('POST', `providers/${PROVIDER}/accounts`, {
      api_key: 'sk-a-0123456789abcdef',
      credentials: { type: 'api_key', apiKey: 'sk-b-0123456789abcdef' },
    });
    assert.equal(both.status, 400);
    const leaky = newKey('nul');
    const nul = await admin('POST', `providers/${PROVIDER}/accounts`, {
      api_key: `${leaky}\u0000`,
    });
    assert.equal(nul.status, 400);
    assert.ok(!nul.text.includes(leaky.slice(3, 20)), 'the refused key is not echoed');
    const url = await admin('POST', `providers/${PROVIDER}/accounts`, {
      api_key: newKey('url'),
      base_url: 'https://user:pass@example.com/v1',
    });
    assert.equal(url.status, 400);
    assert.equal(url.json.error?.param, 'base_url');
    const byok = await admin('POST', `providers/${PROVIDER}/accounts`, {
      api_key: newKey('byok'),
      owner: 'tenant:t1',
    });
    assert.equal(byok.status, 400);
    const missing = await admin('GET', `providers/${PROVIDER}/accounts/acct_${'0'.repeat(24)}`);
    assert.equal(missing.status, 404);
    assert.equal(missing.json.error?.code, 'account_not_found');
    const noAuth = await fetch(`${ctx().gatewayUrl}/admin/providers/${PROVIDER}/accounts`);
    assert.equal(noAuth.status, 401);
    assert.equal(
      (await admin('GET', `providers/${PROVIDER}/accounts`)).json['data'] instanceof Array,
      true,
    );
    assert.equal(
      ((await admin('GET', `providers/${PROVIDER}/accounts`)).json['data'] as unknown[]).length,
      1,
    );
  });

  test('a second connector instance boots with the same accounts; bootstrap accounts are imported once', async () => {
    const next = await restartService(stateDir(), 'connector-1', { as: 'connector-2' });
    connector2 = { pid: next.pid };
    const ready = (await (await fetch(`${next.url}/health/ready`)).json()) as {
      checks: Record<string, unknown>;
    };
    assert.equal(ready.checks['accounts-view'], true);
    assert.equal(ready.checks['accounts'], true);
    const sim = await admin('GET', 'providers/sim/accounts');
    const boot = (sim.json['data'] as Array<{ label: string }>).filter(
      (a) => a.label === 'bootstrap',
    );
    assert.equal(boot.length, 1, sim.text);
    const log = readFileSync(path.join(stateDir(), 'logs', 'connector-2.log'), 'utf8');
    assert.match(log, /bootstrap: \d+ account\(s\) already present/);
    assert.doesNotMatch(log, /bootstrap: imported/);
  });
});

describe('accounts managed while traffic flows', () => {
  test('add, rotate, disable: no restart, no failed request, the new key in use within seconds', async (t) => {
    const pids = () =>
      readState(stateDir())!
        .services.map((s) => `${s.name}:${s.pid}`)
        .sort();
    const before = pids();
    const sdk = new OpenAI({
      baseURL: `${ctx().gatewayUrl}/v1`,
      apiKey: ctx().tenants[0]!.key,
      maxRetries: 0,
      timeout: 30_000,
    });
    const failures: string[] = [];
    const served = { unary: 0, stream: 0 };
    const generations: string[] = [];
    let stop = false;
    const worker = async (stream: boolean, n: number) => {
      while (!stop) {
        const content = `${marker(`w${n}`)} traffic`;
        try {
          if (stream) {
            const s = await sdk.chat.completions.create({
              model: MODEL,
              stream: true,
              messages: [{ role: 'user', content }],
            });
            let text = '';
            for await (const c of s) {
              text += c.choices[0]?.delta.content ?? '';
              if (c.id) generations.push(c.id);
            }
            if (text.length === 0) throw new Error('empty stream');
            served.stream++;
          } else {
            const r = await sdk.chat.completions.create({
              model: MODEL,
              messages: [{ role: 'user', content }],
            });
            if (!r.choices[0]?.message.content) throw new Error('empty answer');
            generations.push(r.id);
            served.unary++;
          }
        } catch (e) {
          failures.push(`${stream ? 'stream' : 'unary'}: ${(e as Error).message}`);
        }
        await sleep(40);
      }
    };
    const timings = { added: -1, rotated: -1 };
    const load = Promise.all([
      worker(false, 1),
      worker(true, 2),
      worker(false, 3),
      worker(true, 4),
    ]);
    const firstUse = async (key: string, since: number, what: string): Promise<number> => {
      const rec = await eventually(
        async () =>
          upstream.requests().find((r) => r.credentialSha256 === sha(key) && r.receivedAt >= since),
        what,
        10_000,
      );
      return rec.receivedAt - since;
    };
    try {
      await sleep(2000);

      // 1. A second account: both keys accepted upstream, then the account is added.
      const keyB = newKey('b');
      upstream.setApiKeys([keyA0, keyB]);
      const t1 = Date.now();
      const b = await admin('POST', `providers/${PROVIDER}/accounts`, {
        api_key: keyB,
        base_url: upstream.url,
        label: 'second',
      });
      assert.equal(b.status, 201, b.text);
      accountB = String(b.json['id']);
      const addedIn = await firstUse(keyB, t1, 'the second key in use');
      timings.added = addedIn;
      assert.ok(addedIn < 5000, `second account used after ${addedIn} ms`);
      await sleep(1500);

      // 2. Rotate the first account: the upstream takes the new key, then only the new keys.
      const keyA1 = newKey('a1');
      upstream.setApiKeys([keyA0, keyB, keyA1]);
      const t2 = Date.now();
      const rot = await admin('PUT', `providers/${PROVIDER}/accounts/${accountA}/credentials`, {
        api_key: keyA1,
      });
      assert.equal(rot.status, 200, rot.text);
      assert.equal(rot.json['secret_version'], 2);
      assert.equal(rot.json['hint'], `sk-…${keyA1.slice(-4)}`);
      const rotatedIn = await firstUse(keyA1, t2, 'the rotated key in use');
      timings.rotated = rotatedIn;
      assert.ok(rotatedIn < 5000, `rotated key used after ${rotatedIn} ms`);
      // Every connector has it within seconds: then the old key is revoked upstream.
      await sleep(3000);
      const revokedAt = Date.now();
      upstream.setApiKeys([keyB, keyA1]);
      await sleep(2500);
      const late = upstream
        .requests()
        .filter(
          (r) =>
            r.receivedAt >= revokedAt && (r.credentialSha256 === sha(keyA0) || r.status === 401),
        );
      assert.deepEqual(
        late.map((r) => r.status),
        [],
        'a connector still used the revoked key',
      );

      // 3. Disable the second account: its key goes out of use within seconds.
      const t3 = Date.now();
      const dis = await admin('POST', `providers/${PROVIDER}/accounts/${accountB}/disable`);
      assert.equal(dis.status, 200, dis.text);
      assert.equal(dis.json['status'], 'disabled');
      await sleep(4000);
      const stillB = upstream
        .requests()
        .filter((r) => r.credentialSha256 === sha(keyB) && r.receivedAt > t3 + 3000);
      assert.equal(stillB.length, 0, 'the disabled account is still used');
      const usedA1 = upstream
        .requests()
        .filter((r) => r.credentialSha256 === sha(keyA1) && r.receivedAt > t3 + 3000);
      assert.ok(usedA1.length > 0, 'the remaining account serves');
    } finally {
      stop = true;
      await load;
    }
    t.diagnostic(
      `served ${served.unary} unary and ${served.stream} streamed requests; ` +
        `the second account used ${timings.added} ms after its create call was sent, the rotated key ${timings.rotated} ms after the rotate call was sent`,
    );
    assert.deepEqual(failures, [], 'failed requests');
    assert.ok(served.unary >= 10 && served.stream >= 10, JSON.stringify(served));
    assert.deepEqual(pids(), before, 'no service restarted');

    // The usage events name the accounts that served (never a secret).
    const ids = [...new Set(generations)].slice(-60);
    const rows = await eventually(async () => {
      const r = await db.query<{ event: UsageEventV1 }>(
        'SELECT event FROM billing.usage_events WHERE generation_id = ANY($1)',
        [ids],
      );
      return r.rows.length >= ids.length - 5 ? r.rows : undefined;
    }, 'the usage events of the traffic');
    const accounts = new Set(rows.map((r) => r.event.accountId));
    assert.ok(accounts.has(accountA), `accounts in usage events: ${[...accounts].join(', ')}`);
    for (const r of rows)
      assert.equal(r.event.attempts.find((a) => a.served)?.accountId, r.event.accountId);
    const view = await admin('GET', `providers/${PROVIDER}/accounts/${accountA}`);
    // An account's health in the admin API is its key pool's on the connectors; a fused gateway
    // keeps its own pool (its use shows in the usage events above, with the account's id).
    if (ctx().transport === 'kafka')
      assert.ok((view.json['health'] as { requests: number }).requests > 0);
  });

  test('enable and delete', async () => {
    const en = await admin('POST', `providers/${PROVIDER}/accounts/${accountB}/enable`);
    assert.equal(en.json['status'], 'active');
    const del = await admin('DELETE', `providers/${PROVIDER}/accounts/${accountB}`);
    assert.deepEqual(del.json, { id: accountB, provider: PROVIDER, deleted: true });
    assert.equal((await admin('GET', `providers/${PROVIDER}/accounts/${accountB}`)).status, 404);
    const patched = await admin('PATCH', `providers/${PROVIDER}/accounts/${accountA}`, {
      weight: 4,
      label: 'primary',
    });
    assert.deepEqual([patched.json['weight'], patched.json['label']], [4, 'primary']);
    assert.equal(
      (await chat({ model: MODEL, messages: [{ role: 'user', content: 'still served' }] })).status,
      200,
    );
  });
});

describe('bulk catalog changes', () => {
  const bulkProvider = `bulk-${suffix}`;
  const models = Array.from({ length: 40 }, (_, i) => `turnpike/bulk-${suffix}-${i}`);

  after(async () => {
    await admin('POST', 'catalog/bulk', { delete: { models } });
  });

  test('a document with errors: every error with its path, and nothing changed', async () => {
    const r = await admin('POST', 'catalog/bulk', {
      providers: [{ id: bulkProvider, name: 'Bulk', kind: 'openai' }],
      models: [
        {
          id: models[0],
          name: 'ok',
          context_length: 100,
          endpoints: [{ ...ENDPOINT, provider: bulkProvider }],
        },
        { id: models[1], name: 'bad', context_length: -1 },
        {
          id: models[2],
          name: 'ref',
          context_length: 100,
          endpoints: [{ ...ENDPOINT, provider: 'nowhere' }],
        },
      ],
    });
    assert.equal(r.status, 400, r.text);
    assert.equal(r.json.error?.code, 'invalid_catalog_document');
    const errs = r.json.error!.metadata!['errors'] as Array<{ path: string }>;
    assert.deepEqual(errs.map((e) => e.path).sort(), [
      'models[1].context_length',
      'models[2].endpoints[0].provider',
    ]);
    assert.equal(
      (await admin('GET', `catalog/models/${models[0]}`)).status,
      404,
      'nothing applied',
    );
  });

  test('many models and endpoints in one call, applied and republished at once; warned about', async () => {
    const doc = {
      providers: [{ id: bulkProvider, name: 'Bulk', kind: 'openai' }],
      models: models.map((id, i) => ({
        id,
        name: `Bulk ${i}`,
        context_length: 8192,
        endpoints: [
          { ...ENDPOINT, provider: bulkProvider },
          { ...ENDPOINT, provider: 'sim', pricing: { prompt: '1', completion: '2' } },
        ],
      })),
    };
    const dry = await admin('POST', 'catalog/bulk', { ...doc, dry_run: true });
    assert.equal(dry.status, 200, dry.text);
    assert.deepEqual([dry.json['applied'], dry.json['dry_run']], [false, true]);
    assert.equal((await admin('GET', `catalog/models/${models[0]}`)).status, 404);

    const r = await admin('POST', 'catalog/bulk', doc);
    assert.equal(r.status, 200, r.text);
    assert.equal(r.json['applied'], true);
    assert.deepEqual(r.json['counts'], {
      providers_upserted: 1,
      models_upserted: 40,
      endpoints_upserted: 80,
      models_deleted: 0,
      endpoints_deleted: 0,
    });
    assert.deepEqual(
      r.json.warnings?.map((w) => w.provider),
      [bulkProvider],
    );
    // Every model routable through the gateway (served by `sim`; the bulk provider has no account).
    await routable(models[39]!);
    const served = await chat({ model: models[7]!, messages: [{ role: 'user', content: 'bulk' }] });
    assert.equal(served.status, 200, served.text);
    assert.equal(served.json['provider'], 'sim');

    // Deletions in bulk: one endpoint, then models.
    const d = await admin('POST', 'catalog/bulk', {
      delete: {
        endpoints: [{ model: models[0], provider: bulkProvider }],
        models: models.slice(20),
      },
    });
    assert.equal(d.status, 200, d.text);
    assert.deepEqual(d.json['counts'], {
      providers_upserted: 0,
      models_upserted: 0,
      endpoints_upserted: 0,
      models_deleted: 20,
      endpoints_deleted: 1,
    });
    await eventually(
      async () =>
        (await fetch(`${ctx().gatewayUrl}/v1/models/${models[39]}/endpoints`)).status === 404,
      'the deleted models out of the routing table',
    );
    const m0 = await admin('GET', `catalog/models/${models[0]}`);
    assert.deepEqual(
      (m0.json['endpoints'] as Array<{ provider: string }>).map((e) => e.provider),
      ['sim'],
    );
  });

  test('size bounded', async () => {
    const r = await admin('POST', 'catalog/bulk', {
      delete: { models: Array.from({ length: 2001 }, (_, i) => `a/m${i}`) },
    });
    assert.equal(r.status, 400);
  });
});

describe('secrets', () => {
  test('no provider secret of the run in any log file, exported span, Kafka segment or Postgres file', async () => {
    // Every provider secret the run used: the simulators' bootstrap keys, the unreachable
    // upstream's, and every key this suite created, rotated or was refused.
    const all = [
      ...ctx().simulators.map((s) => s.apiKey),
      ...(ctx().downUpstream.apiKey ? [ctx().downUpstream.apiKey!] : []),
      ...secrets,
    ];
    assert.ok(all.length >= 10);
    // Flush what is in flight: spans (200 ms batches), Postgres pages.
    await sleep(1500);
    await db.query('CHECKPOINT');
    const files = (dir: string): string[] =>
      readdirSync(dir, { withFileTypes: true }).flatMap((d) => {
        const p = path.join(dir, d.name);
        return d.isDirectory() ? files(p) : d.isFile() ? [p] : [];
      });
    const logs = files(path.join(stateDir(), 'logs'));
    const data = [
      ...files(path.join(stateDir(), 'data', 'kafka')),
      ...files(path.join(stateDir(), 'data', 'postgres')),
    ];
    const scanned = [...logs, ctx().spansFile, ...data];
    assert.ok(logs.some((f) => f.endsWith('connector-1.log')) && logs.length >= 8, logs.join(', '));
    const needles = all.map((s) => Buffer.from(s));
    const hits: string[] = [];
    let bytes = 0;
    for (const f of scanned) {
      const st = statSync(f);
      if (st.size === 0) continue;
      const buf = readFileSync(f);
      bytes += buf.length;
      for (const n of needles)
        if (buf.includes(n))
          hits.push(`${path.relative(stateDir(), f)}: ${n.toString().slice(0, 10)}…`);
    }
    assert.deepEqual(hits, []);
    // The scan saw the run: the spans and the logs are not empty, and the ciphertext is there.
    assert.ok(statSync(ctx().spansFile).size > 0);
    assert.ok(bytes > 1_000_000, `${bytes} bytes scanned`);
    const sealed = await db.query<{ n: number }>(
      'SELECT count(*)::int AS n FROM connector.provider_accounts',
    );
    assert.ok(sealed.rows[0]!.n >= 5);
  });
});
