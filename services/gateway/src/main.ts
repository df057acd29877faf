import 'reflect-metadata';
import { boot, runService } from '@turnpike/service-kit';
import { GatewayConfig } from './gateway.config.js';
import { GatewayModule } from './gateway.module.js';
import { OpenAIExceptionFilter } from './errors/openai-exception.filter.js';
import { rewritePublicUrl } from './http/public-url.js';
import { installRequestContext } from './http/request-context.js';

boot(async () => {
  const config = GatewayConfig.load();
  await runService({
    config,
    version: '0.1.0',
    rootModule: GatewayModule.forRoot(config),
    fastify: {
      bodyLimit: config.maxBodyBytes,
      trustProxy: true,
      // OpenRouter's `/api/v1/...` paths and `%2F`-encoded model ids, once for every route.
      rewriteUrl: (req: { url?: string }) => rewritePublicUrl(req.url ?? '/'),
    },
    configure: (app) => {
      installRequestContext(app.getHttpAdapter().getInstance());
      app.useGlobalFilters(new OpenAIExceptionFilter(config.maxBodyBytes));
    },
  });
});
