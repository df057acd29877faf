import type { TopicSpec } from '@turnpike/contracts';
import type { KafkaClient } from './client.js';

/**
 * Creates the topics that are missing (the broker runs with auto-creation off) and waits
 * until their metadata is served. Safe to call from every instance at boot.
 */
export async function ensureTopics(
  kafka: KafkaClient,
  specs: readonly TopicSpec[],
  replicationFactor = 1,
): Promise<void> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    const existing = new Set(await admin.listTopics());
    const missing = specs.filter((s) => !existing.has(s.topic));
    if (missing.length > 0) {
      try {
        await admin.createTopics({
          waitForLeaders: true,
          topics: missing.map((s) => ({
            topic: s.topic,
            numPartitions: s.partitions,
            replicationFactor,
            configEntries: s.compacted
              ? [
                  { name: 'cleanup.policy', value: 'compact' },
                  { name: 'min.cleanable.dirty.ratio', value: '0.1' },
                  { name: 'segment.ms', value: '3600000' },
                ]
              : [],
          })),
        });
      } catch (e) {
        // Another instance may have created them meanwhile.
        if (!String((e as Error).message).includes('already exists')) throw e;
      }
    }
    await admin.fetchTopicMetadata({ topics: specs.map((s) => s.topic) });
  } finally {
    await admin.disconnect();
  }
}
