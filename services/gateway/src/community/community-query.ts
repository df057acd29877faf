import {
  IsoDate,
  MAX_COMPARE_WINDOW_MS,
  MAX_COMPARED_MODELS,
  TURN_RANGES,
  type AppRankingsParams,
  type CommunityScope,
  type PeriodRankingsParams,
  type RankingsDailyParams,
  type SessionCostParams,
  type TurnRange,
} from '@turnpike/contracts';
import { invalidRequest } from '@turnpike/openai-api';
import { queryReader } from '../catalog/models.controller.js';

/**
 * The community routes' query strings, checked into RPC parameters: a clean 400 naming the
 * parameter, never a 500. OpenRouter's dataset filters that need data we do not have (use-case
 * categories, languages, modalities and context buckets of requests) are refused by name rather
 * than silently ignored.
 */

type Query = Record<string, unknown>;

function reader(query: Query) {
  const r = queryReader(query);
  const oneOf = <T extends string>(name: string, values: readonly T[]): T | null => {
    const v = r.text(name);
    if (v === null) return null;
    if (!(values as readonly string[]).includes(v))
      throw invalidRequest(`'${name}' must be one of: ${values.join(', ')}.`, name);
    return v as T;
  };
  const date = (name: string): string | null => {
    const v = r.text(name);
    if (v !== null && !IsoDate.safeParse(v).success)
      throw invalidRequest(`'${name}' must be a UTC date, YYYY-MM-DD.`, name);
    return v;
  };
  const unsupported = (...names: string[]) => {
    for (const name of names)
      if (r.text(name) !== null)
        throw invalidRequest(
          `'${name}' is not available on this gateway: its usage records carry no such attribute.`,
          name,
        );
  };
  const scope = (): CommunityScope => oneOf('scope', ['community', 'own'] as const) ?? 'community';
  return { ...r, oneOf, date, unsupported, scope };
}

export function rankingsDailyQuery(tenantId: string, query: Query): RankingsDailyParams {
  const q = reader(query);
  q.unsupported('modality', 'context_bucket', 'category', 'language_type');
  return {
    tenantId,
    scope: q.scope(),
    startDate: q.date('start_date'),
    endDate: q.date('end_date'),
    period: q.oneOf('period', ['day', 'week', 'month'] as const) ?? 'day',
  };
}

export function appRankingsQuery(tenantId: string, query: Query): AppRankingsParams {
  const q = reader(query);
  q.unsupported('category', 'subcategory');
  return {
    tenantId,
    scope: q.scope(),
    sort: q.oneOf('sort', ['popular', 'trending'] as const) ?? 'popular',
    startDate: q.date('start_date'),
    endDate: q.date('end_date'),
    limit: q.integer('limit', 1, 100) ?? 50,
    offset: q.integer('offset', 0, 100) ?? 0,
  };
}

export function sessionCostQuery(tenantId: string, query: Query): SessionCostParams {
  const q = reader(query);
  const appSlug = q.text('app_slug');
  const model = q.text('model');
  if (appSlug !== null && appSlug.length > 200)
    throw invalidRequest("'app_slug' is too long.", 'app_slug');
  if (model !== null && (model.length < 3 || model.length > 200))
    throw invalidRequest("'model' must be a model id, author/slug.", 'model');
  return {
    tenantId,
    scope: q.scope(),
    appSlug,
    model,
    turnRange: q.oneOf<TurnRange>('turn_range', TURN_RANGES),
    endDate: q.date('end_date'),
    limit: q.integer('limit', 1, 500) ?? 100,
    offset: q.integer('offset', 0, 5000) ?? 0,
  };
}

export function periodRankingsQuery(tenantId: string, query: Query): PeriodRankingsParams {
  const q = reader(query);
  return {
    tenantId,
    scope: q.scope(),
    period: q.oneOf('period', ['week', 'month'] as const) ?? 'week',
    date: q.date('date'),
    limit: q.integer('limit', 1, 100) ?? 50,
  };
}

const UNIT_MS = { m: 60_000, h: 3_600_000, d: 86_400_000 } as const;

/** A window such as `90m`, `24h` or `7d`: 1 minute to 90 days. */
export function parseWindow(text: string): number {
  const m = /^([1-9][0-9]{0,5})([mhd])$/.exec(text);
  const ms = m ? Number(m[1]) * UNIT_MS[m[2] as keyof typeof UNIT_MS] : NaN;
  if (!(ms >= 60_000 && ms <= MAX_COMPARE_WINDOW_MS))
    throw invalidRequest(
      "'window' must be a duration such as 90m, 24h or 7d (from 1 minute to 90 days).",
      'window',
    );
  return ms;
}

export interface CompareStatsQuery {
  models: string[];
  windowMs: number;
  scope: CommunityScope;
}

/** `GET /v1/models/compare?models=a/b,c/d&window=7d`. */
export function compareStatsQuery(query: Query): CompareStatsQuery {
  const q = reader(query);
  const models = q.list('models');
  if (!models || models.length === 0)
    throw invalidRequest("'models' must list the models to compare, comma-separated.", 'models');
  const distinct = [...new Set(models)];
  if (distinct.length > MAX_COMPARED_MODELS)
    throw invalidRequest(
      `At most ${MAX_COMPARED_MODELS} models can be compared at once.`,
      'models',
    );
  return { models: distinct, windowMs: parseWindow(q.text('window') ?? '7d'), scope: q.scope() };
}
