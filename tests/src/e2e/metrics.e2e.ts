/**
 * Prometheus metrics on the running platform: every service's `/metrics` is scraped before and
 * after traffic driven through the gateway, and each family must be on the right service with
 * values that moved with that traffic: HTTP requests and their latency, in-flight streams and
 * generations (seen while a slow stream is open), upstream errors and an open circuit (a
 * simulator made to fail), time to first token, and Kafka lag and the ledger's lag back at 0
 * once the traffic stops.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { expectedContent } from '@turnpike/testing';
import { ctx, marker } from '../support/context.js';

const MULTI = 'turnpike/sim-multi';
const FAILING = 'sim-c';
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

type Samples = Map<string, number>;

function serviceUrl(name: string): string {
  const s = ctx().services.find((x) => x.name === name);
  assert.ok(s, `service ${name} is on the platform`);
  return s.url;
}

/** One scrape, as Prometheus reads it: `name{labels}` to value. */
async function scrape(name: string): Promise<{ text: string; samples: Samples }> {
  const res = await fetch(`${serviceUrl(name)}/metrics`);
  assert.equal(res.status, 200);
  assert.match(res.headers.get('content-type') ?? '', /^text\/plain; version=0\.0\.4/);
  const text = await res.text();
  const samples: Samples = new Map();
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const i = line.lastIndexOf(' ');
    samples.set(line.slice(0, i), Number(line.slice(i + 1)));
  }
  return { text, samples };
}

/** The sum of the samples of `family` whose labels include every one of `labels`. */
function sum(s: Samples, family: string, labels: Record<string, string> = {}): number {
  let n = 0;
  for (const [key, v] of s) {
    const brace = key.indexOf('{');
    const name = brace < 0 ? key : key.slice(0, brace);
    if (name !== family) continue;
    if (Object.entries(labels).every(([k, val]) => key.includes(`${k}="${val}"`))) n += v;
  }
  return n;
}

function hasFamily(text: string, family: string, type: string): boolean {
  return text.includes(`# TYPE ${family} ${type}\n`);
}

async function chat(
  content: string,
  opts: { stream?: boolean; only?: string; model?: string } = {},
): Promise<{ status: number; text: string }> {
  const res = await fetch(`${ctx().gatewayUrl}/v1/chat/completions`, {
    method: 'POST',
    headers: {
      authorization: `Bearer ${ctx().tenants[0]!.key}`,
      'content-type': 'application/json',
    },
    body: JSON.stringify({
      model: opts.model ?? 'turnpike/sim-small',
      messages: [{ role: 'user', content }],
      ...(opts.stream ? { stream: true } : {}),
      ...(opts.only ? { provider: { only: [opts.only], allow_fallbacks: false } } : {}),
    }),
  });
  return { status: res.status, text: await res.text() };
}

/** The text of an SSE answer's content deltas. */
function streamedContent(sse: string): string {
  let content = '';
  for (const line of sse.split('\n')) {
    if (!line.startsWith('data: ') || line === 'data: [DONE]') continue;
    const chunk = JSON.parse(line.slice(6)) as {
      choices?: Array<{ delta?: { content?: string } }>;
    };
    content += chunk.choices?.[0]?.delta?.content ?? '';
  }
  return content;
}

async function simControl(id: string, path: string, body?: unknown): Promise<void> {
  const sim = ctx().simulators.find((s) => s.id === id)!;
  const res = await fetch(`${sim.url}/__sim/${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  assert.equal(res.status, 200, await res.text());
}

/** The circuit sample of MULTI's endpoint on the failing simulator. */
const isFailingCircuit = (key: string): boolean =>
  key.startsWith('turnpike_circuit_state{') &&
  key.includes(`provider="${FAILING}"`) &&
  key.includes(`endpoint="${MULTI}`);

async function until<T>(what: string, fn: () => Promise<T | null>, ms = 20_000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (v !== null) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(100);
  }
}

describe('Prometheus metrics move with traffic', () => {
  test('HTTP, generations, upstream and Kafka families on the right services', async () => {
    const services = ['gateway-1', 'connector-1', 'billing-1', 'router-1', 'analytics-1'];
    const before = new Map(
      await Promise.all(services.map(async (s) => [s, await scrape(s)] as const)),
    );
    for (const [name, { text }] of before) {
      for (const [family, type] of [
        ['turnpike_http_requests_total', 'counter'],
        ['turnpike_http_request_duration_seconds', 'histogram'],
        ['turnpike_http_requests_in_flight', 'gauge'],
        ['turnpike_kafka_consumer_lag_messages', 'gauge'],
        ['turnpike_kafka_producer_queued_messages', 'gauge'],
        ['process_resident_memory_bytes', 'gauge'],
      ] as const)
        assert.ok(hasFamily(text, family, type), `${name} exports ${family} (${type})`);
    }

    // A slow stream held open while the in-flight gauges are read.
    const slowText = `metrics slow ${marker('ms')}`;
    const slow = chat(`${slowText} [[sim tokens=30 tps=10]]`, { stream: true });
    const during = await until(
      'the slow stream to be in flight on the gateway and the connector',
      async () => {
        const [g, c] = await Promise.all([scrape('gateway-1'), scrape('connector-1')]);
        return sum(g.samples, 'turnpike_gateway_generations_in_flight', { stream: 'true' }) >= 1 &&
          sum(c.samples, 'turnpike_connector_generations_in_flight') >= 1
          ? { g, c }
          : null;
      },
    );
    assert.ok(
      sum(during.g.samples, 'turnpike_http_requests_in_flight') >= 2,
      'the stream and the scrape',
    );

    const unary = 6;
    const streams = 4;
    const texts: string[] = [];
    const replies = await Promise.all([
      ...Array.from({ length: unary }, (_, i) => {
        const t = `metrics unary ${i} ${marker('mu')}`;
        texts.push(t);
        return chat(t);
      }),
      ...Array.from({ length: streams }, (_, i) =>
        chat(`metrics stream ${i} ${marker('mst')}`, { stream: true }),
      ),
    ]);
    for (const r of replies) assert.equal(r.status, 200, r.text.slice(0, 300));
    const slowReply = await slow;
    assert.equal(slowReply.status, 200);
    assert.ok(slowReply.text.endsWith('data: [DONE]\n\n'));
    assert.equal(streamedContent(slowReply.text), expectedContent(slowText, 30));

    const sent = unary + streams + 1;
    const g0 = before.get('gateway-1')!.samples;
    const g1 = (await scrape('gateway-1')).samples;
    const route = { route: '/v1/chat/completions', method: 'POST' };
    const moved = (a: Samples, b: Samples, family: string, labels: Record<string, string> = {}) =>
      sum(b, family, labels) - sum(a, family, labels);
    assert.ok(
      moved(g0, g1, 'turnpike_http_requests_total', { ...route, status: '200' }) >= sent,
      'every request counted by route, method and status',
    );
    assert.ok(
      moved(g0, g1, 'turnpike_http_request_duration_seconds_count', route) >= sent,
      'and timed',
    );
    // The slow stream took at least its 3 s: the sum of durations moved by at least that.
    assert.ok(moved(g0, g1, 'turnpike_http_request_duration_seconds_sum', route) >= 2.5);
    assert.ok(
      moved(g0, g1, 'turnpike_gateway_generations_total', { stream: 'true', status: '200' }) >=
        streams + 1,
    );
    assert.ok(
      moved(g0, g1, 'turnpike_gateway_generations_total', { stream: 'false', status: '200' }) >=
        unary,
    );
    assert.equal(sum(g1, 'turnpike_gateway_generations_in_flight'), 0, 'nothing left in flight');

    const c0 = before.get('connector-1')!.samples;
    const c1 = (await scrape('connector-1')).samples;
    assert.ok(
      moved(c0, c1, 'turnpike_upstream_ttft_seconds_count', { provider: 'sim' }) >= sent,
      'a first-token time per attempt',
    );
    assert.equal(sum(c1, 'turnpike_connector_generations_in_flight'), 0);

    // Lag: every committing group back at 0 once the traffic stopped, the ledger's too.
    const lagZero = await until('the consumer groups and the ledger to catch up', async () => {
      const scrapes = await Promise.all(['connector-1', 'billing-1', 'analytics-1'].map(scrape));
      const billing = scrapes[1]!.samples;
      const total = scrapes.reduce(
        (n, s) => n + sum(s.samples, 'turnpike_kafka_consumer_lag_messages'),
        0,
      );
      return total === 0 && sum(billing, 'turnpike_billing_ledger_lag_messages') === 0
        ? scrapes
        : null;
    });
    const [conn, bill, analytics] = lagZero.map((s) => s.samples);
    // The groups are really there (a partition sample each), not an empty family.
    assert.ok(
      [...conn!.keys()].some(
        (k) => k.includes('group="connector"') && k.includes('topic="llm.requests.v1"'),
      ),
    );
    assert.ok(
      [...bill!.keys()].some(
        (k) => k.includes('group="billing-ledger"') && k.includes('topic="usage.events.v1"'),
      ),
    );
    assert.ok(
      [...analytics!.keys()].some((k) =>
        k.startsWith('turnpike_kafka_consumer_lag_messages{group="analytics-rollups"'),
      ),
    );
    assert.equal(sum(bill!, 'turnpike_billing_ledger_lag_seconds'), 0);
  });

  test('a failing simulator: upstream errors by provider and code, and its circuit open (2) on the gateway', async () => {
    const c0 = (await scrape('connector-1')).samples;
    await simControl(FAILING, 'config', { status: 500 });
    try {
      // More than the 5 consecutive failures that open a circuit.
      for (let i = 0; i < 6; i++) {
        const r = await chat(`metrics fail ${i} ${marker('mf')}`, { model: MULTI, only: FAILING });
        assert.notEqual(r.status, 200);
      }
      const open = await until(
        'the circuit to show open on the gateway',
        async () => {
          const g = (await scrape('gateway-1')).samples;
          return [...g].some(([k, v]) => isFailingCircuit(k) && v === 2) ? g : null;
        },
        10_000,
      );
      const key = [...open.keys()].find(isFailingCircuit);
      assert.equal(open.get(key!), 2, `${key} is open`);
      assert.equal(
        sum(open, 'turnpike_circuit_state', { provider: 'sim' }),
        0,
        'the others closed',
      );
      const c1 = (await scrape('connector-1')).samples;
      const errors =
        sum(c1, 'turnpike_upstream_errors_total', { provider: FAILING }) -
        sum(c0, 'turnpike_upstream_errors_total', { provider: FAILING });
      assert.ok(errors >= 5, `${errors} upstream errors counted for ${FAILING}`);
      assert.ok(
        [...c1.keys()].some(
          (k) => k.startsWith('turnpike_upstream_errors_total') && /code="[a-z_]+"/.test(k),
        ),
      );
    } finally {
      await simControl(FAILING, 'reset');
    }
    // Leave it healthy for the suites that follow: a success after the cool-down closes it.
    await until(
      'the circuit to close again',
      async () => {
        await chat(`metrics settle ${marker('ms')}`, { model: MULTI, only: FAILING });
        const g = await Promise.all(
          ctx().gatewayUrls.map(async (u) => (await fetch(`${u}/metrics`)).text()),
        );
        return g.every(
          (t) =>
            !new RegExp(`turnpike_circuit_state\\{[^}]*provider="${FAILING}"[^}]*\\} [12]`).test(t),
        )
          ? true
          : null;
      },
      40_000,
    );
  });
});
