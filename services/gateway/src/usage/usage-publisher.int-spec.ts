/**
 * Usage events survive a broker outage AND the death of the gateway that held them: a gateway
 * process publishes events with the broker up, then more while the broker is down, and is
 * killed (SIGKILL) with those held; the broker comes back; a new gateway on the same spool
 * produces what the dead one left — every event reaches `usage.events.v1` exactly once.
 * Real Kafka (started here), a real process killed, the real spool on disk.
 */
import assert from 'node:assert/strict';
import { fork } from 'node:child_process';
import { once } from 'node:events';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { test } from 'node:test';
import { TOPIC_SPECS, TOPICS, type UsageEventV1 } from '@turnpike/contracts';
import {
  BatchingProducer,
  createKafka,
  ensureTopics,
  startConsumer,
  type ConsumerHandle,
} from '@turnpike/kafka';
import type { ProducerService } from '@turnpike/service-kit';
import {
  freePorts,
  restartKafkaDataDir,
  startKafka,
  stopKafkaDataDir,
  usageEventFixture,
  turnpikeCacheDir,
} from '@turnpike/testing';
import type { GatewayConfig } from '../gateway.config.js';
import { UsagePublisher } from './usage-publisher.service.js';

const quiet = { log: () => undefined, warn: () => undefined, error: () => undefined };
const here = path.dirname(fileURLToPath(import.meta.url));

/** The doomed gateway: publishes what it is told, reports, and waits to be killed. */
const CHILD = `
const [pubUrl, kafkaUrl, brokers, spoolDir] = process.argv.slice(2);
const { UsagePublisher } = await import(pubUrl);
const { BatchingProducer, createKafka } = await import(kafkaUrl);
const quiet = { log() {}, warn() {}, error() {} };
const producer = new BatchingProducer(createKafka({ brokers: [brokers], clientId: 'doomed' }, quiet), quiet, { lingerMs: 1, maxBatch: 100, retryMs: 1000 });
await producer.connect();
const pub = new UsagePublisher(producer, { usageSpoolDir: spoolDir, instanceId: 'gw-spool' });
pub.onApplicationBootstrap();
process.on('message', async ({ events, tag }) => {
  await Promise.all(events.map((e) => pub.publish(e)));
  process.send({ tag, backlog: pub.backlog, published: pub.stats.published });
});
process.send({ tag: 'ready' });
`;

test(
  'events held by a gateway killed during a broker outage are produced once by the next',
  { timeout: 240_000 },
  async () => {
    const tmp = await fs.mkdtemp(path.join(os.tmpdir(), 'turnpike-usage-spool-'));
    const dataDir = path.join(tmp, 'kafka');
    const cacheDir = turnpikeCacheDir();
    const [port, controllerPort] = await freePorts(2);
    const broker = await startKafka({
      cacheDir,
      dataDir,
      port: port!,
      controllerPort: controllerPort!,
      logFile: path.join(tmp, 'kafka.log'),
      detached: true,
    });
    const kafka = createKafka({ brokers: [broker.brokers], clientId: 'spool-spec' }, quiet);
    let consumer: ConsumerHandle | undefined;
    let producer: BatchingProducer | undefined;
    let publisher: UsagePublisher | undefined;
    const spoolDir = path.join(tmp, 'spool');
    try {
      await ensureTopics(
        kafka,
        TOPIC_SPECS.filter((t) => t.topic === TOPICS.usageEvents),
      );
      const before = Array.from({ length: 5 }, () => usageEventFixture('spool-t', 100));
      const during = Array.from({ length: 20 }, () => usageEventFixture('spool-t', 100));

      await fs.writeFile(path.join(tmp, 'doomed.mjs'), CHILD);
      const doomed = fork(
        path.join(tmp, 'doomed.mjs'),
        [
          pathToFileURL(path.join(here, 'usage-publisher.service.js')).href,
          import.meta.resolve('@turnpike/kafka'),
          broker.brokers,
          spoolDir,
        ],
        { stdio: ['ignore', 'ignore', 'inherit', 'ipc'] },
      );
      const reply = async (tag: string) => {
        for (;;) {
          const [m] = (await once(doomed, 'message')) as [{ tag: string; backlog: number }];
          if (m.tag === tag) return m;
        }
      };
      await reply('ready');
      doomed.send({ tag: 'before', events: before });
      assert.equal((await reply('before')).backlog, 0, 'published while the broker was up');

      await stopKafkaDataDir(dataDir);
      doomed.send({ tag: 'during', events: during });
      const held = await reply('during');
      assert.equal(held.backlog, during.length, 'held while the broker is down');
      doomed.kill('SIGKILL');
      await once(doomed, 'exit');

      await restartKafkaDataDir(dataDir, { cacheDir, logFile: path.join(tmp, 'kafka.log') });
      producer = new BatchingProducer(
        createKafka({ brokers: [broker.brokers], clientId: 'next' }, quiet),
        quiet,
        {
          lingerMs: 1,
          maxBatch: 100,
        },
      );
      await producer.connect();
      publisher = new UsagePublisher(
        producer as unknown as ProducerService,
        {
          usageSpoolDir: spoolDir,
          instanceId: 'gw-spool',
        } as GatewayConfig,
      );
      publisher.onApplicationBootstrap();
      assert.equal(publisher.stats.recovered, during.length, 'only the unacknowledged come back');

      const seen = new Map<string, number>();
      consumer = await startConsumer(kafka, quiet, {
        groupId: `spool-spec-${Date.now()}`,
        topics: [TOPICS.usageEvents],
        fromBeginning: true,
        commit: 'none',
        maxWaitTimeInMs: 50,
        eachBatch: async ({ batch }) => {
          for (const m of batch.messages) {
            const e = JSON.parse(m.value!.toString()) as UsageEventV1;
            seen.set(e.generationId, (seen.get(e.generationId) ?? 0) + 1);
          }
        },
      });
      const all = [...before, ...during].map((e) => e.generationId);
      const deadline = Date.now() + 60_000;
      while (!all.every((id) => seen.has(id)) && Date.now() < deadline)
        await new Promise((r) => setTimeout(r, 200));
      // A little longer, so a duplicate would have arrived too.
      await new Promise((r) => setTimeout(r, 1000));
      assert.deepEqual(
        all.filter((id) => seen.get(id) !== 1),
        [],
        'every event exactly once',
      );
      assert.equal(seen.size, all.length);
      const left = (await fs.readdir(path.join(spoolDir, 'gw-spool'))).filter((f) =>
        f.endsWith('.jsonl'),
      );
      assert.ok(left.length <= 1, `segments left: ${left.join(', ')}`);
    } finally {
      await publisher?.beforeApplicationShutdown();
      await consumer?.stop();
      await producer?.disconnect();
      await stopKafkaDataDir(dataDir);
      await fs.rm(tmp, { recursive: true, force: true });
    }
  },
);
