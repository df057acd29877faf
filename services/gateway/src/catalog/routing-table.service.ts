import { Inject, Injectable, Logger, type OnApplicationShutdown, type OnModuleInit } from '@nestjs/common';
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

  get(modelId: string): RoutingEntryV1 | undefined {
    return this.models.get(modelId);
  }

  all(): RoutingEntryV1[] {
    return [...this.models.values()].sort((a, b) => a.model.id.localeCompare(b.model.id));
  }
}
