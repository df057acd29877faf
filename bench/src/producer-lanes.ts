/**
 * `node bench/dist/producer-lanes.js [--seconds 8]`: the producer's hot path beside bulk
 * traffic, against a real broker (started here, alone). Hot messages (1 KB, ~2,000/s, one key
 * each) are timed from `send` to acknowledgement while bulk messages (1 KB, ~8,000/s) flood the
 * same producer, in three set-ups:
 *   one-lane      every topic in one lane lingering 1 ms, one non-idempotent producer with 5
 *                 requests in flight (the producer before issue 12)
 *   shared        hot and bulk lanes (hot: no linger), both over that one producer
 *   separate      hot and bulk lanes over producers of their own, idempotent, 5 + 2
 *                 (ProducerService's set-up)
 *   separate-plain the same, one non-idempotent producer per lane, 5 requests in flight each
 * Prints hot latency p50/p99, CPU ms per 1000 messages (this process) and broker connections.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import {
  BatchingProducer,
  createKafka,
  platformaticSender,
  withAdmin,
  type BatchSender,
} from '@turnpike/kafka';
import { startKafka, turnpikeCacheDir } from '@turnpike/testing';

const { values: args } = parseArgs({ options: { seconds: { type: 'string', default: '8' } } });
const SECONDS = Number(args.seconds);
const quiet = { log: () => undefined, warn: () => undefined, error: () => undefined };
const progress = (l: string) => process.stderr.write(`[lanes] ${l}\n`);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const pct = (xs: number[], p: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return +(s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))] ?? NaN).toFixed(2);
};

async function main(): Promise<void> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'turnpike-lanes-'));
  const broker = await startKafka({
    cacheDir: turnpikeCacheDir(),
    dataDir: path.join(dir, 'kafka'),
    logFile: path.join(dir, 'kafka.log'),
  });
  try {
    const kafka = createKafka({ brokers: [broker.brokers], clientId: 'lanes' }, quiet);
    await withAdmin(kafka, async (admin) => {
      await admin.createTopics({ topics: ['hot'], partitions: 12, replicas: 1 });
      await admin.createTopics({ topics: ['bulk'], partitions: 6, replicas: 1 });
    });
    const value = Buffer.alloc(1000, 'x');
    const results: Record<string, unknown> = {};
    const setups = ['one-lane', 'shared', 'separate', 'separate-plain'];
    for (const setup of [...setups, ...setups]) {
      let p: BatchingProducer;
      let shared: BatchSender | null = null;
      if (setup.startsWith('separate')) {
        p = new BatchingProducer(kafka, quiet, {
          lingerMs: 1,
          maxBatch: 500,
          hotTopics: ['hot'],
          ...(setup === 'separate-plain'
            ? { idempotent: false, maxInFlight: 5, hot: { maxInFlight: 5 } }
            : {}),
        });
      } else {
        const s = platformaticSender(kafka, { maxInFlight: 5 });
        shared = s;
        await s.connect();
        p = new BatchingProducer({ sender: () => s }, quiet, {
          lingerMs: 1,
          maxBatch: 500,
          maxInFlight: 5,
          ...(setup === 'shared' ? { hotTopics: ['hot'], hot: { maxInFlight: 5 } } : {}),
        });
      }
      await p.connect();
      const latencies: number[] = [];
      let bulkSent = 0;
      let running = true;
      const cpu0 = process.cpuUsage();
      const t0 = performance.now();
      const bulk = (async () => {
        while (running) {
          for (let i = 0; i < 80; i++)
            void p
              .send('bulk', { key: `u${bulkSent++}`, value, headers: {} })
              .catch(() => undefined);
          await sleep(10);
        }
      })();
      const hot = (async () => {
        let n = 0;
        while (running) {
          for (let i = 0; i < 20; i++) {
            const sentAt = performance.now();
            void p
              .send('hot', { key: `g${n++}`, value, headers: {} })
              .then(() => latencies.push(performance.now() - sentAt))
              .catch(() => undefined);
          }
          await sleep(10);
        }
      })();
      await sleep(SECONDS * 1000);
      running = false;
      await Promise.all([bulk, hot]);
      await p.flush(10_000);
      const wallS = (performance.now() - t0) / 1000;
      const cpu = process.cpuUsage(cpu0);
      const messages = latencies.length + bulkSent;
      const r = {
        hotP50Ms: pct(latencies, 50),
        hotP99Ms: pct(latencies, 99),
        hotPerS: Math.round(latencies.length / wallS),
        bulkPerS: Math.round(bulkSent / wallS),
        cpuMsPer1000: +(((cpu.user + cpu.system) / 1000 / messages) * 1000).toFixed(1),
        batches: p.stats.batches,
      };
      progress(`${setup}: ${JSON.stringify(r)}`);
      results[setup] = [...((results[setup] as unknown[]) ?? []), r];
      await p.disconnect();
      await shared?.disconnect();
    }
    process.stdout.write(
      `${JSON.stringify({ seconds: SECONDS, loadAvg: os.loadavg(), results }, null, 2)}\n`,
    );
  } finally {
    await broker.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

main().then(
  () => process.exit(0),
  (e: unknown) => {
    progress(`failed: ${(e as Error).stack ?? String(e)}`);
    process.exit(1);
  },
);
