/**
 * `node bench/dist/kafka-clients/features.js`: checks, against a real broker (libs/testing, Kafka
 * 3.9), the @platformatic/kafka features libs/kafka relies on: a consumer pinned to one partition by
 * a static assigner (the gateway's reply inbox), manual commit and the group's lag through the admin
 * client, describe groups, pause/resume, a seek (re-consume from an offset), headers and every
 * compression codec, the idempotent producer (and what it costs: one request in flight). Prints a
 * table; exits 1 if a check failed.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  Admin,
  Consumer,
  Producer,
  type GroupPartitionsAssigner,
  type Message,
  type MessagesStream,
} from '@platformatic/kafka';
import { startKafka, stopKafkaDataDir, turnpikeCacheDir } from '@turnpike/testing';

interface Check {
  feature: string;
  ok: boolean;
  detail: string;
}

type Msg = Message<Buffer, Buffer, Buffer, Buffer>;

async function collect(
  stream: MessagesStream<Buffer, Buffer, Buffer, Buffer>,
  count: number,
  timeoutMs = 10_000,
): Promise<Msg[]> {
  const got: Msg[] = [];
  return new Promise((resolve) => {
    const timer = setTimeout(() => done(), timeoutMs);
    const onData = (m: Msg) => {
      got.push(m);
      if (got.length >= count) done();
    };
    const done = () => {
      clearTimeout(timer);
      stream.off('data', onData);
      resolve(got);
    };
    stream.on('data', onData);
  });
}

async function main(): Promise<void> {
  const work = mkdtempSync(path.join(os.tmpdir(), 'turnpike-kafka-features-'));
  const dataDir = path.join(work, 'kafka');
  const broker = await startKafka({
    cacheDir: turnpikeCacheDir(),
    dataDir,
    logFile: path.join(work, 'kafka.log'),
  });
  const base = { clientId: 'features', bootstrapBrokers: [broker.brokers] };
  const checks: Check[] = [];
  const check = async (feature: string, fn: () => Promise<string>) => {
    try {
      checks.push({ feature, ok: true, detail: await fn() });
    } catch (e) {
      checks.push({ feature, ok: false, detail: (e as Error).message.slice(0, 300) });
    }
  };
  const admin = new Admin(base);
  const producer = new Producer({ ...base, acks: -1 });
  const consumers: Consumer[] = [];
  const consumer = (groupId: string, extra: Record<string, unknown> = {}) => {
    const c = new Consumer({ ...base, groupId, maxWaitTime: 20, ...extra });
    consumers.push(c);
    return c;
  };
  const send = (topic: string, partition: number, key: string, extra: object = {}) =>
    producer.send({
      messages: [{ topic, partition, key: Buffer.from(key), value: Buffer.from(`v-${key}`) }],
      ...extra,
    });

  try {
    await check('admin: create topics', async () => {
      const created = await admin.createTopics({
        topics: ['f.static', 'f.commit', 'f.codecs'],
        partitions: 4,
        replicas: 1,
      });
      return `${created.length} created`;
    });

    await check('static partition assignment (custom assigner)', async () => {
      const pinned: GroupPartitionsAssigner = (_current, members, topics) =>
        [...members.keys()].map((memberId) => ({
          memberId,
          assignments: new Map([...topics].map((t) => [t, { topic: t, partitions: [2] }])),
        }));
      const c = consumer('f.static.g', { partitionAssigner: pinned });
      const stream = await c.consume({ topics: ['f.static'], mode: 'earliest' });
      for (let p = 0; p < 4; p++) await send('f.static', p, `p${p}`);
      const got = await collect(stream, 4, 3000);
      const partitions = [...new Set(got.map((m) => m.partition))];
      if (partitions.length !== 1 || partitions[0] !== 2)
        throw new Error(
          `read partitions ${JSON.stringify(partitions.sort())}, expected [2]: the leader of a ` +
            'group of one member assigns it every partition without calling the assigner',
        );
      await stream.close();
      return `read only partition 2 (${got.length} message of 4 sent to partitions 0-3)`;
    });

    await check('manual commit + lag through the admin client', async () => {
      const c = consumer('f.commit.g', { autocommit: false });
      const stream = await c.consume({ topics: ['f.commit'], mode: 'earliest' });
      for (let i = 0; i < 5; i++) await send('f.commit', 0, `c${i}`);
      const got = await collect(stream, 5);
      await got[2]!.commit(); // commits offset 3 (next to read)
      const [group] = await admin.listConsumerGroupOffsets({ groups: ['f.commit.g'] });
      const committed = group?.topics
        .find((t) => t.name === 'f.commit')
        ?.partitions.find((p) => p.partitionIndex === 0)?.committedOffset;
      const ends = await admin.listOffsets({
        topics: [{ name: 'f.commit', partitions: [{ partitionIndex: 0, timestamp: -1n }] }],
      });
      const end = ends[0]?.partitions[0]?.offset;
      if (committed !== 3n) throw new Error(`committed ${String(committed)}, expected 3`);
      await stream.close();
      return `committed 3 after reading 5; end offset ${String(end)} → lag ${String(end! - committed)}`;
    });

    await check('describe groups (members and assignments)', async () => {
      const c = consumer('f.describe.g');
      const stream = await c.consume({ topics: ['f.codecs'], mode: 'latest' });
      const groups = await admin.describeGroups({ groups: ['f.describe.g'] });
      const g = groups.get('f.describe.g');
      const assigned = [...(g?.members.values() ?? [])].flatMap((m) =>
        [...(m.assignments?.values() ?? [])].flatMap((a) => a.partitions),
      );
      await stream.close();
      if (!g || g.members.size !== 1) throw new Error(`group ${JSON.stringify(g?.state)}`);
      return `state ${g.state}, 1 member holding partitions ${assigned.sort().join(',')}`;
    });

    await check('pause / resume (whole stream)', async () => {
      const c = consumer('f.pause.g');
      const stream = await c.consume({ topics: ['f.static'], mode: 'latest' });
      await sleep(500);
      stream.pause();
      await send('f.static', 1, 'paused');
      const whilePaused = await collect(stream, 1, 1000);
      stream.resume();
      const after = await collect(stream, 1, 5000);
      await stream.close();
      if (whilePaused.length !== 0 || after.length !== 1)
        throw new Error(`paused got ${whilePaused.length}, resumed got ${after.length}`);
      return 'nothing delivered while paused, delivered on resume; no per-partition pause';
    });

    await check('seek (re-consume from an offset)', async () => {
      const c = consumer('f.seek.g');
      const stream = await c.consume({
        topics: ['f.commit'],
        mode: 'manual',
        offsets: [{ topic: 'f.commit', partition: 0, offset: 1n }],
      });
      const got = await collect(stream, 4);
      await stream.close();
      if (got[0]?.offset !== 1n) throw new Error(`first offset ${String(got[0]?.offset)}`);
      return 'a new stream in mode "manual" starts at the offsets given (no seek on a live stream)';
    });

    await check('headers + compression gzip, snappy, lz4, zstd', async () => {
      const c = consumer('f.codecs.g');
      const stream = await c.consume({ topics: ['f.codecs'], mode: 'earliest' });
      const codecs = ['gzip', 'snappy', 'lz4', 'zstd'] as const;
      for (const compression of codecs) {
        await producer.send({
          compression,
          messages: [
            {
              topic: 'f.codecs',
              partition: 0,
              key: Buffer.from(compression),
              value: Buffer.from('x'.repeat(2000)),
              headers: new Map([[Buffer.from('traceparent'), Buffer.from(compression)]]),
            },
          ],
        });
      }
      const got = await collect(stream, codecs.length);
      await stream.close();
      // Header keys are Buffers (a Map keyed by identity): look them up by content.
      const withHeader = got.filter(
        (m) =>
          m.value.length === 2000 &&
          [...m.headers.entries()].some(
            ([k, v]) => k.toString() === 'traceparent' && v.toString() === m.key.toString(),
          ),
      );
      if (got.length !== codecs.length || withHeader.length !== codecs.length)
        throw new Error(`got ${got.length}, with the header ${withHeader.length}`);
      return `${got.length}/4 round-tripped with their header (header keys are Buffers in a Map)`;
    });

    await check('idempotent producer, and its cost', async () => {
      const rate = async (idempotent: boolean) => {
        const p = new Producer({ ...base, idempotent, acks: -1 });
        const value = Buffer.alloc(100, 'i');
        const t0 = performance.now();
        const sends = Array.from({ length: 5000 }, (_, i) =>
          p.send({
            messages: [{ topic: 'f.static', partition: i % 4, key: Buffer.from(`k${i}`), value }],
          }),
        );
        const results = await Promise.all(sends);
        const ms = performance.now() - t0;
        // Per partition, offsets must grow in send order.
        const last = new Map<number, bigint>();
        let ordered = true;
        results.forEach((r, i) => {
          const off = r.offsets?.[0]?.offset ?? -1n;
          if (off <= (last.get(i % 4) ?? -1n)) ordered = false;
          last.set(i % 4, off);
        });
        await p.close();
        return { perS: Math.round((5000 * 1000) / ms), ordered };
      };
      const plain = await rate(false);
      const idem = await rate(true);
      if (!idem.ordered) throw new Error('idempotent sends out of order');
      return (
        `5000 concurrent single-message sends kept their order per partition: idempotent ` +
        `${idem.perS}/s, not idempotent ${plain.perS}/s; idempotent forces maxInflights = 1`
      );
    });
  } finally {
    for (const c of consumers) await c.close(true).catch(() => undefined);
    await producer.close().catch(() => undefined);
    await admin.close().catch(() => undefined);
    await broker.stop();
    await stopKafkaDataDir(dataDir).catch(() => undefined);
    rmSync(work, { recursive: true, force: true });
  }

  process.stdout.write('| feature | result | detail |\n| --- | --- | --- |\n');
  for (const c of checks)
    process.stdout.write(`| ${c.feature} | ${c.ok ? 'works' : 'FAILED'} | ${c.detail} |\n`);
  process.exitCode = checks.every((c) => c.ok) ? 0 : 1;
}

main().catch((e: Error) => {
  process.stderr.write(`${e.stack ?? e.message}\n`);
  process.exit(1);
});
