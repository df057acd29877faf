import 'reflect-metadata';
import { Logger, type DynamicModule, type LogLevel, type Type } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import { startTelemetry } from '@turnpike/telemetry';
import { installHttpMetrics } from './http-metrics.js';
import { Readiness } from './readiness.js';
import type { ServiceBaseConfig } from './service-config.js';

/** After the drain deadline, this long for flushing and closing before a hard exit. */
const HARD_STOP_AFTER_GRACE_MS = 5_000;

const LEVELS: Record<ServiceBaseConfig['logLevel'], LogLevel[]> = {
  debug: ['debug', 'log', 'warn', 'error', 'fatal'],
  info: ['log', 'warn', 'error', 'fatal'],
  warn: ['warn', 'error', 'fatal'],
  error: ['error', 'fatal'],
};

export interface RunServiceOptions<C extends ServiceBaseConfig> {
  config: C;
  version: string;
  rootModule: Type | DynamicModule;
  /** Fastify options (body limit, ...). */
  fastify?: ConstructorParameters<typeof FastifyAdapter>[0];
  /** Hook to add filters, parsers and the like before the app starts listening. */
  configure?: (app: NestFastifyApplication) => void | Promise<void>;
}

/** The accept queue of every service's HTTP listener (see runService). */
const LISTEN_BACKLOG = 4096;

/**
 * Boots one Turnpike service: telemetry first, then the Nest app over Fastify, listening on
 * the configured port. SIGTERM/SIGINT run Nest's shutdown hooks, where each service drains its
 * in-flight work; telemetry is flushed last.
 */
export async function runService<C extends ServiceBaseConfig>(
  opts: RunServiceOptions<C>,
): Promise<NestFastifyApplication> {
  const { config } = opts;
  const telemetry = startTelemetry({
    serviceName: `turnpike-${config.serviceName}`,
    serviceVersion: opts.version,
    instanceId: config.instanceId,
  });
  const log = new Logger(config.serviceName);
  // The last line of defence: a rejection nobody handled is a bug to log, not a reason to
  // kill every request in flight (Node's default exits the process).
  process.on('unhandledRejection', (reason) => {
    log.error(
      `unhandled promise rejection: ${reason instanceof Error ? (reason.stack ?? reason.message) : String(reason)}`,
    );
  });
  const app = await NestFactory.create<NestFastifyApplication>(
    opts.rootModule,
    // A request that reaches a draining service on a connection it had already accepted is
    // served (with `Connection: close`), not refused with Fastify's 503: it was accepted.
    new FastifyAdapter({ return503OnClosing: false, ...opts.fastify }),
    { logger: LEVELS[config.logLevel], abortOnError: false },
  );
  installHttpMetrics(app.getHttpAdapter().getInstance());
  let stopping = false;
  // While draining, every response closes its connection after it: a client's keep-alive
  // socket is not left idle for the final close to cut under a request it just sent.
  app
    .getHttpAdapter()
    .getInstance()
    .addHook('onRequest', (_req, reply, done) => {
      if (stopping) reply.raw.setHeader('connection', 'close');
      done();
    });
  await opts.configure?.(app);
  // A deep accept queue: a burst of new connections (thousands of streams opening at once)
  // waits for the event loop instead of overflowing Node's default of 511 (SYNs dropped, the
  // clients' connects timing out). The kernel caps it at net.core.somaxconn.
  await app.listen({ port: config.httpPort, host: config.httpHost, backlog: LISTEN_BACKLOG });
  const address = app.getHttpServer().address();
  const port = typeof address === 'object' && address ? address.port : config.httpPort;
  log.log(
    `${config.serviceName} ${config.instanceId} listening on http://${config.httpHost}:${port}`,
  );
  const shutdown = (signal: NodeJS.Signals): void => {
    if (stopping) return;
    stopping = true;
    log.log(`${signal}: draining (deadline ${config.shutdownGraceMs} ms)`);
    // Hard stop if draining hangs.
    setTimeout(() => {
      log.error('shutdown timed out; exiting');
      process.exit(1);
    }, config.shutdownGraceMs + HARD_STOP_AFTER_GRACE_MS).unref();
    // Unready at once, and no new connection: a load balancer (or a client's retry) takes new
    // work elsewhere, while the connections already accepted are served to their end.
    app.get(Readiness, { strict: false }).startDraining();
    // Node's close() also destroys the idle keep-alive sockets, and a request a client sends on
    // one at that moment dies with ECONNRESET. Kept instead: a request on one is served with
    // `Connection: close` (above); what is still idle when HTTP closes after the drain goes then.
    const server = app.getHttpServer();
    const closeIdle = server.closeIdleConnections.bind(server);
    let deferIdle = true;
    server.closeIdleConnections = () => {
      if (!deferIdle) closeIdle();
    };
    server.close();
    deferIdle = false;
    // Nest runs beforeApplicationShutdown (services drain in-flight work there: open streams,
    // running generations), closes HTTP, then onApplicationShutdown (consumers finish their
    // batch, commit and leave their group; the producer flushes). Telemetry is flushed last.
    void app
      .close()
      .catch((e: unknown) => log.error(`shutdown failed: ${String(e)}`))
      .then(() => telemetry.shutdown())
      .catch(() => undefined)
      .finally(() => {
        log.log('stopped');
        process.exit(0);
      });
  };
  process.once('SIGTERM', shutdown);
  process.once('SIGINT', shutdown);
  return app;
}

/** Runs `main`, logging a failed boot (e.g. invalid config) and exiting non-zero. */
export function boot(main: () => Promise<unknown>): void {
  main().catch((e: unknown) => {
    console.error(e instanceof Error ? (e.stack ?? e.message) : e);
    process.exit(1);
  });
}
