import type {
  PercentileFigures,
  RollupGranularity,
  UsageAttempt,
  UsageEventV1,
} from '@turnpike/contracts';
import { usedFallback } from '@turnpike/rollups';
import type {
  AttemptDimension,
  AttemptQuery,
  AttemptRow,
  RollupReader,
  UsageDimension,
  UsageGroupBy,
  UsageQuery,
  UsageResult,
  UsageRow,
} from './rollup-reader.js';

/**
 * The rollups computed directly from usage events, in memory: the fake `RollupReader` of the
 * unit specs. It answers what the real reader (`rollups-port.ts` over the rollups) answers, from the raw facts: sums exact, percentiles exact
 * (nearest rank) where the real reader's sketches are within 1 %. Facts count once per
 * generation id, as the rollups' `processed` records make them.
 */

const BUCKET_MS: Record<Exclude<RollupGranularity, 'day'>, number> = {
  minute: 60_000,
  hour: 3_600_000,
};

/** The start of the bucket holding `t`, at `granularity` (UTC). */
export function bucketStart(t: Date, granularity: RollupGranularity): Date {
  const ms = t.getTime();
  if (granularity === 'day') return new Date(Math.floor(ms / 86_400_000) * 86_400_000);
  const step = BUCKET_MS[granularity];
  return new Date(Math.floor(ms / step) * step);
}

/** Nearest-rank percentiles of `values` (null when empty). */
export function percentiles(values: number[]): PercentileFigures | null {
  if (values.length === 0) return null;
  const sorted = [...values].sort((a, b) => a - b);
  const at = (p: number) => sorted[Math.max(0, Math.ceil(p * sorted.length) - 1)]!;
  return { p50: at(0.5), p90: at(0.9), p99: at(0.99) };
}

/** Output tokens per second after the first token (the router's throughput), or null. */
export function throughputOf(
  completionTokens: number,
  ttftMs: number | null,
  latencyMs: number,
): number | null {
  if (ttftMs === null || completionTokens <= 0) return null;
  const seconds = (latencyMs - ttftMs) / 1000;
  return seconds > 0 ? completionTokens / seconds : null;
}

/** The attribution the `app` dimension holds: the referer, else the title. */
export const appOf = (e: UsageEventV1): string | null => e.app.referer ?? e.app.title ?? null;

function usageDimension(e: UsageEventV1, d: UsageDimension): string | null {
  switch (d) {
    case 'tenant_id':
      return e.tenantId;
    case 'key_id':
      return e.keyId;
    case 'model':
      return e.model;
    case 'provider':
      return e.provider;
    case 'endpoint_id':
      return e.endpointId;
    case 'app':
      return appOf(e);
    case 'finish_reason':
      return e.finishReason;
    case 'status':
      return e.status;
  }
}

interface Acc {
  key: Partial<Record<string, string | null>>;
  row: Omit<UsageRow, 'ttftMs' | 'latencyMs' | 'tokensPerSecond' | 'key'>;
  ttft: number[];
  latency: number[];
  tps: number[];
}

const emptyMeasures = (): Acc['row'] => ({
  requests: 0,
  promptTokens: 0,
  completionTokens: 0,
  cachedTokens: 0,
  cacheWriteTokens: 0,
  reasoningTokens: 0,
  upstreamMicros: 0,
  chargedMicros: 0,
  errors: 0,
  errorsByKind: {},
  fallbacks: 0,
});

const inWindow = (t: Date, g: RollupGranularity, from: Date, to: Date) => {
  const b = bucketStart(t, g).getTime();
  return b >= from.getTime() && b < to.getTime();
};

function groupKey(
  dims: readonly string[],
  value: (d: string) => string | null,
): [string, Record<string, string | null>] {
  const key: Record<string, string | null> = {};
  for (const d of dims) key[d] = value(d);
  return [JSON.stringify(dims.map((d) => key[d])), key];
}

/** Sorts, cuts per bucket (`groupLimit`) and overall (`limit`), as the port says. */
export function shape<R extends { key: Partial<Record<string, string | null>> }>(
  rows: R[],
  field: (r: R) => number | string | null,
  direction: 'asc' | 'desc',
  limit: number | undefined,
  groupLimit: number | undefined,
  byBucket: boolean,
): { rows: R[]; truncated: boolean } {
  const sign = direction === 'asc' ? 1 : -1;
  const cmp = (a: R, b: R) => {
    const x = field(a);
    const y = field(b);
    if (x === y) return JSON.stringify(a.key).localeCompare(JSON.stringify(b.key));
    if (x === null) return 1;
    if (y === null) return -1;
    return (x < y ? -1 : 1) * sign;
  };
  let out = [...rows].sort(cmp);
  if (groupLimit !== undefined && byBucket) {
    const seen = new Map<string | null | undefined, number>();
    out = out.filter((r) => {
      const n = seen.get(r.key['bucket']) ?? 0;
      seen.set(r.key['bucket'], n + 1);
      return n < groupLimit;
    });
  }
  const truncated = limit !== undefined && out.length > limit;
  return { rows: truncated ? out.slice(0, limit) : out, truncated };
}

/** Aggregates usage events as `usage_rollups` would answer `q`. */
export function aggregateUsage(events: Iterable<UsageEventV1>, q: UsageQuery): UsageResult {
  const tenants = q.tenantIds === 'all' ? null : new Set(q.tenantIds);
  const groups = new Map<string, Acc>();
  for (const e of events) {
    const at = new Date(e.createdAt);
    if (!inWindow(at, q.granularity, q.from, q.to)) continue;
    if (tenants && !tenants.has(e.tenantId)) continue;
    if (q.filters?.some((f) => !f.values.includes(usageDimension(e, f.dimension)))) continue;
    const value = (d: string) =>
      d === 'bucket'
        ? bucketStart(at, q.granularity).toISOString()
        : usageDimension(e, d as UsageDimension);
    const [id, key] = groupKey(q.dimensions, value);
    let acc = groups.get(id);
    if (!acc) {
      acc = { key, row: emptyMeasures(), ttft: [], latency: [], tps: [] };
      groups.set(id, acc);
    }
    const r = acc.row;
    r.requests++;
    r.promptTokens += e.tokens.prompt;
    r.completionTokens += e.tokens.completion;
    r.cachedTokens += e.tokens.cachedRead;
    r.cacheWriteTokens += e.tokens.cacheWrite;
    r.reasoningTokens += e.tokens.reasoning;
    r.upstreamMicros += e.cost.upstreamMicros;
    r.chargedMicros += e.cost.chargedMicros;
    if (e.status === 'error') {
      r.errors++;
      const kind = e.error?.code ?? 'unknown';
      r.errorsByKind[kind] = (r.errorsByKind[kind] ?? 0) + 1;
    }
    if (usedFallback(e)) r.fallbacks++;
    if (e.ttftMs !== null) acc.ttft.push(e.ttftMs);
    acc.latency.push(e.latencyMs);
    const tps =
      e.status === 'success' ? throughputOf(e.tokens.completion, e.ttftMs, e.latencyMs) : null;
    if (tps !== null) acc.tps.push(tps);
  }
  const rows: UsageRow[] = [...groups.values()].map((a) => ({
    key: a.key as UsageRow['key'],
    ...a.row,
    ttftMs: percentiles(a.ttft),
    latencyMs: percentiles(a.latency),
    tokensPerSecond: percentiles(a.tps),
  }));
  const order = q.orderBy ?? { field: 'requests', direction: 'desc' as const };
  return shape(
    rows,
    (r) => usageField(r, order.field),
    order.direction,
    q.limit,
    q.groupLimit,
    q.dimensions.includes('bucket'),
  );
}

export function usageField(r: UsageRow, f: string): number | string | null {
  switch (f) {
    case 'prompt_tokens':
      return r.promptTokens;
    case 'completion_tokens':
      return r.completionTokens;
    case 'cached_tokens':
      return r.cachedTokens;
    case 'cache_write_tokens':
      return r.cacheWriteTokens;
    case 'reasoning_tokens':
      return r.reasoningTokens;
    case 'upstream_micros':
      return r.upstreamMicros;
    case 'charged_micros':
      return r.chargedMicros;
    case 'errors':
      return r.errors;
    case 'fallbacks':
      return r.fallbacks;
    case 'ttft':
      return r.ttftMs?.p50 ?? null;
    case 'latency':
      return r.latencyMs?.p50 ?? null;
    case 'throughput':
      return r.tokensPerSecond?.p50 ?? null;
    case 'requests':
      return r.requests;
    default:
      return r.key[f as UsageGroupBy] ?? null;
  }
}

/** One attempt as `attempt_rollups` sees it, with the time it belongs to. */
export interface AttemptFact {
  at: Date;
  attempt: UsageAttempt;
}

/** The attempts of usage events (each event's `attempts`, at the event's time). */
export function attemptFacts(events: Iterable<UsageEventV1>): AttemptFact[] {
  const out: AttemptFact[] = [];
  for (const e of events)
    for (const a of e.attempts) out.push({ at: new Date(e.createdAt), attempt: a });
  return out;
}

function attemptDimension(a: UsageAttempt, d: AttemptDimension): string | null {
  switch (d) {
    case 'endpoint_id':
      return a.endpointId;
    case 'provider':
      return a.provider;
    case 'model':
      return a.model;
    case 'outcome':
      return a.outcome;
  }
}

/** Aggregates attempts as `attempt_rollups` would answer `q`. */
export function aggregateAttempts(facts: Iterable<AttemptFact>, q: AttemptQuery): AttemptRow[] {
  const groups = new Map<
    string,
    {
      row: Omit<AttemptRow, 'ttftMs' | 'latencyMs' | 'tokensPerSecond'>;
      ttft: number[];
      latency: number[];
      tps: number[];
    }
  >();
  for (const { at, attempt: a } of facts) {
    if (!inWindow(at, q.granularity, q.from, q.to)) continue;
    if (q.filters?.some((f) => !f.values.includes(attemptDimension(a, f.dimension)))) continue;
    const value = (d: string) =>
      d === 'bucket'
        ? bucketStart(at, q.granularity).toISOString()
        : attemptDimension(a, d as AttemptDimension);
    const [id, key] = groupKey(q.dimensions, value);
    let g = groups.get(id);
    if (!g) {
      g = {
        row: {
          key: key as AttemptRow['key'],
          attempts: 0,
          outcomes: { success: 0, error: 0, cancelled: 0, timeout: 0 },
          errorCodes: {},
        },
        ttft: [],
        latency: [],
        tps: [],
      };
      groups.set(id, g);
    }
    g.row.attempts++;
    g.row.outcomes[a.outcome]++;
    if (a.outcome === 'error' || a.outcome === 'timeout') {
      const code = a.errorCode ?? 'unknown';
      g.row.errorCodes[code] = (g.row.errorCodes[code] ?? 0) + 1;
    }
    if (a.outcome === 'success') {
      if (a.ttftMs !== null) g.ttft.push(a.ttftMs);
      g.latency.push(a.latencyMs);
      const tps = throughputOf(a.tokens.completion, a.ttftMs, a.latencyMs);
      if (tps !== null) g.tps.push(tps);
    }
  }
  return [...groups.values()]
    .map((g) => ({
      ...g.row,
      ttftMs: percentiles(g.ttft),
      latencyMs: percentiles(g.latency),
      tokensPerSecond: percentiles(g.tps),
    }))
    .sort((a, b) => JSON.stringify(a.key).localeCompare(JSON.stringify(b.key)));
}

/** The fake reader: the rollups of the events it was given, each generation once. */
export class InMemoryRollupReader implements RollupReader {
  private readonly events = new Map<string, UsageEventV1>();

  constructor(events: Iterable<UsageEventV1> = []) {
    for (const e of events) this.add(e);
  }

  /** Adds a fact (a redelivered generation id counts once). */
  add(e: UsageEventV1): void {
    if (!this.events.has(e.generationId)) this.events.set(e.generationId, e);
  }

  query(q: UsageQuery): Promise<UsageResult> {
    return Promise.resolve(aggregateUsage(this.events.values(), q));
  }

  attempts(q: AttemptQuery): Promise<AttemptRow[]> {
    return Promise.resolve(aggregateAttempts(attemptFacts(this.events.values()), q));
  }
}
