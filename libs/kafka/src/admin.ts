import { ConfigResourceTypes, type Admin } from '@platformatic/kafka';
import type { TopicSpec } from '@turnpike/contracts';
import { withAdmin, type KafkaClient } from './client.js';

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

/** The offsets of each partition of a topic: `high` the next to be written, `low` the first kept. */
export interface PartitionOffsets {
  partition: number;
  high: string;
  low: string;
}

/** Partition count of each topic (fresh metadata). */
export async function partitionCounts(
  admin: Admin,
  topics: string[],
): Promise<Map<string, number>> {
  const meta = await admin.metadata({ topics, forceUpdate: true });
  return new Map([...meta.topics].map(([name, t]) => [name, t.partitionsCount]));
}

/**
 * Each partition's offset at a time (epoch ms; -1 latest, -2 earliest): the first message at
 * or after it, or -1 where none is.
 */
export async function offsetsAt(
  admin: Admin,
  topic: string,
  timestamp: bigint,
): Promise<Map<number, bigint>> {
  const count = (await partitionCounts(admin, [topic])).get(topic) ?? 0;
  const listed = await admin.listOffsets({
    topics: [
      {
        name: topic,
        partitions: Array.from({ length: count }, (_, partitionIndex) => ({
          partitionIndex,
          timestamp,
        })),
      },
    ],
  });
  const out = new Map<number, bigint>();
  for (const t of listed)
    if (t.name === topic) for (const p of t.partitions) out.set(p.partitionIndex, p.offset);
  return out;
}

/** The high and low offsets of every partition of `topic`. */
export async function topicOffsets(admin: Admin, topic: string): Promise<PartitionOffsets[]> {
  const [high, low] = [await offsetsAt(admin, topic, -1n), await offsetsAt(admin, topic, -2n)];
  return [...high]
    .sort(([a], [b]) => a - b)
    .map(([partition, h]) => ({
      partition,
      high: h.toString(),
      low: (low.get(partition) ?? 0n).toString(),
    }));
}

/** True when `e` (or an error inside it) carries one of the broker's error `ids`. */
export function hasProtocolError(e: unknown, ...ids: string[]): boolean {
  const seen = new Set<unknown>();
  const visit = (x: unknown): boolean => {
    if (!x || typeof x !== 'object' || seen.has(x)) return false;
    seen.add(x);
    const err = x as { apiId?: string; type?: string; errors?: unknown[]; cause?: unknown };
    if (ids.includes(err.apiId ?? '') || ids.includes(err.type ?? '')) return true;
    return (err.errors ?? []).some(visit) || visit(err.cause);
  };
  return visit(e);
}

/** Waits until every partition of `topics` has a leader (metadata errors retried), up to 60 s. */
async function waitForLeaders(admin: Admin, topics: string[], timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown = null;
  for (let wait = 50; Date.now() < deadline; wait = Math.min(1_000, wait * 2)) {
    try {
      const meta = await admin.metadata({ topics, forceUpdate: true });
      if (
        topics.every((t) => {
          const m = meta.topics.get(t);
          return m && m.partitions.length > 0 && m.partitions.every((p) => p && p.leader >= 0);
        })
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

/**
 * Creates the topics that are missing (the broker runs with auto-creation off) and waits
 * until their metadata is served; on topics that exist, brings the configuration we own
 * (`topicConfigEntries`) up to date, so raising a limit in TOPIC_SPECS reaches existing
 * installations. Safe to call from every instance at boot.
 */
export async function ensureTopics(
  kafka: KafkaClient,
  specs: readonly TopicSpec[],
  opts: EnsureTopicsOptions = {},
): Promise<void> {
  const replicationFactor = opts.replicationFactor ?? 1;
  const log = opts.log ?? (() => undefined);
  await withAdmin(kafka, async (admin) => {
    const existing = new Set(await admin.listTopics());
    const missing = specs.filter((s) => !existing.has(s.topic));
    if (missing.length > 0) {
      // One request per topic: the configuration is the request's, not the topic's.
      for (const s of missing) {
        try {
          await admin.createTopics({
            topics: [s.topic],
            partitions: s.partitions,
            replicas: replicationFactor,
            configs: topicConfigEntries(s),
          });
        } catch (e) {
          // Another instance may have created it meanwhile.
          if (!hasProtocolError(e, 'TOPIC_ALREADY_EXISTS')) throw e;
        }
      }
      await waitForLeaders(
        admin,
        missing.map((s) => s.topic),
      );
      log(`created ${missing.map((s) => `${s.topic} (${s.partitions})`).join(', ')}`);
    }
    const present = specs.filter((s) => existing.has(s.topic));
    if (opts.growPartitions && present.length > 0) {
      const count = await partitionCounts(
        admin,
        present.map((s) => s.topic),
      );
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
          topics: short.map((s) => ({ name: s.topic, count: s.partitions, assignments: [] })),
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
        resources: present.map((s) => ({
          resourceType: ConfigResourceTypes.TOPIC,
          resourceName: s.topic,
        })),
      });
      const current = new Map(
        described.map((r) => [r.resourceName, new Map(r.configs.map((c) => [c.name, c.value]))]),
      );
      const stale = present.filter((s) =>
        topicConfigEntries(s).some((c) => current.get(s.topic)?.get(c.name) !== c.value),
      );
      if (stale.length > 0) {
        // AlterConfigs sets the topic's whole dynamic configuration: we pass all of ours.
        await admin.alterConfigs({
          validateOnly: false,
          resources: stale.map((s) => ({
            resourceType: ConfigResourceTypes.TOPIC,
            resourceName: s.topic,
            configs: topicConfigEntries(s),
          })),
        });
        log(`configuration updated: ${stale.map((s) => s.topic).join(', ')}`);
      }
    }
    await waitForLeaders(
      admin,
      specs.map((s) => s.topic),
    );
  });
}
