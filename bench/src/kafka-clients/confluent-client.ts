/**
 * @confluentinc/kafka-javascript (librdkafka), through its KafkaJS-compatible API, installed by the
 * bench under the cache: its install downloads a prebuilt binary from GitHub (unreachable here) and
 * falls back to a source build of the librdkafka it ships, which needs `CKJS_LINKING=dynamic` (the
 * static build downloads zlib, OpenSSL, zstd and curl sources) and Node 24's headers (the npm
 * config's `nodedir` points at the system Node 20's, whose ABI Node 24 refuses to load).
 */
import { createRequire } from 'node:module';
import path from 'node:path';
import { ensureNpmPeer } from '../peers/install.js';
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

export const CONFLUENT_PACKAGE = '@confluentinc/kafka-javascript';
export const CONFLUENT_VERSION = '1.10.1';

/** The part of the KafkaJS-compatible API the bench uses (the package is not a workspace dependency). */
interface CkjsMessage {
  key: Buffer | null;
  value: Buffer | null;
  headers?: Record<string, Buffer | string | undefined>;
}
interface CkjsProducer {
  connect(): Promise<void>;
  disconnect(): Promise<void>;
  send(record: {
    topic: string;
    messages: Array<{
      key: string;
      value: Buffer;
      partition?: number;
      headers?: Record<string, string>;
    }>;
  }): Promise<unknown>;
}
interface CkjsConsumer {
  connect(): Promise<void>;
  disconnect(): Promise<void>;
  subscribe(s: { topics: string[] }): Promise<void>;
  run(c: {
    eachBatch: (p: { batch: { partition: number; messages: CkjsMessage[] } }) => Promise<void>;
  }): Promise<void>;
  assignment(): Array<{ topic: string; partition: number }>;
}
interface CkjsKafka {
  producer(config: Record<string, unknown>): CkjsProducer;
  consumer(config: Record<string, unknown>): CkjsConsumer;
}
export interface CkjsModule {
  librdkafkaVersion: string;
  features: string[];
  KafkaJS: {
    Kafka: new (config: Record<string, unknown>) => CkjsKafka;
    logLevel: Record<string, number>;
  };
}

/** Installs (once, ~3 min of compiling) and loads the package; throws with npm's output if it fails. */
export async function loadConfluent(
  cacheDir: string,
  log: (line: string) => void,
): Promise<CkjsModule> {
  // `<prefix>/bin/node`: the prefix holds include/node, the headers of the Node running us.
  const nodeDir = path.dirname(path.dirname(process.execPath));
  const dir = await ensureNpmPeer(cacheDir, CONFLUENT_PACKAGE, CONFLUENT_VERSION, log, {
    subdir: 'kafka-clients',
    allowScripts: true,
    env: { ...process.env, CKJS_LINKING: 'dynamic' },
    npmArgs: [`--nodedir=${nodeDir}`],
  });
  const require = createRequire(path.join(dir, 'package.json'));
  return require(dir) as CkjsModule;
}

export function confluentClient(ckjs: CkjsModule, brokers: string, clientId: string): BenchClient {
  const { Kafka, logLevel } = ckjs.KafkaJS;
  const kafka = new Kafka({
    kafkaJS: {
      clientId,
      brokers: [brokers],
      connectionTimeout: 3000,
      requestTimeout: REQUEST_TIMEOUT_MS,
      logLevel: logLevel['NOTHING'],
    },
  });
  return {
    name: 'confluent',
    version: `${CONFLUENT_VERSION} (librdkafka ${ckjs.librdkafkaVersion})`,
    async producer(): Promise<BenchProducer> {
      const producer = kafka.producer({
        kafkaJS: { acks: -1, idempotent: false, allowAutoTopicCreation: false },
        // The bench hands over a tick's messages in one send and awaits it (as libs/kafka does):
        // librdkafka's own 5 ms linger would only add to every hop.
        'linger.ms': 0,
        'max.in.flight.requests.per.connection': 5,
      });
      await producer.connect();
      return {
        async send(topic, messages) {
          await producer.send({
            topic,
            messages: toKafkajsMessages(messages),
          });
        },
        close: () => producer.disconnect(),
      };
    },
    async consumer(o: ConsumeOptions): Promise<BenchConsumer> {
      const consumer = kafka.consumer({
        kafkaJS: {
          groupId: o.groupId,
          fromBeginning: o.fromBeginning,
          autoCommit: true,
          autoCommitInterval: AUTO_COMMIT_INTERVAL_MS,
          sessionTimeout: 10_000,
          heartbeatInterval: 1_000,
          maxWaitTimeInMs: o.maxWaitMs,
          minBytes: 1,
          allowAutoTopicCreation: false,
        },
        'js.consumer.max.batch.size': 500,
      });
      await consumer.connect();
      await consumer.subscribe({ topics: [o.topic] });
      void consumer
        .run({
          eachBatch: async ({ batch }) => {
            o.onMessages(fromKafkajsBatch(batch.partition, batch.messages));
          },
        })
        .catch((e: Error) => o.onError?.(e));
      // Joined once it holds partitions (librdkafka joins in the background).
      const deadline = Date.now() + 30_000;
      while (consumer.assignment().length === 0) {
        if (Date.now() > deadline) throw new Error('confluent consumer: no assignment after 30 s');
        await new Promise((r) => setTimeout(r, 20));
      }
      return { close: () => consumer.disconnect() };
    },
  };
}
