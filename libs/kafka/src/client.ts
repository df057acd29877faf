import kafkajs from 'kafkajs';
import type { Kafka as KafkaClient, logLevel as LogLevel } from 'kafkajs';
import type { Log } from './logger.js';

const { Kafka, logLevel } = kafkajs;
export type { KafkaClient };

export interface KafkaSettings {
  brokers: string[];
  clientId: string;
}

/**
 * The one place that builds a kafkajs client. Keeping kafkajs behind this module (and the
 * producer/consumer wrappers beside it) lets us swap the client library later.
 */
export function createKafka(settings: KafkaSettings, log: Log): KafkaClient {
  return new Kafka({
    clientId: settings.clientId,
    brokers: settings.brokers,
    connectionTimeout: 3000,
    requestTimeout: 30000,
    retry: { initialRetryTime: 100, retries: 8, maxRetryTime: 5000 },
    logLevel: logLevel.WARN,
    logCreator: () => (entry) => {
      const { message, ...rest } = entry.log;
      const text = `[kafkajs ${entry.namespace}] ${message} ${JSON.stringify(rest)}`;
      if (entry.level <= (logLevel.ERROR as LogLevel)) log.error(text);
      else if (entry.level <= (logLevel.WARN as LogLevel)) log.warn(text);
      else log.debug?.(text);
    },
  });
}
