import { z } from 'zod';
import { baseServiceEnv, env, readEnv, type Env } from '@turnpike/config';
import { BaseServiceConfig } from '@turnpike/service-kit';

const schema = z.object({
  ...baseServiceEnv,
  DATABASE_URL: z.string().min(1),
  ANALYTICS_GROUP_ID: env.str('analytics'),
  /** Community writes (feedback, reviews) a tenant may make per UTC minute, all instances together. */
  ANALYTICS_COMMUNITY_WRITES_PER_MINUTE: env.int(30, 1),
});

/** The analytics service's configuration, read and validated once at boot. */
export class AnalyticsConfig extends BaseServiceConfig {
  readonly databaseUrl: string;
  readonly groupId: string;
  readonly communityWritesPerMinute: number;

  private constructor(e: z.infer<typeof schema>) {
    super('analytics', e);
    this.databaseUrl = e.DATABASE_URL;
    this.groupId = e.ANALYTICS_GROUP_ID;
    this.communityWritesPerMinute = e.ANALYTICS_COMMUNITY_WRITES_PER_MINUTE;
  }

  static load(source: Env = process.env): AnalyticsConfig {
    return new AnalyticsConfig(readEnv('analytics', schema, source));
  }
}

/** The variables the analytics reads (for the generated configuration reference). */
export const ENV_SCHEMA = schema;
