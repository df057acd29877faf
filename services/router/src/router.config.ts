import { randomUUID } from 'node:crypto';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';
import { baseServiceEnv, env, readEnv, type Env } from '@turnpike/config';
import type { ServiceBaseConfig } from '@turnpike/service-kit';

const bundledCatalog = join(dirname(fileURLToPath(import.meta.url)), '..', 'catalog', 'default.catalog.json');

const schema = z.object({
  ...baseServiceEnv,
  DATABASE_URL: z.string().min(1),
  /** The versioned catalog file the `catalog` schema is seeded from at boot. */
  ROUTER_CATALOG_FILE: env.str(bundledCatalog),
  /** How often the routing table is republished even without changes. */
  ROUTER_PUBLISH_INTERVAL_MS: env.int(30_000, 100),
});

/** The router's configuration, read and validated once at boot. */
export class RouterConfig implements ServiceBaseConfig {
  readonly serviceName = 'router';
  readonly instanceId: string;
  readonly kafkaBrokers: string[];
  readonly httpHost: string;
  readonly httpPort: number;
  readonly shutdownGraceMs: number;
  readonly logLevel: ServiceBaseConfig['logLevel'];
  readonly databaseUrl: string;
  readonly catalogFile: string;
  readonly publishIntervalMs: number;

  private constructor(e: z.infer<typeof schema>) {
    this.instanceId = e.INSTANCE_ID ?? `router-${randomUUID().slice(0, 8)}`;
    this.kafkaBrokers = e.KAFKA_BROKERS;
    this.httpHost = e.HTTP_HOST;
    this.httpPort = e.HTTP_PORT;
    this.shutdownGraceMs = e.SHUTDOWN_GRACE_MS;
    this.logLevel = e.LOG_LEVEL;
    this.databaseUrl = e.DATABASE_URL;
    this.catalogFile = e.ROUTER_CATALOG_FILE;
    this.publishIntervalMs = e.ROUTER_PUBLISH_INTERVAL_MS;
  }

  static load(source: Env = process.env): RouterConfig {
    return new RouterConfig(readEnv('router', schema, source));
  }
}
