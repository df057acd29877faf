import { Producer, compatibilityPartitioner, type MessageToProduce } from '@platformatic/kafka';
import type { KafkaClient } from './client.js';
import type { OutgoingMessage } from './codec.js';

/** The messages of one topic in a batch. */
export interface TopicMessages {
  topic: string;
  messages: OutgoingMessage[];
}

/** What `BatchingProducer` sends its batches with (a fake in unit tests). */
export interface BatchSender {
  connect(): Promise<void>;
  disconnect(): Promise<void>;
  sendBatch(batch: { topicMessages: TopicMessages[]; acks: number }): Promise<unknown>;
}

type Outgoing = MessageToProduce<Buffer, Buffer, Buffer, Buffer>;

/**
 * The client's producer under `BatchingProducer`: one `send` (one produce request per broker)
 * per batch, across topics and partitions.
 *
 * Idempotent or not (BatchingProducer chooses): @platformatic/kafka's idempotent producer allows
 * one request in flight, so BatchingProducer keeps a pool of them (one per batch in flight, never
 * two batches of one ordering unit, so order per key holds). Non-idempotent, a batch retried
 * after a lost acknowledgement may be written twice; every consumer drops duplicates anyway
 * (request ids, reply `seq`, event ids).
 *
 * Partitions: keyed messages go where kafkajs (and the Java client) put them, murmur2 of the
 * key (so a compacted topic's keys stay in their partition across the client change); keyless
 * ones round robin.
 */
export function platformaticSender(
  kafka: KafkaClient,
  opts: { maxInFlight: number; idempotent?: boolean },
): BatchSender {
  const roundRobin = new Map<string, number>();
  const make = () =>
    new Producer<Buffer, Buffer, Buffer, Buffer>({
      ...kafka.options,
      idempotent: opts.idempotent ?? false,
      maxInflights: opts.idempotent ? 1 : opts.maxInFlight,
      // A failed batch is retried by BatchingProducer (backoff, deadline, fail-fast): the
      // client's own retries stay short.
      retries: 5,
      retryDelay: (_c: unknown, _op: string, attempt: number) =>
        Math.min(1_000, 50 * 2 ** Math.max(0, attempt - 1)),
      partitioner: (message, key) => {
        if (key && key.length > 0) return compatibilityPartitioner(message, key);
        const n = roundRobin.get(message.topic) ?? 0;
        roundRobin.set(message.topic, (n + 1) % 1_000_000);
        return n;
      },
    });
  // An idempotent producer that could not get its producer id (the broker was down when it
  // asked, and its retries ran out) stays broken: it is replaced, and the batch is retried by
  // BatchingProducer on the new one (broker-restart.e2e found a gateway that never produced
  // again after an outage).
  let producer = make();
  const replaceIfBroken = (e: unknown): void => {
    if (!opts.idempotent || !/producer ?id/i.test(String((e as Error)?.message ?? e))) return;
    const broken = producer;
    producer = make();
    void broken.close().catch(() => undefined);
  };
  return {
    async connect() {
      // The producer connects on its first request: fetch the cluster's metadata now, so a
      // broker that cannot be reached fails the start, not the first send.
      await producer.metadata({ topics: [] });
    },
    disconnect: () => producer.close(),
    sendBatch: ({ topicMessages, acks }) =>
      producer
        .send({
          acks,
          messages: topicMessages.flatMap(({ topic, messages }) =>
            messages.map((m): Outgoing => {
              const headers = new Map<Buffer, Buffer>();
              for (const [k, v] of Object.entries(m.headers))
                headers.set(Buffer.from(k), Buffer.from(v));
              return {
                topic,
                ...(m.key !== null ? { key: Buffer.from(m.key) } : {}),
                ...(m.value !== null ? { value: m.value } : {}),
                headers,
                ...(m.partition !== undefined ? { partition: m.partition } : {}),
                ...(m.timestamp !== undefined ? { timestamp: BigInt(m.timestamp) } : {}),
              };
            }),
          ),
        })
        .catch((e: unknown) => {
          replaceIfBroken(e);
          throw e;
        }),
  };
}
