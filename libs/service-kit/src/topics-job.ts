/**
 * The topics job: `node libs/service-kit/dist/topics-job.js` creates every topic of
 * `TOPIC_SPECS` with this deployment's replication factor, partitions, retention and further
 * configuration (`KAFKA_TOPICS_*`), grows partitions an operator raised, brings the
 * configuration Turnpike owns up to date, and exits. The Helm chart runs it as a hook before
 * the services (which then run with `KAFKA_TOPICS_ENSURE=false`).
 */
import { Logger } from '@nestjs/common';
import { z } from 'zod';
import { baseServiceEnv, readEnv, type Env } from '@turnpike/config';
import { TOPIC_SPECS } from '@turnpike/contracts';
import { applyTopicOverrides, createKafka, ensureTopics } from '@turnpike/kafka';
import { boot } from './bootstrap.js';
import { BaseServiceConfig } from './service-config.js';

const schema = z.object({ ...baseServiceEnv });
/** The variables the topics job reads (for the generated configuration reference). */
export const ENV_SCHEMA = schema;

/** The topics job's configuration: the Kafka settings every service shares. */
export class TopicsJobConfig extends BaseServiceConfig {
  private constructor(e: z.infer<typeof schema>) {
    super('topics', e);
  }

  static load(source: Env = process.env): TopicsJobConfig {
    return new TopicsJobConfig(readEnv('topics', schema, source));
  }
}

/** Creates and updates the topics as the configuration says; returns the specs applied. */
export async function runTopicsJob(config: TopicsJobConfig): Promise<void> {
  const log = new Logger('topics');
  const specs = applyTopicOverrides(TOPIC_SPECS, config.topicOverrides);
  const kafka = createKafka(
    {
      brokers: config.kafkaBrokers,
      clientId: `topics-${config.instanceId}`,
      ...config.kafkaSecurity,
    },
    log,
  );
  await ensureTopics(kafka, specs, {
    replicationFactor: config.topicReplicationFactor,
    growPartitions: true,
    log: (l) => log.log(l),
  });
  log.log(
    `${specs.length} topics ready (replication factor ${config.topicReplicationFactor} for new ones)`,
  );
}

if (process.argv[1]?.endsWith('topics-job.js')) boot(() => runTopicsJob(TopicsJobConfig.load()));
