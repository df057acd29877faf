import type { z } from 'zod';
import {
  TURN_RANGES,
  turnRangeOf,
  type AppRankingRow,
  type AppRankingsParams,
  type AppRankingsResult,
  type PeriodRankingRow,
  type PeriodRankingsParams,
  type PeriodRankingsResult,
  type RankingsDailyParams,
  type RankingsDailyResult,
  type RankingsDailyRow,
  type SessionCostParams,
  type SessionCostResult,
  type SessionCostRow,
} from '@turnpike/contracts';
import { RpcFailure } from '@turnpike/kafka';
import { emptyRating, tenantsFor, type CommunityDirectory } from './community-directory.js';
import {
  addDays,
  addMonths,
  dayStart,
  daysBetween,
  isoDay,
  monthStart,
  weekStart,
} from './dates.js';
import type { RollupReader, UsageRow } from './rollup-reader.js';

/**
 * Rankings and the community datasets (OpenRouter's `rankings-daily`, `app-rankings`,
 * `session-cost`, and our weekly and monthly rankings with their trend), as functions of the
 * rollups' reader and the community directory: no table, no SQL. Tokens are prompt plus
 * completion tokens, as OpenRouter counts them. Who counts is `tenantsFor` (the opted-in tenants
 * and the caller, or the caller alone).
 */

/** Models per period in `rankings-daily`; the rest is summed in one `other` row. */
export const TOP_MODELS = 50;
/** Days a dataset window may span. */
export const MAX_WINDOW_DAYS = 366;
/** Session cost: the window, in days, ending on its end date. */
export const SESSION_WINDOW_DAYS = 30;
/** A period's tokens within ±5 % of the previous period's are a flat trend. */
export const FLAT_TREND_PCT = 5;

const tokensOf = (r: UsageRow) => r.promptTokens + r.completionTokens;

/** The window of a dataset: its end defaults to the last completed UTC day, its start to 30 days before. */
export function datasetWindow(
  startDate: string | null,
  endDate: string | null,
  now: Date,
): { start: string; end: string } {
  const end = endDate ?? addDays(isoDay(now), -1);
  const start = startDate ?? addDays(end, -30);
  if (start > end)
    throw RpcFailure.of(400, 'start_date must not be after end_date.', null, 'start_date');
  if (daysBetween(start, end) >= MAX_WINDOW_DAYS)
    throw RpcFailure.of(
      400,
      `The window spans at most ${MAX_WINDOW_DAYS} days.`,
      null,
      'start_date',
    );
  return { start, end };
}

const periodOf = (date: string, period: 'day' | 'week' | 'month'): string =>
  period === 'day' ? date : period === 'week' ? weekStart(date) : monthStart(date);

/** `GET /v1/datasets/rankings-daily`: tokens per model per day (or week, or month). */
export async function rankingsDaily(
  reader: RollupReader,
  dir: CommunityDirectory,
  p: z.output<typeof RankingsDailyParams>,
  now: Date,
): Promise<RankingsDailyResult> {
  const { start, end } = datasetWindow(p.startDate, p.endDate, now);
  const { rows } = await reader.query({
    tenantIds: await tenantsFor(dir, p.tenantId, p.scope),
    from: dayStart(start),
    to: dayStart(addDays(end, 1)),
    granularity: 'day',
    dimensions: ['bucket', 'model'],
    metrics: ['prompt_tokens', 'completion_tokens'],
  });
  const byPeriod = new Map<string, Map<string, number>>();
  for (const r of rows) {
    const date = periodOf(isoDay(new Date(r.key.bucket!)), p.period);
    const models = byPeriod.get(date) ?? new Map<string, number>();
    const model = r.key.model ?? 'unknown';
    models.set(model, (models.get(model) ?? 0) + tokensOf(r));
    byPeriod.set(date, models);
  }
  const data: RankingsDailyRow[] = [];
  for (const date of [...byPeriod.keys()].sort()) {
    const ranked = [...byPeriod.get(date)!.entries()]
      .filter(([, tokens]) => tokens > 0)
      .sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]));
    if (ranked.length === 0) continue;
    for (const [model, totalTokens] of ranked.slice(0, TOP_MODELS))
      data.push({ date, model, totalTokens });
    const other = ranked.slice(TOP_MODELS).reduce((n, [, t]) => n + t, 0);
    data.push({ date, model: 'other', totalTokens: other });
  }
  return { data, meta: { asOf: now.toISOString(), startDate: start, endDate: end } };
}

/**
 * A stable positive 31-bit id of an app's attribution (FNV-1a): OpenRouter's `app_id` is an
 * integer, our apps are identified by their attribution text.
 */
export function appIdOf(app: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < app.length; i++) {
    h ^= app.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h & 0x7fffffff || 1;
}

/** `GET /v1/datasets/app-rankings`: apps by tokens (`popular`) or by excess growth (`trending`). */
export async function appRankings(
  reader: RollupReader,
  dir: CommunityDirectory,
  p: z.output<typeof AppRankingsParams>,
  now: Date,
): Promise<AppRankingsResult> {
  const { start, end } = datasetWindow(p.startDate, p.endDate, now);
  const tenantIds = await tenantsFor(dir, p.tenantId, p.scope);
  const days = daysBetween(start, end) + 1;
  // Trending compares the window with the three equal periods just before it.
  const from = p.sort === 'trending' ? addDays(start, -3 * days) : start;
  const { rows } = await reader.query({
    tenantIds,
    from: dayStart(from),
    to: dayStart(addDays(end, 1)),
    granularity: 'day',
    dimensions: p.sort === 'trending' ? ['app', 'bucket'] : ['app'],
    metrics: ['requests', 'prompt_tokens', 'completion_tokens'],
  });
  const apps = new Map<string, { requests: number; tokens: number; before: number }>();
  const startMs = dayStart(start).getTime();
  for (const r of rows) {
    const app = r.key.app;
    if (!app) continue; // traffic without attribution is no app
    const a = apps.get(app) ?? { requests: 0, tokens: 0, before: 0 };
    const inWindow = r.key.bucket === undefined || Date.parse(r.key.bucket!) >= startMs;
    if (inWindow) {
      a.requests += r.requests;
      a.tokens += tokensOf(r);
    } else a.before += tokensOf(r);
    apps.set(app, a);
  }
  let ranked: Array<Omit<AppRankingRow, 'rank'>> = [...apps.entries()].map(([app, a]) => ({
    appId: appIdOf(app),
    app,
    requests: a.requests,
    totalTokens: a.tokens,
    growthTokens: p.sort === 'trending' ? a.tokens - a.before / 3 : null,
  }));
  if (p.sort === 'trending') {
    ranked = ranked
      .filter((a) => a.growthTokens! > 0)
      .sort((a, b) => b.growthTokens! - a.growthTokens! || a.app.localeCompare(b.app));
  } else {
    ranked = ranked
      .filter((a) => a.totalTokens > 0 || a.requests > 0)
      .sort((a, b) => b.totalTokens - a.totalTokens || a.app.localeCompare(b.app));
  }
  const data = ranked.map((a, i) => ({ ...a, rank: i + 1 })).slice(p.offset, p.offset + p.limit);
  return { data, meta: { asOf: now.toISOString(), startDate: start, endDate: end } };
}

/** The slug of an app's attribution: `https://My-App.example/x` → `my-app-example-x`. */
export function appSlugOf(app: string): string {
  const slug = app
    .replace(/^[a-z][a-z0-9+.-]*:\/\//i, '')
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, 64)
    .replace(/-+$/, '');
  return slug || 'app';
}

/** The median of integers, rounded to an integer (the mean of the middle two when even). */
export function median(values: number[]): number {
  const s = [...values].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 === 1 ? s[mid]! : Math.round((s[mid - 1]! + s[mid]!) / 2);
}

/**
 * `GET /v1/datasets/session-cost`: the median charged cost of a session, per app, model and
 * turn range. Usage events carry no session id, so a session is ours to define: the requests
 * one API key made from one app to one model within one UTC day; its turns are those requests.
 */
export async function sessionCost(
  reader: RollupReader,
  dir: CommunityDirectory,
  p: z.output<typeof SessionCostParams>,
  now: Date,
): Promise<SessionCostResult> {
  const end = p.endDate ?? addDays(isoDay(now), -1);
  const start = addDays(end, -(SESSION_WINDOW_DAYS - 1));
  const { rows } = await reader.query({
    tenantIds: await tenantsFor(dir, p.tenantId, p.scope),
    from: dayStart(start),
    to: dayStart(addDays(end, 1)),
    granularity: 'day',
    dimensions: ['tenant_id', 'key_id', 'app', 'model', 'bucket'],
    ...(p.model ? { filters: [{ dimension: 'model' as const, values: [p.model] }] } : {}),
    metrics: ['requests', 'charged_micros'],
  });
  const cells = new Map<
    string,
    { app: string; model: string; turnRange: SessionCostRow['turnRange']; costs: number[] }
  >();
  for (const r of rows) {
    const app = r.key.app;
    const model = r.key.model;
    if (!app || !model || r.requests === 0) continue;
    const turnRange = turnRangeOf(r.requests);
    if (p.turnRange && turnRange !== p.turnRange) continue;
    if (p.appSlug && appSlugOf(app) !== p.appSlug) continue;
    const id = JSON.stringify([app, model, turnRange]);
    const cell = cells.get(id) ?? { app, model, turnRange, costs: [] };
    cell.costs.push(r.chargedMicros);
    cells.set(id, cell);
  }
  const data: SessionCostRow[] = [...cells.values()]
    .map((c) => ({
      app: c.app,
      appSlug: appSlugOf(c.app),
      model: c.model,
      turnRange: c.turnRange,
      sessions: c.costs.length,
      medianSessionMicros: median(c.costs),
    }))
    .sort(
      (a, b) =>
        b.sessions - a.sessions ||
        a.appSlug.localeCompare(b.appSlug) ||
        a.model.localeCompare(b.model) ||
        TURN_RANGES.indexOf(a.turnRange) - TURN_RANGES.indexOf(b.turnRange),
    )
    .slice(p.offset, p.offset + p.limit);
  return {
    data,
    meta: { asOf: now.toISOString(), windowDays: SESSION_WINDOW_DAYS, windowEndDate: end },
  };
}

/**
 * The period holding `date` and the one before it, and the instants to compare: whole periods
 * once the period is over; while it runs, the time so far (whole hours) against the same time
 * into the previous period.
 */
export function periodWindows(
  period: 'week' | 'month',
  date: string,
  now: Date,
): {
  start: string;
  end: string;
  previousStart: string;
  previousEnd: string;
  current: { from: Date; to: Date };
  previous: { from: Date; to: Date };
  partial: boolean;
  granularity: 'hour' | 'day';
} {
  const start = period === 'week' ? weekStart(date) : monthStart(date);
  const next = period === 'week' ? addDays(start, 7) : addMonths(start, 1);
  const previousStart = period === 'week' ? addDays(start, -7) : addMonths(start, -1);
  const from = dayStart(start);
  const to = dayStart(next);
  const prevFrom = dayStart(previousStart);
  const base = {
    start,
    end: addDays(next, -1),
    previousStart,
    previousEnd: addDays(start, -1),
  };
  if (now.getTime() >= to.getTime())
    return {
      ...base,
      current: { from, to },
      previous: { from: prevFrom, to: from },
      partial: false,
      granularity: 'day',
    };
  const hours = Math.max(1, Math.ceil((now.getTime() - from.getTime()) / 3_600_000));
  const elapsed = hours * 3_600_000;
  return {
    ...base,
    current: { from, to: new Date(from.getTime() + elapsed) },
    previous: {
      from: prevFrom,
      to: new Date(Math.min(prevFrom.getTime() + elapsed, from.getTime())),
    },
    partial: true,
    granularity: 'hour',
  };
}

/** Weekly or monthly rankings of models by tokens, with the trend against the period before. */
export async function periodRankings(
  reader: RollupReader,
  dir: CommunityDirectory,
  p: z.output<typeof PeriodRankingsParams>,
  now: Date,
): Promise<PeriodRankingsResult> {
  const date = p.date ?? isoDay(now);
  if (dayStart(date).getTime() > now.getTime())
    throw RpcFailure.of(400, 'date must not be in the future.', null, 'date');
  const w = periodWindows(p.period, date, now);
  const tenantIds = await tenantsFor(dir, p.tenantId, p.scope);
  const ask = (win: { from: Date; to: Date }) =>
    reader.query({
      tenantIds,
      from: win.from,
      to: win.to,
      granularity: w.granularity,
      dimensions: ['model'],
      metrics: ['requests', 'prompt_tokens', 'completion_tokens'],
    });
  const [current, previous] = await Promise.all([ask(w.current), ask(w.previous)]);
  const rank = (rows: UsageRow[]) =>
    rows
      .filter((r) => r.key.model && tokensOf(r) > 0)
      .sort((a, b) => tokensOf(b) - tokensOf(a) || a.key.model!.localeCompare(b.key.model!));
  const now$ = rank(current.rows);
  const before = rank(previous.rows);
  const beforeBy = new Map(
    before.map((r, i) => [r.key.model!, { rank: i + 1, tokens: tokensOf(r) }]),
  );
  const total = now$.reduce((n, r) => n + tokensOf(r), 0);
  const top = now$.slice(0, p.limit);
  const ratings = await dir.ratings(
    top.map((r) => r.key.model!),
    p.tenantId,
    p.scope,
  );
  const data: PeriodRankingRow[] = top.map((r, i) => {
    const model = r.key.model!;
    const tokens = tokensOf(r);
    const prev = beforeBy.get(model);
    const changePct = prev ? Math.round(((tokens - prev.tokens) / prev.tokens) * 1000) / 10 : null;
    return {
      rank: i + 1,
      model,
      requests: r.requests,
      promptTokens: r.promptTokens,
      completionTokens: r.completionTokens,
      totalTokens: tokens,
      share: total === 0 ? 0 : Math.round((tokens / total) * 10_000) / 10_000,
      previous: { rank: prev?.rank ?? null, totalTokens: prev?.tokens ?? 0 },
      changePct,
      rankDelta: prev ? prev.rank - (i + 1) : null,
      trend:
        changePct === null
          ? 'new'
          : changePct > FLAT_TREND_PCT
            ? 'up'
            : changePct < -FLAT_TREND_PCT
              ? 'down'
              : 'flat',
      rating: ratings.get(model) ?? emptyRating(model),
    };
  });
  return {
    data,
    meta: {
      asOf: now.toISOString(),
      scope: p.scope,
      period: p.period,
      startDate: w.start,
      endDate: w.end,
      previousStartDate: w.previousStart,
      previousEndDate: w.previousEnd,
      partial: w.partial,
      totalTokens: total,
    },
  };
}
