import kafkajs from 'kafkajs';
import type { TopicSpec } from '@turnpike/contracts';
import type { KafkaClient } from './client.js';

const { ConfigResourceTypes } = kafkajs;

/** The topic-level configuration we own for a topic. */
export function topicConfigEntries(s: TopicSpec): Array<{ name: string; value: string }> {
  return [
    ...(s.compacted
      ? [
          {
            name: 'cleanup.policy',
            value: s.retentionMs !== undefined ? 'compact,delete' : 'compact',
          },
          { name: 'min.cleanable.dirty.ratio', value: '0.1' },
          { name: 'segment.ms', value: '3600000' },
        ]
      : []),
    ...(s.retentionMs !== undefined
      ? [{ name: 'retention.ms', value: String(s.retentionMs) }]
      : []),
    ...(s.maxMessageBytes !== undefined
      ? [{ name: 'max.message.bytes', value: String(s.maxMessageBytes) }]
      : []),
  ];
}

/**
 * Creates the topics that are missing (the broker runs with auto-creation off) and waits
 * until their metadata is served; on topics that exist, brings the configuration we own
 * (`topicConfigEntries`) up to date, so raising a limit in TOPIC_SPECS reaches existing
 * installations. Safe to call from every instance at boot.
 */
/** Waits until every partition of `topics` has a leader (metadata errors retried), up to 60 s. */
async function waitForLeaders(
  admin: ReturnType<KafkaClient['admin']>,
  topics: string[],
  timeoutMs = 60_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown = null;
  for (let wait = 50; Date.now() < deadline; wait = Math.min(1_000, wait * 2)) {
    try {
      const { topics: meta } = await admin.fetchTopicMetadata({ topics });
      if (
        meta.length === topics.length &&
        meta.every((t) => t.partitions.length > 0 && t.partitions.every((p) => p.leader >= 0))
      )
        return;
      last = new Error('partitions without a leader');
    } catch (e) {
      last = e;
    }
    await new Promise((r) => setTimeout(r, wait));
  }
  throw new Error(
    `topics ${topics.join(', ')} have no leaders after ${timeoutMs} ms: ${String(last)}`,
  );
}

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
          // kafkajs' own wait gives up on UNKNOWN_TOPIC_OR_PARTITION while a busy broker is
          // still electing leaders (tulios/kafkajs#1222): we wait ourselves, below.
          waitForLeaders: false,
          topics: missing.map((s) => ({
            topic: s.topic,
            numPartitions: s.partitions,
            replicationFactor,
            configEntries: topicConfigEntries(s),
          })),
        });
      } catch (e) {
        // Another instance may have created them meanwhile.
        if (!String((e as Error).message).includes('already exists')) throw e;
      }
      await waitForLeaders(
        admin,
        missing.map((s) => s.topic),
      );
    }
    const present = specs.filter((s) => existing.has(s.topic));
    if (present.length > 0) {
      const described = await admin.describeConfigs({
        includeSynonyms: false,
        resources: present.map((s) => ({ type: ConfigResourceTypes.TOPIC, name: s.topic })),
      });
      const current = new Map(
        described.resources.map((r) => [
          r.resourceName,
          new Map(r.configEntries.map((c) => [c.configName, c.configValue])),
        ]),
      );
      const stale = present.filter((s) =>
        topicConfigEntries(s).some((c) => current.get(s.topic)?.get(c.name) !== c.value),
      );
      if (stale.length > 0) {
        // AlterConfigs sets the topic's whole dynamic configuration: we pass all of ours.
        await admin.alterConfigs({
          validateOnly: false,
          resources: stale.map((s) => ({
            type: ConfigResourceTypes.TOPIC,
            name: s.topic,
            configEntries: topicConfigEntries(s),
          })),
        });
      }
    }
    await admin.fetchTopicMetadata({ topics: specs.map((s) => s.topic) });
  } finally {
    await admin.disconnect();
  }
}
