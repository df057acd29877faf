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
    ...Object.entries(s.config ?? {}).map(([name, value]) => ({ name, value })),
  ];
}

/** An operator's overrides of one topic (`KAFKA_TOPICS`; see `TopicOverride` in libs/config). */
export interface TopicSpecOverride {
  partitions?: number | undefined;
  retentionMs?: number | undefined;
  config?: Readonly<Record<string, string>> | undefined;
}

/**
 * The topics as this deployment wants them: the specs with an operator's overrides applied
 * (more partitions, another retention, further configuration). An override of a topic that is
 * not in the specs is an error (a typo would otherwise be ignored).
 */
export function applyTopicOverrides(
  specs: readonly TopicSpec[],
  overrides: Readonly<Record<string, TopicSpecOverride>>,
): TopicSpec[] {
  const unknown = Object.keys(overrides).filter((t) => !specs.some((s) => s.topic === t));
  if (unknown.length > 0)
    throw new Error(`KAFKA_TOPICS names topics Turnpike does not use: ${unknown.join(', ')}`);
  return specs.map((s) => {
    const o = overrides[s.topic];
    if (!o) return s;
    return {
      ...s,
      ...(o.partitions !== undefined ? { partitions: Math.max(o.partitions, s.partitions) } : {}),
      ...(o.retentionMs !== undefined ? { retentionMs: o.retentionMs } : {}),
      ...(o.config ? { config: { ...s.config, ...o.config } } : {}),
    };
  });
}

export interface EnsureTopicsOptions {
  /** Replication factor of the topics created (existing topics keep theirs). */
  replicationFactor?: number;
  /**
   * Add partitions to existing topics that have fewer than their spec (the topics job). Never
   * on compacted topics: a key would move to another partition and its latest value with it
   * (a compacted topic with too few partitions is reported instead).
   */
  growPartitions?: boolean;
  log?: (line: string) => void;
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
  opts: EnsureTopicsOptions = {},
): Promise<void> {
  const replicationFactor = opts.replicationFactor ?? 1;
  const log = opts.log ?? (() => undefined);
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
      log(`created ${missing.map((s) => `${s.topic} (${s.partitions})`).join(', ')}`);
    }
    const present = specs.filter((s) => existing.has(s.topic));
    if (opts.growPartitions && present.length > 0) {
      const { topics: meta } = await admin.fetchTopicMetadata({
        topics: present.map((s) => s.topic),
      });
      const count = new Map(meta.map((t) => [t.name, t.partitions.length]));
      const short = present.filter((s) => (count.get(s.topic) ?? s.partitions) < s.partitions);
      const compacted = short.filter((s) => s.compacted);
      if (compacted.length > 0)
        throw new Error(
          `compacted topics cannot grow (their keys would move partitions): ${compacted
            .map((s) => `${s.topic} has ${count.get(s.topic)}, wants ${s.partitions}`)
            .join('; ')}`,
        );
      if (short.length > 0) {
        await admin.createPartitions({
          topicPartitions: short.map((s) => ({ topic: s.topic, count: s.partitions })),
        });
        await waitForLeaders(
          admin,
          short.map((s) => s.topic),
        );
        log(
          `partitions grown: ${short.map((s) => `${s.topic} ${count.get(s.topic)} -> ${s.partitions}`).join(', ')}`,
        );
      }
    }
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
        log(`configuration updated: ${stale.map((s) => s.topic).join(', ')}`);
      }
    }
    await admin.fetchTopicMetadata({ topics: specs.map((s) => s.topic) });
  } finally {
    await admin.disconnect();
  }
}
