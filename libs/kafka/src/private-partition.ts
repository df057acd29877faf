import { randomUUID } from 'node:crypto';
import type { BatchingProducer } from './batching-producer.js';
import type { KafkaClient } from './client.js';
import { messageTypeHeader } from './codec.js';
import { startConsumer, type ConsumedMessage, type ConsumerHandle } from './consumer.js';
import type { Log } from './logger.js';

export interface PrivatePartitionOptions {
  topic: string;
  partition: number;
  /** The group of this instance alone. */
  groupId: string;
  onMessage: (message: ConsumedMessage) => void;
}

/** The long-poll of a private partition's consumer (see ConsumerOptions.maxWaitTimeInMs). */
export const PRIVATE_PARTITION_MAX_WAIT_MS = 500;

/**
 * Reads one partition of a reply topic in a consumer group of this instance alone (a static
 * assignment: no rebalancing), starting at the end. Resolves once the consumer has read back a
 * ping it sent itself, which proves its position: nothing produced after that is missed.
 */
export async function startPrivatePartitionConsumer(
  kafka: KafkaClient,
  producer: BatchingProducer,
  log: Log,
  opts: PrivatePartitionOptions,
): Promise<ConsumerHandle> {
  const pings = new Map<string, () => void>();
  const consumer = await startConsumer(kafka, log, {
    groupId: opts.groupId,
    topics: [opts.topic],
    fromBeginning: false,
    commit: 'none',
    // Replies: a fetch returns when one arrives; idle, the consumer proves it is alive (its
    // readiness) twice a second.
    maxWaitTimeInMs: PRIVATE_PARTITION_MAX_WAIT_MS,
    staticPartitions: [opts.partition],
    eachBatch: async ({ batch, heartbeat }) => {
      for (const message of batch.messages) {
        if (message.headers?.[messageTypeHeader]?.toString() === 'ping') {
          pings.get(message.headers['ping']?.toString() ?? '')?.();
          continue;
        }
        opts.onMessage(message);
      }
      await heartbeat();
    },
  });
  const id = randomUUID();
  const seen = new Promise<void>((resolve) => pings.set(id, resolve));
  const deadline = Date.now() + 60_000;
  for (;;) {
    await producer.send(opts.topic, {
      key: id,
      value: Buffer.from('{}'),
      partition: opts.partition,
      headers: { [messageTypeHeader]: 'ping', ping: id },
    });
    const ok = await Promise.race([seen.then(() => true), sleep(1000).then(() => false)]);
    if (ok) break;
    if (Date.now() > deadline) {
      await consumer.stop();
      throw new Error(`${opts.topic}[${opts.partition}]: never read back its own ping`);
    }
  }
  pings.delete(id);
  return consumer;
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
