import { metrics } from '@turnpike/service-kit';

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
