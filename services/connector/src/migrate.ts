/**
 * `node services/connector/dist/migrate.js`: applies the connector's pending migrations and exits (the Helm
 * chart's migrations job, before an install or upgrade). Same configuration as the service.
 */
import 'reflect-metadata';
import { boot, runMigrations } from '@turnpike/service-kit';
import { CONNECTOR_MIGRATIONS } from './accounts/accounts.migrations.js';
import { ConnectorConfig } from './connector.config.js';

boot(async () => {
  const config = ConnectorConfig.load();
  await runMigrations('connector', {
    url: config.databaseUrl,
    schema: 'connector',
    migrations: CONNECTOR_MIGRATIONS,
  });
});
