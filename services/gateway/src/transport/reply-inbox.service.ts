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

/** This instance's reply inbox, started once the producer is connected. */
@Injectable()
export class ReplyInboxService extends ReplyInbox implements OnModuleInit, OnApplicationShutdown {
  private started = false;

  constructor(
    @Inject(KAFKA_CLIENT) kafka: KafkaClient,
    producer: ProducerService,
    config: GatewayConfig,
    readiness: Readiness,
  ) {
    super(kafka, producer, new Logger('replies'), {
      instance: config.instanceId,
      partition: config.replyPartition,
    });
    readiness.register('reply-inbox', () => this.started || 'joining');
  }

  async onModuleInit(): Promise<void> {
    await this.start();
    this.started = true;
  }

  async onApplicationShutdown(): Promise<void> {
    await this.stop();
  }
}
