import { Module, type DynamicModule } from '@nestjs/common';
import {
  CoreModule,
  DatabaseModule,
  USAGE_SINK_OPTIONS,
  UsageEventsSink,
  usageEventsMigration,
} from '@turnpike/service-kit';
import { AnalyticsConfig } from './analytics.config.js';

/** Stores every usage event in schema `analytics` (its own tables; no other service reads them). */
@Module({})
export class AnalyticsModule {
  static forRoot(config: AnalyticsConfig): DynamicModule {
    return {
      module: AnalyticsModule,
      imports: [
        CoreModule.forRoot(config),
        DatabaseModule.forRoot({
          url: config.databaseUrl,
          schema: 'analytics',
          entities: [],
          migrations: [usageEventsMigration('analytics')],
        }),
      ],
      providers: [
        { provide: USAGE_SINK_OPTIONS, useValue: { schema: 'analytics', groupId: config.groupId } },
        UsageEventsSink,
      ],
    };
  }
}
