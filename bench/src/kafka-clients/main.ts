/**
 * `npm run bench:kafka-clients [-- --quick] [-- --clients kafkajs,platformatic,confluent]`: starts
 * its own broker (libs/testing), then measures each Kafka client that installs with the same
 * workload, rounds interleaved so that the machine's drift hits every client alike:
 *
 * - the Turnpike hop: a gateway process sends a request (key = generation id), a connector process
 *   (a consumer group) answers with 1 reply (unary) or 16 (a stream) on a fixed partition that the
 *   gateway consumes; round-trip latency to the first and to the last reply, throughput and CPU per
 *   1000 round trips of both processes, closed loop at concurrency 1, 32 and 128;
 * - idle CPU of one consumer (20 ms long poll) and one producer, all clients at once;
 * - produce throughput of small messages, one message per send and 500 per send;
 * - one broker restart under a message every 50 ms per client: do sends fail or wait, how long until
 *   the client produces and consumes again by itself, is anything lost.
 *
 * Prints the tables (markdown), writes bench/results/kafka-clients.json.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import kafkajs from 'kafkajs';
import {
  restartKafkaDataDir,
  startKafka,
  stopKafkaDataDir,
  turnpikeCacheDir,
  type KafkaHandle,
} from '@turnpike/testing';
import { roundOrder } from '../peers/stats.js';
import type { ClientName } from './client.js';
import { CONFLUENT_VERSION, loadConfluent } from './confluent-client.js';
import { renderMarkdown, type KafkaClientsResults } from './report.js';
import type { Command, Reply, SideConfig } from './side.js';
import {
  analyzeOutage,
  coresUsed,
  cpuSecondsBetween,
  ratiosTo,
  summarizeHop,
  type HopRun,
  type ProbeSend,
} from './stats.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const rootDir = path.resolve(here, '../../..');
const cacheDir = turnpikeCacheDir();
const ALL: ClientName[] = ['kafkajs', 'platformatic', 'confluent'];

const { values: args } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    clients: { type: 'string', default: ALL.join(',') },
    out: { type: 'string' },
  },
});
const jsonFile = path.resolve(args.out ?? path.join(rootDir, 'bench/results/kafka-clients.json'));
const wanted = args.clients.split(',').map((c) => c.trim()) as ClientName[];

const CONCURRENCY = [1, 32, 128];
const MODES = [
  { mode: 'unary', replies: 1 },
  { mode: 'stream', replies: 16 },
] as const;
const PLAN = args.quick
  ? {
      rounds: 1,
      perCell: { 1: 50, 32: 300, 128: 600 } as Record<number, number>,
      idleS: 10,
      produce: { single: 5_000, batch: 20_000, rounds: 1 },
    }
  : {
      rounds: 3,
      perCell: { 1: 300, 32: 1500, 128: 3000 } as Record<number, number>,
      idleS: 30,
      produce: { single: 20_000, batch: 100_000, rounds: 2 },
    };

const progress = (line: string) => process.stderr.write(`[kafka-clients] ${line}\n`);

/** A forked side and a way to ask it things. */
class Side {
  private next = 1;
  private waiting = new Map<number, (r: Reply) => void>();
  readonly ready: Promise<Reply>;
  version = '';

  constructor(
    readonly child: ChildProcess,
    readonly label: string,
  ) {
    let onReady!: (r: Reply) => void;
    this.ready = new Promise((resolve) => (onReady = resolve));
    child.on('message', (m: Reply) => {
      if (m.id === 0) onReady(m);
      else this.waiting.get(m.id)?.(m);
      this.waiting.delete(m.id);
    });
    child.on('exit', (code) => {
      const gone: Reply = { id: -1, error: `${label} exited (${code})` };
      onReady(gone);
      for (const w of this.waiting.values()) w(gone);
      this.waiting.clear();
    });
  }

  static async start(cfg: SideConfig): Promise<Side> {
    const child = fork(path.join(here, 'side.js'), [JSON.stringify(cfg)], {
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    const side = new Side(child, `${cfg.client} ${cfg.role}`);
    const ready = await Promise.race([
      side.ready,
      sleep(60_000).then((): Reply => ({ id: 0, error: 'not ready after 60 s' })),
    ]);
    if (ready['error'] !== undefined) {
      side.kill();
      throw new Error(`${side.label}: ${String(ready['error'])}`);
    }
    side.version = String(ready['version']);
    return side;
  }

  async ask<T = Reply>(command: Command): Promise<T> {
    const id = this.next++;
    const reply = await new Promise<Reply>((resolve) => {
      this.waiting.set(id, resolve);
      this.child.send({ id, command });
    });
    if (reply['error'] !== undefined) throw new Error(`${this.label}: ${String(reply['error'])}`);
    const clientErrors = reply['clientErrors'] as string[] | undefined;
    if (clientErrors && clientErrors.length > 0)
      progress(`${this.label} client errors: ${clientErrors.slice(0, 3).join(' | ')}`);
    return reply as T;
  }

  async cpuS(): Promise<number> {
    const r = await this.ask<{ cpu: { user: number; system: number } }>({ type: 'cpu' });
    return cpuSecondsBetween({ user: 0, system: 0 }, r.cpu);
  }

  kill(): void {
    if (this.child.exitCode === null) this.child.kill('SIGKILL');
  }

  async stop(): Promise<void> {
    if (this.child.exitCode !== null) return;
    const exited = new Promise((r) => this.child.once('exit', r));
    this.child.send({ id: this.next++, command: { type: 'stop' } });
    await Promise.race([exited, sleep(5000)]);
    this.kill();
  }
}

async function createTopics(brokers: string, topics: Array<{ topic: string; partitions: number }>) {
  const kafka = new kafkajs.Kafka({
    clientId: 'bench-admin',
    brokers: [brokers],
    logLevel: kafkajs.logLevel.NOTHING,
  });
  const admin = kafka.admin();
  await admin.connect();
  try {
    await admin.createTopics({
      waitForLeaders: true,
      topics: topics.map((t) => ({
        topic: t.topic,
        numPartitions: t.partitions,
        replicationFactor: 1,
      })),
    });
  } finally {
    await admin.disconnect();
  }
}

type HopKey = `${(typeof MODES)[number]['mode']} c=${number}`;

async function main(): Promise<void> {
  const started = new Date();
  const load = { start: os.loadavg(), end: [] as number[] };
  progress(`load average at start: ${load.start.map((l) => l.toFixed(2)).join(' ')}`);
  const work = mkdtempSync(path.join(os.tmpdir(), 'turnpike-kafka-clients-'));
  const dataDir = path.join(work, 'kafka');
  const logFile = path.join(work, 'kafka.log');
  let broker: KafkaHandle | undefined;
  const stopAll: Side[] = [];
  const cleanup = async () => {
    for (const s of stopAll) s.kill();
    await broker?.stop().catch(() => undefined);
    await stopKafkaDataDir(dataDir).catch(() => undefined);
    rmSync(work, { recursive: true, force: true });
  };
  process.once('SIGINT', () => void cleanup().then(() => process.exit(130)));
  process.once('SIGTERM', () => void cleanup().then(() => process.exit(143)));

  const results: KafkaClientsResults = {
    startedAt: started.toISOString(),
    machine: { cpus: os.cpus().length, node: process.version, loadAverage: load },
    plan: { ...PLAN, concurrency: CONCURRENCY, modes: [...MODES] },
    clients: {},
    unavailable: {},
    hop: {},
    hopRatiosToKafkajs: {},
    idle: {},
    produce: {},
    restart: {},
  };

  try {
    // Clients first: the confluent build, if it has to happen, should not overlap the measurements.
    const clients: ClientName[] = [];
    for (const c of wanted) {
      if (c === 'confluent') {
        try {
          const ckjs = await loadConfluent(cacheDir, progress);
          results.clients[c] = `${CONFLUENT_VERSION} (librdkafka ${ckjs.librdkafkaVersion})`;
          results.confluentFeatures = ckjs.features;
        } catch (e) {
          results.unavailable[c] = (e as Error).message.slice(0, 2000);
          progress(`confluent unavailable: ${(e as Error).message.slice(0, 500)}`);
          continue;
        }
      }
      clients.push(c);
    }

    broker = await startKafka({ cacheDir, dataDir, logFile });
    const brokers = broker.brokers;
    progress(`broker on ${brokers}`);
    const topics: Array<{ topic: string; partitions: number }> = [];
    for (const c of clients) {
      for (let r = 0; r < PLAN.rounds; r++) {
        topics.push({ topic: `kc.${c}.r${r}.requests`, partitions: 12 });
        topics.push({ topic: `kc.${c}.r${r}.replies`, partitions: 1 });
      }
      topics.push({ topic: `kc.${c}.idle`, partitions: 12 });
      topics.push({ topic: `kc.${c}.produce`, partitions: 6 });
      topics.push({ topic: `kc.${c}.restart`, partitions: 1 });
    }
    await createTopics(brokers, topics);
    const base = { brokers, cacheDir };

    // 1. The hop.
    const runs: Record<string, Record<HopKey, HopRun[]>> = {};
    for (let r = 0; r < PLAN.rounds; r++) {
      for (const c of roundOrder(clients, r)) {
        const topicsOf = {
          requestsTopic: `kc.${c}.r${r}.requests`,
          repliesTopic: `kc.${c}.r${r}.replies`,
        };
        const conn = await Side.start({
          ...base,
          ...topicsOf,
          role: 'connector',
          client: c,
          groupId: `kc.${c}.r${r}.connector`,
        });
        stopAll.push(conn);
        const gw = await Side.start({ ...base, ...topicsOf, role: 'gateway', client: c });
        stopAll.push(gw);
        results.clients[c] ??= gw.version;
        progress(`round ${r + 1}/${PLAN.rounds} ${c}: warming up`);
        await gw.ask({
          type: 'hop',
          concurrency: 8,
          roundTrips: 200,
          replies: 16,
          timeoutMs: 30_000,
        });
        for (const { mode, replies } of MODES) {
          for (const concurrency of CONCURRENCY) {
            const c0 = await conn.cpuS();
            const run = await gw.ask<{
              firstMs: number[];
              lastMs: number[];
              errors: number;
              wallMs: number;
              cpuS: number;
            }>({
              type: 'hop',
              concurrency,
              roundTrips: PLAN.perCell[concurrency]!,
              replies,
              timeoutMs: 10_000,
            });
            const c1 = await conn.cpuS();
            const key: HopKey = `${mode} c=${concurrency}`;
            ((runs[c] ??= {} as Record<HopKey, HopRun[]>)[key] ??= []).push({
              firstMs: run.firstMs,
              lastMs: run.lastMs,
              errors: run.errors,
              wallMs: run.wallMs,
              gatewayCpuS: run.cpuS,
              connectorCpuS: c1 - c0,
            });
            const s = summarizeHop([runs[c][key].at(-1)!]);
            progress(
              `round ${r + 1} ${c} ${key}: last p50 ${s.last.p50.toFixed(2)} p99 ${s.last.p99.toFixed(2)} ms, ` +
                `${s.throughput.toFixed(0)}/s, ${s.cpuPer1000.total.toFixed(2)} cpu-s/1000, errors ${s.errors}`,
            );
          }
        }
        await gw.stop();
        await conn.stop();
      }
    }
    for (const [c, cells] of Object.entries(runs))
      results.hop[c] = Object.fromEntries(
        Object.entries(cells).map(([k, v]) => [k, summarizeHop(v)]),
      );
    for (const c of clients)
      results.hopRatiosToKafkajs[c] = ratiosTo(results.hop[c], results.hop['kafkajs']);

    // 2. Idle: every client at once, each process measured on its own.
    progress(`idle: ${PLAN.idleS} s`);
    const idlers = await Promise.all(
      clients.map((c) => Side.start({ ...base, role: 'idle', client: c, topic: `kc.${c}.idle` })),
    );
    stopAll.push(...idlers);
    await sleep(5000);
    const before = await Promise.all(idlers.map((s) => s.cpuS()));
    const t0 = Date.now();
    await sleep(PLAN.idleS * 1000);
    const after = await Promise.all(idlers.map((s) => s.cpuS()));
    const idleWall = Date.now() - t0;
    clients.forEach((c, i) => {
      results.idle[c] = {
        cores: coresUsed(after[i]! - before[i]!, idleWall),
        seconds: idleWall / 1000,
      };
    });
    await Promise.all(idlers.map((s) => s.stop()));

    // 3. Produce throughput, small messages.
    const shapes = [
      {
        shape: 'one message per send, 1000 sends outstanding',
        messages: PLAN.produce.single,
        perSend: 1,
        inFlight: 1000,
      },
      {
        shape: '500 messages per send, 5 sends in flight',
        messages: PLAN.produce.batch,
        perSend: 500,
        inFlight: 5,
      },
    ];
    const produced: Record<
      string,
      Record<string, { messages: number; wallMs: number; cpuS: number; failed: number }>
    > = {};
    for (let r = 0; r < PLAN.produce.rounds; r++) {
      for (const c of roundOrder(clients, r)) {
        const p = await Side.start({
          ...base,
          role: 'produce',
          client: c,
          topic: `kc.${c}.produce`,
        });
        stopAll.push(p);
        for (const s of shapes) {
          const res = await p.ask<{ wallMs: number; cpuS: number; failed: number }>({
            type: 'produce',
            messages: s.messages,
            bytes: 100,
            perSend: s.perSend,
            inFlight: s.inFlight,
          });
          const acc = ((produced[c] ??= {})[s.shape] ??= {
            messages: 0,
            wallMs: 0,
            cpuS: 0,
            failed: 0,
          });
          acc.messages += s.messages;
          acc.wallMs += res.wallMs;
          acc.cpuS += res.cpuS;
          acc.failed += res.failed;
          progress(
            `produce ${c} ${s.shape}: ${((s.messages * 1000) / res.wallMs).toFixed(0)} msg/s`,
          );
        }
        await p.stop();
      }
    }
    for (const [c, byShape] of Object.entries(produced)) {
      results.produce[c] = Object.fromEntries(
        Object.entries(byShape).map(([shape, a]) => [
          shape,
          {
            messagesPerS: (a.messages * 1000) / a.wallMs,
            cpuSPer100k: (a.cpuS * 100_000) / a.messages,
            failed: a.failed,
          },
        ]),
      );
    }

    // 4. One broker restart, every client probing at once.
    progress('broker restart: probes running');
    const probes = await Promise.all(
      clients.map((c) =>
        Side.start({ ...base, role: 'restart', client: c, topic: `kc.${c}.restart` }),
      ),
    );
    stopAll.push(...probes);
    await Promise.all(probes.map((p) => p.ask({ type: 'probe-start', everyMs: 50 })));
    await sleep(5000);
    const downAt = Date.now();
    await broker.stop();
    progress(`broker stopped (${Date.now() - downAt} ms); down for 10 s`);
    await sleep(10_000);
    const restartAt = Date.now();
    broker = await restartKafkaDataDir(dataDir, { cacheDir, logFile });
    const upAt = Date.now();
    progress(`broker ready again ${upAt - restartAt} ms after its restart; watching 30 s`);
    await sleep(30_000);
    const reports = await Promise.all(
      probes.map((p) =>
        p.ask<{ sends: ProbeSend[]; received: Array<[number, number[]]> }>({
          type: 'probe-report',
        }),
      ),
    );
    clients.forEach((c, i) => {
      results.restart[c] = analyzeOutage(
        reports[i]!.sends,
        new Map(reports[i]!.received),
        downAt,
        upAt,
      );
    });
    results.restartTimeline = { downAt, restartAt, upAt, brokerStartMs: upAt - restartAt };
    await Promise.all(probes.map((p) => p.stop()));
  } finally {
    load.end = os.loadavg();
    results.finishedAt = new Date().toISOString();
    await cleanup();
  }

  mkdirSync(path.dirname(jsonFile), { recursive: true });
  writeFileSync(jsonFile, JSON.stringify(results, null, 2) + '\n');
  process.stdout.write(renderMarkdown(results));
  progress(
    `load average at end: ${load.end.map((l) => l.toFixed(2)).join(' ')}; wrote ${jsonFile}`,
  );
}

main().then(
  () => process.exit(0),
  (e: Error) => {
    process.stderr.write(`bench:kafka-clients failed: ${e.stack ?? e.message}\n`);
    process.exit(1);
  },
);
