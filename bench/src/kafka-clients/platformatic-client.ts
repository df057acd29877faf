/** @platformatic/kafka (pure JavaScript), with the settings kafkajs gets in the bench. */
import { Consumer, ProduceAcks, Producer } from '@platformatic/kafka';
import {
  AUTO_COMMIT_INTERVAL_MS,
  REQUEST_TIMEOUT_MS,
  headersOf,
  type BenchClient,
  type BenchConsumer,
  type BenchProducer,
  type ConsumeOptions,
} from './client.js';

export const PLATFORMATIC_VERSION = '2.12.1';

export function platformaticClient(brokers: string, clientId: string): BenchClient {
  const base = {
    clientId,
    bootstrapBrokers: [brokers],
    timeout: REQUEST_TIMEOUT_MS,
    // kafkajs' retry budget in libs/kafka (8 retries, 100 ms doubling to 5 s: ~16 s), so that
    // both face a broker restart with the same patience.
    retries: 8,
    retryDelay: (_client: unknown, _op: string, attempt: number) =>
      Math.min(5000, 100 * 2 ** Math.max(0, attempt - 1)),
  };
  return {
    name: 'platformatic',
    version: PLATFORMATIC_VERSION,
    async producer(): Promise<BenchProducer> {
      const producer = new Producer({
        ...base,
        acks: ProduceAcks.ALL,
        idempotent: false,
        autocreateTopics: false,
      });
      // Connects on the first request: fetch the metadata now so the first send is not slower.
      await producer.metadata({ topics: [] });
      return {
        async send(topic, messages) {
          await producer.send({
            messages: messages.map((m) => ({
              topic,
              key: Buffer.from(m.key),
              value: m.value,
              ...(m.partition === undefined ? {} : { partition: m.partition }),
              ...(m.headers
                ? {
                    headers: new Map(
                      Object.entries(m.headers).map(([k, v]) => [Buffer.from(k), Buffer.from(v)]),
                    ),
                  }
                : {}),
            })),
          });
        },
        close: () => producer.close(),
      };
    },
    async consumer(o: ConsumeOptions): Promise<BenchConsumer> {
      const consumer = new Consumer({
        ...base,
        groupId: o.groupId,
        sessionTimeout: 10_000,
        heartbeatInterval: 1_000,
        maxWaitTime: o.maxWaitMs,
        minBytes: 1,
        autocommit: AUTO_COMMIT_INTERVAL_MS,
      });
      const stream = await consumer.consume({
        topics: [o.topic],
        mode: 'committed',
        fallbackMode: o.fromBeginning ? 'earliest' : 'latest',
      });
      stream.on('data', (m) => {
        o.onMessages([
          {
            key: m.key === undefined || m.key === null ? null : m.key.toString('utf8'),
            value: m.value ?? Buffer.alloc(0),
            partition: m.partition,
            headers: headersOf(m.headers),
          },
        ]);
      });
      stream.on('error', (e: Error) => o.onError?.(e));
      return {
        async close() {
          await stream.close();
          await consumer.close();
        },
      };
    },
  };
}
