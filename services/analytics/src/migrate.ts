/**
 * `node services/analytics/dist/migrate.js`: applies the analytics's pending migrations and exits (the Helm
 * chart's migrations job, before an install or upgrade). Same configuration as the service.
 */
import 'reflect-metadata';
import { boot, runMigrations } from '@turnpike/service-kit';
import { AnalyticsConfig } from './analytics.config.js';
import { analyticsMigrations } from './analytics.module.js';
import { communityMigrations } from './community/community.migrations.js';

boot(async () => {
  const config = AnalyticsConfig.load();
  await runMigrations('analytics', {
    url: config.databaseUrl,
    schema: config.schema,
    migrations: [...analyticsMigrations(config.schema), ...communityMigrations(config.schema)],
  });
});
