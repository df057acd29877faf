import 'reflect-metadata';
import { boot, runService } from '@turnpike/service-kit';
import { ConnectorConfig } from './connector.config.js';
import { ConnectorModule } from './connector.module.js';

boot(async () => {
  const config = ConnectorConfig.load();
  await runService({ config, version: '0.1.0', rootModule: ConnectorModule.forRoot(config) });
});
