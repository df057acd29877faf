import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import kafkajs from 'kafkajs';
import pg from 'pg';
import { createKafka, ensureTopics } from '@turnpike/kafka';
import {
  freePorts,
  isAlive,
  startKafka,
  startPostgres,
  type KafkaHandle,
  type PostgresHandle,
} from './index.js';

const { Kafka, Partitioners, logLevel } = kafkajs;

/** pids of processes whose command line mentions `needle`. */
function processesMentioning(needle: string): number[] {
  const pids: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry) || Number(entry) === process.pid) continue;
    try {
      const cmdline = readFileSync(`/proc/${entry}/cmdline`, 'utf8');
      if (cmdline.includes(needle) && isAlive(Number(entry))) pids.push(Number(entry));
    } catch {
      /* exited meanwhile */
    }
  }
  return pids;
}

test('freePorts returns distinct ports', async () => {
  const ports = await freePorts(20);
  assert.equal(new Set(ports).size, 20);
  for (const p of ports) assert.ok(p > 0 && p < 65536);
});

test(
  'kafka and postgres start, work, and stop without leftovers',
  { timeout: 180_000 },
  async (t) => {
    const tmp = await fs.mkdtemp(path.join(os.tmpdir(), 'turnpike-infra-'));
    // mkdtemp gives 0700; as root, Postgres runs as an unprivileged user that must traverse it.
    await fs.chmod(tmp, 0o755);
    const [kafkaPort, controllerPort, pgPort] = await freePorts(3);
    let kafka: KafkaHandle | undefined;
    let postgres: PostgresHandle | undefined;
    let ok = false;
    try {
      let t0 = performance.now();
      kafka = await startKafka({
        cacheDir: path.join(os.homedir(), '.cache', 'turnpike'),
        dataDir: path.join(tmp, 'kafka'),
        port: kafkaPort!,
        controllerPort: controllerPort!,
        logFile: path.join(tmp, 'logs', 'kafka.log'),
      });
      t.diagnostic(
        `kafka ready in ${Math.round(performance.now() - t0)} ms (${kafka.brokers}, pid ${kafka.pid})`,
      );
      assert.equal(kafka.brokers, `127.0.0.1:${kafkaPort}`);

      t0 = performance.now();
      postgres = await startPostgres({
        dataDir: path.join(tmp, 'pg'),
        port: pgPort!,
        logFile: path.join(tmp, 'logs', 'postgres.log'),
        database: 'turnpike_test',
      });
      t.diagnostic(
        `postgres ready in ${Math.round(performance.now() - t0)} ms (pid ${postgres.pid})`,
      );
      assert.match(
        postgres.url,
        new RegExp(`^postgres://turnpike:.+@127\\.0\\.0\\.1:${pgPort}/turnpike_test$`),
      );

      // Kafka: a 3-partition topic, one message through it.
      t0 = performance.now();
      const topic = 'infra-smoke';
      // Quiet: kafkajs logs the (retried) "group coordinator not available" of a fresh cluster as ERROR.
      const client = new Kafka({
        clientId: 'infra-spec',
        brokers: [kafka.brokers],
        logLevel: logLevel.NOTHING,
      });
      const spec = { topic, partitions: 3, compacted: false, description: 'smoke' };
      const ours = createKafka(
        { brokers: [kafka.brokers], clientId: 'infra-spec' },
        { log: () => undefined, warn: () => undefined, error: () => undefined },
      );
      await ensureTopics(ours, [spec]);
      await ensureTopics(ours, [spec]); // idempotent
      const admin = client.admin();
      await admin.connect();
      const meta = await admin.fetchTopicMetadata({ topics: [topic] });
      await admin.disconnect();
      assert.equal(meta.topics[0]?.partitions.length, 3);

      const producer = client.producer({ createPartitioner: Partitioners.DefaultPartitioner });
      await producer.connect();
      await producer.send({ topic, messages: [{ key: 'k1', value: 'hello turnpike' }] });
      await producer.disconnect();

      const consumer = client.consumer({
        groupId: `infra-spec-${Date.now()}`,
        sessionTimeout: 6000,
        heartbeatInterval: 1000,
        maxWaitTimeInMs: 100,
      });
      await consumer.connect();
      await consumer.subscribe({ topic, fromBeginning: true });
      const received = await new Promise<{ key: string; value: string }>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error('no message within 60 s')), 60_000);
        void consumer
          .run({
            eachMessage: async ({ message }) => {
              clearTimeout(timer);
              resolve({
                key: message.key?.toString() ?? '',
                value: message.value?.toString() ?? '',
              });
            },
          })
          .catch(reject);
      });
      await consumer.disconnect();
      assert.deepEqual(received, { key: 'k1', value: 'hello turnpike' });
      t.diagnostic(`topic + produce + consume in ${Math.round(performance.now() - t0)} ms`);

      // Postgres: a query.
      const pgClient = new pg.Client({ connectionString: postgres.url });
      await pgClient.connect();
      const res = await pgClient.query<{ one: number }>('select 1 as one');
      await pgClient.end();
      assert.equal(res.rows[0]?.one, 1);

      const { pid: kafkaPid } = kafka;
      const { pid: pgPid } = postgres;
      t0 = performance.now();
      await kafka.stop();
      t.diagnostic(`kafka stopped in ${Math.round(performance.now() - t0)} ms`);
      t0 = performance.now();
      await postgres.stop();
      t.diagnostic(`postgres stopped in ${Math.round(performance.now() - t0)} ms`);
      kafka = undefined;
      postgres = undefined;
      assert.equal(isAlive(kafkaPid), false, 'kafka JVM still alive');
      assert.equal(isAlive(pgPid), false, 'postmaster still alive');
      assert.deepEqual(processesMentioning(tmp), [], 'leftover processes');
      ok = true;
    } finally {
      await kafka?.stop().catch(() => undefined);
      await postgres?.stop().catch(() => undefined);
      if (ok) await fs.rm(tmp, { recursive: true, force: true });
      else t.diagnostic(`kept ${tmp} for inspection`);
    }
  },
);
