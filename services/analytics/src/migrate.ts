/**
 * `node services/analytics/dist/migrate.js`: applies the analytics's pending migrations and exits (the Helm
 * chart's migrations job, before an install or upgrade). Same configuration as the service.
 */
import 'reflect-metadata';
import { boot, runMigrations, usageEventsMigration } from '@turnpike/service-kit';
import { AnalyticsConfig } from './analytics.config.js';

boot(async () => {
  const config = AnalyticsConfig.load();
  await runMigrations('analytics', {
    url: config.databaseUrl,
    schema: 'analytics',
    migrations: [usageEventsMigration('analytics')],
  });
});
