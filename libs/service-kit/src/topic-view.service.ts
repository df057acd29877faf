import { Logger, type OnApplicationShutdown, type OnModuleInit } from '@nestjs/common';
import {
  CompactedView,
  type KafkaClient,
  type MessageOf,
  type TopicWithSchema,
} from '@turnpike/kafka';
import type { Readiness } from './readiness.js';

/**
 * A compacted topic held in memory for the life of the service: loaded (caught up) before the
 * app starts serving, unready until then, and followed afterwards. Subclasses say what a
 * record (or a tombstone: null) does to their state.
 */
export abstract class TopicViewService<T extends TopicWithSchema>
  implements OnModuleInit, OnApplicationShutdown
{
  private readonly view: CompactedView<T>;

  protected constructor(
    kafka: KafkaClient,
    readiness: Readiness,
    opts: { topic: T; name: string; check: string },
  ) {
    this.view = new CompactedView(kafka, new Logger(opts.topic), {
      topic: opts.topic,
      name: opts.name,
      apply: (key, value) => this.apply(key, value),
    });
    readiness.register(opts.check, () => this.view.ready || `loading ${opts.topic}`);
  }

  protected abstract apply(key: string, value: MessageOf<T> | null): void;

  async onModuleInit(): Promise<void> {
    await this.view.start();
  }

  async onApplicationShutdown(): Promise<void> {
    await this.view.stop();
  }
}
