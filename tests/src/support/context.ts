import { readFileSync } from 'node:fs';
import OpenAI from 'openai';
import type pg from 'pg';
import type { UsageEventV1 } from '@turnpike/contracts';

/** What the test runner started for this run, shared with every suite through a JSON file. */
export interface TestContext {
  /**
   * How `gatewayUrl`'s attempts reach the upstreams: `kafka` (split: through a connector) or
   * `inprocess` (a fused gateway). The transport suites run once with each (run-tests.ts).
   */
  transport: 'kafka' | 'inprocess';
  /**
   * The service instance that runs the attempts against the upstreams (its metrics count them):
   * `connector-1` behind a split gateway, the fused gateway itself otherwise.
   */
  attemptRunner: string;
  gatewayUrl: string;
  /** Every gateway replica of this transport (the first is `gatewayUrl`). */
  gatewayUrls: string[];
  adminToken: string;
  tenants: Array<{ tenantId: string; keyId: string; key: string }>;
  simulators: Array<{ id: string; url: string; apiKey: string }>;
  /** A provider account of the connector whose upstream refuses every connection. */
  downUpstream: { provider: string; url: string; apiKey?: string };
  services: Array<{ name: string; url: string; pid: number }>;
  kafkaBrokers: string;
  databaseUrl: string;
  spansFile: string;
  requestTimeoutMs: number;
  /** The connector's stall limit (`CONNECTOR_STALL_MS`) on this platform. */
  connectorStallMs: number;
  maxBodyBytes: number;
}

/** The connector's account whose upstream is down (not in the catalog: a suite adds it). */
export const DOWN_PROVIDER = 'sim-down';

let cached: TestContext | null = null;

/** The running platform's coordinates (set by `npm test`'s runner: tests/src/run-tests.ts). */
export function ctx(): TestContext {
  if (cached) return cached;
  const file = process.env['TURNPIKE_TEST_CONTEXT'];
  if (!file) throw new Error('TURNPIKE_TEST_CONTEXT is not set: run the suites with `npm test`.');
  cached = JSON.parse(readFileSync(file, 'utf8')) as TestContext;
  return cached;
}

/** The official OpenAI client pointed at the gateway, as a tenant would use it. */
export function client(tenant = 0, opts: { maxRetries?: number; timeout?: number } = {}): OpenAI {
  const c = ctx();
  return new OpenAI({
    baseURL: `${c.gatewayUrl}/v1`,
    apiKey: c.tenants[tenant]!.key,
    maxRetries: opts.maxRetries ?? 0,
    timeout: opts.timeout ?? 60_000,
  });
}

/** A sample of a service instance's `GET /metrics` (0 when absent). */
export async function metricValue(service: string, name: string, labels: string): Promise<number> {
  const url = ctx().services.find((s) => s.name === service)!.url;
  const text = await (await fetch(`${url}/metrics`)).text();
  const line = text.split('\n').find((l) => l.startsWith(`${name}{${labels}} `));
  return line === undefined ? 0 : Number(line.slice(line.lastIndexOf(' ') + 1));
}

/** A unique marker to find this test's requests in the simulator's log. */
export function marker(label: string): string {
  return `${label}-${Math.random().toString(36).slice(2, 10)}`;
}

export interface SimRecord {
  id: string;
  model: string;
  stream: boolean;
  outcome: 'completed' | 'aborted' | 'error' | 'cut' | 'reset' | 'in_progress';
  status: number;
  tokensSent: number;
  /** When the simulator wrote each step's tokens (epoch ms, sub-ms precision). */
  tokenTimes: number[];
  body: { messages?: Array<{ content?: unknown }> } & Record<string, unknown>;
  /** Epoch ms. */
  receivedAt: number;
  /** Epoch ms, once it ended. */
  endedAt?: number;
  /** What the simulator understood of the request (`prefill`: a trailing assistant message). */
  parsed?: { prefill?: string };
}

/** The simulator's request log, filtered to requests whose body mentions `text`. */
export async function simRequests(text: string, sim = 0): Promise<SimRecord[]> {
  const s = ctx().simulators[sim]!;
  const res = await fetch(`${s.url}/__sim/requests`);
  const { data } = (await res.json()) as { data: SimRecord[] };
  return data.filter((r) => JSON.stringify(r.body).includes(text));
}

/** The catalog's admin API (`/admin/catalog/<path>`), with the operator's token. */
export async function catalogAdmin(
  method: string,
  path: string,
  body?: unknown,
): Promise<{ status: number; json: Record<string, unknown> }> {
  const res = await fetch(`${ctx().gatewayUrl}/admin/catalog/${path}`, {
    method,
    headers: {
      authorization: `Bearer ${ctx().adminToken}`,
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
    },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  return { status: res.status, json: (await res.json()) as Record<string, unknown> };
}

/**
 * Adds a model served by one endpoint at `provider` (the catalog admin API) and waits until the
 * gateway routes to it.
 */
export async function addTestModel(
  model: string,
  provider: string,
  pricing: { prompt: string; completion: string },
): Promise<void> {
  const put = async (path: string, body: unknown) => {
    const r = await catalogAdmin('PUT', path, body);
    if (r.status !== 200) throw new Error(`PUT ${path}: ${r.status} ${JSON.stringify(r.json)}`);
  };
  await put(`models/${model}`, { name: model, context_length: 8192 });
  await put(`models/${model}/endpoints/${provider}`, {
    upstream_model: 'sim-gpt-small',
    pricing,
    context_length: 8192,
  });
  await eventually(
    async () => (await fetch(`${ctx().gatewayUrl}/v1/models/${model}/endpoints`)).status === 200,
    `${model} in the gateway's routing table`,
  );
}

export async function eventually<T>(
  fn: () => Promise<T | undefined | null | false>,
  what: string,
  timeoutMs = 10_000,
): Promise<T> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** The usage event billing stored for a generation, once it is booked. */
export function storedUsageEvent(db: pg.Client, generationId: string): Promise<UsageEventV1> {
  return eventually(async () => {
    const r = await db.query<{ event: UsageEventV1 }>(
      'SELECT event FROM billing.usage_events WHERE generation_id = $1',
      [generationId],
    );
    return r.rows[0]?.event;
  }, `the usage event of ${generationId}`);
}
