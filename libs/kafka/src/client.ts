import { Admin, type BaseOptions, type SASLOptions } from '@platformatic/kafka';
import type { Log } from './logger.js';

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

const SASL_MECHANISMS = {
  plain: 'PLAIN',
  'scram-sha-256': 'SCRAM-SHA-256',
  'scram-sha-512': 'SCRAM-SHA-512',
} as const;

/** Requests retried with a doubling delay, 100 ms up to 5 s (about 16 s in all). */
const RETRIES = 8;
const retryDelay = (_client: unknown, _op: string, attempt: number): number =>
  Math.min(5_000, 100 * 2 ** Math.max(0, attempt - 1));

/** The @platformatic/kafka options of our settings (exported for its unit test). */
export function kafkaClientConfig(settings: KafkaSettings, _log?: Log): BaseOptions {
  const { ssl: tls, sasl } = settings;
  return {
    clientId: settings.clientId,
    bootstrapBrokers: settings.brokers,
    // SASL adds round trips to every connection: more room than plaintext's.
    connectTimeout: sasl ? 10_000 : 3_000,
    timeout: 30_000,
    requestTimeout: 30_000,
    retries: RETRIES,
    retryDelay,
    autocreateTopics: false,
    ...(tls
      ? {
          // Handed to tls.connect: no `ca` means Node's bundled (system) CAs.
          tls: {
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
            mechanism: SASL_MECHANISMS[sasl.mechanism],
            username: sasl.username,
            password: sasl.password,
          } satisfies SASLOptions,
        }
      : {}),
  };
}

/**
 * The connection settings of every producer, consumer and admin client of a process. Only
 * libs/kafka builds clients from it (the services hold it as an opaque handle), so the client
 * library can change under them.
 */
export class KafkaClient {
  constructor(
    readonly options: BaseOptions,
    readonly log: Log,
  ) {}

  /** A new admin client (close it after use). */
  admin(): Admin {
    return new Admin({ ...this.options });
  }
}

/** The one place that builds the Kafka client's settings. */
export function createKafka(settings: KafkaSettings, log: Log): KafkaClient {
  return new KafkaClient(kafkaClientConfig(settings, log), log);
}

/** Runs `fn` with an admin client, closed after. */
export async function withAdmin<T>(
  kafka: KafkaClient,
  fn: (admin: Admin) => Promise<T>,
): Promise<T> {
  const admin = kafka.admin();
  try {
    return await fn(admin);
  } finally {
    await admin.close().catch(() => undefined);
  }
}
