import { metrics } from '@turnpike/service-kit';

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
