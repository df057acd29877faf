import { Inject, Injectable } from '@nestjs/common';
import { TOPICS, type EndpointHealth, type RoutingEntryV1 } from '@turnpike/contracts';
import type { KafkaClient } from '@turnpike/kafka';
import { KAFKA_CLIENT, metrics, Readiness, TopicViewService } from '@turnpike/service-kit';

/**
 * An endpoint's circuit as a gauge value: 0 closed, 1 half-open, 2 open. An open circuit whose
 * cool-down has passed lets a probe through: it is half-open, whatever the table still says.
 */
export function circuitValue(
  health: Pick<EndpointHealth, 'circuit' | 'circuitOpenUntil'>,
  now: number,
): 0 | 1 | 2 {
  if (health.circuit === 'closed') return 0;
  if (health.circuit === 'half_open') return 1;
  return health.circuitOpenUntil !== null && health.circuitOpenUntil <= now ? 1 : 2;
}

/**
 * The catalog and live endpoint health that `router` publishes on the compacted
 * `routing.table.v1` topic, held in memory: routing decisions make no extra hop.
 */
@Injectable()
export class RoutingTableService extends TopicViewService<typeof TOPICS.routingTable> {
  private readonly models = new Map<string, RoutingEntryV1>();
  private readonly retryAfter = new Map<string, number>();

  constructor(@Inject(KAFKA_CLIENT) kafka: KafkaClient, readiness: Readiness) {
    super(kafka, readiness, {
      topic: TOPICS.routingTable,
      name: 'gateway-routing',
      check: 'routing-table',
    });
    metrics.gauge(
      'turnpike_circuit_state',
      "Each endpoint's circuit breaker as this gateway's routing table has it: 0 closed, 1 half-open, 2 open.",
      ['endpoint', 'provider'],
      (g) => {
        g.reset();
        const now = Date.now();
        for (const entry of this.models.values())
          for (const e of entry.endpoints)
            g.set({ endpoint: e.id, provider: e.provider }, circuitValue(e.health, now));
      },
    );
  }

  protected apply(key: string, value: RoutingEntryV1 | null): void {
    if (value === null) this.models.delete(key);
    else this.models.set(value.model.id, value);
  }

  /**
   * Retry-After this instance was told itself (a 429/503 reply), for immediate effect: the
   * router learns it from the attempt record too, but only a moment later.
   */
  noteRetryAfter(endpointId: string, until: number): void {
    const now = Date.now();
    if (until <= now) return;
    this.retryAfter.set(endpointId, Math.max(until, this.retryAfter.get(endpointId) ?? 0));
    for (const [id, t] of this.retryAfter) if (t <= now) this.retryAfter.delete(id);
  }

  /** Endpoints this instance knows to be waiting out a Retry-After, until epoch ms. */
  cooldowns(): ReadonlyMap<string, number> {
    return this.retryAfter;
  }

  get(modelId: string): RoutingEntryV1 | undefined {
    return this.models.get(modelId);
  }

  all(): RoutingEntryV1[] {
    return [...this.models.values()].sort((a, b) => a.model.id.localeCompare(b.model.id));
  }
}
