/**
 * libs/kafka's consumer on @platformatic/kafka, against a real broker: the behaviours the
 * client does not give as kafkajs did and libs/kafka provides itself. A group of one with
 * static partitions reads only those (the client skips a custom assigner in a group of one);
 * pause holds a topic and resume releases it; seek re-reads from an offset; keyed messages land
 * on the partition kafkajs (and the Java client) chose, so compacted topics keep their keys'
 * partitions across the client change.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import kafkajs from 'kafkajs';
import {
  BatchingProducer,
  createKafka,
  ensureTopics,
  startConsumer,
  type ConsumedMessage,
  type ConsumerHandle,
  type KafkaClient,
} from '@turnpike/kafka';
import { startKafka, type KafkaHandle, turnpikeCacheDir } from './index.js';

const quiet = { log: () => undefined, warn: () => undefined, error: () => undefined };
const TOPIC = 'client.checks';
const PARTITIONS = 4;

let tmp: string;
let broker: KafkaHandle;
let kafka: KafkaClient;
let producer: BatchingProducer;

before(async () => {
  tmp = await fs.mkdtemp(path.join(os.tmpdir(), 'turnpike-kafka-consumer-'));
  broker = await startKafka({
    cacheDir: turnpikeCacheDir(),
    dataDir: path.join(tmp, 'kafka'),
    logFile: path.join(tmp, 'kafka.log'),
    detached: false,
  });
  kafka = createKafka({ brokers: [broker.brokers], clientId: 'consumer-checks' }, quiet);
  await ensureTopics(kafka, [
    { topic: TOPIC, partitions: PARTITIONS, compacted: false, description: 'checks' },
  ]);
  producer = new BatchingProducer(kafka, quiet);
  await producer.connect();
});

after(async () => {
  await producer?.disconnect();
  await broker?.stop();
  await fs.rm(tmp, { recursive: true, force: true });
});

const send = (key: string, partition?: number) =>
  producer.send(TOPIC, {
    key,
    value: Buffer.from(key),
    headers: {},
    ...(partition !== undefined ? { partition } : {}),
  });

interface Seen {
  partition: number;
  message: ConsumedMessage;
}

async function consume(
  groupId: string,
  extra: { staticPartitions?: number[]; fromBeginning?: boolean } = {},
): Promise<{ handle: ConsumerHandle; seen: Seen[] }> {
  const seen: Seen[] = [];
  const handle = await startConsumer(kafka, quiet, {
    groupId,
    topics: [TOPIC],
    fromBeginning: extra.fromBeginning ?? false,
    commit: 'none',
    maxWaitTimeInMs: 100,
    ...(extra.staticPartitions ? { staticPartitions: extra.staticPartitions } : {}),
    eachBatch: async ({ batch }) => {
      for (const message of batch.messages) seen.push({ partition: batch.partition, message });
    },
  });
  return { handle, seen };
}

async function until(what: string, ok: () => boolean, ms = 15_000): Promise<void> {
  const end = Date.now() + ms;
  while (!ok()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

test('a group of one with static partitions reads only them', { timeout: 60_000 }, async () => {
  const { handle, seen } = await consume(`static-${Date.now()}`, { staticPartitions: [2] });
  try {
    const tag = `s${Date.now()}`;
    // The pinned partition last: once it is read, the others had every chance to be read too.
    for (const p of [0, 1, 3]) await send(`${tag}-${p}`, p);
    await sleep(1_000);
    await send(`${tag}-2`, 2);
    await until('the pinned partition', () => seen.some((s) => s.partition === 2));
    await sleep(500);
    assert.deepEqual(
      [...new Set(seen.map((s) => s.partition))],
      [2],
      'only partition 2, not all four (the client alone would assign every partition)',
    );
  } finally {
    await handle.stop();
  }
});

test(
  'pause holds the topic, resume delivers what came meanwhile',
  { timeout: 60_000 },
  async () => {
    const { handle, seen } = await consume(`pause-${Date.now()}`);
    try {
      handle.pause([TOPIC]);
      await sleep(300); // a fetch in flight when pausing may still land
      const before = seen.length;
      await send(`p${Date.now()}`, 1);
      await sleep(1_500);
      assert.equal(seen.length, before, 'nothing delivered while paused');
      assert.equal(handle.status(), true, 'a paused consumer is not reported stalled');
      handle.resume([TOPIC]);
      await until('the message sent while paused', () => seen.length > before);
    } finally {
      await handle.stop();
    }
  },
);

test('seek re-reads a partition from an offset', { timeout: 60_000 }, async () => {
  const { handle, seen } = await consume(`seek-${Date.now()}`);
  try {
    const tag = `k${Date.now()}`;
    for (let i = 0; i < 5; i++) await send(`${tag}-${i}`, 3);
    await until('five messages', () => seen.filter((s) => s.partition === 3).length >= 5);
    const offsets = seen.filter((s) => s.partition === 3).map((s) => s.message.offset);
    handle.seek({ topic: TOPIC, partition: 3, offset: offsets[1]! });
    await until('the re-read', () => seen.filter((s) => s.partition === 3).length >= 9);
    await sleep(300);
    assert.deepEqual(
      seen.filter((s) => s.partition === 3).map((s) => s.message.offset),
      [...offsets, ...offsets.slice(1)],
    );
  } finally {
    await handle.stop();
  }
});

test('keyed messages land where kafkajs put them (murmur2)', { timeout: 60_000 }, async () => {
  const { handle, seen } = await consume(`keys-${Date.now()}`);
  try {
    const keys = Array.from({ length: 40 }, (_, i) => `tenant-${i}-${Date.now()}`);
    await Promise.all(keys.map((k) => send(k)));
    await until('every key', () =>
      keys.every((k) => seen.some((s) => s.message.key?.toString() === k)),
    );
    const partitionMetadata = Array.from({ length: PARTITIONS }, (_, partitionId) => ({
      partitionId,
      leader: 0,
      partitionErrorCode: 0,
      replicas: [0],
      isr: [0],
    }));
    const kafkajsPartition = kafkajs.Partitioners.DefaultPartitioner();
    for (const k of keys) {
      const got = seen.find((s) => s.message.key?.toString() === k)!.partition;
      assert.equal(
        got,
        kafkajsPartition({ topic: TOPIC, partitionMetadata, message: { key: k, value: null } }),
        k,
      );
    }
    assert.ok(new Set(seen.map((s) => s.partition)).size > 1, 'keys spread over partitions');
  } finally {
    await handle.stop();
  }
});
