/**
 * The community routes' query strings: defaults, bounds, OpenRouter's filters we cannot honour
 * refused by name, and the comparison's model list and window.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { isApiError } from '@turnpike/openai-api';
import {
  appRankingsQuery,
  compareStatsQuery,
  parseWindow,
  periodRankingsQuery,
  rankingsDailyQuery,
  sessionCostQuery,
} from './community-query.js';

function param(fn: () => unknown): string | null {
  try {
    fn();
  } catch (e) {
    assert.ok(isApiError(e) && e.status === 400, String(e));
    return e.param;
  }
  assert.fail('accepted');
}

describe('dataset queries', () => {
  test('rankings-daily', () => {
    assert.deepEqual(rankingsDailyQuery('t', {}), {
      tenantId: 't',
      scope: 'community',
      startDate: null,
      endDate: null,
      period: 'day',
    });
    assert.deepEqual(
      rankingsDailyQuery('t', {
        start_date: '2026-03-01',
        end_date: '2026-03-10',
        period: 'week',
        scope: 'own',
      }),
      {
        tenantId: 't',
        scope: 'own',
        startDate: '2026-03-01',
        endDate: '2026-03-10',
        period: 'week',
      },
    );
    assert.equal(
      param(() => rankingsDailyQuery('t', { start_date: '2026-02-30' })),
      'start_date',
    );
    assert.equal(
      param(() => rankingsDailyQuery('t', { period: 'year' })),
      'period',
    );
    assert.equal(
      param(() => rankingsDailyQuery('t', { scope: 'everyone' })),
      'scope',
    );
    for (const f of ['modality', 'context_bucket', 'category', 'language_type'])
      assert.equal(
        param(() => rankingsDailyQuery('t', { [f]: 'text' })),
        f,
      );
  });

  test('app-rankings and session-cost', () => {
    assert.deepEqual(appRankingsQuery('t', { sort: 'trending', limit: '10', offset: '20' }), {
      tenantId: 't',
      scope: 'community',
      sort: 'trending',
      startDate: null,
      endDate: null,
      limit: 10,
      offset: 20,
    });
    assert.equal(
      param(() => appRankingsQuery('t', { limit: '101' })),
      'limit',
    );
    assert.equal(
      param(() => appRankingsQuery('t', { offset: '101' })),
      'offset',
    );
    assert.equal(
      param(() => appRankingsQuery('t', { category: 'coding' })),
      'category',
    );
    assert.deepEqual(
      sessionCostQuery('t', { model: 'x/one', turn_range: '1-turn', limit: '500' }),
      {
        tenantId: 't',
        scope: 'community',
        appSlug: null,
        model: 'x/one',
        turnRange: '1-turn',
        endDate: null,
        limit: 500,
        offset: 0,
      },
    );
    assert.equal(
      param(() => sessionCostQuery('t', { turn_range: '3-turns' })),
      'turn_range',
    );
    assert.equal(
      param(() => sessionCostQuery('t', { offset: '5001' })),
      'offset',
    );
  });

  test('weekly and monthly rankings', () => {
    assert.deepEqual(periodRankingsQuery('t', {}), {
      tenantId: 't',
      scope: 'community',
      period: 'week',
      date: null,
      limit: 50,
    });
    assert.equal(periodRankingsQuery('t', { period: 'month' }).period, 'month');
    assert.equal(
      param(() => periodRankingsQuery('t', { period: 'day' })),
      'period',
    );
  });
});

describe('model comparison query', () => {
  test('models, window, scope', () => {
    assert.deepEqual(compareStatsQuery({ models: 'x/a, y/b,x/a' }), {
      models: ['x/a', 'y/b'],
      windowMs: 7 * 86_400_000,
      scope: 'community',
    });
    assert.equal(compareStatsQuery({ models: 'x/a', window: '90m' }).windowMs, 90 * 60_000);
    assert.equal(
      param(() => compareStatsQuery({})),
      'models',
    );
    assert.equal(
      param(() =>
        compareStatsQuery({ models: Array.from({ length: 11 }, (_, i) => `m/${i}`).join(',') }),
      ),
      'models',
    );
    assert.equal(
      param(() => compareStatsQuery({ models: 'x/a', window: '91d' })),
      'window',
    );
  });

  test('windows', () => {
    assert.equal(parseWindow('1m'), 60_000);
    assert.equal(parseWindow('24h'), 86_400_000);
    assert.equal(parseWindow('90d'), 90 * 86_400_000);
    for (const bad of ['0m', '7', '7w', '-1d', '1.5h', ' 7d', '2160h1'])
      assert.equal(
        param(() => parseWindow(bad)),
        'window',
      );
  });
});
