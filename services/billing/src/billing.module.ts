import { Module, type DynamicModule } from '@nestjs/common';
import {
  CoreModule,
  DatabaseModule,
  USAGE_SINK_OPTIONS,
  UsageEventsSink,
  usageEventsMigration,
} from '@turnpike/service-kit';
import { BillingConfig } from './billing.config.js';

/** Stores every usage event in schema `billing` (its own tables; no other service reads them). */
@Module({})
export class BillingModule {
  static forRoot(config: BillingConfig): DynamicModule {
    return {
      module: BillingModule,
      imports: [
        CoreModule.forRoot(config),
        DatabaseModule.forRoot({
          url: config.databaseUrl,
          schema: 'billing',
          entities: [],
          migrations: [usageEventsMigration('billing')],
        }),
      ],
      providers: [
        { provide: USAGE_SINK_OPTIONS, useValue: { schema: 'billing', groupId: config.groupId } },
        UsageEventsSink,
      ],
    };
  }
}
