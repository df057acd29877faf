import {
  Inject,
  Injectable,
  Logger,
  type OnApplicationBootstrap,
  type OnApplicationShutdown,
} from '@nestjs/common';
import type { RpcService } from '@turnpike/contracts';
import { RpcServer, type KafkaClient } from '@turnpike/kafka';
import { KAFKA_CLIENT, ProducerService } from './kafka.providers.js';
import { Readiness } from './readiness.js';

export const RPC_SERVICE_NAME = Symbol('RPC_SERVICE_NAME');

/**
 * The service's answers to the gateway's queries and operator commands. Providers register
 * their methods with `handle()` while the app is being built; it starts consuming once the
 * app has bootstrapped.
 */
@Injectable()
export class RpcServerService
  extends RpcServer
  implements OnApplicationBootstrap, OnApplicationShutdown
{
  private started = false;

  constructor(
    @Inject(KAFKA_CLIENT) kafka: KafkaClient,
    producer: ProducerService,
    @Inject(RPC_SERVICE_NAME) service: RpcService,
    readiness: Readiness,
  ) {
    super(kafka, producer, new Logger('rpc'), service);
    readiness.register('rpc', () => this.started || 'joining');
  }

  async onApplicationBootstrap(): Promise<void> {
    await this.start();
    this.started = true;
  }

  async onApplicationShutdown(): Promise<void> {
    await this.stop();
  }
}
