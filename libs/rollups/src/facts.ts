import type { BucketGranularity, LlmAttemptV1, UsageEventV1 } from '@turnpike/contracts';
import { billableOf } from '@turnpike/pricing';
import { throughput } from '@turnpike/routing';
import { bucketStart } from './buckets.js';
import { addInto, addValue, type SketchBins } from './sketch.js';

/**
 * What one usage event or attempt record adds to its buckets, and the buckets of a batch with
 * the sums of what their records add.
 *
 * Dimensions are stored as text, `''` for "none" (no model served, no app given): a unique key
 * over them then needs no NULL semantics. Each is cut to {@link MAX_DIMENSION_LENGTH}
 * characters, so that a long app header cannot make a key too large for its index (a value the
 * database would refuse for every retry).
 */
export const MAX_DIMENSION_LENGTH = 256;

const dim = (v: string | null | undefined): string =>
  v == null ? '' : v.length > MAX_DIMENSION_LENGTH ? v.slice(0, MAX_DIMENSION_LENGTH) : v;

export interface UsageDims {
  tenantId: string;
  keyId: string;
  model: string;
  provider: string;
  endpointId: string;
  app: string;
  finishReason: string;
  status: string;
}

export interface UsageMeasures {
  requests: number;
  promptTokens: number;
  completionTokens: number;
  cachedTokens: number;
  cacheWriteTokens: number;
  reasoningTokens: number;
  upstreamMicros: number;
  chargedMicros: number;
  errors: number;
  fallbacks: number;
  errorsByCode: Record<string, number>;
  ttft: SketchBins;
  latency: SketchBins;
  throughput: SketchBins;
}

export interface AttemptDims {
  endpointId: string;
  provider: string;
  model: string;
  outcome: string;
}

export interface AttemptMeasures {
  attempts: number;
  promptTokens: number;
  completionTokens: number;
  errorsByCode: Record<string, number>;
  ttft: SketchBins;
  latency: SketchBins;
  throughput: SketchBins;
}

export const USAGE_DIM_KEYS = [
  'tenantId',
  'keyId',
  'model',
  'provider',
  'endpointId',
  'app',
  'finishReason',
  'status',
] as const satisfies ReadonlyArray<keyof UsageDims>;

export const ATTEMPT_DIM_KEYS = [
  'endpointId',
  'provider',
  'model',
  'outcome',
] as const satisfies ReadonlyArray<keyof AttemptDims>;

export const emptyUsageMeasures = (): UsageMeasures => ({
  requests: 0,
  promptTokens: 0,
  completionTokens: 0,
  cachedTokens: 0,
  cacheWriteTokens: 0,
  reasoningTokens: 0,
  upstreamMicros: 0,
  chargedMicros: 0,
  errors: 0,
  fallbacks: 0,
  errorsByCode: {},
  ttft: {},
  latency: {},
  throughput: {},
});

export const emptyAttemptMeasures = (): AttemptMeasures => ({
  attempts: 0,
  promptTokens: 0,
  completionTokens: 0,
  errorsByCode: {},
  ttft: {},
  latency: {},
  throughput: {},
});

/** The key of an error in the `errorsByCode` maps: its code, else its HTTP status. */
function errorKey(code: string | null | undefined, status: number | null | undefined): string {
  if (code) return dim(code);
  return status != null ? `status_${status}` : 'unknown';
}

/** Milliseconds as the sketches keep them (whole: the sketch's 1 % is far coarser). */
const ms = (v: number) => Math.round(v);

/** The app a generation is attributed to: its `HTTP-Referer`, else its `X-Title`. */
export const appOf = (app: UsageEventV1['app']): string => dim(app.referer ?? app.title);

/**
 * Whether a generation was served (or failed) after moving on from its first endpoint: an
 * attempt of role `fallback` or `continuation`. A same-endpoint `retry` is not a fallback. Events
 * from before attempts had roles count a fallback when more than one attempt was made.
 */
export function usedFallback(e: Pick<UsageEventV1, 'attempts'>): boolean {
  if (e.attempts.some((a) => a.role !== null))
    return e.attempts.some((a) => a.role === 'fallback' || a.role === 'continuation');
  return e.attempts.length > 1;
}

export function usageDims(e: UsageEventV1): UsageDims {
  return {
    tenantId: dim(e.tenantId),
    keyId: dim(e.keyId),
    model: dim(e.model),
    provider: dim(e.provider),
    endpointId: dim(e.endpointId),
    app: appOf(e.app),
    finishReason: dim(e.finishReason),
    status: e.status,
  };
}

/**
 * What one generation adds: one request, the serving attempt's tokens, its upstream cost and
 * what the ledger charges for it (`billableOf`: errors and empty completions are not charged,
 * whatever the event says, exactly as billing books it), an error (by code) when it failed, a
 * fallback when it moved on from its first endpoint (`usedFallback`), its latency, TTFT (when one was measured) and
 * throughput (streamed generations only, as the router measures it).
 */
export function usageMeasures(e: UsageEventV1): UsageMeasures {
  const m = emptyUsageMeasures();
  const b = billableOf(e);
  m.requests = 1;
  m.promptTokens = e.tokens.prompt;
  m.completionTokens = e.tokens.completion;
  m.cachedTokens = e.tokens.cachedRead;
  m.cacheWriteTokens = e.tokens.cacheWrite;
  m.reasoningTokens = e.tokens.reasoning;
  m.upstreamMicros = b.upstreamMicros;
  m.chargedMicros = b.chargedMicros;
  if (e.status === 'error') {
    m.errors = 1;
    m.errorsByCode[errorKey(e.error?.code, e.error?.status)] = 1;
  }
  if (usedFallback(e)) m.fallbacks = 1;
  addValue(m.latency, ms(e.latencyMs));
  if (e.ttftMs !== null) addValue(m.ttft, ms(e.ttftMs));
  if (e.stream) {
    const tps = throughput(e);
    if (tps !== null) addValue(m.throughput, tps);
  }
  return m;
}

export function attemptDims(a: LlmAttemptV1): AttemptDims {
  return {
    endpointId: dim(a.endpointId),
    provider: dim(a.provider),
    model: dim(a.upstreamModel),
    outcome: a.outcome,
  };
}

export function attemptMeasures(a: LlmAttemptV1): AttemptMeasures {
  const m = emptyAttemptMeasures();
  m.attempts = 1;
  m.promptTokens = a.tokens.prompt;
  m.completionTokens = a.tokens.completion;
  if (a.outcome !== 'success') m.errorsByCode[errorKey(a.errorCode, a.upstreamStatus)] = 1;
  addValue(m.latency, ms(a.latencyMs));
  if (a.ttftMs !== null) addValue(m.ttft, ms(a.ttftMs));
  const tps = throughput(a);
  if (tps !== null) addValue(m.throughput, tps);
  return m;
}

export function addUsageMeasures(into: UsageMeasures, m: UsageMeasures): void {
  into.requests += m.requests;
  into.promptTokens += m.promptTokens;
  into.completionTokens += m.completionTokens;
  into.cachedTokens += m.cachedTokens;
  into.cacheWriteTokens += m.cacheWriteTokens;
  into.reasoningTokens += m.reasoningTokens;
  into.upstreamMicros += m.upstreamMicros;
  into.chargedMicros += m.chargedMicros;
  into.errors += m.errors;
  into.fallbacks += m.fallbacks;
  addInto(into.errorsByCode, m.errorsByCode);
  addInto(into.ttft, m.ttft);
  addInto(into.latency, m.latency);
  addInto(into.throughput, m.throughput);
}

export function addAttemptMeasures(into: AttemptMeasures, m: AttemptMeasures): void {
  into.attempts += m.attempts;
  into.promptTokens += m.promptTokens;
  into.completionTokens += m.completionTokens;
  addInto(into.errorsByCode, m.errorsByCode);
  addInto(into.ttft, m.ttft);
  addInto(into.latency, m.latency);
  addInto(into.throughput, m.throughput);
}

export interface BucketRow<D, M> {
  granularity: BucketGranularity;
  /** Epoch ms. */
  bucketStart: number;
  dims: D;
  measures: M;
}
export type UsageRow = BucketRow<UsageDims, UsageMeasures>;
export type AttemptRow = BucketRow<AttemptDims, AttemptMeasures>;

/**
 * The buckets a batch of records adds to, with the sums of what each record adds: one row per
 * bucket, so that the database writes each bucket once per batch.
 *
 * Every record goes into its minute bucket and its day bucket; hour buckets are made by
 * compacting minutes (see the store). A record whose minute is older than the compaction
 * watermark (its minutes were already compacted) goes into its hour bucket instead of its
 * minute, so a late or replayed record lands where its minutes are.
 */
export class RollupBatch {
  readonly usage = new Map<string, UsageRow>();
  readonly attempts = new Map<string, AttemptRow>();

  /** @param minuteWatermark epoch ms; minutes before it are compacted into hours. */
  constructor(private readonly minuteWatermark: number) {}

  private fineGranularity(atMs: number): BucketGranularity {
    return bucketStart(atMs, 'minute') < this.minuteWatermark ? 'hour' : 'minute';
  }

  addUsage(e: UsageEventV1): void {
    this.addUsageFact(Date.parse(e.createdAt), usageDims(e), usageMeasures(e));
  }

  addUsageFact(atMs: number, dims: UsageDims, m: UsageMeasures): void {
    for (const g of [this.fineGranularity(atMs), 'day'] as const) {
      const start = bucketStart(atMs, g);
      const key = JSON.stringify([g, start, ...USAGE_DIM_KEYS.map((k) => dims[k])]);
      let row = this.usage.get(key);
      if (!row) {
        row = { granularity: g, bucketStart: start, dims, measures: emptyUsageMeasures() };
        this.usage.set(key, row);
      }
      addUsageMeasures(row.measures, m);
    }
  }

  addAttempt(a: LlmAttemptV1): void {
    const dims = attemptDims(a);
    const m = attemptMeasures(a);
    for (const g of [this.fineGranularity(a.endedAt), 'day'] as const) {
      const start = bucketStart(a.endedAt, g);
      const key = JSON.stringify([g, start, ...ATTEMPT_DIM_KEYS.map((k) => dims[k])]);
      let row = this.attempts.get(key);
      if (!row) {
        row = { granularity: g, bucketStart: start, dims, measures: emptyAttemptMeasures() };
        this.attempts.set(key, row);
      }
      addAttemptMeasures(row.measures, m);
    }
  }

  /** Rows in key order: concurrent writers lock the rows they share in the same order. */
  sortedUsage(): UsageRow[] {
    return [...this.usage.entries()].sort((a, b) => (a[0] < b[0] ? -1 : 1)).map(([, r]) => r);
  }

  sortedAttempts(): AttemptRow[] {
    return [...this.attempts.entries()].sort((a, b) => (a[0] < b[0] ? -1 : 1)).map(([, r]) => r);
  }
}
