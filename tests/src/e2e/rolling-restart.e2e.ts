/**
 * Zero-downtime rollout: on a platform of its own laid out as the chart lays it out (several
 * replicas per service, as processes), streaming and unary load runs through every gateway
 * replica while EVERY service is restarted one replica at a time: SIGTERM, wait for the exit,
 * start the replacement, wait until it is ready, next.
 *
 * The clients use the gateway replicas as a Service would: a refused connection is tried on
 * another replica (that is what a load balancer does); a request that was accepted is never
 * retried. Asserted: 0 broken streams (each ends in [DONE] with its whole expected text and no
 * in-band error), 0 non-2xx answers, 0 lost or doubled usage events (every generation id a
 * client got has exactly one usage event on usage.events.v1 and exactly one ledger
 * transaction); and that it cannot pass vacuously: a stream was open on each gateway when it got
 * SIGTERM, and each connector had a generation running when it got SIGTERM.
 */
import assert from 'node:assert/strict';
import http from 'node:http';
import { mkdtempSync, chmodSync, readFileSync, rmSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, describe, test } from 'node:test';
import pg from 'pg';
import { TOPICS } from '@turnpike/contracts';
import kafkajs from 'kafkajs';
import {
  expectedContent,
  readState,
  restartService,
  seedTenant,
  startPlatform,
  stopPlatform,
  waitForExit,
  type PlatformState,
  type ServiceName,
  turnpikeCacheDir,
} from '@turnpike/testing';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
const cacheDir = turnpikeCacheDir();
const REPLICAS: Record<ServiceName, number> = {
  router: 1,
  connector: 2,
  billing: 2,
  analytics: 1,
  gateway: 2,
};
/** The restart order: the back first, the gateways last (as a chart upgrade may roll them). */
const ORDER: ServiceName[] = ['router', 'analytics', 'billing', 'connector', 'gateway'];
const WORKERS = 6;
const STREAM_TOKENS = 20; // at 10 tokens/s: a 2 s stream
const UNARY_TOKENS = 8;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface Outcome {
  gateway: number;
  stream: boolean;
  text: string;
  startedAt: number;
  /** When the answer's headers arrived (the request was accepted), and when it ended. */
  acceptedAt: number | null;
  endedAt: number | null;
  status: number | null;
  body: string;
  generationId: string | null;
  refusedTries: number;
  error: string | null;
}

let stateDir = '';
let state: PlatformState;
let apiKey = '';
let tenantId = '';

/** One request on a new connection to one replica; `refused` when the connection was refused. */
function once(url: string, body: string, o: Outcome): Promise<'refused' | 'done'> {
  return new Promise((resolve) => {
    const req = http.request(
      `${url}/v1/chat/completions`,
      {
        method: 'POST',
        agent: false,
        headers: {
          authorization: `Bearer ${apiKey}`,
          'content-type': 'application/json',
          'content-length': Buffer.byteLength(body),
        },
      },
      (res) => {
        o.acceptedAt = Date.now();
        o.status = res.statusCode ?? 0;
        o.generationId = (res.headers['x-generation-id'] as string | undefined) ?? null;
        res.setEncoding('utf8');
        res.on('data', (c: string) => (o.body += c));
        res.on('end', () => {
          o.endedAt = Date.now();
          resolve('done');
        });
        res.on('error', (e) => {
          o.error = `response: ${e.message}`;
          o.endedAt = Date.now();
          resolve('done');
        });
      },
    );
    req.on('error', (e: NodeJS.ErrnoException) => {
      if (o.acceptedAt === null && e.code === 'ECONNREFUSED') return resolve('refused');
      o.error = `${e.code ?? ''} ${e.message}`;
      o.endedAt = Date.now();
      resolve('done');
    });
    req.end(body);
  });
}

/** A request as a load balancer would place it: a refused connection goes to the next replica. */
async function send(gateway: number, stream: boolean, text: string): Promise<Outcome> {
  const tokens = stream ? STREAM_TOKENS : UNARY_TOKENS;
  const body = JSON.stringify({
    model: 'turnpike/sim-small',
    stream,
    messages: [{ role: 'user', content: `${text} [[sim tokens=${tokens} tps=10]]` }],
  });
  const o: Outcome = {
    gateway,
    stream,
    text,
    startedAt: Date.now(),
    acceptedAt: null,
    endedAt: null,
    status: null,
    body: '',
    generationId: null,
    refusedTries: 0,
    error: null,
  };
  const urls = () => readState(stateDir)!.services.filter((s) => s.name.startsWith('gateway-'));
  for (let i = gateway; ; i++) {
    const gws = urls().sort((a, b) => a.name.localeCompare(b.name));
    const gw = gws[i % gws.length]!;
    o.gateway = Number(gw.name.split('-')[1]);
    open.add(o);
    const r = await once(gw.url, body, o);
    if (r === 'done') break;
    open.delete(o);
    o.refusedTries++;
    if (o.refusedTries > 50) {
      o.error = 'every replica refused for too long';
      break;
    }
    await sleep(20);
  }
  open.delete(o);
  return o;
}

/** What a finished request must look like; null when it is whole. */
function broken(o: Outcome): string | null {
  if (o.error) return o.error;
  if (o.status !== 200) return `HTTP ${o.status}: ${o.body.slice(0, 200)}`;
  if (!o.generationId) return 'no x-generation-id';
  if (!o.stream) {
    const content = (JSON.parse(o.body) as { choices: Array<{ message: { content: string } }> })
      .choices[0]?.message.content;
    return content === expectedContent(o.text, UNARY_TOKENS) ? null : `unary text: ${content}`;
  }
  if (!o.body.endsWith('data: [DONE]\n\n')) return `no [DONE]: ...${o.body.slice(-200)}`;
  let content = '';
  for (const line of o.body.split('\n')) {
    if (!line.startsWith('data: ') || line === 'data: [DONE]') continue;
    const chunk = JSON.parse(line.slice(6)) as {
      error?: unknown;
      choices?: Array<{ delta?: { content?: string } }>;
    };
    if (chunk.error) return `in-band error: ${line}`;
    content += chunk.choices?.[0]?.delta?.content ?? '';
  }
  return content === expectedContent(o.text, STREAM_TOKENS) ? null : `stream text: ${content}`;
}

const open = new Set<Outcome>();

async function scrapeValue(url: string, family: string): Promise<number> {
  try {
    const text = await (await fetch(`${url}/metrics`)).text();
    const line = text.split('\n').find((l) => l.startsWith(`${family} `));
    return line ? Number(line.split(' ')[1]) : 0;
  } catch {
    return 0;
  }
}

/** Every message key of a topic, read from the beginning to its current end. */
async function topicKeys(topic: string): Promise<string[]> {
  // kafkajs, as a test tool independent of the client under test.
  const kafka = new kafkajs.Kafka({
    brokers: [state.kafka.brokers],
    clientId: 'rolling-restart-check',
    logLevel: kafkajs.logLevel.ERROR,
  });
  const admin = kafka.admin();
  await admin.connect();
  const ends = await admin.fetchTopicOffsets(topic);
  await admin.disconnect();
  const left = new Map(
    ends
      .filter((e) => Number(e.offset) > Number(e.low))
      .map((e) => [e.partition, Number(e.offset)]),
  );
  const keys: string[] = [];
  if (left.size === 0) return keys;
  const consumer = kafka.consumer({ groupId: `rolling-check-${Date.now()}`, maxWaitTimeInMs: 50 });
  await consumer.connect();
  await consumer.subscribe({ topics: [topic], fromBeginning: true });
  await new Promise<void>((resolve) => {
    void consumer.run({
      eachMessage: async ({ partition, message }) => {
        keys.push(message.key?.toString() ?? '');
        if (Number(message.offset) + 1 >= (left.get(partition) ?? 0)) left.delete(partition);
        if (left.size === 0) resolve();
      },
    });
  });
  await consumer.disconnect();
  return keys;
}

before(async () => {
  stateDir = mkdtempSync(path.join(os.tmpdir(), 'turnpike-rolling-'));
  chmodSync(stateDir, 0o711);
  const started = Date.now();
  state = await startPlatform({
    rootDir: root,
    stateDir,
    cacheDir,
    detached: false,
    simulators: [{ id: 'sim' }],
    replicas: REPLICAS,
    log: (l) => console.log(`  [rolling platform] ${l}`),
  });
  console.log(`  [rolling platform] up in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  const t = await seedTenant(state.gatewayUrls[0]!, state.adminToken, {
    id: 'rolling',
    name: 'Rolling',
  });
  apiKey = t.key;
  tenantId = t.tenantId;
});

after(async () => {
  if (stateDir) {
    await stopPlatform(stateDir).catch((e: unknown) => console.error(String(e)));
    if (process.env['TURNPIKE_KEEP_TEST_STATE'] !== '1')
      rmSync(stateDir, { recursive: true, force: true });
  }
});

describe('a rolling restart of every service under streaming load', () => {
  test('breaks no stream, answers no non-2xx, loses no usage event', async () => {
    const outcomes: Outcome[] = [];
    let stop = false;
    let n = 0;
    const workers = Array.from({ length: WORKERS }, async (_, w) => {
      while (!stop) {
        const i = n++;
        // Three streams for one unary request, spread over the gateway replicas.
        outcomes.push(await send(i % REPLICAS.gateway, i % 4 !== 3, `rolling ${w} ${i}`));
      }
    });

    const restarts: Array<{
      name: string;
      drainMs: number;
      openStreams?: number;
      runningGenerations?: number;
    }> = [];
    await sleep(2_000); // load running before the first restart
    for (const service of ORDER) {
      for (let r = 1; r <= REPLICAS[service]; r++) {
        const name = `${service}-${r}`;
        const proc = readState(stateDir)!.services.find((s) => s.name === name)!;
        const note: (typeof restarts)[number] = { name, drainMs: 0 };
        if (service === 'gateway') {
          // Mid-stream: a stream of ours is open on it (headers received, not ended).
          const until = Date.now() + 10_000;
          const streamsOn = () =>
            [...open].filter((o) => o.gateway === r && o.stream && o.acceptedAt !== null).length;
          while (streamsOn() === 0 && Date.now() < until) await sleep(20);
          note.openStreams = streamsOn();
        }
        if (service === 'connector') {
          const until = Date.now() + 10_000;
          let running = 0;
          while (
            (running = await scrapeValue(proc.url, 'turnpike_connector_generations_in_flight')) ===
              0 &&
            Date.now() < until
          )
            await sleep(20);
          note.runningGenerations = running;
        }
        const logFrom = statSync(proc.logFile).size;
        const t0 = Date.now();
        process.kill(proc.pid, 'SIGTERM');
        assert.ok(await waitForExit(proc.pid, 40_000), `${name} exits after SIGTERM`);
        note.drainMs = Date.now() - t0;
        const log = readFileSync(proc.logFile, 'utf8').slice(logFrom);
        assert.doesNotMatch(log, /shutdown timed out|shutdown failed/, `${name} stopped cleanly`);
        assert.match(log, /stopped/, `${name} ran its whole shutdown`);
        if (service === 'connector') {
          const drained = /draining (\d+) in-flight generations/.exec(log);
          note.runningGenerations = Number(drained?.[1] ?? 0);
        }
        if (service === 'gateway') {
          const drained = /draining (\d+) in-flight generations/.exec(log);
          note.openStreams = Math.min(note.openStreams ?? 0, Number(drained?.[1] ?? 0));
        }
        await restartService(stateDir, name);
        restarts.push(note);
      }
    }
    await sleep(1_000); // load on the new replicas too
    stop = true;
    await Promise.all(workers);

    const failed = outcomes
      .map((o) => ({ o, why: broken(o) }))
      .filter((x): x is { o: Outcome; why: string } => x.why !== null);
    const streams = outcomes.filter((o) => o.stream);
    const generationIds = outcomes.map((o) => o.generationId).filter((g): g is string => !!g);

    // Every generation a client got: exactly one usage event on the topic, one ledger charge.
    const db = new pg.Client({ connectionString: state.postgres.url });
    await db.connect();
    let charged: Map<string, number>;
    try {
      const deadline = Date.now() + 30_000;
      for (;;) {
        const rows = await db.query<{ generation_id: string; n: number }>(
          'SELECT generation_id, count(*)::int AS n FROM billing.transactions WHERE generation_id = ANY($1) GROUP BY generation_id',
          [generationIds],
        );
        charged = new Map(rows.rows.map((r) => [r.generation_id, r.n]));
        if (charged.size >= generationIds.length || Date.now() > deadline) break;
        await sleep(250);
      }
      const booked = await db.query<{ n: number }>(
        'SELECT count(*)::int AS n FROM billing.usage_events WHERE generation_id = ANY($1)',
        [generationIds],
      );
      assert.equal(booked.rows[0]!.n, generationIds.length, 'every usage event booked');
    } finally {
      await db.end();
    }
    const events = new Map<string, number>();
    for (const k of await topicKeys(TOPICS.usageEvents)) events.set(k, (events.get(k) ?? 0) + 1);
    const lostEvents = generationIds.filter((g) => (events.get(g) ?? 0) === 0);
    const doubledEvents = generationIds.filter((g) => (events.get(g) ?? 0) > 1);
    const unCharged = generationIds.filter((g) => charged.get(g) !== 1);

    const figures = {
      requests: outcomes.length,
      streams: streams.length,
      unary: outcomes.length - streams.length,
      broken: failed.length,
      non2xx: outcomes.filter((o) => o.status !== null && o.status !== 200).length,
      refusedConnectionsRetried: outcomes.reduce((s, o) => s + o.refusedTries, 0),
      usageEvents: generationIds.length - lostEvents.length,
      lostUsageEvents: lostEvents.length,
      doubledUsageEvents: doubledEvents.length,
      ledgerChargesNotExactlyOne: unCharged.length,
      restarts: restarts.length,
      longestDrainMs: Math.max(...restarts.map((r) => r.drainMs)),
      drains: Object.fromEntries(restarts.map((r) => [r.name, r.drainMs])),
      openStreamsAtGatewaySigterm: Object.fromEntries(
        restarts.filter((r) => r.openStreams !== undefined).map((r) => [r.name, r.openStreams]),
      ),
      runningGenerationsAtConnectorSigterm: Object.fromEntries(
        restarts
          .filter((r) => r.runningGenerations !== undefined)
          .map((r) => [r.name, r.runningGenerations]),
      ),
      tenant: tenantId,
    };
    console.log(`  rolling restart: ${JSON.stringify(figures)}`);

    assert.equal(
      failed.length,
      0,
      failed
        .slice(0, 5)
        .map((f) => `gateway-${f.o.gateway} ${f.o.stream ? 'stream' : 'unary'}: ${f.why}`)
        .join('\n'),
    );
    assert.equal(lostEvents.length, 0, `usage events lost: ${lostEvents.slice(0, 5).join(', ')}`);
    assert.equal(doubledEvents.length, 0, `usage events doubled: ${doubledEvents.join(', ')}`);
    assert.equal(
      unCharged.length,
      0,
      `not charged exactly once: ${unCharged.slice(0, 5).join(', ')}`,
    );
    // Not vacuous: every replica of every service restarted, under load, mid-stream.
    const total = Object.values(REPLICAS).reduce((a, b) => a + b, 0);
    assert.equal(restarts.length, total);
    assert.ok(streams.length >= 20 && outcomes.length - streams.length >= 5, 'real load');
    for (const r of restarts.filter((x) => x.name.startsWith('gateway-')))
      assert.ok((r.openStreams ?? 0) > 0, `${r.name} had a stream open when it got SIGTERM`);
    for (const r of restarts.filter((x) => x.name.startsWith('connector-')))
      assert.ok((r.runningGenerations ?? 0) > 0, `${r.name} had a generation running at SIGTERM`);
  });
});
