import { Global, Module, type DynamicModule } from '@nestjs/common';
import { HealthController } from './health.controller.js';
import { kafkaClientProvider, KAFKA_CLIENT, ProducerService } from './kafka.providers.js';
import { KafkaMetrics } from './kafka-metrics.service.js';
import { MetricsModule } from './metrics.controller.js';
import { Readiness } from './readiness.js';
import { SERVICE_CONFIG, type ServiceBaseConfig } from './service-config.js';

/**
 * What every service has: its validated config, health endpoints, Prometheus metrics
 * (`GET /metrics`), a Kafka client and the batching producer. The service's own config class is provided under its class too.
 */
@Global()
@Module({})
export class CoreModule {
  static forRoot<C extends ServiceBaseConfig>(config: C): DynamicModule {
    const configClass = config.constructor as new (...args: never[]) => C;
    return {
      module: CoreModule,
      imports: [MetricsModule],
      controllers: [HealthController],
      providers: [
        { provide: SERVICE_CONFIG, useValue: config },
        { provide: configClass, useValue: config },
        Readiness,
        kafkaClientProvider,
        ProducerService,
        KafkaMetrics,
      ],
      exports: [
        SERVICE_CONFIG,
        configClass,
        Readiness,
        KAFKA_CLIENT,
        ProducerService,
        KafkaMetrics,
      ],
    };
  }
}
