/**
 * Every setting of every Turnpike process, read from the config classes themselves: each
 * service's `ENV_SCHEMA` (and the topics job's), from the built packages. Feeds the generated
 * reference (docs/configuration.md) and the checks that compose, the chart and `npm run up` set
 * only settings that exist.
 */
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { z } from 'zod';

export const rootDir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');

/** The processes with a config class, and where their compiled config module is. */
export const CONFIG_MODULES = {
  gateway: 'services/gateway/dist/gateway.config.js',
  router: 'services/router/dist/router.config.js',
  connector: 'services/connector/dist/connector.config.js',
  billing: 'services/billing/dist/billing.config.js',
  analytics: 'services/analytics/dist/analytics.config.js',
  topics: 'libs/service-kit/dist/topics-job.js',
} as const;
export type ConfiguredProcess = keyof typeof CONFIG_MODULES;

/** The config modules' sources, for their comments (same order). */
export const CONFIG_SOURCES: Record<ConfiguredProcess, string> = {
  gateway: 'services/gateway/src/gateway.config.ts',
  router: 'services/router/src/router.config.ts',
  connector: 'services/connector/src/connector.config.ts',
  billing: 'services/billing/src/billing.config.ts',
  analytics: 'services/analytics/src/analytics.config.ts',
  topics: 'libs/service-kit/src/topics-job.ts',
};

/** Each process's variables (the schema's shape). */
export async function loadSettings(): Promise<
  Record<ConfiguredProcess, Record<string, z.ZodType>>
> {
  const out = {} as Record<ConfiguredProcess, Record<string, z.ZodType>>;
  for (const [name, file] of Object.entries(CONFIG_MODULES) as Array<[ConfiguredProcess, string]>) {
    const mod = (await import(pathToFileURL(path.join(rootDir, file)).href)) as {
      ENV_SCHEMA: z.ZodObject;
    };
    out[name] = mod.ENV_SCHEMA.shape as Record<string, z.ZodType>;
  }
  return out;
}

/** Settings that are not Turnpike's but read by libraries: OpenTelemetry's `OTEL_*`, Node's. */
export const isForeignSetting = (name: string): boolean =>
  name.startsWith('OTEL_') || name === 'NODE_ENV' || name === 'NODE_OPTIONS';
