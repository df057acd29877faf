import 'reflect-metadata';
import { boot, runService } from '@turnpike/service-kit';
import { RouterConfig } from './router.config.js';
import { RouterModule } from './router.module.js';

boot(async () => {
  const config = RouterConfig.load();
  await runService({ config, version: '0.1.0', rootModule: RouterModule.forRoot(config) });
});
