/**
 * `node services/router/dist/migrate.js`: applies the router's pending migrations and exits (the Helm
 * chart's migrations job, before an install or upgrade). Same configuration as the service.
 */
import 'reflect-metadata';
import { boot, runMigrations } from '@turnpike/service-kit';
import { CATALOG_MIGRATIONS } from './catalog/catalog.migrations.js';
import { RouterConfig } from './router.config.js';

boot(async () => {
  const config = RouterConfig.load();
  await runMigrations('router', {
    url: config.databaseUrl,
    schema: 'catalog',
    migrations: CATALOG_MIGRATIONS,
  });
});
