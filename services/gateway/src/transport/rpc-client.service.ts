import {
  Inject,
  Injectable,
  Logger,
  type OnApplicationShutdown,
  type OnModuleInit,
} from '@nestjs/common';
import type { RpcService } from '@turnpike/contracts';
import { RpcClient, RpcFailure, type KafkaClient } from '@turnpike/kafka';
import { ApiError } from '@turnpike/openai-api';
import { KAFKA_CLIENT, ProducerService, Readiness } from '@turnpike/service-kit';
import { GatewayConfig } from '../gateway.config.js';

/** Queries and commands to the services that own data, over Kafka request/reply. */
@Injectable()
export class RpcClientService extends RpcClient implements OnModuleInit, OnApplicationShutdown {
  private started = false;

  constructor(
    @Inject(KAFKA_CLIENT) kafka: KafkaClient,
    producer: ProducerService,
    config: GatewayConfig,
    readiness: Readiness,
  ) {
    super(kafka, producer, new Logger('rpc'), {
      instance: config.instanceId,
      partition: config.replyPartition,
    });
    readiness.register('rpc-client', () => this.started || 'joining');
  }

  async onModuleInit(): Promise<void> {
    await this.start();
    this.started = true;
  }

  async onApplicationShutdown(): Promise<void> {
    await this.stop();
  }

  /** Like `call`, with the owning service's error surfaced as the gateway's ApiError. */
  async ask<T>(
    service: RpcService,
    method: string,
    params: unknown,
    timeoutMs?: number,
    id?: string,
  ): Promise<T> {
    try {
      return await this.call<T>(service, method, params, timeoutMs, id);
    } catch (e) {
      if (e instanceof RpcFailure)
        throw new ApiError({
          ...e.error,
          // Not sent (broker unreachable): worth retrying shortly.
          ...(e.error.status === 503 ? { retryAfterSec: 5 } : {}),
        });
      throw e;
    }
  }
}
