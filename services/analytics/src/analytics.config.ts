import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import { baseServiceEnv, env, readEnv, type Env } from '@turnpike/config';
import type { ServiceBaseConfig } from '@turnpike/service-kit';

const schema = z.object({
  ...baseServiceEnv,
  DATABASE_URL: z.string().min(1),
  ANALYTICS_GROUP_ID: env.str('analytics'),
});

/** The analytics service's configuration, read and validated once at boot. */
export class AnalyticsConfig implements ServiceBaseConfig {
  readonly serviceName = 'analytics';
  readonly instanceId: string;
  readonly kafkaBrokers: string[];
  readonly httpHost: string;
  readonly httpPort: number;
  readonly shutdownGraceMs: number;
  readonly logLevel: ServiceBaseConfig['logLevel'];
  readonly databaseUrl: string;
  readonly groupId: string;

  private constructor(e: z.infer<typeof schema>) {
    this.instanceId = e.INSTANCE_ID ?? `analytics-${randomUUID().slice(0, 8)}`;
    this.kafkaBrokers = e.KAFKA_BROKERS;
    this.httpHost = e.HTTP_HOST;
    this.httpPort = e.HTTP_PORT;
    this.shutdownGraceMs = e.SHUTDOWN_GRACE_MS;
    this.logLevel = e.LOG_LEVEL;
    this.databaseUrl = e.DATABASE_URL;
    this.groupId = e.ANALYTICS_GROUP_ID;
  }

  static load(source: Env = process.env): AnalyticsConfig {
    return new AnalyticsConfig(readEnv('analytics', schema, source));
  }
}
