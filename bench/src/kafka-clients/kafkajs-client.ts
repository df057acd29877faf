/** kafkajs 2.2.4, configured as libs/kafka configures it for the hot path. */
import kafkajs from 'kafkajs';
import {
  AUTO_COMMIT_INTERVAL_MS,
  REQUEST_TIMEOUT_MS,
  fromKafkajsBatch,
  toKafkajsMessages,
  type BenchClient,
  type BenchConsumer,
  type BenchProducer,
  type ConsumeOptions,
} from './client.js';

const { Kafka, Partitioners, logLevel } = kafkajs;

export function kafkajsClient(brokers: string, clientId: string): BenchClient {
  const kafka = new Kafka({
    clientId,
    brokers: [brokers],
    connectionTimeout: 3000,
    requestTimeout: REQUEST_TIMEOUT_MS,
    retry: { initialRetryTime: 100, retries: 8, maxRetryTime: 5000 },
    logLevel: logLevel.NOTHING,
  });
  return {
    name: 'kafkajs',
    version: '2.2.4',
    async producer(): Promise<BenchProducer> {
      const producer = kafka.producer({
        createPartitioner: Partitioners.DefaultPartitioner,
        allowAutoTopicCreation: false,
        idempotent: false,
        maxInFlightRequests: 5,
        retry: { retries: 5, initialRetryTime: 50, maxRetryTime: 1000 },
      });
      await producer.connect();
      return {
        async send(topic, messages) {
          await producer.send({
            topic,
            acks: -1,
            messages: toKafkajsMessages(messages),
          });
        },
        close: () => producer.disconnect(),
      };
    },
    async consumer(o: ConsumeOptions): Promise<BenchConsumer> {
      const consumer = kafka.consumer({
        groupId: o.groupId,
        sessionTimeout: 10_000,
        heartbeatInterval: 1_000,
        maxWaitTimeInMs: o.maxWaitMs,
        minBytes: 1,
        allowAutoTopicCreation: false,
      });
      const joined = new Promise<void>((resolve) => {
        consumer.on(consumer.events.GROUP_JOIN, () => resolve());
      });
      consumer.on(consumer.events.CRASH, (e) => o.onError?.(e.payload.error));
      await consumer.connect();
      await consumer.subscribe({ topic: o.topic, fromBeginning: o.fromBeginning });
      await consumer.run({
        autoCommit: true,
        autoCommitInterval: AUTO_COMMIT_INTERVAL_MS,
        eachBatch: async ({ batch }) => {
          o.onMessages(fromKafkajsBatch(batch.partition, batch.messages));
        },
      });
      await joined;
      return { close: () => consumer.disconnect() };
    },
  };
}
