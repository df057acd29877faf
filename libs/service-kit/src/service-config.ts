import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import {
  kafkaSecurity,
  type KafkaSecurity,
  type KafkaSecurityEnv,
  type TopicOverrides,
} from '@turnpike/config';

/** What every service's config class exposes to the shared kit. */
export interface ServiceBaseConfig {
  readonly serviceName: string;
  readonly instanceId: string;
  readonly kafkaBrokers: string[];
  /** TLS and SASL to the brokers (the files named by the variables already read). */
  readonly kafkaSecurity: KafkaSecurity;
  /** Create missing topics and update the configuration we own at boot. */
  readonly ensureTopics: boolean;
  readonly topicReplicationFactor: number;
  readonly topicOverrides: TopicOverrides;
  readonly httpHost: string;
  readonly httpPort: number;
  readonly shutdownGraceMs: number;
  readonly logLevel: 'debug' | 'info' | 'warn' | 'error';
}

export const SERVICE_CONFIG = Symbol('SERVICE_CONFIG');

/** The shared variables of every service, as `readEnv` returns them (see `baseServiceEnv`). */
export interface BaseServiceEnv extends KafkaSecurityEnv {
  INSTANCE_ID?: string | undefined;
  KAFKA_BROKERS: string[];
  KAFKA_TOPICS_ENSURE: boolean;
  KAFKA_TOPICS_REPLICATION_FACTOR: number;
  KAFKA_TOPICS?: TopicOverrides | undefined;
  HTTP_HOST: string;
  HTTP_PORT: number;
  SHUTDOWN_GRACE_MS: number;
  LOG_LEVEL: ServiceBaseConfig['logLevel'];
}

/** What every service's config class shares; each service adds its own settings. */
export abstract class BaseServiceConfig implements ServiceBaseConfig {
  readonly instanceId: string;
  readonly kafkaBrokers: string[];
  readonly kafkaSecurity: KafkaSecurity;
  readonly ensureTopics: boolean;
  readonly topicReplicationFactor: number;
  readonly topicOverrides: TopicOverrides;
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
    // Certificates, keys and the SASL password file are read once, here (a ConfigError names
    // the variable of any problem).
    this.kafkaSecurity = kafkaSecurity(serviceName, e, (f) => readFileSync(f, 'utf8'));
    this.ensureTopics = e.KAFKA_TOPICS_ENSURE;
    this.topicReplicationFactor = e.KAFKA_TOPICS_REPLICATION_FACTOR;
    this.topicOverrides = e.KAFKA_TOPICS ?? {};
    this.httpHost = e.HTTP_HOST;
    this.httpPort = e.HTTP_PORT;
    this.shutdownGraceMs = e.SHUTDOWN_GRACE_MS;
    this.logLevel = e.LOG_LEVEL;
  }
}
