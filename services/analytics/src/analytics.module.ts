import { Module, type DynamicModule, type Provider } from '@nestjs/common';
import { getDataSourceToken } from '@nestjs/typeorm';
import type { DataSource, MigrationInterface, QueryRunner } from 'typeorm';
import { analyticsSchemaStatements, RollupReader, RollupStore } from '@turnpike/rollups';
import {
  CoreModule,
  DatabaseModule,
  RPC_SERVICE_NAME,
  RpcServerService,
} from '@turnpike/service-kit';
import { AnalyticsConfig } from './analytics.config.js';
import { communityMigrations } from './community/community.migrations.js';
import { CommunityRpcService } from './community/community-rpc.service.js';
import { CommunityStore } from './community/community.store.js';
import { ROLLUP_READER } from './community/rollup-reader.js';
import { RollupsPort } from './community/rollups-port.js';
import { Compactor } from './rollups/compactor.service.js';
import { RollupConsumer } from './rollups/rollup-consumer.service.js';
import { RollupPublisher } from './rollups/rollup-publisher.service.js';
import { typeormDb } from './rollups/typeorm-db.js';
import { AnalyticsRpcService } from './rpc/analytics-rpc.service.js';

/** Analytics' tables (see `analyticsSchemaStatements`), in the service's schema. */
export function analyticsMigrations(schema: string): Array<new () => MigrationInterface> {
  class CreateRollups1764990000000 implements MigrationInterface {
    name = 'CreateRollups1764990000000';
    async up(q: QueryRunner): Promise<void> {
      for (const sql of analyticsSchemaStatements(schema)) await q.query(sql);
    }
    async down(): Promise<void> {
      throw new Error('the rollups migration is not reversible: drop the schema instead');
    }
  }
  return [CreateRollups1764990000000];
}

/**
 * Usage analytics (schema `analytics`): rolls usage events and attempt records up into minute,
 * hour and day buckets, compacts old minutes into hours, publishes closed buckets on
 * `usage.rollups.v1`, answers the gateway's analytics queries, and the community's figures
 * (read from the same buckets through the `RollupReader` port), opt-in, feedback and reviews.
 * In replay mode only the rollups are built (another schema, a fresh consumer group): nothing is
 * published or answered.
 */
@Module({})
export class AnalyticsModule {
  static forRoot(config: AnalyticsConfig): DynamicModule {
    const primary: Provider[] = [
      { provide: RPC_SERVICE_NAME, useValue: 'analytics' },
      RpcServerService,
      RollupPublisher,
      AnalyticsRpcService,
      {
        provide: CommunityStore,
        inject: [getDataSourceToken()],
        useFactory: (db: DataSource) => new CommunityStore(db, config.schema),
      },
      {
        provide: ROLLUP_READER,
        inject: [RollupReader],
        useFactory: (reader: RollupReader) => new RollupsPort(reader),
      },
      CommunityRpcService,
    ];
    return {
      module: AnalyticsModule,
      imports: [
        CoreModule.forRoot(config),
        DatabaseModule.forRoot({
          url: config.databaseUrl,
          schema: config.schema,
          entities: [],
          migrations: [
            ...analyticsMigrations(config.schema),
            ...communityMigrations(config.schema),
          ],
        }),
      ],
      providers: [
        {
          provide: RollupStore,
          inject: [getDataSourceToken()],
          useFactory: (db: DataSource) => new RollupStore(typeormDb(db), config.schema),
        },
        {
          provide: RollupReader,
          inject: [getDataSourceToken()],
          useFactory: (db: DataSource) => new RollupReader(typeormDb(db), config.schema),
        },
        Compactor,
        RollupConsumer,
        ...(config.mode === 'primary' ? primary : []),
      ],
      exports: [RollupReader],
    };
  }
}
