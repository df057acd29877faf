import 'reflect-metadata';
import { boot, runService } from '@turnpike/service-kit';
import { BillingConfig } from './billing.config.js';
import { BillingModule } from './billing.module.js';

boot(async () => {
  const config = BillingConfig.load();
  await runService({ config, version: '0.1.0', rootModule: BillingModule.forRoot(config) });
});
