import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';
import { baseServiceEnv, env, readEnv, type Env } from '@turnpike/config';
import { DEFAULT_HEALTH_POLICY, type HealthPolicy } from '@turnpike/routing';
import { BaseServiceConfig } from '@turnpike/service-kit';

const bundledCatalog = join(
  dirname(fileURLToPath(import.meta.url)),
  '..',
  'catalog',
  'default.catalog.json',
);

const schema = z.object({
  ...baseServiceEnv,
  DATABASE_URL: z.string().min(1),
  /** The versioned catalog file the `catalog` schema is seeded from at boot. */
  ROUTER_CATALOG_FILE: env.str(bundledCatalog),
  /** How often the routing table is republished even without changes. */
  ROUTER_PUBLISH_INTERVAL_MS: env.int(30_000, 100),
  /** A model whose endpoints' metrics moved (no state change) is republished at most this often. */
  ROUTER_HEALTH_PUBLISH_MS: env.int(1_000, 10),
  /** Consecutive failures that open an endpoint's circuit. */
  ROUTER_CIRCUIT_FAILURES: env.int(DEFAULT_HEALTH_POLICY.consecutiveFailures, 1),
  /** Failure share of the recent attempts (at least ROUTER_CIRCUIT_MIN_SAMPLES) that opens it. */
  ROUTER_CIRCUIT_ERROR_RATE: z.coerce
    .number()
    .gt(0)
    .max(1)
    .default(DEFAULT_HEALTH_POLICY.errorRateToOpen),
  ROUTER_CIRCUIT_MIN_SAMPLES: env.int(DEFAULT_HEALTH_POLICY.minSamplesForRate, 1),
  /** Cool-down of an open circuit before a half-open probe; doubles on a failed probe, up to the max. */
  ROUTER_CIRCUIT_COOLDOWN_MS: env.int(DEFAULT_HEALTH_POLICY.cooldownMs, 10),
  ROUTER_CIRCUIT_MAX_COOLDOWN_MS: env.int(DEFAULT_HEALTH_POLICY.maxCooldownMs, 10),
});

/** The router's configuration, read and validated once at boot. */
export class RouterConfig extends BaseServiceConfig {
  readonly databaseUrl: string;
  readonly catalogFile: string;
  readonly publishIntervalMs: number;
  readonly healthPublishMs: number;
  readonly healthPolicy: HealthPolicy;

  private constructor(e: z.infer<typeof schema>) {
    super('router', e);
    this.databaseUrl = e.DATABASE_URL;
    this.catalogFile = e.ROUTER_CATALOG_FILE;
    this.publishIntervalMs = e.ROUTER_PUBLISH_INTERVAL_MS;
    this.healthPublishMs = e.ROUTER_HEALTH_PUBLISH_MS;
    this.healthPolicy = {
      ...DEFAULT_HEALTH_POLICY,
      consecutiveFailures: e.ROUTER_CIRCUIT_FAILURES,
      errorRateToOpen: e.ROUTER_CIRCUIT_ERROR_RATE,
      minSamplesForRate: e.ROUTER_CIRCUIT_MIN_SAMPLES,
      cooldownMs: e.ROUTER_CIRCUIT_COOLDOWN_MS,
      maxCooldownMs: Math.max(e.ROUTER_CIRCUIT_COOLDOWN_MS, e.ROUTER_CIRCUIT_MAX_COOLDOWN_MS),
    };
  }

  static load(source: Env = process.env): RouterConfig {
    return new RouterConfig(readEnv('router', schema, source));
  }
}

/** The variables the router reads (for the generated configuration reference). */
export const ENV_SCHEMA = schema;
