import { createHash } from 'node:crypto';
import type { UsageRollupV1 } from '@turnpike/contracts';
import { BUCKET_MS } from './buckets.js';
import { ATTEMPT_DIM_KEYS, USAGE_DIM_KEYS } from './facts.js';
import { sketchRecord } from './sketch.js';
import type { PublishableRow } from './store.js';

const orNull = (v: string) => (v === '' ? null : v);

/**
 * The key of a bucket on `usage.rollups.v1`: SHA-256 (hex, 32 characters) of its identity, the
 * JSON array [kind, granularity, bucket start, ...dimensions]. The same bucket always has the
 * same key, so the topic's compaction keeps its latest version.
 */
export function rollupKey(
  r: Pick<PublishableRow, 'kind' | 'granularity' | 'bucketStart' | 'dims'>,
): string {
  const d = r.dims as unknown as Record<string, string>;
  const dims = (r.kind === 'usage' ? USAGE_DIM_KEYS : ATTEMPT_DIM_KEYS).map((k) => d[k]);
  const identity = JSON.stringify([
    r.kind,
    r.granularity,
    new Date(r.bucketStart).toISOString(),
    ...dims,
  ]);
  return createHash('sha256').update(identity).digest('hex').slice(0, 32);
}

/** A bucket as published on `usage.rollups.v1`. */
export function rollupRecord(r: PublishableRow, publishedAt: number): UsageRollupV1 {
  const base = {
    v: 1 as const,
    granularity: r.granularity,
    bucketStart: new Date(r.bucketStart).toISOString(),
    bucketEnd: new Date(r.bucketStart + BUCKET_MS[r.granularity]).toISOString(),
    version: r.version,
    publishedAt: new Date(publishedAt).toISOString(),
  };
  const m = r.measures;
  const sketches = {
    ttftMs: sketchRecord(m.ttft),
    latencyMs: sketchRecord(m.latency),
    tokensPerSecond: sketchRecord(m.throughput),
  };
  if (r.kind === 'attempt') {
    return {
      ...base,
      kind: 'attempt',
      endpointId: r.dims.endpointId,
      provider: r.dims.provider,
      model: r.dims.model,
      outcome: r.dims.outcome as 'success' | 'error' | 'cancelled' | 'timeout',
      attempts: r.measures.attempts,
      tokens: { prompt: r.measures.promptTokens, completion: r.measures.completionTokens },
      errorsByCode: r.measures.errorsByCode,
      ...sketches,
    };
  }
  const u = r.measures;
  return {
    ...base,
    kind: 'usage',
    tenantId: r.dims.tenantId,
    keyId: r.dims.keyId,
    model: orNull(r.dims.model),
    provider: orNull(r.dims.provider),
    endpointId: orNull(r.dims.endpointId),
    app: orNull(r.dims.app),
    finishReason: orNull(r.dims.finishReason),
    status: r.dims.status as 'success' | 'error' | 'cancelled',
    requests: u.requests,
    tokens: {
      prompt: u.promptTokens,
      completion: u.completionTokens,
      cachedRead: u.cachedTokens,
      cacheWrite: u.cacheWriteTokens,
      reasoning: u.reasoningTokens,
    },
    upstreamMicros: u.upstreamMicros,
    chargedMicros: u.chargedMicros,
    errors: u.errors,
    errorsByCode: u.errorsByCode,
    fallbacks: u.fallbacks,
    ...sketches,
  };
}
