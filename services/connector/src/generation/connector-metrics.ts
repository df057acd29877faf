import { metrics, TTFT_BUCKETS } from '@turnpike/service-kit';

/** Stream events an upstream sent that could not be parsed and were skipped, per provider. */
export const malformedEventsTotal = metrics.counter(
  'turnpike_stream_malformed_events_total',
  'Upstream stream events that could not be parsed and were skipped (within the tolerance).',
  ['provider'],
);

/** Attempts the connector ended because their stream went silent past the stall limit. */
export const attemptStallsTotal = metrics.counter(
  'turnpike_attempt_stalls_total',
  'Upstream attempts ended because their stream was silent for longer than the stall limit.',
  ['provider'],
);

/** Upstream failures, per provider and error code (the one error policy's codes). */
export const upstreamErrorsTotal = metrics.counter(
  'turnpike_upstream_errors_total',
  "Upstream calls that failed, per provider and error code (the error policy's code; an account's failure the next account rescued counts too).",
  ['provider', 'code'],
);

/** The upstream's time to first output, per provider. */
export const upstreamTtftSeconds = metrics.histogram(
  'turnpike_upstream_ttft_seconds',
  "Time from the upstream call to the upstream's first output, per provider (attempts that produced output).",
  ['provider'],
  TTFT_BUCKETS,
);

/** Generations this connector is running. */
export const generationsInFlight = metrics.gauge(
  'turnpike_connector_generations_in_flight',
  'Generation attempts this connector is running against their upstream now.',
);

/** Ids the dedupe map forgot before their time because it was full (see SEEN_MAX). */
export const dedupeEvictionsTotal = metrics.counter(
  'turnpike_connector_dedupe_evictions_total',
  'Generation ids the connector forgot before their time because its dedupe map was full (a redelivery of one of them would run again).',
);
