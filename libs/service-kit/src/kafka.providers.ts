import {
  Inject,
  Injectable,
  Logger,
  type OnApplicationShutdown,
  type OnModuleInit,
} from '@nestjs/common';
import { hotTopics, maxMessageBytes, TOPIC_SPECS, TOPICS } from '@turnpike/contracts';
import {
  applyTopicOverrides,
  BatchingProducer,
  createKafka,
  ensureTopics,
  type KafkaClient,
} from '@turnpike/kafka';
import { SERVICE_CONFIG, type ServiceBaseConfig } from './service-config.js';
import { Readiness } from './readiness.js';

export const KAFKA_CLIENT = Symbol('KAFKA_CLIENT');

export const kafkaClientProvider = {
  provide: KAFKA_CLIENT,
  inject: [SERVICE_CONFIG],
  useFactory: (config: ServiceBaseConfig): KafkaClient =>
    createKafka(
      {
        brokers: config.kafkaBrokers,
        clientId: `${config.serviceName}-${config.instanceId}`,
        ...config.kafkaSecurity,
      },
      new Logger('kafka'),
    ),
};

/**
 * The service's producer: connected at boot (so nothing is emitted before it is ready),
 * flushed and closed last at shutdown. It also makes sure the topics exist. Two lanes, chosen
 * per topic by TOPIC_SPECS (`lane`): the hot lane (requests, replies, cancels, RPC) flushes on
 * the next event-loop turn over producers of its own; the bulk lane (usage, attempts, state)
 * lingers 1 ms to batch. Idempotent kafkajs producers, several batches in flight per lane.
 */
@Injectable()
export class ProducerService
  extends BatchingProducer
  implements OnModuleInit, OnApplicationShutdown
{
  private ready = false;

  constructor(
    @Inject(KAFKA_CLIENT) private readonly kafka: KafkaClient,
    @Inject(SERVICE_CONFIG) private readonly config: ServiceBaseConfig,
    readiness: Readiness,
  ) {
    super(kafka, new Logger('producer'), {
      lingerMs: 1,
      maxBatch: 500,
      hotTopics: hotTopics(),
      // Replies carry `seq` and the reply inbox reorders them.
      unorderedTopics: [TOPICS.llmReplies],
      maxMessageBytes: Object.fromEntries(
        TOPIC_SPECS.map((t) => [t.topic, maxMessageBytes(t.topic) - 1024]),
      ),
    });
    readiness.register('kafka-producer', () => {
      if (!this.ready) return 'connecting';
      const since = this.unavailableSince;
      return since === null
        ? true
        : `produce failing for ${Math.round((Date.now() - since) / 1000)} s: ${this.lastFailure}`;
    });
  }

  async onModuleInit(): Promise<void> {
    // Off where a deployment step owns the topics (the Helm chart's topics job).
    if (this.config.ensureTopics)
      await ensureTopics(this.kafka, applyTopicOverrides(TOPIC_SPECS, this.config.topicOverrides), {
        replicationFactor: this.config.topicReplicationFactor,
      });
    await this.connect();
    this.ready = true;
  }

  async onApplicationShutdown(): Promise<void> {
    this.ready = false;
    await this.disconnect();
  }
}
