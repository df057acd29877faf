/**
 * The community's store on a real Postgres (started here): the directory rules it answers in SQL
 * are the in-memory directory's, the one the unit specs rank and compare with (the same records,
 * every caller and scope, the same ratings); reviews are one per tenant and model and listed as
 * each caller may see them; feedback stays its tenant's; the write counter is per tenant and
 * minute.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { DataSource } from 'typeorm';
import type { CommunityScope } from '@turnpike/contracts';
import { freePorts, startPostgres, type PostgresHandle } from '@turnpike/testing';
import { InMemoryCommunityDirectory } from './community-directory.js';
import { communityMigrations } from './community.migrations.js';
import { CommunityStore } from './community.store.js';

const SCHEMA = 'analytics_spec';
let tmp: string;
let postgres: PostgresHandle | undefined;
let db: DataSource | undefined;
let store: CommunityStore;

before(async () => {
  tmp = await fs.mkdtemp(path.join(os.tmpdir(), 'turnpike-community-'));
  await fs.chmod(tmp, 0o755);
  const [port] = (await freePorts(1)) as [number];
  postgres = await startPostgres({
    dataDir: path.join(tmp, 'pg'),
    port,
    logFile: path.join(tmp, 'postgres.log'),
    database: 'community_spec',
  });
  db = new DataSource({
    type: 'postgres',
    url: postgres.url,
    schema: SCHEMA,
    migrations: communityMigrations(SCHEMA),
    migrationsTableName: 'migrations',
    extra: { max: 4 },
  });
  await db.initialize();
  await db.query(`CREATE SCHEMA IF NOT EXISTS "${SCHEMA}"`);
  await db.runMigrations();
  store = new CommunityStore(db, SCHEMA);
});

after(async () => {
  await db?.destroy().catch(() => undefined);
  await postgres?.stop().catch(() => undefined);
  await fs.rm(tmp, { recursive: true, force: true });
});

const X = 'x/one';
const Y = 'y/two';
let gen = 0;
const nextGen = () => `gen-spec-${String(++gen).padStart(8, '0')}`;

describe('the community store', () => {
  const mirror = new InMemoryCommunityDirectory();

  test('opt-in: no row is not opted in; a change is recorded with its time', async () => {
    assert.deepEqual(await store.settings('a'), { tenantId: 'a', optedIn: false, updatedAt: null });
    for (const [t, on] of [
      ['a', true],
      ['b', true],
      ['c', false],
      ['d', true],
    ] as const) {
      const s = await store.setSettings(t, on);
      assert.equal(s.optedIn, on);
      if (on) mirror.optedIn.add(t);
    }
    await store.setSettings('d', false);
    mirror.optedIn.delete('d');
    assert.deepEqual(await store.optedInTenants(), ['a', 'b']);
    assert.ok(Date.parse((await store.settings('d')).updatedAt!) > Date.now() - 60_000);
  });

  test('the same ratings as the in-memory directory, for every caller and scope', async () => {
    const reviews: Array<[string, string, number]> = [
      ['a', X, 5],
      ['b', X, 2],
      ['c', X, 1],
      ['d', X, 4],
      ['b', Y, 3],
    ];
    for (const [t, m, score] of reviews) {
      await store.putReview(t, m, score, `${t} on ${m}`);
      mirror.reviews.push({ tenantId: t, model: m, score, hidden: false });
    }
    // b's review of X hidden by an operator.
    const bx = (await store.ownReview('b', X))!;
    await store.setHidden(bx.id, true, 'spam');
    mirror.reviews.find((r) => r.tenantId === 'b' && r.model === X)!.hidden = true;
    const feedback: Array<[string, string, 'up' | 'down' | null, number | null]> = [
      ['a', X, 'up', 5],
      ['b', X, 'down', null],
      ['c', X, 'up', 1],
      ['d', Y, null, 3],
      ['b', Y, 'up', 4],
    ];
    for (const [t, m, thumbs, score] of feedback) {
      await store.putFeedback({
        tenantId: t,
        keyId: `${t}-key`,
        generationId: nextGen(),
        model: m,
        provider: 'sim',
        endpointId: `${m}@sim`,
        category: 'other',
        comment: null,
        thumbs,
        score,
      });
      mirror.feedback.push({ tenantId: t, model: m, thumbs, score });
    }
    for (const caller of ['a', 'b', 'c', 'd', 'e'])
      for (const scope of ['community', 'own'] as CommunityScope[]) {
        const sql = await store.ratings([X, Y, 'z/none'], caller, scope);
        const mem = await mirror.ratings([X, Y, 'z/none'], caller, scope);
        assert.deepEqual([...sql.entries()], [...mem.entries()], `${caller}, ${scope}`);
      }
    // Spot check: a sees a's and its fellow opted-in b's (hidden: not counted).
    assert.deepEqual((await store.ratings([X], 'a', 'community')).get(X), {
      model: X,
      reviews: 1,
      averageScore: 5,
      thumbsUp: 1,
      thumbsDown: 1,
      feedbackScored: 1,
      averageFeedbackScore: 5,
    });
  });

  test('reviews: one per tenant and model; listed as the caller may see them', async () => {
    const again = await store.putReview('a', X, 3, 'changed');
    assert.equal(again.created, false);
    assert.equal(again.review.score, 3);
    const fresh = await store.putReview('e', X, 2, 'new');
    assert.equal(fresh.created, true);

    const forA = await store.listReviews('a', 'community', X, 10, 0);
    // Its own first; b's is hidden, c, d and e did not opt in.
    assert.deepEqual(
      forA.data.map((r) => [r.text, r.mine]),
      [['changed', true]],
    );
    assert.equal(forA.total, 1);
    const forB = await store.listReviews('b', 'community', X, 10, 0);
    assert.deepEqual(
      forB.data.map((r) => [r.text, r.mine, r.hidden]),
      [
        ['b on x/one', true, true],
        ['changed', false, false],
      ],
    );
    assert.equal((await store.listReviews('c', 'own', X, 10, 0)).total, 1);
    // Paging.
    const page = await store.listReviews('b', 'community', X, 1, 1);
    assert.deepEqual(
      page.data.map((r) => r.text),
      ['changed'],
    );
    assert.equal(page.total, 2);

    assert.equal(await store.deleteReview('e', X), true);
    assert.equal(await store.deleteReview('e', X), false);
    assert.equal(await store.ownReview('e', X), null);
    await assert.rejects(store.putReview('a', X, 6, 'x'), /check/i);
  });

  test('moderation: list by model and state, page by id; unhide clears the reason', async () => {
    const hidden = await store.adminList(null, true, 10, null);
    assert.deepEqual(
      hidden.data.map((r) => [r.tenantId, r.model, r.hiddenReason]),
      [['b', X, 'spam']],
    );
    const all = await store.adminList(X, null, 2, null);
    assert.equal(all.data.length, 2);
    assert.equal(all.hasMore, true);
    const rest = await store.adminList(X, null, 10, all.data[1]!.id);
    assert.ok(rest.data.every((r) => BigInt(r.id) > BigInt(all.data[1]!.id)));
    const id = hidden.data[0]!.id;
    const shown = await store.setHidden(id, false, 'ignored');
    assert.deepEqual([shown!.hidden, shown!.hiddenAt, shown!.hiddenReason], [false, null, null]);
    assert.equal(await store.setHidden('99999999', true, null), null);
  });

  test('feedback: submitting again replaces it; another tenant cannot overwrite it', async () => {
    const id = nextGen();
    const base = {
      tenantId: 'a',
      keyId: 'a-key',
      generationId: id,
      model: X,
      provider: 'sim',
      endpointId: `${X}@sim`,
      comment: null,
      thumbs: null,
      score: null,
    } as const;
    await store.putFeedback({ ...base, category: 'latency' });
    const again = await store.putFeedback({ ...base, category: 'formatting', thumbs: 'up' });
    assert.deepEqual([again.category, again.thumbs], ['formatting', 'up']);
    await assert.rejects(
      store.putFeedback({ ...base, tenantId: 'b', category: 'billing' }),
      /another tenant/,
    );
    const row: Array<{ category: string; tenant_id: string }> = await db!.query(
      `SELECT category, tenant_id FROM ${SCHEMA}.generation_feedback WHERE generation_id = $1`,
      [id],
    );
    assert.deepEqual(row, [{ category: 'formatting', tenant_id: 'a' }]);
  });

  test('writes are counted per tenant and UTC minute', async () => {
    const first = await store.countWrite('w1');
    const second = await store.countWrite('w1');
    const other = await store.countWrite('w2');
    // Within one minute: 1, 2; across a minute boundary the second starts again at 1.
    assert.ok((first === 1 && second === 2) || second === 1, `${first}, ${second}`);
    assert.equal(other, 1);
    const rows: Array<{ n: number }> = await db!.query(
      `SELECT count(*)::int AS n FROM ${SCHEMA}.community_write_windows WHERE tenant_id = 'w1'`,
    );
    assert.equal(rows[0]!.n, 1, 'older minutes of the tenant are dropped');
  });
});
