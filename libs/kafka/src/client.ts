import kafkajs from 'kafkajs';
import type { Kafka as KafkaClient, KafkaConfig, logLevel as LogLevel, SASLOptions } from 'kafkajs';
import type { Log } from './logger.js';
import { fixKafkajsRequestQueue } from './request-queue-fix.js';

const { Kafka, logLevel } = kafkajs;
export type { KafkaClient };

/**
 * TLS to the brokers: `{}` trusts the system's CAs; `ca` replaces them with the given PEM bundle
 * (a private CA); `cert` and `key` (PEM) authenticate the client (mutual TLS).
 */
export interface KafkaSslSettings {
  ca?: string;
  cert?: string;
  key?: string;
  /** Passphrase of an encrypted `key`. */
  passphrase?: string;
  /** Name checked against the broker's certificate when it differs from the host dialled. */
  servername?: string;
}

/** SASL authentication: PLAIN or SCRAM (SHA-256 or SHA-512), as managed Kafka services offer. */
export interface KafkaSaslSettings {
  mechanism: 'plain' | 'scram-sha-256' | 'scram-sha-512';
  username: string;
  password: string;
}

export interface KafkaSettings {
  brokers: string[];
  clientId: string;
  /** TLS to the brokers (absent: plaintext). */
  ssl?: KafkaSslSettings;
  sasl?: KafkaSaslSettings;
}

/** The kafkajs client configuration of our settings (exported for its unit test). */
export function kafkaClientConfig(settings: KafkaSettings, log: Log): KafkaConfig {
  const { ssl: tls, sasl } = settings;
  return {
    clientId: settings.clientId,
    brokers: settings.brokers,
    connectionTimeout: 3000,
    // SASL adds round trips to every connection: more room than plaintext's 1 s default.
    ...(sasl ? { authenticationTimeout: 10_000 } : {}),
    requestTimeout: 30000,
    retry: { initialRetryTime: 100, retries: 8, maxRetryTime: 5000 },
    ...(tls
      ? {
          // kafkajs hands these to tls.connect: no `ca` means Node's bundled (system) CAs.
          ssl: {
            rejectUnauthorized: true,
            ...(tls.ca !== undefined ? { ca: [tls.ca] } : {}),
            ...(tls.cert !== undefined ? { cert: tls.cert } : {}),
            ...(tls.key !== undefined ? { key: tls.key } : {}),
            ...(tls.passphrase !== undefined ? { passphrase: tls.passphrase } : {}),
            ...(tls.servername !== undefined ? { servername: tls.servername } : {}),
          },
        }
      : {}),
    ...(sasl
      ? {
          sasl: {
            mechanism: sasl.mechanism,
            username: sasl.username,
            password: sasl.password,
          } as SASLOptions,
        }
      : {}),
    logLevel: logLevel.WARN,
    logCreator: () => (entry) => {
      const { message, ...rest } = entry.log;
      // Our choice (see BatchingProducer): idempotent producers with a bounded retry budget, so
      // a send fails within its deadline instead of retrying forever. Not worth a warning each.
      if (message.startsWith('Limiting retries for the idempotent producer')) return;
      const text = `[kafkajs ${entry.namespace}] ${message} ${JSON.stringify(rest)}`;
      if (entry.level <= (logLevel.ERROR as LogLevel)) log.error(text);
      else if (entry.level <= (logLevel.WARN as LogLevel)) log.warn(text);
      else log.debug?.(text);
    },
  };
}

/**
 * The one place that builds a kafkajs client. Keeping kafkajs behind this module (and the
 * producer/consumer wrappers beside it) lets us swap the client library later.
 */
export function createKafka(settings: KafkaSettings, log: Log): KafkaClient {
  fixKafkajsRequestQueue();
  return new Kafka(kafkaClientConfig(settings, log));
}
