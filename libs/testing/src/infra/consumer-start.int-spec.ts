/**
 * A service that starts while its broker is not ready yet (a fresh broker whose group
 * coordinator is still loading, or no broker listening for a few seconds) joins once it is:
 * `startConsumer` retries its first join instead of failing the service's boot. Seen in CI: the
 * router died on "The coordinator is loading and hence can't process requests for this group".
 */
import assert from 'node:assert/strict';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import {
  BatchingProducer,
  createKafka,
  ensureTopics,
  startConsumer,
  type ConsumerHandle,
} from '@turnpike/kafka';
import { freePorts, startKafka, type KafkaHandle, turnpikeCacheDir } from './index.js';

const quiet = { log: () => undefined, warn: () => undefined, error: () => undefined };

test(
  'a consumer started before its broker joins once the broker is up',
  { timeout: 180_000 },
  async () => {
    const tmp = await fs.mkdtemp(path.join(os.tmpdir(), 'turnpike-consumer-start-'));
    const [port, controllerPort] = await freePorts(2);
    const brokers = `127.0.0.1:${port}`;
    const kafka = createKafka({ brokers: [brokers], clientId: 'consumer-start' }, quiet);
    let broker: KafkaHandle | undefined;
    let handle: ConsumerHandle | undefined;
    const seen: string[] = [];
    const warnings: string[] = [];
    try {
      // The consumer starts now; the broker only in eight seconds (longer than the client's own
      // connection retries, ~3 s, so the first join attempts fail).
      const starting = startConsumer(
        kafka,
        { ...quiet, warn: (m: string) => warnings.push(m) },
        {
          groupId: 'late-broker',
          topics: ['late.topic'],
          fromBeginning: true,
          commit: 'none',
          maxWaitTimeInMs: 20,
          restartInitialMs: 200,
          restartMaxMs: 1_000,
          eachBatch: async ({ batch }) => {
            for (const m of batch.messages) seen.push(m.value?.toString() ?? '');
          },
        },
      );
      starting.catch(() => undefined);
      await new Promise((r) => setTimeout(r, 25_000));
      broker = await startKafka({
        cacheDir: turnpikeCacheDir(),
        dataDir: path.join(tmp, 'kafka'),
        port: port!,
        controllerPort: controllerPort!,
        logFile: path.join(tmp, 'kafka.log'),
        detached: false,
      });
      await ensureTopics(kafka, [
        { topic: 'late.topic', partitions: 1, compacted: false, description: 'a test topic' },
      ]);
      handle = await starting;
      assert.ok(warnings.length > 0, 'it had to retry (the broker was not there at first)');
      const producer = new BatchingProducer(kafka, quiet);
      await producer.connect();
      await producer.send('late.topic', { key: null, value: Buffer.from('hello'), headers: {} });
      await producer.disconnect();
      for (let i = 0; i < 100 && seen.length === 0; i++)
        await new Promise((r) => setTimeout(r, 100));
      assert.deepEqual(seen, ['hello']);
    } finally {
      await handle?.stop();
      await broker?.stop();
      await fs.rm(tmp, { recursive: true, force: true });
    }
  },
);
