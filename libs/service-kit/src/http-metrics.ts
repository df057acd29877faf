import type { FastifyInstance, FastifyRequest } from 'fastify';
import { metrics as processMetrics, type Metrics } from './metrics.js';

/** The route label of a request: its route's pattern (bounded), or `unmatched` (404s). */
export function routeOf(req: Pick<FastifyRequest, 'routeOptions'>): string {
  return req.routeOptions?.url ?? 'unmatched';
}

/**
 * The status label of an exchange that ended: the status sent, or 499 (nginx's "client closed
 * request") when the client left before the answer was complete.
 */
export function statusOf(res: { statusCode: number; writableFinished: boolean }): string {
  return res.writableFinished ? String(res.statusCode) : '499';
}

/**
 * Counts every HTTP exchange of a service, by route pattern, method and status, with its
 * duration, and the exchanges in flight. Measured on the raw response's `close`, so hijacked
 * replies (the gateway's streams) and clients that leave are counted too.
 */
let open = 0;

/** HTTP requests of this process being answered now (what a drain waits for). */
export function httpRequestsInFlight(): number {
  return open;
}

export function installHttpMetrics(fastify: FastifyInstance, m: Metrics = processMetrics): void {
  const requests = m.counter(
    'turnpike_http_requests_total',
    'HTTP requests answered, by route pattern, method and status (499: the client left first).',
    ['route', 'method', 'status'],
  );
  const duration = m.histogram(
    'turnpike_http_request_duration_seconds',
    'HTTP request duration, from the request to the end of the answer (whole streams included).',
    ['route', 'method'],
  );
  const inFlight = m.gauge('turnpike_http_requests_in_flight', 'HTTP requests being answered now.');
  fastify.addHook('onRequest', (req, reply, done) => {
    const started = process.hrtime.bigint();
    open++;
    inFlight.set(open);
    reply.raw.once('close', () => {
      open--;
      inFlight.set(open);
      const labels = { route: routeOf(req), method: req.method };
      requests.inc({ ...labels, status: statusOf(reply.raw) });
      duration.observe(labels, Number(process.hrtime.bigint() - started) / 1e9);
    });
    done();
  });
}
