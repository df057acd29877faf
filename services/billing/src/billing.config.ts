import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import { baseServiceEnv, env, readEnv, type Env } from '@turnpike/config';
import type { ServiceBaseConfig } from '@turnpike/service-kit';

const schema = z.object({
  ...baseServiceEnv,
  DATABASE_URL: z.string().min(1),
  BILLING_GROUP_ID: env.str('billing'),
});

/** The billing service's configuration, read and validated once at boot. */
export class BillingConfig implements ServiceBaseConfig {
  readonly serviceName = 'billing';
  readonly instanceId: string;
  readonly kafkaBrokers: string[];
  readonly httpHost: string;
  readonly httpPort: number;
  readonly shutdownGraceMs: number;
  readonly logLevel: ServiceBaseConfig['logLevel'];
  readonly databaseUrl: string;
  readonly groupId: string;

  private constructor(e: z.infer<typeof schema>) {
    this.instanceId = e.INSTANCE_ID ?? `billing-${randomUUID().slice(0, 8)}`;
    this.kafkaBrokers = e.KAFKA_BROKERS;
    this.httpHost = e.HTTP_HOST;
    this.httpPort = e.HTTP_PORT;
    this.shutdownGraceMs = e.SHUTDOWN_GRACE_MS;
    this.logLevel = e.LOG_LEVEL;
    this.databaseUrl = e.DATABASE_URL;
    this.groupId = e.BILLING_GROUP_ID;
  }

  static load(source: Env = process.env): BillingConfig {
    return new BillingConfig(readEnv('billing', schema, source));
  }
}
