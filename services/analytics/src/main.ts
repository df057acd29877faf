import 'reflect-metadata';
import { boot, runService } from '@turnpike/service-kit';
import { AnalyticsConfig } from './analytics.config.js';
import { AnalyticsModule } from './analytics.module.js';

boot(async () => {
  const config = AnalyticsConfig.load();
  await runService({ config, version: '0.1.0', rootModule: AnalyticsModule.forRoot(config) });
});
