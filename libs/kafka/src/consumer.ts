import kafkajs from 'kafkajs';
import type { Consumer, EachBatchPayload, PartitionAssigner } from 'kafkajs';
import type { KafkaClient } from './client.js';
import type { Log } from './logger.js';

const { AssignerProtocol } = kafkajs;

export interface ConsumerOptions {
  groupId: string;
  topics: string[];
  fromBeginning: boolean;
  /**
   * `auto`: offsets of handled batches are committed by kafkajs.
   * `manual`: the handler resolves offsets and calls `commitOffsetsIfNecessary()` itself, when it
   * decides (e.g. before starting work, for at-most-once).
   * `none`: nothing is committed (private groups that always start at the end).
   */
  commit: 'auto' | 'manual' | 'none';
  eachBatch: (payload: EachBatchPayload) => Promise<void>;
  partitionAssigners?: PartitionAssigner[];
  /** Long-poll wait when a fetch finds nothing. Small on the hot path (kafkajs default is 5 s). */
  maxWaitTimeInMs?: number;
}

export interface ConsumerHandle {
  readonly consumer: Consumer;
  stop(): Promise<void>;
}

/**
 * Starts a consumer and resolves once it has joined its group and been assigned partitions.
 * Settings follow the broker: sessionTimeout above group.min.session.timeout.ms (6 s).
 */
export async function startConsumer(
  kafka: KafkaClient,
  log: Log,
  opts: ConsumerOptions,
): Promise<ConsumerHandle> {
  const consumer = kafka.consumer({
    groupId: opts.groupId,
    sessionTimeout: 10_000,
    rebalanceTimeout: 20_000,
    heartbeatInterval: 1_000,
    maxWaitTimeInMs: opts.maxWaitTimeInMs ?? 50,
    minBytes: 1,
    allowAutoTopicCreation: false,
    retry: { retries: 10, initialRetryTime: 100 },
    ...(opts.partitionAssigners ? { partitionAssigners: opts.partitionAssigners } : {}),
  });
  const joined = new Promise<void>((resolve) => {
    const off = consumer.on(consumer.events.GROUP_JOIN, () => {
      off();
      resolve();
    });
  });
  consumer.on(consumer.events.CRASH, (e) => {
    log.error(`consumer ${opts.groupId} crashed: ${String(e.payload.error)}`);
  });
  await consumer.connect();
  await consumer.subscribe({ topics: opts.topics, fromBeginning: opts.fromBeginning });
  await consumer.run({
    autoCommit: opts.commit !== 'none',
    // kafkajs advances its fetch position only past resolved offsets: without resolving, the
    // same batch would be fetched again and again. Only `manual` resolves by itself.
    eachBatchAutoResolve: opts.commit !== 'manual',
    ...(opts.commit === 'manual' ? { autoCommitThreshold: 1 } : {}),
    eachBatch: opts.eachBatch,
  });
  await withTimeout(joined, 60_000, `consumer group ${opts.groupId} did not join`);
  return {
    consumer,
    stop: async () => {
      await consumer.stop();
      await consumer.disconnect();
    },
  };
}

/**
 * An assigner that gives every member of the group the same fixed partitions of each topic.
 * Each gateway instance reads its replies from its own partition of `llm.replies.v1` in a
 * group of its own, so it never sees another instance's replies and never rebalances.
 */
export function staticPartitionAssigner(partitions: number[]): PartitionAssigner {
  return () => ({
    name: 'TurnpikeStaticAssigner',
    version: 1,
    async assign({ members, topics }) {
      return members.map((m) => ({
        memberId: m.memberId,
        memberAssignment: AssignerProtocol.MemberAssignment.encode({
          version: 1,
          assignment: Object.fromEntries(topics.map((t) => [t, partitions])),
          userData: Buffer.alloc(0),
        }),
      }));
    },
    protocol({ topics }) {
      return {
        name: 'TurnpikeStaticAssigner',
        metadata: AssignerProtocol.MemberMetadata.encode({
          version: 1,
          topics,
          userData: Buffer.alloc(0),
        }),
      };
    },
  });
}

export function withTimeout<T>(p: Promise<T>, ms: number, message: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(message)), ms);
  });
  return Promise.race([p, timeout]).finally(() => clearTimeout(timer));
}
