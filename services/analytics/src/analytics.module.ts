import { Module, type DynamicModule } from '@nestjs/common';
import { getDataSourceToken } from '@nestjs/typeorm';
import type { DataSource } from 'typeorm';
import {
  CoreModule,
  DatabaseModule,
  RPC_SERVICE_NAME,
  RpcServerService,
  USAGE_SINK_OPTIONS,
  UsageEventsSink,
  usageEventsMigration,
} from '@turnpike/service-kit';
import { AnalyticsConfig } from './analytics.config.js';
import { communityMigrations } from './community/community.migrations.js';
import { CommunityRpcService } from './community/community-rpc.service.js';
import { CommunityStore } from './community/community.store.js';
import { RawEventsRollupReader } from './community/raw-events-reader.js';
import { ROLLUP_READER } from './community/rollup-reader.js';

const SCHEMA = 'analytics';

/**
 * Stores every usage event in schema `analytics` (its own tables; no other service reads them)
 * and answers the community's queries and writes over `rpc.analytics.v1`.
 */
@Module({})
export class AnalyticsModule {
  static forRoot(config: AnalyticsConfig): DynamicModule {
    return {
      module: AnalyticsModule,
      imports: [
        CoreModule.forRoot(config),
        DatabaseModule.forRoot({
          url: config.databaseUrl,
          schema: SCHEMA,
          entities: [],
          migrations: [usageEventsMigration(SCHEMA), ...communityMigrations(SCHEMA)],
        }),
      ],
      providers: [
        { provide: USAGE_SINK_OPTIONS, useValue: { schema: SCHEMA, groupId: config.groupId } },
        UsageEventsSink,
        { provide: RPC_SERVICE_NAME, useValue: 'analytics' },
        RpcServerService,
        {
          provide: CommunityStore,
          inject: [getDataSourceToken()],
          useFactory: (db: DataSource) => new CommunityStore(db, SCHEMA),
        },
        // Interim, until the rollups' reader is merged (see raw-events-reader.ts).
        {
          provide: ROLLUP_READER,
          inject: [getDataSourceToken()],
          useFactory: (db: DataSource) => new RawEventsRollupReader(db, SCHEMA),
        },
        CommunityRpcService,
      ],
    };
  }
}
