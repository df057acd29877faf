import type { Admin } from '@platformatic/kafka';
import { topicOffsets } from './admin.js';
import type { KafkaClient } from './client.js';

/** How far one partition of a consumer group is behind its topic. */
export interface PartitionLag {
  topic: string;
  partition: number;
  /** The group's committed offset (the next message it will read). */
  committed: number;
  /** The topic's latest offset (the offset of the next message produced). */
  latest: number;
  /** Messages produced and not yet committed by the group. */
  lag: number;
}

/**
 * The lag of a group on one topic, from its committed offsets and the topic's offsets. A
 * partition the group never committed counts from the start of the log when the group reads
 * from the beginning (every retained message is still to read), and is left out otherwise (the
 * group will start at the end: there is no lag to speak of).
 */
export function lagOf(
  topic: string,
  committed: ReadonlyArray<{ partition: number; offset: string }>,
  offsets: ReadonlyArray<{ partition: number; offset: string; low: string }>,
  fromBeginning: boolean,
): PartitionLag[] {
  const byPartition = new Map(committed.map((c) => [c.partition, Number(c.offset)]));
  const out: PartitionLag[] = [];
  for (const o of [...offsets].sort((a, b) => a.partition - b.partition)) {
    const latest = Number(o.offset);
    let c = byPartition.get(o.partition) ?? -1;
    if (c < 0) {
      if (!fromBeginning) continue;
      c = Number(o.low);
    }
    out.push({ topic, partition: o.partition, committed: c, latest, lag: Math.max(0, latest - c) });
  }
  return out;
}

/** One admin client that reads groups' lag (its connections opened on first use). */
export class LagReader {
  private admin: Admin | null = null;

  constructor(private readonly kafka: KafkaClient) {}

  /** The lag of `groupId` on each of `topics` (three admin requests per topic, cheap). */
  async lag(groupId: string, topics: string[], fromBeginning: boolean): Promise<PartitionLag[]> {
    const admin = (this.admin ??= this.kafka.admin());
    const [group] = await admin.listConsumerGroupOffsets({
      groups: [{ groupId, topics: null }],
    });
    const out: PartitionLag[] = [];
    for (const topic of topics) {
      const offsets = await topicOffsets(admin, topic);
      const mine = (group?.topics.find((t) => t.name === topic)?.partitions ?? []).map((p) => ({
        partition: p.partitionIndex,
        offset: p.committedOffset.toString(),
      }));
      out.push(
        ...lagOf(
          topic,
          mine,
          offsets.map((o) => ({ partition: o.partition, offset: o.high, low: o.low })),
          fromBeginning,
        ),
      );
    }
    return out;
  }

  async close(): Promise<void> {
    const admin = this.admin;
    this.admin = null;
    await admin?.close().catch(() => undefined);
  }
}
