/**
 * The ledger writer on a real Postgres (started here, so that it can be stopped mid-batch): a
 * record the ledger refuses deterministically is parked and the rest of its group is booked; a
 * transient failure parks nothing and the redelivery books everything; a replay of the same
 * input parks the same records and reaches the same balances; a parked record retried after
 * its cause is gone is booked once and unparked.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { DataSource } from 'typeorm';
import { TOPICS, type CreditEventV1, type UsageEventV1 } from '@turnpike/contracts';
import { decode, type Log } from '@turnpike/kafka';
import {
  freePorts,
  startPostgres,
  usageEventFixture,
  type PostgresHandle,
} from '@turnpike/testing';
import { ledgerMigrations } from './ledger.migrations.js';
import { LedgerStore, type IngestResult } from './ledger.store.js';
import {
  LedgerWriter,
  RetryRefused,
  type ReceivedCredit,
  type ReceivedUsage,
} from './ledger-writer.js';

const MAX_SAFE = Number.MAX_SAFE_INTEGER;

let tmp: string;
let pgPort: number;
let postgres: PostgresHandle | undefined;
const opened: DataSource[] = [];

const startPg = async () =>
  startPostgres({
    dataDir: path.join(tmp, 'pg'),
    port: pgPort,
    logFile: path.join(tmp, 'postgres.log'),
    database: 'ledger_spec',
  });

before(async () => {
  tmp = await fs.mkdtemp(path.join(os.tmpdir(), 'turnpike-ledger-'));
  // mkdtemp gives 0700; as root, Postgres runs as an unprivileged user that must traverse it.
  await fs.chmod(tmp, 0o755);
  [pgPort] = (await freePorts(1)) as [number];
  postgres = await startPg();
});

after(async () => {
  for (const db of opened) await db.destroy().catch(() => undefined);
  await postgres?.stop().catch(() => undefined);
  await fs.rm(tmp, { recursive: true, force: true });
});

/** A ledger in its own schema, migrated as billing migrates it. */
async function openLedger(schema: string): Promise<{ db: DataSource; store: LedgerStore }> {
  const db = new DataSource({
    type: 'postgres',
    url: postgres!.url,
    schema,
    migrations: ledgerMigrations(schema),
    migrationsTableName: 'migrations',
    extra: { max: 4 },
  });
  await db.initialize();
  opened.push(db);
  await db.query(`CREATE SCHEMA IF NOT EXISTS "${schema}"`);
  await db.runMigrations();
  return { db, store: new LedgerStore(db, schema) };
}

/** What the writer logged, and what it published, for the assertions. */
function harness(store: LedgerStore) {
  const lines: Array<{ level: string; text: string }> = [];
  const log: Log = {
    log: (text) => lines.push({ level: 'log', text }),
    warn: (text) => lines.push({ level: 'warn', text }),
    error: (text) => lines.push({ level: 'error', text }),
  };
  const published: Array<Pick<IngestResult, 'tenants' | 'keys'>> = [];
  const writer = new LedgerWriter(
    store,
    async (r) => {
      published.push({ tenants: new Map(r.tenants), keys: new Map(r.keys) });
    },
    log,
  );
  return { writer, lines, published };
}

const usageEvent = usageEventFixture;

function creditEvent(tenantId: string, amountMicros: number, key: string): CreditEventV1 {
  return {
    v: 1,
    tenantId,
    kind: 'grant',
    amountMicros,
    idempotencyKey: key,
    note: null,
    generationId: null,
    createdAt: '2026-12-01T09:00:00.000Z',
  };
}

/** A record as the consumer hands it over: decoded by its contract, the bytes kept. */
function asRead<T extends UsageEventV1 | CreditEventV1>(
  topic: typeof TOPICS.usageEvents | typeof TOPICS.billingCredits,
  e: T,
  partition: number,
  offset: number,
) {
  const value = Buffer.from(JSON.stringify(e));
  const d = decode(topic, value);
  assert.ok(d.ok, `the record passes its contract: ${d.ok ? '' : d.error}`);
  // Usage events are keyed by generation id, credit movements by tenant.
  const key = Buffer.from(
    topic === TOPICS.usageEvents ? (e as UsageEventV1).generationId : e.tenantId,
  );
  return { event: d.value, partition, offset: String(offset), key, value };
}
const usageRead = (e: UsageEventV1, partition: number, offset: number) =>
  asRead(TOPICS.usageEvents, e, partition, offset) as ReceivedUsage;
const creditRead = (e: CreditEventV1, partition: number, offset: number) =>
  asRead(TOPICS.billingCredits, e, partition, offset) as ReceivedCredit;

/** Every record fed to a writer, as the topics hold them (once per partition and offset). */
class Topics {
  private readonly records = new Map<string, ReceivedUsage | ReceivedCredit>();
  private readonly topicOf = new Map<string, string>();

  add(topic: string, rs: Array<ReceivedUsage | ReceivedCredit>): void {
    for (const r of rs) {
      const k = `${topic}/${r.partition}@${r.offset}`;
      this.records.set(k, r);
      this.topicOf.set(k, topic);
    }
  }

  /** A replay: each topic-partition from its first offset, in batches of `size`. */
  batches(size: number): Array<{ usage: ReceivedUsage[]; credits: ReceivedCredit[] }> {
    const parts = new Map<string, Array<ReceivedUsage | ReceivedCredit>>();
    for (const [k, r] of this.records) {
      const p = `${this.topicOf.get(k)}/${r.partition}`;
      parts.set(p, [...(parts.get(p) ?? []), r]);
    }
    const out: Array<{ usage: ReceivedUsage[]; credits: ReceivedCredit[] }> = [];
    for (const [p, rs] of [...parts].sort()) {
      rs.sort((a, b) => Number(a.offset) - Number(b.offset));
      for (let i = 0; i < rs.length; i += size) {
        const chunk = rs.slice(i, i + size);
        out.push(
          p.startsWith(TOPICS.usageEvents)
            ? { usage: chunk as ReceivedUsage[], credits: [] }
            : { usage: [], credits: chunk as ReceivedCredit[] },
        );
      }
    }
    return out;
  }
}

async function balance(db: DataSource, schema: string, account: string): Promise<number> {
  const r = (await db.query(`SELECT balance FROM "${schema}".balances WHERE account = $1`, [
    account,
  ])) as Array<{ balance: string }>;
  return Number(r[0]?.balance ?? 0);
}

async function parkedRows(db: DataSource, schema: string) {
  return (await db.query(
    `SELECT id, topic, kafka_partition AS partition, kafka_offset::text AS "offset", record_key AS key, tenant_id, ref,
            record, sqlstate, error, retries FROM "${schema}".parked_records ORDER BY id`,
  )) as Array<{
    id: string;
    topic: string;
    partition: number;
    offset: string;
    key: string | null;
    tenant_id: string;
    ref: string;
    record: string;
    sqlstate: string | null;
    error: string;
    retries: number;
  }>;
}

async function assertVerified(store: LedgerStore): Promise<void> {
  const v = await store.verify();
  assert.equal(v.unbalancedTransactions, 0);
  assert.equal(v.balanceMismatches, 0);
  assert.equal(v.keyUsageMismatches, 0);
}

const sum = (es: UsageEventV1[]) => es.reduce((s, e) => s + e.cost.chargedMicros, 0);

describe('the ledger writer parks what it cannot book', () => {
  const schema = 'billing';
  let db: DataSource;
  let store: LedgerStore;
  let h: ReturnType<typeof harness>;
  const input = new Topics();

  before(async () => {
    ({ db, store } = await openLedger(schema));
    h = harness(store);
  });

  test('50 usage events, one of them poisoned in the middle: 49 booked, 1 parked, the batches resolve', async (t) => {
    const [ta, tb] = ['acme', 'globex'];
    const events = Array.from({ length: 50 }, (_, i) =>
      usageEvent(i % 2 === 0 ? ta : tb, 1_000 + i),
    );
    // An upstream's native finish reason, passed on verbatim, with a NUL in it: valid JSON, and
    // the contract takes any string; Postgres' jsonb refuses \u0000 (22P05). The usage event
    // is stored as jsonb, so no transaction that contains it can commit.
    const poisonIndex = 25;
    events[poisonIndex] = usageEvent(tb, 7_777, { nativeFinishReason: 'stop\u0000' });
    const poison = events[poisonIndex]!;
    const good = events.filter((e) => e !== poison);

    // Two batches of two partitions, booked as one group behind a first booking that keeps
    // the writer busy (as three consumers' batches are).
    const warmUp = [usageRead(usageEvent('initech', 500), 2, 0)];
    const first = events.slice(0, 20).map((e, i) => usageRead(e, 0, 100 + i));
    const second = events.slice(20).map((e, i) => usageRead(e, 1, 300 + i));
    input.add(TOPICS.usageEvents, [...warmUp, ...first, ...second]);
    const beats = [0, 0];
    const t0 = performance.now();
    const done = await Promise.allSettled([
      h.writer.submit(warmUp, []),
      h.writer.submit(first, [], async () => void beats[0]!++),
      h.writer.submit(second, [], async () => void beats[1]!++),
    ]);
    t.diagnostic(
      `group of 50 with one poisoned record booked in ${(performance.now() - t0).toFixed(0)} ms`,
    );
    // Every batch resolves: its offsets may move.
    assert.deepEqual(
      done.map((d) => d.status),
      ['fulfilled', 'fulfilled', 'fulfilled'],
    );
    assert.equal(
      h.writer.stats.isolated,
      1,
      'the two batches were booked as one group, then alone',
    );
    assert.ok(
      beats[0]! >= 50 && beats[1]! >= 50,
      `both consumers kept their heartbeats (${beats})`,
    );

    // 49 booked, exactly those.
    const booked = (await db.query(
      `SELECT generation_id FROM billing.usage_events WHERE tenant_id IN ($1, $2) ORDER BY generation_id`,
      [ta, tb],
    )) as Array<{ generation_id: string }>;
    assert.deepEqual(
      booked.map((r) => r.generation_id),
      good.map((e) => e.generationId).sort(),
    );
    // Balances exactly those of the 49.
    for (const tenant of [ta, tb]) {
      const mine = good.filter((e) => e.tenantId === tenant);
      assert.equal(await balance(db, schema, `tenant:${tenant}:usage`), sum(mine), tenant);
      const k = (await db.query(
        `SELECT usage FROM billing.key_usage WHERE key_id = $1 AND period = 'all'`,
        [`${tenant}-key`],
      )) as Array<{ usage: string }>;
      assert.equal(Number(k[0]!.usage), sum(mine));
    }
    await assertVerified(store);

    // 1 parked: where it was read, the record as it was read, why.
    const parked = await parkedRows(db, schema);
    assert.equal(parked.length, 1);
    const p = parked[0]!;
    assert.equal(p.topic, TOPICS.usageEvents);
    assert.equal(p.partition, 1);
    assert.equal(p.offset, String(300 + poisonIndex - 20));
    assert.equal(p.key, poison.generationId);
    assert.equal(p.tenant_id, tb);
    assert.equal(p.ref, `usage:${poison.generationId}`);
    assert.equal(p.record, JSON.stringify(poison));
    assert.equal(p.sqlstate, '22P05');
    assert.match(p.error, /Unicode escape/);
    assert.equal(h.writer.stats.parked, 1);

    // Operators see it: one error line naming topic, partition and offset.
    const errors = h.lines.filter((l) => l.level === 'error');
    assert.equal(errors.length, 1, JSON.stringify(errors));
    assert.match(errors[0]!.text, new RegExp(`PARKED usage\\.events\\.v1/1@${p.offset} `));
    assert.match(errors[0]!.text, new RegExp(`parked record ${p.id}`));

    // The balances of the 49 were published; the parked generation is not listed as landed
    // (its reservation is not released as if it had been charged).
    const listed = new Set(h.published.flatMap((r) => [...r.tenants.values()].flat()));
    for (const e of good) assert.ok(listed.has(e.generationId), e.generationId);
    assert.equal(listed.has(poison.generationId), false);

    // A redelivery of the same batches (a crash before the offsets were committed) books
    // nothing twice and parks nothing twice.
    await h.writer.submit(second, []);
    assert.equal((await parkedRows(db, schema)).length, 1);
    assert.equal(h.writer.stats.parked, 1);
    assert.equal(
      await balance(db, schema, `tenant:${tb}:usage`),
      sum(good.filter((e) => e.tenantId === tb)),
    );
  });

  test('a charge beyond the safe range and a negative grant are parked too; the rest is booked', async () => {
    // A credit grant with a negative amount passes its contract (which allows signed
    // adjustments) but not the posting rules: refused before the database (no SQLSTATE).
    const credits = [
      creditRead(creditEvent('hooli', 5_000_000, 'grant-1'), 0, 0),
      creditRead(creditEvent('hooli', -5_000_000, 'grant-negative'), 0, 1),
      creditRead(creditEvent('hooli', 2_000_000, 'grant-2'), 0, 2),
    ];
    // A charge of 2^53 - 1 on a tenant that already used something: the usage balance would
    // leave the safe integers the readers rely on; the database refuses it (23514).
    const events = [
      usageEvent('hooli', 1_000),
      usageEvent('hooli', MAX_SAFE),
      usageEvent('hooli', 2_000),
    ];
    const usage = events.map((e, i) => usageRead(e, 3, i));
    input.add(TOPICS.billingCredits, credits);
    input.add(TOPICS.usageEvents, usage);
    await Promise.all([h.writer.submit([], credits), h.writer.submit(usage, [])]);

    assert.equal(await balance(db, schema, 'tenant:hooli:credit'), -7_000_000);
    assert.equal(await balance(db, schema, 'tenant:hooli:usage'), 3_000);
    const parked = (await parkedRows(db, schema)).filter((p) => p.tenant_id === 'hooli');
    assert.deepEqual(
      parked.map((p) => [p.topic, p.partition, p.offset, p.sqlstate, p.ref]),
      [
        [TOPICS.billingCredits, 0, '1', null, 'credit:hooli:grant-negative'],
        [TOPICS.usageEvents, 3, '1', '23514', `usage:${events[1]!.generationId}`],
      ],
    );
    assert.match(parked.find((p) => p.sqlstate === null)!.error, /grant must be positive/);
    assert.match(parked.find((p) => p.sqlstate === '23514')!.error, /balances_tenant_safe_integer/);
    // The balance publication after it reads safe integers (before, a booked 2^53 - 1 charge
    // made every publication of the tenant fail, and with it every batch, forever).
    const states = await store.tenantStates(['hooli']);
    assert.equal(states.get('hooli')!.balanceMicros, 7_000_000 - 3_000);
    await assertVerified(store);
  });

  test('transient failures mid-batch (connection killed, database stopped): nothing parked, the redelivery is booked whole', async (t) => {
    const events = Array.from({ length: 30 }, (_, i) => usageEvent('umbrella', 2_000 + i));
    const batch = events.map((e, i) => usageRead(e, 4, i));
    input.add(TOPICS.usageEvents, batch);
    const parkedBefore = (await parkedRows(db, schema)).length;
    const parkedLines = () =>
      h.lines.filter((l) => l.level === 'error' && l.text.startsWith('PARKED')).length;
    const linesBefore = parkedLines();
    const bookedOfBatch = async () =>
      (
        (await db.query(
          `SELECT count(*)::int AS n FROM billing.usage_events WHERE tenant_id = 'umbrella'`,
        )) as Array<{ n: number }>
      )[0]!.n;

    /**
     * Submits the batch and holds the writer inside its transaction (its rows written, not
     * committed: the balances are locked), then lets `fail` break it; the batch must be failed
     * back (for redelivery), not booked record by record and not parked.
     */
    const failMidBatch = async (fail: (writerPid: number) => Promise<void>): Promise<string> => {
      const lock = db.createQueryRunner();
      await lock.connect();
      await lock.startTransaction();
      await lock.query(`LOCK TABLE billing.balances IN SHARE ROW EXCLUSIVE MODE`);
      const booking = h.writer.submit(batch, []);
      booking.catch(() => undefined);
      let writerPid: number | undefined;
      for (let i = 0; writerPid === undefined; i++) {
        const r = (await db.query(
          `SELECT pid FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND query LIKE '%balances%' AND pid <> pg_backend_pid()`,
        )) as Array<{ pid: number }>;
        writerPid = r[0]?.pid;
        if (writerPid === undefined) {
          assert.ok(i < 300, 'the booking to block inside its transaction');
          await sleep(20);
        }
      }
      await fail(writerPid);
      // The lock goes (if the server still runs): a writer that went on record by record
      // would now book the batch, and the batch would resolve.
      await lock.rollbackTransaction().catch(() => undefined);
      await lock.release().catch(() => undefined);
      const failure = await booking.then(
        () => assert.fail('the batch must fail, to be redelivered'),
        (e: unknown) => e,
      );
      return (failure as Error).message;
    };

    // The writer's connection is killed while the server runs (what a failover or a network
    // cut looks like to it).
    let why = await failMidBatch(async (pid) => {
      await db.query('SELECT pg_terminate_backend($1)', [pid]);
    });
    t.diagnostic(`connection killed: ${why}`);
    assert.equal(await bookedOfBatch(), 0);
    assert.equal((await parkedRows(db, schema)).length, parkedBefore);

    // The whole server stops under it (fast shutdown), then comes back.
    const t0 = performance.now();
    why = await failMidBatch(() => postgres!.stop());
    t.diagnostic(
      `database stopped: failed ${(performance.now() - t0).toFixed(0)} ms after the stop began: ${why}`,
    );
    postgres = await startPg();
    assert.equal(await bookedOfBatch(), 0);
    assert.equal((await parkedRows(db, schema)).length, parkedBefore);
    assert.equal(parkedLines(), linesBefore);

    // The redelivery books everything.
    await h.writer.submit(batch, []);
    assert.equal(await bookedOfBatch(), 30);
    assert.equal(await balance(db, schema, 'tenant:umbrella:usage'), sum(events));
    assert.equal((await parkedRows(db, schema)).length, parkedBefore);
    await assertVerified(store);
  });

  test('a replay of the same input, batched otherwise, parks the same records and reaches the same balances', async () => {
    const replay = await openLedger('billing_replay');
    const r = harness(replay.store);
    for (const b of input.batches(7)) await r.writer.submit(b.usage, b.credits);
    const diff = async (sql: (s: string) => string) =>
      (await db.query(
        `(${sql('billing')} EXCEPT ${sql('billing_replay')}) UNION ALL (${sql('billing_replay')} EXCEPT ${sql('billing')})`,
      )) as unknown[];
    const parkedSet = (s: string) =>
      `SELECT topic, kafka_partition, kafka_offset, ref, sqlstate, record FROM "${s}".parked_records`;
    assert.deepEqual(await diff(parkedSet), [], 'the same parked records');
    assert.equal((await parkedRows(replay.db, 'billing_replay')).length, 3);
    assert.deepEqual(
      await diff((s) => `SELECT account, balance FROM "${s}".balances`),
      [],
      'every balance, to the micro-unit',
    );
    assert.deepEqual(
      await diff((s) => `SELECT key_id, period, period_start, usage FROM "${s}".key_usage`),
      [],
    );
    assert.deepEqual(
      await diff((s) => `SELECT generation_id, charged_micros FROM "${s}".usage_events`),
      [],
    );
    assert.equal(r.writer.stats.parked, 3);
    await assertVerified(replay.store);
  });
});

describe('a parked record retried after its cause is gone', () => {
  test('refused while the cause remains, then booked once and unparked; a second retry finds nothing', async () => {
    const schema = 'billing_upgrade';
    const { db, store } = await openLedger(schema);
    const h = harness(store);
    // Billing as it was before failed-attempt costs: a newer gateway's usage event with the
    // cost of an attempt a fallback replaced needs an account kind the old schema refuses
    // (23514, accounts_kind_check). A rolling upgrade that reaches the gateways first.
    const [, failedAttemptCosts] = ledgerMigrations(schema);
    const migrate = db.createQueryRunner();
    await migrate.connect();
    await new failedAttemptCosts!().down(migrate);

    const withLoss = usageEvent('wayne', 3_000, {
      attempts: [
        {
          attempt: 1,
          endpointId: 'turnpike/sim-small@sim-b',
          provider: 'sim-b',
          model: 'turnpike/sim-small',
          outcome: 'error',
          upstreamStatus: 500,
          errorCode: 'upstream_error',
          ttftMs: null,
          latencyMs: 40,
          tokens: { prompt: 10, completion: 3, cachedRead: 0, cacheWrite: 0, reasoning: 0 },
          usageReported: false,
          upstreamMicros: 250,
          served: false,
          accountId: null,
          role: null,
          billedTokens: { prompt: 0, completion: 0, cachedRead: 0, cacheWrite: 0, reasoning: 0 },
          billedUpstreamMicros: 0,
          chargedMicros: 0,
        },
      ],
    });
    const events = [usageEvent('wayne', 1_000), withLoss, usageEvent('wayne', 2_000)];
    const batch = events.map((e, i) => usageRead(e, 0, 10 + i));
    await h.writer.submit(batch, []);
    assert.equal(await balance(db, schema, 'tenant:wayne:usage'), 3_000);
    const [p] = await parkedRows(db, schema);
    assert.equal(p?.sqlstate, '23514');
    assert.match(p!.error, /accounts_kind_check/);

    // Still refused: it stays parked, with the retry counted.
    await assert.rejects(
      h.writer.retry(p!.id),
      (e: unknown) => e instanceof RetryRefused && e.reason === 'unbookable',
    );
    assert.equal((await parkedRows(db, schema))[0]!.retries, 1);

    // The upgrade; then the retry books it, once, and unparks it in the same transaction.
    await new failedAttemptCosts!().up(migrate);
    await migrate.release();
    const published = h.published.length;
    assert.deepEqual(await h.writer.retry(p!.id), {
      id: p!.id,
      ref: `usage:${withLoss.generationId}`,
      outcome: 'booked',
    });
    assert.deepEqual(await parkedRows(db, schema), []);
    assert.equal(await balance(db, schema, 'tenant:wayne:usage'), 6_000);
    assert.equal(await balance(db, schema, 'platform:expense:failed_attempts'), 250);
    assert.deepEqual(
      [...h.published.slice(published)[0]!.tenants],
      [['wayne', [withLoss.generationId]]],
      'its balance is published, listing its generation',
    );
    // Again: not parked any more; and a redelivery of its batch is a duplicate, not a new park.
    await assert.rejects(
      h.writer.retry(p!.id),
      (e: unknown) => e instanceof RetryRefused && e.reason === 'not_parked',
    );
    await h.writer.submit(batch, []);
    assert.deepEqual(await parkedRows(db, schema), []);
    const txns = (await db.query(
      `SELECT count(*)::int AS n FROM "${schema}".transactions WHERE generation_id = $1`,
      [withLoss.generationId],
    )) as Array<{ n: number }>;
    assert.equal(txns[0]!.n, 1, 'booked once');
    assert.equal(await balance(db, schema, 'tenant:wayne:usage'), 6_000);
    assert.deepEqual(
      { parked: h.writer.stats.parked, unparked: h.writer.stats.unparked },
      {
        parked: 1,
        unparked: 1,
      },
    );
    await assertVerified(store);
  });
});
