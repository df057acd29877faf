import {
  Inject,
  Injectable,
  Logger,
  type OnApplicationShutdown,
  type OnModuleInit,
} from '@nestjs/common';
import { TOPICS, type RoutingEntryV1 } from '@turnpike/contracts';
import { CompactedView, type KafkaClient } from '@turnpike/kafka';
import { KAFKA_CLIENT, Readiness } from '@turnpike/service-kit';

/**
 * The catalog and live endpoint health that `router` publishes on the compacted
 * `routing.table.v1` topic, held in memory: routing decisions make no extra hop.
 */
@Injectable()
export class RoutingTableService implements OnModuleInit, OnApplicationShutdown {
  private readonly models = new Map<string, RoutingEntryV1>();
  private readonly retryAfter = new Map<string, number>();
  private readonly view: CompactedView<typeof TOPICS.routingTable>;

  constructor(@Inject(KAFKA_CLIENT) kafka: KafkaClient, readiness: Readiness) {
    this.view = new CompactedView(kafka, new Logger('routing.table'), {
      topic: TOPICS.routingTable,
      name: 'gateway-routing',
      apply: (key, value) => {
        if (value === null) this.models.delete(key);
        else this.models.set(value.model.id, value);
      },
    });
    readiness.register('routing-table', () => this.view.ready || 'loading routing table');
  }

  async onModuleInit(): Promise<void> {
    await this.view.start();
  }

  async onApplicationShutdown(): Promise<void> {
    await this.view.stop();
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
