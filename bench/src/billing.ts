/**
 * Billing figures for `npm run bench`, on a platform the caller started:
 * - ledger ingestion throughput (usage events per second into Postgres): a burst of synthetic
 *   usage events booked live by `billing`, and a replay of the whole topic from offset 0 by a
 *   second billing process (replay mode: fresh consumer group, empty schema), which measures
 *   the ledger working through a backlog;
 * - the lag from the end of a response to the balance update that includes its generation
 *   (what the gateway waits for to release the reservation), seen on `billing.balances.v1`.
 *
 * Call: `await benchBilling({ stateDir, gatewayUrl, log })` after `startPlatform`.
 */
import { performance } from 'node:perf_hooks';
import kafkajs from 'kafkajs';
import pg from 'pg';
import { readState, restartService, seedTenant, stopPid } from '@turnpike/testing';

export interface BillingBenchOptions {
  /** The platform's state directory (`startPlatform`'s `stateDir`). */
  stateDir: string;
  /** The gateway the lag requests go through (default: the first one). */
  gatewayUrl?: string;
  /** Synthetic usage events for the throughput figures (default 20 000). */
  events?: number;
  /** Requests whose lag is measured (default 300), `concurrency` at a time (default 8). */
  lagSamples?: number;
  concurrency?: number;
  log?: (line: string) => void;
}

export interface BillingBenchResult {
  ingestion: {
    live: { events: number; seconds: number; eventsPerSecond: number };
    replay: { events: number; seconds: number; eventsPerSecond: number };
  };
  lag: { samples: number; p50Ms: number; p99Ms: number; maxMs: number };
}

const USAGE_TOPIC = 'usage.events.v1';
const BALANCES_TOPIC = 'billing.balances.v1';

const quantile = (sorted: number[], q: number) =>
  sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))] ?? NaN;

export async function benchBilling(opts: BillingBenchOptions): Promise<BillingBenchResult> {
  const log = opts.log ?? (() => undefined);
  const state = readState(opts.stateDir);
  if (!state) throw new Error(`no platform state in ${opts.stateDir}`);
  const gatewayUrl = opts.gatewayUrl ?? state.gatewayUrls[0]!;
  const kafka = new kafkajs.Kafka({
    clientId: 'bench-billing',
    brokers: [state.kafka.brokers],
    logLevel: kafkajs.logLevel.NOTHING,
  });
  const db = new pg.Client({ connectionString: state.postgres.url });
  await db.connect();
  try {
    const lag = await measureLag(
      kafka,
      gatewayUrl,
      state.adminToken,
      opts.lagSamples ?? 300,
      opts.concurrency ?? 8,
      log,
    );
    const live = await measureLive(kafka, db, opts.events ?? 20_000, log);
    const replay = await measureReplay(db, opts.stateDir, log);
    return { ingestion: { live, replay }, lag };
  } finally {
    await db.end();
  }
}

/** Response end -> the tenant's balance record listing the generation, on the same clock. */
async function measureLag(
  kafka: kafkajs.Kafka,
  gatewayUrl: string,
  adminToken: string,
  samples: number,
  concurrency: number,
  log: (l: string) => void,
): Promise<BillingBenchResult['lag']> {
  const tenantId = `bench-billing-${Date.now().toString(36)}`;
  const { key } = await seedTenant(
    gatewayUrl,
    adminToken,
    { id: tenantId, name: 'Billing bench' },
    'bench',
    100,
  );
  const landed = new Map<string, number>();
  const consumer = kafka.consumer({ groupId: `bench-balances-${tenantId}`, maxWaitTimeInMs: 10 });
  const joined = new Promise<void>((resolve) =>
    consumer.on(consumer.events.GROUP_JOIN, () => resolve()),
  );
  await consumer.connect();
  await consumer.subscribe({ topic: BALANCES_TOPIC, fromBeginning: false });
  await consumer.run({
    eachMessage: async ({ message }) => {
      const at = performance.now();
      if (!message.value) return;
      const v = JSON.parse(message.value.toString()) as {
        kind: string;
        tenantId: string;
        generations?: string[];
      };
      if (v.kind === 'tenant' && v.tenantId === tenantId)
        for (const g of v.generations ?? []) if (!landed.has(g)) landed.set(g, at);
    },
  });
  await joined;
  await new Promise((r) => setTimeout(r, 1_000)); // the consumer's position is set after the join
  try {
    const ended = new Map<string, number>();
    let next = 0;
    const worker = async () => {
      while (next < samples) {
        next++;
        const res = await fetch(`${gatewayUrl}/v1/chat/completions`, {
          method: 'POST',
          headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
          body: JSON.stringify({
            model: 'turnpike/sim-small',
            max_tokens: 8,
            messages: [{ role: 'user', content: 'lag [[sim tokens=4]]' }],
          }),
        });
        await res.arrayBuffer();
        const end = performance.now();
        const id = res.headers.get('x-generation-id');
        if (res.ok && id) ended.set(id, end);
      }
    };
    await Promise.all(Array.from({ length: concurrency }, worker));
    const until = Date.now() + 30_000;
    while ([...ended.keys()].some((id) => !landed.has(id)) && Date.now() < until)
      await new Promise((r) => setTimeout(r, 50));
    const lags = [...ended]
      .filter(([id]) => landed.has(id))
      .map(([id, end]) => landed.get(id)! - end)
      .sort((a, b) => a - b);
    const r = {
      samples: lags.length,
      p50Ms: quantile(lags, 0.5),
      p99Ms: quantile(lags, 0.99),
      maxMs: lags.at(-1) ?? NaN,
    };
    log(
      `billing lag, response end -> balance update: p50 ${r.p50Ms.toFixed(1)} ms, p99 ${r.p99Ms.toFixed(1)} ms (${r.samples} of ${ended.size})`,
    );
    return r;
  } finally {
    await consumer.disconnect();
  }
}

function syntheticEvents(tenantId: string, n: number): Array<{ key: string; value: string }> {
  const now = new Date().toISOString();
  const sec = Math.floor(Date.now() / 1000);
  return Array.from({ length: n }, (_, i) => {
    const generationId = `gen-${sec}-bench${tenantId.slice(-8)}${String(i).padStart(8, '0')}`;
    const e = {
      v: 1,
      generationId,
      createdAt: now,
      tenantId,
      keyId: `${tenantId}-key-${i % 4}`,
      app: { referer: null, title: null },
      requestedModel: 'turnpike/sim-small',
      model: 'turnpike/sim-small',
      provider: 'sim',
      endpointId: 'turnpike/sim-small@sim',
      stream: false,
      status: 'success',
      finishReason: 'stop',
      nativeFinishReason: 'stop',
      tokens: { prompt: 20, completion: 16, cachedRead: 0, cacheWrite: 0, reasoning: 0 },
      usageReported: true,
      cost: { currency: 'USD', upstreamMicros: 13, chargedMicros: 15 },
      ttftMs: 20,
      latencyMs: 95,
      attempts: [],
      error: null,
      requestBytes: 200,
    };
    return { key: generationId, value: JSON.stringify(e) };
  });
}

const spread = async (db: pg.Client, sql: string, params: unknown[]) => {
  const r = await db.query<{ n: number; seconds: number }>(
    `SELECT count(*)::int AS n, extract(epoch FROM max(ingested_at) - min(ingested_at))::float8 AS seconds FROM (${sql}) x`,
    params,
  );
  const { n, seconds } = r.rows[0]!;
  return { events: n, seconds, eventsPerSecond: seconds > 0 ? (n - 1) / seconds : NaN };
};

/** A burst of synthetic events, produced as fast as possible, booked live by billing. */
async function measureLive(
  kafka: kafkajs.Kafka,
  db: pg.Client,
  n: number,
  log: (l: string) => void,
) {
  const tenantId = `bench-ingest-${Date.now().toString(36)}`;
  const messages = syntheticEvents(tenantId, n);
  const producer = kafka.producer();
  await producer.connect();
  try {
    const batches: Array<Array<{ key: string; value: string }>> = [];
    for (let i = 0; i < messages.length; i += 1_000) batches.push(messages.slice(i, i + 1_000));
    await Promise.all(batches.map((b) => producer.send({ topic: USAGE_TOPIC, messages: b })));
  } finally {
    await producer.disconnect();
  }
  const until = Date.now() + 300_000;
  for (;;) {
    const c = await db.query<{ n: number }>(
      'SELECT count(*)::int AS n FROM billing.usage_events WHERE tenant_id = $1',
      [tenantId],
    );
    if (c.rows[0]!.n >= n) break;
    if (Date.now() > until)
      throw new Error(`billing booked ${c.rows[0]!.n} of ${n} events in 5 minutes`);
    await new Promise((r) => setTimeout(r, 200));
  }
  const r = await spread(db, 'SELECT ingested_at FROM billing.usage_events WHERE tenant_id = $1', [
    tenantId,
  ]);
  log(
    `billing ingestion, live burst: ${r.events} events in ${r.seconds.toFixed(2)} s = ${r.eventsPerSecond.toFixed(0)} events/s`,
  );
  return r;
}

/** A second billing (replay mode) books the whole topic from offset 0 into an empty schema. */
async function measureReplay(db: pg.Client, stateDir: string, log: (l: string) => void) {
  const schema = `billing_bench_${Date.now().toString(36)}`;
  const total = (
    await db.query<{ n: number }>('SELECT count(*)::int AS n FROM billing.usage_events')
  ).rows[0]!.n;
  const t0 = performance.now();
  const replay = await restartService(stateDir, 'billing-1', {
    as: 'billing-bench-replay',
    env: { BILLING_MODE: 'replay', BILLING_SCHEMA: schema, BILLING_GROUP_ID: `${schema}-group` },
  });
  try {
    const until = Date.now() + 600_000;
    for (;;) {
      const c = await db
        .query<{ n: number }>(`SELECT count(*)::int AS n FROM ${schema}.usage_events`)
        .catch(() => ({ rows: [{ n: 0 }] }));
      if (c.rows[0]!.n >= total) break;
      if (Date.now() > until)
        throw new Error(`the replay booked ${c.rows[0]!.n} of ${total} events in 10 minutes`);
      await new Promise((r) => setTimeout(r, 200));
    }
    const r = await spread(db, `SELECT ingested_at FROM ${schema}.usage_events`, []);
    log(
      `billing ingestion, replay from offset 0: ${r.events} events in ${r.seconds.toFixed(2)} s = ${r.eventsPerSecond.toFixed(0)} events/s ` +
        `(process start to caught up: ${((performance.now() - t0) / 1000).toFixed(1)} s)`,
    );
    return r;
  } finally {
    await stopPid(replay.pid, 30_000);
    await db.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
  }
}
