import 'reflect-metadata';
import { boot, runService } from '@turnpike/service-kit';
import { GatewayConfig } from './gateway.config.js';
import { GatewayModule } from './gateway.module.js';
import { OpenAIExceptionFilter } from './errors/openai-exception.filter.js';

boot(async () => {
  const config = GatewayConfig.load();
  await runService({
    config,
    version: '0.1.0',
    rootModule: GatewayModule.forRoot(config),
    fastify: { bodyLimit: config.maxBodyBytes, trustProxy: true },
    configure: (app) => {
      app.useGlobalFilters(new OpenAIExceptionFilter(config.maxBodyBytes));
    },
  });
});
