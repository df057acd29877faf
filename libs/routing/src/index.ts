import type { CatalogEndpoint, RoutingEntryV1 } from '@turnpike/contracts';

export interface RouteRequest {
  /** Request parameters present in the body (for require_parameters later). */
  parameters: readonly string[];
}

/**
 * Orders the endpoints of a model into candidates for one request: endpoints whose circuit is
 * open go last (they are tried only when nothing else is left), then by price (prompt plus
 * completion per million), then by observed latency. Pure: same inputs, same order.
 */
export function rankEndpoints(entry: RoutingEntryV1, _req: RouteRequest): CatalogEndpoint[] {
  const price = (e: CatalogEndpoint) => e.pricing.promptPerM + e.pricing.completionPerM;
  const open = (e: CatalogEndpoint) => (e.health.circuit === 'open' ? 1 : 0);
  return [...entry.endpoints].sort(
    (a, b) =>
      open(a) - open(b) ||
      price(a) - price(b) ||
      (a.health.latencyMsEwma ?? Infinity) - (b.health.latencyMsEwma ?? Infinity) ||
      a.id.localeCompare(b.id),
  );
}
