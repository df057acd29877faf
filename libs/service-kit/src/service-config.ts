import { randomUUID } from 'node:crypto';

/** What every service's config class exposes to the shared kit. */
export interface ServiceBaseConfig {
  readonly serviceName: string;
  readonly instanceId: string;
  readonly kafkaBrokers: string[];
  readonly httpHost: string;
  readonly httpPort: number;
  readonly shutdownGraceMs: number;
  readonly logLevel: 'debug' | 'info' | 'warn' | 'error';
}

export const SERVICE_CONFIG = Symbol('SERVICE_CONFIG');

/** The shared variables of every service, as `readEnv` returns them (see `baseServiceEnv`). */
export interface BaseServiceEnv {
  INSTANCE_ID?: string | undefined;
  KAFKA_BROKERS: string[];
  HTTP_HOST: string;
  HTTP_PORT: number;
  SHUTDOWN_GRACE_MS: number;
  LOG_LEVEL: ServiceBaseConfig['logLevel'];
}

/** What every service's config class shares; each service adds its own settings. */
export abstract class BaseServiceConfig implements ServiceBaseConfig {
  readonly instanceId: string;
  readonly kafkaBrokers: string[];
  readonly httpHost: string;
  readonly httpPort: number;
  readonly shutdownGraceMs: number;
  readonly logLevel: ServiceBaseConfig['logLevel'];

  protected constructor(
    readonly serviceName: string,
    e: BaseServiceEnv,
  ) {
    this.instanceId = e.INSTANCE_ID ?? `${serviceName}-${randomUUID().slice(0, 8)}`;
    this.kafkaBrokers = e.KAFKA_BROKERS;
    this.httpHost = e.HTTP_HOST;
    this.httpPort = e.HTTP_PORT;
    this.shutdownGraceMs = e.SHUTDOWN_GRACE_MS;
    this.logLevel = e.LOG_LEVEL;
  }
}
