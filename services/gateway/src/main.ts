import 'reflect-metadata';
import type { FastifyInstance } from 'fastify';
import { boot, runService } from '@turnpike/service-kit';
import { GatewayConfig } from './gateway.config.js';
import { GatewayModule } from './gateway.module.js';
import { OpenAIExceptionFilter } from './errors/openai-exception.filter.js';
import { rewritePublicUrl } from './http/public-url.js';
import { installRequestContext } from './http/request-context.js';
import { clientErrorHandler, depthCheckedJsonParser, frameworkErrors } from './errors/edge.js';
import { SafeInputPipe } from './errors/safe-input.pipe.js';

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
      // Errors answered before any route runs, in OpenAI's shape too.
      clientErrorHandler,
      frameworkErrors,
    },
    configure: (app) => {
      installRequestContext(app.getHttpAdapter().getInstance());
      app.useGlobalFilters(new OpenAIExceptionFilter(config.maxBodyBytes));
      app.useGlobalPipes(new SafeInputPipe());
      // JSON bodies nested too deep are refused before they are parsed.
      const fastify = app.getHttpAdapter().getInstance() as FastifyInstance;
      app.useBodyParser(
        'application/json',
        { bodyLimit: config.maxBodyBytes },
        depthCheckedJsonParser(fastify.getDefaultJsonParser('error', 'error')),
      );
    },
  });
});
