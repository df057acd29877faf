import type { z } from 'zod';
import {
  UPSTREAM_ERROR_CODES,
  type CompareModelsParams,
  type CompareModelsResult,
  type MeasuredFigures,
  type RollupGranularity,
} from '@turnpike/contracts';
import { emptyRating, type CommunityDirectory } from './community-directory.js';
import { bucketStart } from './in-memory-rollups.js';
import type { AttemptRow, RollupReader } from './rollup-reader.js';

/**
 * Model comparison from real traffic: for each model and each of its endpoints, what the
 * attempts of the window showed (success and fallback rates, TTFT, latency and throughput
 * percentiles), and the model's ratings. Endpoint performance is platform-wide (attempts carry
 * no tenant, and the same figures already reach every tenant through the routing table's
 * health); the ratings follow the community rules. The catalog side (prices, context length)
 * is the gateway's, from its routing table.
 */

/**
 * Codes of failures after which the gateway moves on to the next endpoint: every code of the
 * upstream error policy (the request's own faults carry the provider's code instead, except a
 * context window, which is retried on larger ones), and the gateway's own attempt timeout.
 */
const FALLBACK_CODES = new Set<string>([
  ...Object.values(UPSTREAM_ERROR_CODES),
  'attempt_timeout',
  // A failure without a code (`unknown` in the codes map) is not known to be the request's: it counts.
  'unknown',
]);

/** The granularity of a window: minutes up to 6 hours, hours up to 7 days, then days. */
export function granularityFor(windowMs: number): RollupGranularity {
  if (windowMs <= 6 * 3_600_000) return 'minute';
  if (windowMs <= 7 * 86_400_000) return 'hour';
  return 'day';
}

const rate = (n: number, d: number): number | null =>
  d === 0 ? null : Math.round((n / d) * 10_000) / 10_000;

/** A model's or an endpoint's figures from its merged attempt row (zeros without one). */
export function measuredOf(row: AttemptRow | undefined): MeasuredFigures {
  if (!row)
    return {
      attempts: 0,
      successes: 0,
      failures: 0,
      cancelled: 0,
      successRate: null,
      fallbackRate: null,
      ttftMs: null,
      latencyMs: null,
      tokensPerSecond: null,
    };
  const { success, error, timeout, cancelled } = row.outcomes;
  const decided = row.attempts - cancelled;
  const failures = error + timeout;
  // Failures the gateway does not move on from: the request's own (a provider's code for a 400,
  // 413 or 422), or ours (the broker). Whatever the codes map holds of timeouts, they move on.
  const ownFaults = Object.entries(row.errorCodes)
    .filter(([code]) => !FALLBACK_CODES.has(code))
    .reduce((n, [, c]) => n + c, 0);
  return {
    attempts: row.attempts,
    successes: success,
    failures,
    cancelled,
    successRate: rate(success, decided),
    fallbackRate: rate(Math.max(0, failures - ownFaults), decided),
    ttftMs: row.ttftMs,
    latencyMs: row.latencyMs,
    tokensPerSecond: row.tokensPerSecond,
  };
}

export async function compareModels(
  reader: RollupReader,
  dir: CommunityDirectory,
  p: z.output<typeof CompareModelsParams>,
  now: Date,
): Promise<CompareModelsResult> {
  const granularity = granularityFor(p.windowMs);
  const from = bucketStart(new Date(now.getTime() - p.windowMs), granularity);
  const to = now;
  const window = { from, to, granularity };
  const allEndpoints = [...new Set(p.models.flatMap((m) => m.endpointIds))];
  const [byEndpoint, perModel, ratings] = await Promise.all([
    allEndpoints.length === 0
      ? Promise.resolve([])
      : reader.attempts({
          ...window,
          dimensions: ['endpoint_id'],
          filters: [{ dimension: 'endpoint_id', values: allEndpoints }],
        }),
    // One merged row per model: percentiles merge inside the reader, not here.
    Promise.all(
      p.models.map((m) =>
        m.endpointIds.length === 0
          ? Promise.resolve([])
          : reader.attempts({
              ...window,
              dimensions: [],
              filters: [{ dimension: 'endpoint_id', values: m.endpointIds }],
            }),
      ),
    ),
    dir.ratings(
      p.models.map((m) => m.id),
      p.tenantId,
      p.scope,
    ),
  ]);
  const endpointRow = new Map(byEndpoint.map((r) => [r.key.endpoint_id, r]));
  return {
    window: { from: from.toISOString(), to: to.toISOString(), granularity },
    models: p.models.map((m, i) => ({
      id: m.id,
      measured: measuredOf(perModel[i]![0]),
      endpoints: m.endpointIds.map((id) => ({ id, measured: measuredOf(endpointRow.get(id)) })),
      rating: ratings.get(m.id) ?? emptyRating(m.id),
    })),
  };
}
