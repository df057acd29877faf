/**
 * The topics analysts read, read as an analyst would: with `kcat` (the Debian package, installed
 * by the test tier if missing; see support/kcat.ts) from the test broker, every message validated
 * against the JSON Schema committed in `libs/contracts/schemas/`. `usage.events.v1` carries the
 * gateway's usage events; `usage.rollups.v1` carries analytics' closed buckets, whose latest
 * versions add up to the events they count, with DDSketches DataDog's library reads back.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { before, describe, test } from 'node:test';
import { Ajv2020 } from 'ajv/dist/2020.js';
import addFormatsModule from 'ajv-formats';
import kafkajs from 'kafkajs';
import pg from 'pg';
import { TOPICS, type UsageRollupV1 } from '@turnpike/contracts';
import { fromSketchRecord } from '@turnpike/rollups';
import { seedTenant, TrafficGenerator } from '@turnpike/testing';
import { ctx, eventually, marker } from '../support/context.js';
import { ensureKcat, kcatRead, type KcatMessage } from '../support/kcat.js';

const SKIP = process.env['TURNPIKE_SKIP_KCAT'] === '1';
const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');

type FormatsPlugin = (ajv: Ajv2020) => Ajv2020;
const addFormats: FormatsPlugin =
  (addFormatsModule as unknown as { default?: FormatsPlugin }).default ??
  (addFormatsModule as unknown as FormatsPlugin);

function validator(topic: string) {
  const ajv = new Ajv2020({ allErrors: true, strict: false });
  addFormats(ajv);
  const schema = JSON.parse(
    readFileSync(path.join(root, 'libs/contracts/schemas', `${topic}.schema.json`), 'utf8'),
  ) as object;
  const validate = ajv.compile(schema);
  return (m: KcatMessage) => {
    const value: unknown = JSON.parse(m.payload!);
    if (!validate(value))
      assert.fail(
        `${topic}/${m.partition}@${m.offset} does not match its schema: ${ajv.errorsText(validate.errors)}`,
      );
    return value;
  };
}

describe(
  'topics for analysts, read with kcat',
  { skip: SKIP ? 'TURNPIKE_SKIP_KCAT=1' : false },
  () => {
    let kcat: string;
    before(async () => {
      const t0 = Date.now();
      kcat = await ensureKcat();
      console.log(`  kcat ready in ${Date.now() - t0} ms: ${kcat}`);
    });

    test("usage.events.v1: the gateway's usage events match the committed schema", async () => {
      const t = await seedTenant(ctx().gatewayUrl, ctx().adminToken, {
        id: `tp-ev-${Math.random().toString(36).slice(2, 8)}`,
        name: 'Topics',
      });
      const ids: string[] = [];
      for (const stream of [false, true]) {
        const res = await fetch(`${ctx().gatewayUrl}/v1/chat/completions`, {
          method: 'POST',
          headers: {
            authorization: `Bearer ${t.key}`,
            'content-type': 'application/json',
            'X-Title': 'kcat',
          },
          body: JSON.stringify({
            model: 'turnpike/sim-small',
            stream,
            messages: [{ role: 'user', content: `${marker('kcat')} [[sim tokens=4]]` }],
          }),
        });
        await res.text();
        assert.equal(res.status, 200);
        ids.push(res.headers.get('x-generation-id')!);
      }
      const check = validator(TOPICS.usageEvents);
      const mine = await eventually(
        async () => {
          const all = await kcatRead(kcat, ctx().kafkaBrokers, TOPICS.usageEvents);
          const found = all.filter((m) => m.key !== null && ids.includes(m.key));
          return found.length === ids.length && found;
        },
        'both usage events on the topic',
        20_000,
      );
      for (const m of mine) {
        const e = check(m) as {
          generationId: string;
          tenantId: string;
          app: { title: string | null };
        };
        assert.equal(m.key, e.generationId, 'keyed by generation id');
        assert.equal(e.tenantId, t.tenantId);
        assert.equal(e.app.title, 'kcat');
      }
    });

    test('usage.rollups.v1: closed buckets match the committed schema and add up to the events', async (t) => {
      // Traffic of the last two hours, ended ten minutes ago: every minute bucket is closed.
      const now = Date.now();
      const prefix = `tp-${Math.random().toString(36).slice(2, 8)}`;
      const gen = new TrafficGenerator({
        seed: 42,
        from: now - 2 * 3_600_000,
        to: now - 600_000,
        tenants: 3,
        tenantPrefix: prefix,
      });
      const gens = gen.take(300);
      const kafka = new kafkajs.Kafka({
        clientId: 'topics-e2e',
        brokers: [ctx().kafkaBrokers],
        logLevel: kafkajs.logLevel.NOTHING,
      });
      const producer = kafka.producer();
      await producer.connect();
      try {
        await producer.send({
          topic: TOPICS.usageEvents,
          messages: gens.map((g) => ({
            key: g.event.generationId,
            value: JSON.stringify(g.event),
          })),
        });
        await producer.send({
          topic: TOPICS.llmAttempts,
          messages: gens.flatMap((g) =>
            g.attempts.map((a) => ({ key: a.generationId, value: JSON.stringify(a) })),
          ),
        });
      } finally {
        await producer.disconnect();
      }
      // Analytics reads the topics in order: after a suite that put a backlog on them (billing's
      // 20,000 events), counting these may wait for it. Publication is then timed on its own.
      const db = new pg.Client({ connectionString: ctx().databaseUrl });
      await db.connect();
      try {
        await eventually(
          async () =>
            Number(
              (
                await db.query<{ n: string }>(
                  'SELECT count(*) AS n FROM analytics.processed_generations WHERE tenant_id LIKE $1',
                  [`${prefix}-%`],
                )
              ).rows[0]!.n,
            ) === gens.length,
          'analytics to count the synthetic traffic',
          180_000,
        );
      } finally {
        await db.end();
      }
      const check = validator(TOPICS.usageRollups);
      const latest = await eventually(
        async () => {
          const all = await kcatRead(kcat, ctx().kafkaBrokers, TOPICS.usageRollups);
          const byKey = new Map<string, UsageRollupV1>();
          for (const m of all) {
            if (m.payload === null) continue;
            const r = check(m) as UsageRollupV1;
            assert.match(m.key ?? '', /^[0-9a-f]{32}$/);
            const prev = byKey.get(m.key!);
            if (!prev || prev.version < r.version) byKey.set(m.key!, r);
          }
          const minutes = [...byKey.values()].filter(
            (r): r is Extract<UsageRollupV1, { kind: 'usage' }> =>
              r.kind === 'usage' &&
              r.granularity === 'minute' &&
              r.tenantId.startsWith(`${prefix}-`),
          );
          const counted = minutes.reduce((n, r) => n + r.requests, 0);
          return counted === gens.length && { all: all.length, minutes, byKey };
        },
        'analytics to publish the closed minutes of the synthetic traffic',
        60_000,
      );
      t.diagnostic(
        `${latest.all} messages on usage.rollups.v1, ${latest.byKey.size} buckets, ${latest.minutes.length} of this test`,
      );
      const events = gens.map((g) => g.event);
      const sum = (f: (e: (typeof events)[number]) => number) =>
        events.reduce((n, e) => n + f(e), 0);
      assert.equal(
        latest.minutes.reduce((n, r) => n + r.tokens.prompt, 0),
        sum((e) => e.tokens.prompt),
      );
      assert.equal(
        latest.minutes.reduce((n, r) => n + r.errors, 0),
        sum((e) => (e.status === 'error' ? 1 : 0)),
      );
      assert.equal(
        latest.minutes.reduce((n, r) => n + r.latencyMs.count, 0),
        gens.length,
      );
      for (const r of latest.minutes.slice(0, 50)) {
        const sk = fromSketchRecord(r.latencyMs)!;
        assert.equal(sk.count, r.requests, 'the DDSketch protobuf holds every latency');
        assert.equal(r.bucketEnd, new Date(Date.parse(r.bucketStart) + 60_000).toISOString());
      }
      const attempts = [...latest.byKey.values()].filter((r) => r.kind === 'attempt');
      assert.ok(attempts.length > 0, 'attempt buckets too');
      // What was published is what analytics holds.
      const db2 = new pg.Client({ connectionString: ctx().databaseUrl });
      await db2.connect();
      try {
        const r = await db2.query<{ n: string }>(
          `SELECT sum(requests) AS n FROM analytics.usage_rollups WHERE granularity = 'minute' AND tenant_id LIKE $1`,
          [`${prefix}-%`],
        );
        assert.equal(Number(r.rows[0]!.n), gens.length);
      } finally {
        await db2.end();
      }
    });
  },
);
