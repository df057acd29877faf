import { Module, type DynamicModule } from '@nestjs/common';
import {
  CoreModule,
  DatabaseModule,
  RPC_SERVICE_NAME,
  RpcServerService,
} from '@turnpike/service-kit';
import { CatalogAdminHandlers } from './catalog/catalog-admin.handlers.js';
import {
  EndpointEntity,
  ModelEntity,
  ProviderEntity,
  SeedEntity,
  DeletionEntity,
} from './catalog/catalog.entities.js';
import { CATALOG_MIGRATIONS } from './catalog/catalog.migrations.js';
import { CatalogService } from './catalog/catalog.service.js';
import { RouterConfig } from './router.config.js';
import { HealthMonitor } from './routing/health-monitor.service.js';
import { TablePublisher } from './routing/table-publisher.service.js';

@Module({})
export class RouterModule {
  static forRoot(config: RouterConfig): DynamicModule {
    return {
      module: RouterModule,
      imports: [
        CoreModule.forRoot(config),
        DatabaseModule.forRoot({
          url: config.databaseUrl,
          schema: 'catalog',
          entities: [ProviderEntity, ModelEntity, EndpointEntity, SeedEntity, DeletionEntity],
          migrations: CATALOG_MIGRATIONS,
        }),
      ],
      providers: [
        { provide: RPC_SERVICE_NAME, useValue: 'router' },
        RpcServerService,
        CatalogService,
        HealthMonitor,
        TablePublisher,
        CatalogAdminHandlers,
      ],
    };
  }
}
