import { Inject, Injectable } from '@nestjs/common';
import { TOPICS, type RoutingEntryV1 } from '@turnpike/contracts';
import type { KafkaClient } from '@turnpike/kafka';
import { KAFKA_CLIENT, Readiness, TopicViewService } from '@turnpike/service-kit';

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
