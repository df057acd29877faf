/**
 * `node services/gateway/dist/migrate.js`: applies the gateway's pending migrations and exits (the Helm
 * chart's migrations job, before an install or upgrade). Same configuration as the service.
 */
import 'reflect-metadata';
import { boot, runMigrations } from '@turnpike/service-kit';
import { ACCOUNTS_MIGRATIONS } from './accounts/accounts.migrations.js';
import { GatewayConfig } from './gateway.config.js';

boot(async () => {
  const config = GatewayConfig.load();
  await runMigrations('gateway', {
    url: config.databaseUrl,
    schema: 'accounts',
    migrations: ACCOUNTS_MIGRATIONS,
  });
});
