import { Injectable, Logger } from '@nestjs/common';
import { TOPICS, type UsageEventV1 } from '@turnpike/contracts';
import { encode } from '@turnpike/kafka';
import { ProducerService } from '@turnpike/service-kit';

/** Publishes the one `usage.events.v1` record of each generation (the billing fact). */
@Injectable()
export class UsagePublisher {
  private readonly log = new Logger(UsagePublisher.name);
  readonly stats = { published: 0, failed: 0 };

  constructor(private readonly producer: ProducerService) {}

  publish(event: UsageEventV1): Promise<void> {
    return this.producer
      .send(TOPICS.usageEvents, encode(TOPICS.usageEvents, event.generationId, event))
      .then(() => {
        this.stats.published++;
      })
      .catch((e: unknown) => {
        this.stats.failed++;
        this.log.error(
          `usage event ${event.generationId} NOT published: ${(e as Error).message} ${JSON.stringify(event)}`,
        );
      });
  }
}
