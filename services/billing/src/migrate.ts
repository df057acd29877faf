/**
 * `node services/billing/dist/migrate.js`: applies the billing's pending migrations and exits (the Helm
 * chart's migrations job, before an install or upgrade). Same configuration as the service.
 */
import 'reflect-metadata';
import { boot, runMigrations } from '@turnpike/service-kit';
import { ledgerMigrations } from './ledger/ledger.migrations.js';
import { BillingConfig } from './billing.config.js';

boot(async () => {
  const config = BillingConfig.load();
  await runMigrations('billing', {
    url: config.databaseUrl,
    schema: config.schema,
    migrations: ledgerMigrations(config.schema),
  });
});
