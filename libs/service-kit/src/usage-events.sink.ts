import {
  Inject,
  Injectable,
  Logger,
  type OnApplicationBootstrap,
  type OnApplicationShutdown,
} from '@nestjs/common';
import { getDataSourceToken } from '@nestjs/typeorm';
import type { EachBatchPayload } from 'kafkajs';
import type { DataSource, MigrationInterface, QueryRunner } from 'typeorm';
import { TOPICS, type UsageEventV1 } from '@turnpike/contracts';
import { decode, startConsumer, type ConsumerHandle, type KafkaClient } from '@turnpike/kafka';
import { KAFKA_CLIENT } from './kafka.providers.js';
import { Readiness } from './readiness.js';

export const USAGE_SINK_OPTIONS = Symbol('USAGE_SINK_OPTIONS');

export interface UsageSinkOptions {
  /** The owning service's schema; the table is `<schema>.usage_events`. */
  schema: string;
  groupId: string;
}

/** Migration creating `<schema>.usage_events`, keyed by generation id. */
export function usageEventsMigration(schema: string): new () => MigrationInterface {
  const ts = 1732406400100 + schema.length;
  const name = `CreateUsageEvents${schema.replace(/\W/g, '')}${ts}`;
  return class implements MigrationInterface {
    name = name;
    async up(q: QueryRunner): Promise<void> {
      await q.query(`CREATE TABLE IF NOT EXISTS ${schema}.usage_events (
        generation_id text PRIMARY KEY,
        tenant_id text NOT NULL,
        created_at timestamptz NOT NULL,
        event jsonb NOT NULL,
        kafka_partition integer NOT NULL,
        kafka_offset bigint NOT NULL,
        ingested_at timestamptz NOT NULL DEFAULT now())`);
      await q.query(
        `CREATE INDEX IF NOT EXISTS usage_events_tenant_created_idx ON ${schema}.usage_events (tenant_id, created_at)`,
      );
    }
    async down(q: QueryRunner): Promise<void> {
      await q.query(`DROP TABLE ${schema}.usage_events`);
    }
  };
}

/**
 * Stores every `usage.events.v1` record durably in the service's own schema. A batch is
 * inserted in one statement (`ON CONFLICT DO NOTHING`: idempotent on the generation id), and
 * its offsets are resolved only after the insert committed, so a crash replays, never loses.
 */
@Injectable()
export class UsageEventsSink implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly log = new Logger(UsageEventsSink.name);
  private consumer: ConsumerHandle | null = null;
  readonly stats = { stored: 0, duplicates: 0, invalid: 0 };

  constructor(
    @Inject(KAFKA_CLIENT) private readonly kafka: KafkaClient,
    @Inject(getDataSourceToken()) private readonly db: DataSource,
    @Inject(USAGE_SINK_OPTIONS) private readonly opts: UsageSinkOptions,
    readiness: Readiness,
  ) {
    readiness.register('usage-events', () => this.consumer !== null || 'joining');
  }

  async onApplicationBootstrap(): Promise<void> {
    this.consumer = await startConsumer(this.kafka, this.log, {
      groupId: this.opts.groupId,
      topics: [TOPICS.usageEvents],
      fromBeginning: true,
      commit: 'manual',
      eachBatch: (p) => this.onBatch(p),
    });
  }

  async onApplicationShutdown(): Promise<void> {
    await this.consumer?.stop();
    this.consumer = null;
  }

  private async onBatch({
    batch,
    resolveOffset,
    commitOffsetsIfNecessary,
    heartbeat,
  }: EachBatchPayload): Promise<void> {
    const rows: Array<{ e: UsageEventV1; offset: string }> = [];
    for (const m of batch.messages) {
      const d = decode(TOPICS.usageEvents, m.value);
      if (d.ok) rows.push({ e: d.value, offset: m.offset });
      else {
        this.stats.invalid++;
        this.log.warn(`skipping invalid usage event at ${batch.partition}/${m.offset}: ${d.error}`);
      }
    }
    if (rows.length > 0) {
      const result: unknown = await this.db.query(
        `INSERT INTO ${this.opts.schema}.usage_events (generation_id, tenant_id, created_at, event, kafka_partition, kafka_offset)
         SELECT * FROM unnest($1::text[], $2::text[], $3::timestamptz[], $4::jsonb[], $5::int[], $6::bigint[])
         ON CONFLICT (generation_id) DO NOTHING
         RETURNING generation_id`,
        [
          rows.map((r) => r.e.generationId),
          rows.map((r) => r.e.tenantId),
          rows.map((r) => r.e.createdAt),
          rows.map((r) => JSON.stringify(r.e)),
          rows.map(() => batch.partition),
          rows.map((r) => r.offset),
        ],
      );
      const inserted = Array.isArray(result) ? result.length : 0;
      this.stats.stored += inserted;
      this.stats.duplicates += rows.length - inserted;
    }
    // Only now, with the rows committed, may the offsets move.
    const last = batch.messages[batch.messages.length - 1];
    if (last) resolveOffset(last.offset);
    await commitOffsetsIfNecessary();
    await heartbeat();
  }
}
