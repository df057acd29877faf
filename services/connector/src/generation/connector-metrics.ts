import { metrics } from '@turnpike/service-kit';

/** Generations this connector is running. */
export const generationsInFlight = metrics.gauge(
  'turnpike_connector_generations_in_flight',
  'Generation attempts this connector is running against their upstream now.',
);
