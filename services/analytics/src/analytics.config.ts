import { z } from 'zod';
import { baseServiceEnv, env, readEnv, type Env } from '@turnpike/config';
import { BaseServiceConfig } from '@turnpike/service-kit';

const schema = z.object({
  ...baseServiceEnv,
  DATABASE_URL: z.string().min(1),
  /**
   * Consumer group of the rollups (usage events and attempt records). Not `analytics`, the group
   * of the event copy this replaced: a new group reads the topics from their beginning, so an
   * upgrade rolls up every event the topics still hold.
   */
  ANALYTICS_GROUP_ID: env.str('analytics-rollups'),
  /** Postgres schema of the rollups. */
  ANALYTICS_SCHEMA: z
    .string()
    .regex(/^[a-z_][a-z0-9_]{0,62}$/, 'a lowercase Postgres identifier')
    .default('analytics'),
  /**
   * `primary`: the rollups, their publication on `usage.rollups.v1` and the query methods.
   * `replay`: only builds rollups from the topics (from offset 0, with a fresh group and an empty
   * schema), publishing and answering nothing: to check that a replay reproduces every bucket, or
   * to rebuild them.
   */
  ANALYTICS_MODE: z.enum(['primary', 'replay']).default('primary'),
  /** Minute buckets older than this are compacted into hour buckets. */
  ANALYTICS_MINUTE_RETENTION: env.duration('48h'),
  /** How often the compaction looks for minutes past their retention. */
  ANALYTICS_COMPACTION_INTERVAL: env.duration('5m'),
  /**
   * A bucket is published on `usage.rollups.v1` this long after it ends (late events: a
   * generation is counted in the minute it started, and its event comes when it ends).
   */
  ANALYTICS_CLOSE_DELAY: env.duration('2m'),
  /** How often closed buckets not yet published are looked for. */
  ANALYTICS_PUBLISH_INTERVAL: env.duration('5s'),
  /**
   * Rollup consumers in this process (one group): their batches are written together in one
   * database transaction, so more consumers mean fewer, larger transactions.
   */
  ANALYTICS_CONSUMERS: env.int(2, 1),
  /** Community writes (feedback, reviews) a tenant may make per UTC minute, all instances together. */
  ANALYTICS_COMMUNITY_WRITES_PER_MINUTE: env.int(30, 1),
});

/** The analytics service's configuration, read and validated once at boot. */
export class AnalyticsConfig extends BaseServiceConfig {
  readonly databaseUrl: string;
  readonly groupId: string;
  readonly schema: string;
  readonly mode: 'primary' | 'replay';
  readonly minuteRetentionMs: number;
  readonly compactionIntervalMs: number;
  readonly closeDelayMs: number;
  readonly publishIntervalMs: number;
  readonly consumers: number;
  readonly communityWritesPerMinute: number;

  private constructor(e: z.infer<typeof schema>) {
    super('analytics', e);
    this.databaseUrl = e.DATABASE_URL;
    this.groupId = e.ANALYTICS_GROUP_ID;
    this.schema = e.ANALYTICS_SCHEMA;
    this.mode = e.ANALYTICS_MODE;
    this.minuteRetentionMs = e.ANALYTICS_MINUTE_RETENTION;
    this.compactionIntervalMs = e.ANALYTICS_COMPACTION_INTERVAL;
    this.closeDelayMs = e.ANALYTICS_CLOSE_DELAY;
    this.publishIntervalMs = e.ANALYTICS_PUBLISH_INTERVAL;
    this.consumers = e.ANALYTICS_CONSUMERS;
    this.communityWritesPerMinute = e.ANALYTICS_COMMUNITY_WRITES_PER_MINUTE;
  }

  static load(source: Env = process.env): AnalyticsConfig {
    return new AnalyticsConfig(readEnv('analytics', schema, source));
  }
}

/** The variables the analytics reads (for the generated configuration reference). */
export const ENV_SCHEMA = schema;
