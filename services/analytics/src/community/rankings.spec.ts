/**
 * Rankings and the community datasets over the fake rollup reader (the rollups of known usage
 * events) and an in-memory directory: who counts (opted-in tenants and the caller; the caller
 * alone with `own`), top-50 plus `other`, weeks and months, popular and trending apps, session
 * costs, and the weekly/monthly trend against the previous period.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  AppRankingsParams,
  PeriodRankingsParams,
  RankingsDailyParams,
  SessionCostParams,
} from '@turnpike/contracts';
import { RpcFailure } from '@turnpike/kafka';
import { InMemoryCommunityDirectory } from './community-directory.js';
import { InMemoryRollupReader, percentiles } from './in-memory-rollups.js';
import {
  appIdOf,
  appRankings,
  appSlugOf,
  median,
  periodRankings,
  periodWindows,
  rankingsDaily,
  sessionCost,
} from './rankings.js';
import { usage } from './spec-support.js';

/** A Wednesday, noon UTC: the week began on Monday 2026-03-16. */
const NOW = new Date('2026-03-18T12:00:00.000Z');

function directory(optedIn: string[] = ['a', 'b']): InMemoryCommunityDirectory {
  const dir = new InMemoryCommunityDirectory();
  for (const t of optedIn) dir.optedIn.add(t);
  return dir;
}

/** `n` total tokens split 60/40 between prompt and completion. */
const tokens = (n: number) => ({
  prompt: Math.round(n * 0.6),
  completion: n - Math.round(n * 0.6),
});

describe('the fake reader', () => {
  test('counts a generation once, however often it is delivered', async () => {
    const e = usage('a', 'x/one', '2026-03-10T10:00:00.000Z', tokens(100));
    const reader = new InMemoryRollupReader([e, e, { ...e }]);
    const { rows } = await reader.query({
      tenantIds: 'all',
      from: new Date('2026-03-10T00:00:00Z'),
      to: new Date('2026-03-11T00:00:00Z'),
      granularity: 'day',
      dimensions: ['model'],
      metrics: ['requests'],
    });
    assert.deepEqual(
      rows.map((r) => [r.key.model, r.requests, r.promptTokens + r.completionTokens]),
      [['x/one', 1, 100]],
    );
  });

  test('nearest-rank percentiles', () => {
    const values = Array.from({ length: 100 }, (_, i) => i + 1);
    assert.deepEqual(percentiles(values), { p50: 50, p90: 90, p99: 99 });
    assert.deepEqual(percentiles([7]), { p50: 7, p90: 7, p99: 7 });
    assert.equal(percentiles([]), null);
  });
});

describe('rankings-daily', () => {
  const reader = new InMemoryRollupReader([
    usage('a', 'x/one', '2026-03-10T01:00:00.000Z', tokens(100)),
    usage('b', 'y/two', '2026-03-10T02:00:00.000Z', tokens(300)),
    usage('c', 'z/three', '2026-03-10T03:00:00.000Z', tokens(1000)),
    usage('b', 'x/one', '2026-03-11T04:00:00.000Z', tokens(50)),
    usage('a', 'x/one', '2026-03-16T05:00:00.000Z', tokens(7)),
    // Today (the 18th) is not a completed day: left out by default.
    usage('a', 'x/one', '2026-03-18T06:00:00.000Z', tokens(9999)),
  ]);
  const ask = (tenantId: string, over: Partial<RankingsDailyParams> = {}) =>
    rankingsDaily(
      reader,
      directory(),
      RankingsDailyParams.parse({
        tenantId,
        startDate: '2026-03-10',
        endDate: '2026-03-17',
        ...over,
      }),
      NOW,
    );
  const rows = (r: Awaited<ReturnType<typeof ask>>) =>
    r.data.map((d) => [d.date, d.model, d.totalTokens]);

  test('opted-in tenants and the caller count; an opted-out tenant does not', async () => {
    const r = await ask('a');
    assert.deepEqual(rows(r), [
      ['2026-03-10', 'y/two', 300],
      ['2026-03-10', 'x/one', 100],
      ['2026-03-10', 'other', 0],
      ['2026-03-11', 'x/one', 50],
      ['2026-03-11', 'other', 0],
      ['2026-03-16', 'x/one', 7],
      ['2026-03-16', 'other', 0],
    ]);
    assert.deepEqual(r.meta, {
      asOf: NOW.toISOString(),
      startDate: '2026-03-10',
      endDate: '2026-03-17',
    });
  });

  test('an opted-out caller sees its own figures among the community', async () => {
    const r = await ask('c', { endDate: '2026-03-10' });
    assert.deepEqual(rows(r), [
      ['2026-03-10', 'z/three', 1000],
      ['2026-03-10', 'y/two', 300],
      ['2026-03-10', 'x/one', 100],
      ['2026-03-10', 'other', 0],
    ]);
  });

  test('scope own: the caller alone', async () => {
    const r = await ask('b', { scope: 'own' });
    assert.deepEqual(rows(r), [
      ['2026-03-10', 'y/two', 300],
      ['2026-03-10', 'other', 0],
      ['2026-03-11', 'x/one', 50],
      ['2026-03-11', 'other', 0],
    ]);
  });

  test('by ISO week (from Monday) and by month', async () => {
    assert.deepEqual(rows(await ask('a', { period: 'week' })), [
      ['2026-03-09', 'y/two', 300],
      ['2026-03-09', 'x/one', 150],
      ['2026-03-09', 'other', 0],
      ['2026-03-16', 'x/one', 7],
      ['2026-03-16', 'other', 0],
    ]);
    assert.deepEqual(rows(await ask('a', { period: 'month' })), [
      ['2026-03-01', 'y/two', 300],
      ['2026-03-01', 'x/one', 157],
      ['2026-03-01', 'other', 0],
    ]);
  });

  test('defaults: the 30 days up to the last completed UTC day', async () => {
    const r = await rankingsDaily(
      reader,
      directory(),
      RankingsDailyParams.parse({ tenantId: 'a' }),
      NOW,
    );
    assert.deepEqual(r.meta, {
      asOf: NOW.toISOString(),
      startDate: '2026-02-15',
      endDate: '2026-03-17',
    });
    assert.ok(!r.data.some((d) => d.totalTokens === 9999), 'today is not a completed day');
  });

  test('the top 50 per day, and the rest summed in one `other` row, last', async () => {
    const many = new InMemoryRollupReader(
      Array.from({ length: 53 }, (_, i) =>
        usage(
          'a',
          `m/model-${String(i).padStart(2, '0')}`,
          '2026-03-12T00:00:00.000Z',
          tokens(1000 - i),
        ),
      ),
    );
    const r = await rankingsDaily(
      many,
      directory(),
      RankingsDailyParams.parse({ tenantId: 'a', startDate: '2026-03-12', endDate: '2026-03-12' }),
      NOW,
    );
    assert.equal(r.data.length, 51);
    assert.equal(r.data[0]!.model, 'm/model-00');
    assert.equal(r.data[49]!.model, 'm/model-49');
    assert.deepEqual(r.data[50], {
      date: '2026-03-12',
      model: 'other',
      totalTokens: 950 + 949 + 948,
    });
  });

  test('refuses a window that ends before it starts, or spans over a year', async () => {
    await assert.rejects(ask('a', { startDate: '2026-03-12', endDate: '2026-03-11' }), (e) => {
      assert.ok(e instanceof RpcFailure);
      assert.equal(e.error.status, 400);
      assert.equal(e.error.param, 'start_date');
      return true;
    });
    await assert.rejects(ask('a', { startDate: '2025-01-01', endDate: '2026-03-11' }), RpcFailure);
  });
});

describe('app-rankings', () => {
  const A = 'https://a.example';
  const B = 'https://b.example';
  const window = { startDate: '2026-03-10', endDate: '2026-03-16' };

  test('popular: apps by tokens, absolute ranks, paging; no app and opted-out tenants left out', async () => {
    const reader = new InMemoryRollupReader([
      usage('a', 'x/one', '2026-03-10T00:00:00.000Z', { app: A, ...tokens(200) }),
      usage('a', 'x/one', '2026-03-11T00:00:00.000Z', { app: A, ...tokens(300) }),
      usage('b', 'x/one', '2026-03-12T00:00:00.000Z', { app: B, ...tokens(800) }),
      usage('b', 'x/one', '2026-03-12T00:00:00.000Z', { app: null, ...tokens(9000) }),
      usage('c', 'x/one', '2026-03-12T00:00:00.000Z', {
        app: 'https://c.example',
        ...tokens(5000),
      }),
    ]);
    const ask = (over: Partial<AppRankingsParams> = {}) =>
      appRankings(
        reader,
        directory(),
        AppRankingsParams.parse({ tenantId: 'a', ...window, ...over }),
        NOW,
      );
    const all = await ask();
    assert.deepEqual(
      all.data.map((a) => [a.rank, a.app, a.requests, a.totalTokens, a.appId]),
      [
        [1, B, 1, 800, appIdOf(B)],
        [2, A, 2, 500, appIdOf(A)],
      ],
    );
    const second = await ask({ offset: 1, limit: 1 });
    assert.deepEqual(
      second.data.map((a) => [a.rank, a.app]),
      [[2, A]],
    );
  });

  test('trending: tokens of the window minus the mean of the three periods before it', async () => {
    const reader = new InMemoryRollupReader([
      // A: 700 in the window, 300 over the three weeks before (mean 100): growth 600.
      usage('a', 'x/one', '2026-03-12T00:00:00.000Z', { app: A, ...tokens(700) }),
      usage('a', 'x/one', '2026-02-20T00:00:00.000Z', { app: A, ...tokens(300) }),
      // B: 100 now, 900 before (mean 300): shrinking, so not trending.
      usage('b', 'x/one', '2026-03-12T00:00:00.000Z', { app: B, ...tokens(100) }),
      usage('b', 'x/one', '2026-03-01T00:00:00.000Z', { app: B, ...tokens(900) }),
      // D: new, 50.
      usage('b', 'x/one', '2026-03-16T23:00:00.000Z', { app: 'https://d.example', ...tokens(50) }),
      // Before the three periods: not counted.
      usage('a', 'x/one', '2026-02-10T00:00:00.000Z', {
        app: 'https://d.example',
        ...tokens(5000),
      }),
    ]);
    const r = await appRankings(
      reader,
      directory(),
      AppRankingsParams.parse({ tenantId: 'a', sort: 'trending', ...window }),
      NOW,
    );
    assert.deepEqual(
      r.data.map((a) => [a.rank, a.app, a.totalTokens, a.growthTokens]),
      [
        [1, A, 700, 600],
        [2, 'https://d.example', 50, 50],
      ],
    );
  });

  test('app ids are stable positive integers', () => {
    assert.equal(appIdOf(A), appIdOf(A));
    assert.notEqual(appIdOf(A), appIdOf(B));
    for (const app of [A, B, '', 'x'.repeat(512)]) {
      assert.ok(Number.isSafeInteger(appIdOf(app)) && appIdOf(app) > 0);
      assert.ok(appIdOf(app) <= 0x7fffffff);
    }
  });
});

describe('session-cost', () => {
  const A = 'https://A-App.example/chat';
  const reader = new InMemoryRollupReader([
    // Tenant a's key k1 on the 10th: three turns, 100 + 200 + 300.
    ...[100, 200, 300].map((c) =>
      usage('a', 'x/one', '2026-03-10T10:00:00.000Z', { key: 'k1', app: A, chargedMicros: c }),
    ),
    // The same key the next day: a new session of one turn.
    usage('a', 'x/one', '2026-03-11T10:00:00.000Z', { key: 'k1', app: A, chargedMicros: 50 }),
    // Tenant b's key: two turns, 800.
    ...[400, 400].map((c) =>
      usage('b', 'x/one', '2026-03-10T11:00:00.000Z', { key: 'k2', app: A, chargedMicros: c }),
    ),
    // Opted out: not counted for others.
    ...[5, 5].map((c) =>
      usage('c', 'x/one', '2026-03-10T11:00:00.000Z', { key: 'k3', app: A, chargedMicros: c }),
    ),
    // Another model, and traffic without an app.
    usage('a', 'y/two', '2026-03-12T10:00:00.000Z', { key: 'k1', app: A, chargedMicros: 70 }),
    usage('a', 'x/one', '2026-03-12T10:00:00.000Z', { key: 'k1', app: null, chargedMicros: 70 }),
  ]);
  const ask = (over: Partial<SessionCostParams> = {}) =>
    sessionCost(
      reader,
      directory(),
      SessionCostParams.parse({ tenantId: 'a', endDate: '2026-03-17', ...over }),
      NOW,
    );

  test('median cost of a session (a key, an app, a model, a UTC day) per turn range', async () => {
    const r = await ask();
    assert.deepEqual(
      r.data.map((c) => [c.appSlug, c.model, c.turnRange, c.sessions, c.medianSessionMicros]),
      [
        ['a-app-example-chat', 'x/one', '2-9-turns', 2, 700],
        ['a-app-example-chat', 'x/one', '1-turn', 1, 50],
        ['a-app-example-chat', 'y/two', '1-turn', 1, 70],
      ],
    );
    assert.equal(r.data[0]!.app, A);
    assert.deepEqual(r.meta, {
      asOf: NOW.toISOString(),
      windowDays: 30,
      windowEndDate: '2026-03-17',
    });
  });

  test('filters: app slug, model, turn range; the window ends on end_date', async () => {
    assert.deepEqual(
      (await ask({ model: 'y/two' })).data.map((c) => c.model),
      ['y/two'],
    );
    assert.deepEqual(
      (await ask({ turnRange: '2-9-turns' })).data.map((c) => c.medianSessionMicros),
      [700],
    );
    assert.equal((await ask({ appSlug: 'nope' })).data.length, 0);
    assert.equal((await ask({ appSlug: 'a-app-example-chat' })).data.length, 3);
    // A window ending on the 9th holds none of it.
    assert.equal((await ask({ endDate: '2026-03-09' })).data.length, 0);
  });

  test('an opted-out caller sees its own sessions', async () => {
    const r = await sessionCost(
      reader,
      directory(),
      SessionCostParams.parse({ tenantId: 'c', endDate: '2026-03-17', turnRange: '2-9-turns' }),
      NOW,
    );
    assert.deepEqual(
      r.data.map((c) => [c.sessions, c.medianSessionMicros]),
      [[3, 600]],
    );
  });

  test('slugs and medians', () => {
    assert.equal(appSlugOf('https://My-App.example/x?y=1'), 'my-app-example-x-y-1');
    assert.equal(appSlugOf('My Title'), 'my-title');
    assert.equal(appSlugOf('///'), 'app');
    assert.equal(median([3, 1, 2]), 2);
    assert.equal(median([1, 2, 3, 5]), 3);
  });
});

describe('weekly and monthly rankings', () => {
  const dir = directory();
  dir.reviews.push(
    { tenantId: 'a', model: 'x/one', score: 5, hidden: false },
    { tenantId: 'c', model: 'x/one', score: 1, hidden: false },
    { tenantId: 'b', model: 'x/one', score: 1, hidden: true },
  );
  dir.feedback.push({ tenantId: 'b', model: 'x/one', thumbs: 'up', score: 4 });

  test('the week so far against the same hours of last week, with ranks, shares and trends', async () => {
    const reader = new InMemoryRollupReader([
      // This week (from Monday the 16th, until now: Wednesday noon).
      usage('a', 'x/one', '2026-03-16T01:00:00.000Z', tokens(300)),
      usage('b', 'y/two', '2026-03-17T01:00:00.000Z', tokens(100)),
      usage('b', 'f/flat', '2026-03-17T02:00:00.000Z', tokens(100)),
      usage('a', 'z/new', '2026-03-18T11:30:00.000Z', tokens(50)),
      usage('c', 'o/out', '2026-03-17T01:00:00.000Z', tokens(99_999)),
      // Last week, until Wednesday noon.
      usage('a', 'x/one', '2026-03-09T01:00:00.000Z', tokens(100)),
      usage('b', 'y/two', '2026-03-10T01:00:00.000Z', tokens(200)),
      usage('b', 'f/flat', '2026-03-11T11:00:00.000Z', tokens(102)),
      // Last week after Wednesday noon: not compared with a week that is not over.
      usage('b', 'y/two', '2026-03-12T01:00:00.000Z', tokens(1000)),
    ]);
    const r = await periodRankings(
      reader,
      dir,
      PeriodRankingsParams.parse({ tenantId: 'a', period: 'week' }),
      NOW,
    );
    assert.deepEqual(
      r.data.map((d) => [
        d.rank,
        d.model,
        d.totalTokens,
        d.previous.rank,
        d.previous.totalTokens,
        d.changePct,
        d.rankDelta,
        d.trend,
      ]),
      [
        [1, 'x/one', 300, 3, 100, 200, 2, 'up'],
        [2, 'f/flat', 100, 2, 102, -2, 0, 'flat'],
        [3, 'y/two', 100, 1, 200, -50, -2, 'down'],
        [4, 'z/new', 50, null, 0, null, null, 'new'],
      ],
    );
    assert.deepEqual(
      r.data.map((d) => d.share),
      [0.5455, 0.1818, 0.1818, 0.0909],
    );
    assert.deepEqual(r.meta, {
      asOf: NOW.toISOString(),
      scope: 'community',
      period: 'week',
      startDate: '2026-03-16',
      endDate: '2026-03-22',
      previousStartDate: '2026-03-09',
      previousEndDate: '2026-03-15',
      partial: true,
      totalTokens: 550,
    });
    // Ratings: a's own review and b's feedback; c opted out, b's review hidden.
    assert.deepEqual(r.data[0]!.rating, {
      model: 'x/one',
      reviews: 1,
      averageScore: 5,
      thumbsUp: 1,
      thumbsDown: 0,
      feedbackScored: 1,
      averageFeedbackScore: 4,
    });
  });

  test('a past month against the whole month before it', async () => {
    const reader = new InMemoryRollupReader([
      usage('a', 'x/one', '2026-02-27T23:59:00.000Z', tokens(400)),
      usage('a', 'x/one', '2026-01-01T00:00:00.000Z', tokens(100)),
      usage('a', 'x/one', '2026-01-31T23:00:00.000Z', tokens(100)),
      usage('a', 'x/one', '2026-03-01T00:00:00.000Z', tokens(7777)),
    ]);
    const r = await periodRankings(
      reader,
      dir,
      PeriodRankingsParams.parse({ tenantId: 'a', period: 'month', date: '2026-02-10', limit: 5 }),
      NOW,
    );
    assert.deepEqual(
      r.data.map((d) => [d.model, d.totalTokens, d.previous.totalTokens, d.changePct]),
      [['x/one', 400, 200, 100]],
    );
    assert.equal(r.meta.partial, false);
    assert.deepEqual(
      [r.meta.startDate, r.meta.endDate, r.meta.previousStartDate, r.meta.previousEndDate],
      ['2026-02-01', '2026-02-28', '2026-01-01', '2026-01-31'],
    );
  });

  test('windows: a running month compares the same elapsed hours, clamped to the month before', () => {
    const w = periodWindows('month', '2026-03-31', new Date('2026-03-31T10:20:00.000Z'));
    assert.equal(w.partial, true);
    assert.equal(w.current.to.toISOString(), '2026-03-31T11:00:00.000Z');
    // February is shorter than March's 30 days and 11 hours: the whole of it.
    assert.equal(w.previous.from.toISOString(), '2026-02-01T00:00:00.000Z');
    assert.equal(w.previous.to.toISOString(), '2026-03-01T00:00:00.000Z');
  });

  test('a date in the future is refused', async () => {
    await assert.rejects(
      periodRankings(
        new InMemoryRollupReader(),
        dir,
        PeriodRankingsParams.parse({ tenantId: 'a', period: 'week', date: '2026-03-19' }),
        NOW,
      ),
      RpcFailure,
    );
  });
});
