import { Module, type DynamicModule } from '@nestjs/common';
import { CoreModule, DatabaseModule } from '@turnpike/service-kit';
import { EndpointEntity, ModelEntity, ProviderEntity } from './catalog/catalog.entities.js';
import { CATALOG_MIGRATIONS } from './catalog/catalog.migrations.js';
import { CatalogService } from './catalog/catalog.service.js';
import { RouterConfig } from './router.config.js';

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
          entities: [ProviderEntity, ModelEntity, EndpointEntity],
          migrations: CATALOG_MIGRATIONS,
        }),
      ],
      providers: [CatalogService],
    };
  }
}
