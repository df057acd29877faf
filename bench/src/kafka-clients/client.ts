/**
 * The little a bench side needs from a Kafka client, so that the same workload drives kafkajs,
 * @platformatic/kafka and @confluentinc/kafka-javascript: a producer that sends a batch of
 * messages to one topic (resolved once the broker acknowledged them, acks=all) and a consumer in a
 * group that hands over what it fetched. Everything else (batching across calls, the closed loop,
 * timing) is the bench's own and identical for every client.
 */

export type ClientName = 'kafkajs' | 'platformatic' | 'confluent';

export interface OutMessage {
  key: string;
  value: Buffer;
  /** Absent: the client's default partitioner (murmur2 of the key for all three). */
  partition?: number;
  headers?: Record<string, string>;
}

export interface InMessage {
  key: string | null;
  value: Buffer;
  partition: number;
  headers: Record<string, string>;
}

export interface BenchProducer {
  send(topic: string, messages: OutMessage[]): Promise<void>;
  close(): Promise<void>;
}

export interface ConsumeOptions {
  groupId: string;
  topic: string;
  /** A new group reads from the beginning (true) or from the end (false). */
  fromBeginning: boolean;
  /** How long the broker holds an empty fetch: our hot path runs 20 ms. */
  maxWaitMs: number;
  /** The messages of one fetch, in order; handled synchronously. */
  onMessages(messages: InMessage[]): void;
  /** The client's own errors (logged by the side, counted). */
  onError?(error: Error): void;
}

export interface BenchConsumer {
  close(): Promise<void>;
}

export interface BenchClient {
  name: ClientName;
  version: string;
  /** A producer, connected. */
  producer(): Promise<BenchProducer>;
  /** A consumer, resolved once it has joined its group and fetches. */
  consumer(opts: ConsumeOptions): Promise<BenchConsumer>;
}

/** Commit cadence of every consumer group in the bench (kafkajs, platformatic and librdkafka alike). */
export const AUTO_COMMIT_INTERVAL_MS = 100;
/** Producer and consumer requests time out after this long (all clients). */
export const REQUEST_TIMEOUT_MS = 30_000;

export function headersOf(entries: Iterable<[unknown, unknown]>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of entries) {
    if (v === undefined || v === null) continue;
    out[String(k)] = Buffer.isBuffer(v) ? v.toString('utf8') : String(v as string);
  }
  return out;
}

/** Our messages in the shape of kafkajs' `send` (also what the confluent client's KafkaJS API takes). */
export function toKafkajsMessages(messages: OutMessage[]) {
  return messages.map((m) => ({
    key: m.key,
    value: m.value,
    ...(m.partition === undefined ? {} : { partition: m.partition }),
    ...(m.headers ? { headers: m.headers } : {}),
  }));
}

/** A kafkajs-shaped batch (kafkajs' and the confluent client's `eachBatch`) as ours. */
export function fromKafkajsBatch(
  partition: number,
  messages: Array<{
    key: Buffer | null;
    value: Buffer | null;
    headers?: Record<string, unknown> | undefined;
  }>,
): InMessage[] {
  return messages.map((m) => ({
    key: m.key === null ? null : m.key.toString('utf8'),
    value: m.value ?? Buffer.alloc(0),
    partition,
    headers: headersOf(Object.entries(m.headers ?? {})),
  }));
}
