import {
  Inject,
  Injectable,
  Logger,
  type OnApplicationShutdown,
  type OnModuleInit,
} from '@nestjs/common';
import { ReplyInbox, type KafkaClient } from '@turnpike/kafka';
import { KAFKA_CLIENT, ProducerService, Readiness } from '@turnpike/service-kit';
import { GatewayConfig } from '../gateway.config.js';

/** A reply inbox that has not fetched for this long is taken as cut off from the broker. */
export const INBOX_STALL_MS = 3000;

/** This instance's reply inbox, started once the producer is connected. */
@Injectable()
export class ReplyInboxService extends ReplyInbox implements OnModuleInit, OnApplicationShutdown {
  private started = false;

  constructor(
    @Inject(KAFKA_CLIENT) kafka: KafkaClient,
    private readonly producerService: ProducerService,
    config: GatewayConfig,
    readiness: Readiness,
  ) {
    super(kafka, producerService, new Logger('replies'), {
      instance: config.instanceId,
      partition: config.replyPartition,
    });
    // Unready while generations cannot travel (the broker unreachable: sends failing, or this
    // inbox not fetching): the gateway would answer them 503, so a load balancer should not
    // send it any, and it says so within seconds, whatever its client does with a dead broker.
    readiness.register('reply-inbox', () =>
      this.started ? (this.unavailable() ?? true) : 'joining',
    );
  }

  async onModuleInit(): Promise<void> {
    await this.start();
    this.started = true;
  }

  /**
   * Why generations cannot travel over Kafka right now, or null when they can: the producer's
   * sends fail (the broker is unreachable), or this inbox's consumer is restarting or has not
   * completed a fetch for INBOX_STALL_MS (idle, it completes a fetch every PRIVATE_PARTITION_MAX_WAIT_MS).
   */
  unavailable(): string | null {
    if (!this.started) return null;
    const since = this.producerService.unavailableSince;
    if (since !== null)
      return `the Kafka broker has refused produce requests for ${Date.now() - since} ms`;
    const inbox = this.consumerStatus(INBOX_STALL_MS);
    return inbox === true ? null : `the reply inbox is ${inbox}`;
  }

  async onApplicationShutdown(): Promise<void> {
    await this.stop();
  }
}
