import { metrics, TTFT_BUCKETS } from './metrics.js';

/** Stream events an upstream sent that could not be parsed and were skipped, per provider. */
const malformedEventsTotal = metrics.counter(
  'turnpike_stream_malformed_events_total',
  'Upstream stream events that could not be parsed and were skipped (within the tolerance).',
  ['provider'],
);

/** Attempts ended because their stream went silent past the stall limit. */
const attemptStallsTotal = metrics.counter(
  'turnpike_attempt_stalls_total',
  'Upstream attempts ended because their stream was silent for longer than the stall limit.',
  ['provider'],
);

/** Upstream failures, per provider and error code (the one error policy's codes). */
const upstreamErrorsTotal = metrics.counter(
  'turnpike_upstream_errors_total',
  "Upstream calls that failed, per provider and error code (the error policy's code; an account's failure the next account rescued counts too).",
  ['provider', 'code'],
);

/** The upstream's time to first output, per provider. */
const upstreamTtftSeconds = metrics.histogram(
  'turnpike_upstream_ttft_seconds',
  "Time from the upstream call to the upstream's first output, per provider (attempts that produced output).",
  ['provider'],
  TTFT_BUCKETS,
);

/**
 * What the attempt executor (libs/generation) counts, in Prometheus: the process that runs
 * attempts exports them (the connector; a fused gateway).
 */
export const upstreamMetrics = {
  malformedEvent: (provider: string) => malformedEventsTotal.inc({ provider }),
  stall: (provider: string) => attemptStallsTotal.inc({ provider }),
  upstreamError: (provider: string, code: string) => upstreamErrorsTotal.inc({ provider, code }),
  upstreamTtft: (provider: string, seconds: number) =>
    upstreamTtftSeconds.observe({ provider }, seconds),
};
