/**
 * Failover that rescues the answer (issue 9), on the real platform, against the simulators'
 * fault knobs. Every test compares the full text the client received with the answer the
 * simulators produce for the prompt (`expectedContent`: a continuation carries on from the word
 * after its prefill's last one, so prefix + continuation is exactly that answer).
 *
 * - A stream cut after N tokens, with a fallback that continues a prefill (the Anthropic wire):
 *   one whole answer, billed as stated in docs/architecture.md ("Money").
 * - The same with only a fallback that does not (an `openai` endpoint): the in-band error,
 *   nothing of another answer mixed in.
 * - A 6 s stall with `provider.stall_timeout_ms: 2000`: resumed within the stall limit plus the
 *   fallback's first token.
 * - A single 500, and a 429 with `Retry-After: 1`, with no other endpoint: served by a retry of
 *   the same endpoint.
 * - A context-length error: the fallback model the request named serves, though its declared
 *   window is no larger.
 *
 * Simulators are changed through their control API for one test and restored in `finally`.
 */
import assert from 'node:assert/strict';
import { after, afterEach, before, describe, test } from 'node:test';
import pg from 'pg';
import { countTokens } from '@turnpike/providers';
import { promptWords } from '@turnpike/simulators';
import { expectedContent, seedTenant } from '@turnpike/testing';
import { ctx, eventually, marker, storedUsageEvent, type SimRecord } from '../support/context.js';

type Json = Record<string, unknown>;

const PRIMARY = 'turnpike/sim-small'; // served by `sim` (kind openai: no prefill)
const PREFILL = 'turnpike/sim-anthropic'; // served by `sim-anthropic` (kind anthropic: prefill)
const NO_PREFILL = 'turnpike/sim-alt'; // served by `sim-c` (kind openai)
/** Prices, micro-units per million tokens (tests/fixtures/test.catalog.json, native-models.ts). */
const PRICE = {
  [PRIMARY]: { prompt: 150_000, completion: 600_000 },
  [PREFILL]: { prompt: 1_000_000, completion: 4_000_000 },
} as const;

let db: pg.Client;
let tenant: { tenantId: string; keyId: string; key: string };
const gateway = () => ctx().gatewayUrls[0]!;
const admin = { authorization: `Bearer ${ctx().adminToken}` };

before(async () => {
  db = new pg.Client({ connectionString: ctx().databaseUrl });
  await db.connect();
  const id = `failover-${Math.random().toString(36).slice(2, 8)}`;
  tenant = await seedTenant(gateway(), ctx().adminToken, { id, name: 'Failover' });
});
after(async () => {
  await db.end();
});

// --- simulators ----------------------------------------------------------------------------------

const touched = new Set<string>();

async function simConfig(id: string, knobs: Json): Promise<void> {
  const sim = ctx().simulators.find((s) => s.id === id);
  assert.ok(sim, `simulator ${id} runs (native models: ${ctx().simulators.map((s) => s.id)})`);
  touched.add(id);
  const res = await fetch(`${sim.url.replace(/\/v1$/, '')}/__sim/config`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(knobs),
  });
  assert.equal(res.status, 200, await res.text());
}

afterEach(async () => {
  for (const id of touched) {
    const sim = ctx().simulators.find((s) => s.id === id)!;
    await fetch(`${sim.url.replace(/\/v1$/, '')}/__sim/reset`, { method: 'POST' });
  }
  touched.clear();
});

/** The requests a simulator received whose body mentions `text`. */
async function received(id: string, text: string): Promise<SimRecord[]> {
  const sim = ctx().simulators.find((s) => s.id === id)!;
  const res = await fetch(`${sim.url.replace(/\/v1$/, '')}/__sim/requests`);
  const { data } = (await res.json()) as { data: SimRecord[] };
  return data.filter((r) => JSON.stringify(r.body).includes(text));
}

// --- the gateway ----------------------------------------------------------------------------------

interface Streamed {
  status: number;
  generationId: string;
  /** Each SSE data event with the time it arrived (ms since the request was sent). */
  events: Array<{ at: number; data: Json }>;
  done: boolean;
  /** Content of choice 0, as the client folds it. */
  text: string;
  /** Arrival time of each content delta. */
  contentAt: number[];
  error: Json | null;
  usage: Json | null;
}

async function stream(body: Json): Promise<Streamed> {
  const t0 = Date.now();
  const res = await fetch(`${gateway()}/v1/chat/completions`, {
    method: 'POST',
    headers: { authorization: `Bearer ${tenant.key}`, 'content-type': 'application/json' },
    body: JSON.stringify({ ...body, stream: true, stream_options: { include_usage: true } }),
  });
  const out: Streamed = {
    status: res.status,
    generationId: res.headers.get('x-generation-id') ?? '',
    events: [],
    done: false,
    text: '',
    contentAt: [],
    error: null,
    usage: null,
  };
  if (res.status !== 200) {
    out.error = ((await res.json()) as { error: Json }).error;
    return out;
  }
  const decoder = new TextDecoder();
  let buf = '';
  for await (const bytes of res.body!) {
    buf += decoder.decode(bytes as Uint8Array, { stream: true });
    for (let i = buf.indexOf('\n\n'); i >= 0; i = buf.indexOf('\n\n')) {
      const event = buf.slice(0, i);
      buf = buf.slice(i + 2);
      if (!event.startsWith('data: ')) continue;
      const payload = event.slice('data: '.length);
      if (payload === '[DONE]') {
        out.done = true;
        continue;
      }
      const at = Date.now() - t0;
      const data = JSON.parse(payload) as Json;
      out.events.push({ at, data });
      if (data['error']) out.error = data['error'] as Json;
      if (data['usage']) out.usage = data['usage'] as Json;
      const choice = (data['choices'] as Json[] | undefined)?.[0];
      const content = (choice?.['delta'] as Json | undefined)?.['content'];
      if (typeof content === 'string' && content !== '') {
        out.text += content;
        out.contentAt.push(at);
      }
    }
  }
  return out;
}

async function unary(body: Json): Promise<{ status: number; json: Json; ms: number }> {
  const t0 = Date.now();
  const res = await fetch(`${gateway()}/v1/chat/completions`, {
    method: 'POST',
    headers: { authorization: `Bearer ${tenant.key}`, 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  return { status: res.status, json: (await res.json()) as Json, ms: Date.now() - t0 };
}

const user = (content: string) => [{ role: 'user', content }];

/** A prompt of distinct words (the simulators echo them): `marker w1 w2 ... [[sim ...]]`. */
function prompt(label: string, knobs: string): { text: string; m: string } {
  const m = marker(label);
  const words = 'amber basil cedar dune ember fjord grove heron iris juniper kelp lotus';
  return { m, text: `${m} ${words} [[sim ${knobs}]]` };
}

const usageEvent = (generationId: string) => storedUsageEvent(db, generationId);

async function generation(generationId: string): Promise<Json> {
  return eventually(async () => {
    const res = await fetch(`${gateway()}/v1/generation?id=${generationId}`, {
      headers: { authorization: `Bearer ${tenant.key}` },
    });
    return res.status === 200 ? ((await res.json()) as { data: Json }).data : undefined;
  }, `the generation record of ${generationId}`);
}

/** The ledger's entries of a generation, summed per account. */
async function ledger(generationId: string): Promise<Record<string, number>> {
  const r = await db.query<{ account: string; amount: string }>(
    `SELECT e.account, sum(e.amount)::bigint AS amount FROM billing.entries e
       JOIN billing.transactions t ON t.id = e.txn_id WHERE t.ref = $1 GROUP BY e.account`,
    [`usage:${generationId}`],
  );
  return Object.fromEntries(r.rows.map((x) => [x.account, Number(x.amount)]));
}

async function putMarkup(rule: Json): Promise<void> {
  const res = await fetch(`${gateway()}/admin/markups`, {
    method: 'PUT',
    headers: { ...admin, 'content-type': 'application/json' },
    body: JSON.stringify(rule),
  });
  assert.equal(res.status, 200, await res.text());
  await eventually(async () => {
    const list = await fetch(`${gateway()}/admin/markups`, { headers: admin });
    const { data } = (await list.json()) as { data: Json[] };
    return data.some(
      (x) =>
        x['tenant_id'] === rule['tenant_id'] &&
        x['model'] === (rule['model'] ?? null) &&
        x['percent_bps'] === rule['percent_bps'],
    );
  }, 'the gateway to price with the markup rule');
}

/**
 * Waits until the primary's endpoint is healthy at the gateway: earlier suites and the cuts of
 * these tests leave failures, Retry-Afters and open circuits on `sim`, which would rank it after
 * the fallback. A success closes a circuit; a Retry-After is waited out.
 */
async function settle(): Promise<void> {
  const until = Date.now() + 60_000;
  for (;;) {
    const res = await fetch(`${gateway()}/v1/models/${PRIMARY}/endpoints`);
    const { data } = (await res.json()) as { data: { endpoints: Array<{ status: number }> } };
    const status = data.endpoints.map((e) => e.status);
    if (status.every((x) => x === 0)) return;
    if (Date.now() > until) throw new Error(`${PRIMARY} stays unhealthy: ${status.join(',')}`);
    if (!status.includes(-2))
      await unary({ model: PRIMARY, messages: user(`${marker('settle')} [[sim tokens=1]]`) });
    await new Promise((r) => setTimeout(r, 200));
  }
}

const withMarkup = (upstream: number, bps: number, fixed: number) =>
  upstream + Math.ceil((upstream * bps) / 10_000) + fixed;
const costOf = (t: { prompt: number; completion: number }, p: (typeof PRICE)[keyof typeof PRICE]) =>
  Math.ceil((t.prompt * p.prompt + t.completion * p.completion) / 1_000_000);
const micros = (usd: unknown) => Math.round((usd as number) * 1_000_000);

// --- the tests ------------------------------------------------------------------------------------

describe('mid-stream recovery', () => {
  test('a stream cut after 5 tokens continues on a prefill-capable fallback: one whole answer, billed as stated', async () => {
    await settle();
    // 10 % + a $0.0001 fee on everything of this tenant, 25 % on the fallback model.
    await putMarkup({ tenant_id: tenant.tenantId, percent_bps: 1_000, fixed_fee_micros: 100 });
    await putMarkup({ tenant_id: tenant.tenantId, model: PREFILL, percent_bps: 2_500 });
    await simConfig('sim', { cut_after: 5 });
    const { text, m } = prompt('cut', 'tokens=20');
    const r = await stream({ model: PRIMARY, models: [PREFILL], messages: user(text) });

    assert.equal(r.status, 200);
    assert.equal(r.error, null, JSON.stringify(r.error));
    assert.equal(r.done, true);
    assert.equal(r.text, expectedContent(text, 20), 'one whole answer, nothing repeated or lost');
    // The chunks name what produced them; the end of the answer, and the usage, the fallback.
    const models = r.events.filter((e) => (e.data['choices'] as Json[]).length > 0);
    assert.equal(models[0]!.data['provider'], 'sim');
    assert.equal(r.events.at(-1)!.data['model'], PREFILL);
    assert.equal(r.events.at(-1)!.data['provider'], 'sim-anthropic');

    // The continuation carried what was delivered as its prefill.
    const [cont] = await received('sim-anthropic', m);
    assert.equal(cont?.parsed?.prefill, expectedContent(text, 5));
    assert.equal((await received('sim', m))[0]?.outcome, 'cut');

    // Billing: the first attempt's prompt once, and the completion delivered by each attempt
    // at its own price and markup; the continuation's prompt is ours.
    const g = await generation(r.generationId);
    const attempts = g['provider_responses'] as Json[];
    assert.deepEqual(
      attempts.map((a) => [a['role'], a['provider_name'], a['served'], a['outcome']]),
      [
        ['primary', 'sim', true, 'error'],
        ['continuation', 'sim-anthropic', true, 'success'],
      ],
    );
    const [a1, a2] = attempts as [Json, Json];
    assert.equal(a1['billed_tokens_prompt'], a1['native_tokens_prompt']);
    assert.ok((a1['billed_tokens_completion'] as number) > 0);
    assert.equal(a2['billed_tokens_prompt'], 0, 'the continuation prompt is not billed');
    assert.ok((a2['native_tokens_prompt'] as number) > (a1['native_tokens_prompt'] as number));
    assert.equal(a2['billed_tokens_completion'], 15, 'the 15 tokens the continuation delivered');
    const charged1 = withMarkup(
      costOf(
        {
          prompt: a1['billed_tokens_prompt'] as number,
          completion: a1['billed_tokens_completion'] as number,
        },
        PRICE[PRIMARY],
      ),
      1_000,
      100,
    );
    const charged2 = withMarkup(costOf({ prompt: 0, completion: 15 }, PRICE[PREFILL]), 2_500, 0);
    assert.deepEqual(
      [a1['total_cost_micros'], a2['total_cost_micros']],
      [charged1, charged2],
      'each producer at its own price and markup, the fee once',
    );
    assert.equal(g['total_cost_micros'], charged1 + charged2);
    assert.equal(micros(r.usage?.['cost']), charged1 + charged2, 'usage.cost is the sum charged');
    assert.equal(r.usage?.['completion_tokens'], (a1['billed_tokens_completion'] as number) + 15);
    assert.equal(r.usage?.['prompt_tokens'], a1['billed_tokens_prompt']);

    // The ledger: the tenant pays the sum; each provider is owed all it consumed; what nobody
    // pays (the continuation's prompt, output never delivered) is our expense.
    const e = await usageEvent(r.generationId);
    const owed = (p: string) =>
      e.attempts.filter((a) => a.provider === p).reduce((s, a) => s + a.upstreamMicros, 0);
    const unbilled = e.attempts.reduce((s, a) => s + a.upstreamMicros - a.billedUpstreamMicros, 0);
    const entries = await eventually(async () => {
      const x = await ledger(r.generationId);
      return Object.keys(x).length > 0 ? x : undefined;
    }, 'the generation to be booked');
    assert.equal(entries[`tenant:${tenant.tenantId}:usage`], charged1 + charged2);
    assert.equal(entries['platform:cost:provider:sim'], -owed('sim'));
    assert.equal(entries['platform:cost:provider:sim-anthropic'], -owed('sim-anthropic'));
    const cont2 = e.attempts[1]!;
    assert.equal(
      cont2.upstreamMicros - cont2.billedUpstreamMicros,
      costOf({ prompt: cont2.tokens.prompt, completion: 0 }, PRICE[PREFILL]),
      "the continuation's prompt (the original and the prefill) is our cost",
    );
    assert.ok(unbilled > 0);
    assert.equal(entries['platform:expense:failed_attempts'], unbilled);
    assert.equal(
      Object.values(entries).reduce((s, v) => s + v, 0),
      0,
      'the transaction balances',
    );
    await deleteTenantMarkups();
  });

  test('a continuation that repeats the tail of what was delivered has the repeat dropped', async () => {
    await settle();
    await simConfig('sim', { cut_after: 6 });
    await simConfig('sim-anthropic', { prefill_repeat: 3 });
    const { text, m } = prompt('repeat', 'tokens=12');
    const r = await stream({ model: PRIMARY, models: [PREFILL], messages: user(text) });
    assert.equal(r.error, null, JSON.stringify(r.error));
    assert.equal(r.text, expectedContent(text, 12));
    // The simulator did repeat itself: its answer began with the prefill's last three words.
    const [cont] = await received('sim-anthropic', m);
    assert.equal(cont?.tokensSent, 12 - 6 + 3);
    // Billed: what it delivered, not what it repeated.
    const repeated = ` ${promptWords(text).slice(3, 6).join(' ')}`;
    const e = await usageEvent(r.generationId);
    const last = e.attempts.at(-1)!;
    assert.deepEqual([last.role, last.tokens.completion], ['continuation', 9]);
    assert.equal(last.billedTokens.completion, 9 - countTokens(repeated));
  });

  test('the only fallback cannot continue a prefill: the in-band error, nothing mixed in', async () => {
    await settle();
    await simConfig('sim', { cut_after: 5 });
    const { text, m } = prompt('noprefill', 'tokens=20');
    const r = await stream({ model: PRIMARY, models: [NO_PREFILL], messages: user(text) });
    assert.equal(r.status, 200);
    assert.ok(r.error, 'the stream ends with an error chunk');
    assert.equal(r.done, true, 'then [DONE]');
    assert.equal(r.text, expectedContent(text, 5), 'exactly what the cut attempt delivered');
    assert.deepEqual(await received('sim-c', m), [], 'no second answer was started');
    const e = await usageEvent(r.generationId);
    assert.equal(e.status, 'error');
    assert.equal(e.cost.chargedMicros, 0);
    assert.deepEqual(
      e.attempts.map((a) => [a.role, a.provider, a.served]),
      [['primary', 'sim', true]],
    );
  });

  test('a 6 s stall with stall_timeout_ms 2000: resumed within the stall limit plus the fallback TTFT', async (t) => {
    await settle();
    const STALL_LIMIT = 2000;
    const FALLBACK_TTFT = 300;
    await simConfig('sim', { stall_ms: 6000, stall_after: 5 });
    await simConfig('sim-anthropic', { ttft_ms: FALLBACK_TTFT });
    const { text } = prompt('stall', 'tokens=12');
    const r = await stream({
      model: PRIMARY,
      models: [PREFILL],
      provider: { stall_timeout_ms: STALL_LIMIT },
      messages: user(text),
    });
    assert.equal(r.error, null, JSON.stringify(r.error));
    assert.equal(r.text, expectedContent(text, 12));
    // The silence the client saw: from the 5th token to the first of the continuation.
    const gap = r.contentAt[5]! - r.contentAt[4]!;
    // Within the limit plus the fallback's first token, with room for a busy machine (the
    // Kafka hops, the gateway's backstop grace); the stall itself would have been 6 s.
    const bound = STALL_LIMIT + FALLBACK_TTFT + 2000;
    t.diagnostic(`silence seen by the client: ${gap} ms (limit ${STALL_LIMIT}, bound ${bound})`);
    assert.ok(gap >= STALL_LIMIT - 100, `resumed after ${gap} ms: not before the limit`);
    assert.ok(gap <= bound, `resumed after ${gap} ms (bound ${bound} ms)`);
    const e = await usageEvent(r.generationId);
    assert.deepEqual(
      e.attempts.map((a) => [a.role, a.provider, a.outcome]),
      [
        ['primary', 'sim', 'timeout'],
        ['continuation', 'sim-anthropic', 'success'],
      ],
    );
    assert.equal(e.attempts[0]!.errorCode, 'upstream_stalled');
  });
});

describe('same-endpoint retry', () => {
  test('a single 500 with no other endpoint is served by the retry', async () => {
    const { text, m } = prompt('r500', 'status=500 fault_times=1 tokens=6');
    const r = await unary({ model: PRIMARY, messages: user(text) });
    assert.equal(r.status, 200, JSON.stringify(r.json));
    const msg = (r.json['choices'] as Json[])[0]!['message'] as Json;
    assert.equal(msg['content'], expectedContent(text, 6));
    assert.deepEqual(
      (await received('sim', m)).map((x) => x.status),
      [500, 200],
    );
    const e = await usageEvent(r.json['id'] as string);
    assert.deepEqual(
      e.attempts.map((a) => [a.role, a.outcome, a.upstreamStatus, a.served]),
      [
        ['primary', 'error', 500, false],
        ['retry', 'success', 200, true],
      ],
    );
    assert.ok(e.cost.chargedMicros > 0);
  });

  test('a 429 with Retry-After: 1 and no other endpoint is served after about a second', async (t) => {
    const { text, m } = prompt('r429', 'status=429 retry_after=1 fault_times=1 tokens=6');
    const t0 = Date.now();
    const r = await stream({ model: PRIMARY, messages: user(text) });
    assert.equal(r.status, 200, JSON.stringify(r.error));
    assert.equal(r.error, null);
    assert.equal(r.text, expectedContent(text, 6));
    const firstToken = r.contentAt[0]!;
    t.diagnostic(`first token after ${firstToken} ms`);
    assert.ok(firstToken >= 1000, `first token after ${firstToken} ms: the advertised wait`);
    assert.ok(Date.now() - t0 < 5000, `served in ${Date.now() - t0} ms`);
    const recs = await received('sim', m);
    assert.deepEqual(
      recs.map((x) => x.status),
      [429, 200],
    );
    assert.ok(recs[1]!.receivedAt - recs[0]!.receivedAt >= 1000, 'the retry waited');
    const e = await usageEvent(r.generationId);
    assert.deepEqual(
      e.attempts.map((a) => a.role),
      ['primary', 'retry'],
    );
  });
});

describe('context length', () => {
  test('after a context-length error the fallback model the request named serves, with an equal window', async () => {
    // About 900 tokens: more than sim-gpt-nano holds (512), within both models' declared 8192.
    const m = marker('ctx');
    const text = `${m} ${'amber basil cedar dune '.repeat(200)} [[sim tokens=4]]`;
    const r = await unary({
      model: 'turnpike/sim-overstated',
      models: [NO_PREFILL],
      messages: user(text),
    });
    assert.equal(r.status, 200, JSON.stringify(r.json));
    assert.equal(r.json['model'], NO_PREFILL);
    assert.equal(r.json['provider'], 'sim-c');
    const msg = (r.json['choices'] as Json[])[0]!['message'] as Json;
    assert.equal(msg['content'], expectedContent(text, 4));
    const e = await usageEvent(r.json['id'] as string);
    assert.deepEqual(
      e.attempts.map((a) => [a.role, a.model, a.errorCode]),
      [
        ['primary', 'turnpike/sim-overstated', 'context_length_exceeded'],
        ['fallback', NO_PREFILL, null],
      ],
    );
  });
});

async function deleteTenantMarkups(): Promise<void> {
  for (const q of [`tenant_id=${tenant.tenantId}`, `tenant_id=${tenant.tenantId}&model=${PREFILL}`])
    await fetch(`${gateway()}/admin/markups?${q}`, { method: 'DELETE', headers: admin });
}
