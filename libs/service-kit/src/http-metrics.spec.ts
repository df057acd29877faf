import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import Fastify, { type FastifyInstance } from 'fastify';
import { httpRequestsInFlight, installHttpMetrics, statusOf } from './http-metrics.js';
import { Metrics } from './metrics.js';

describe('HTTP metrics', () => {
  const m = new Metrics();
  let app: FastifyInstance;
  let url: string;
  let release: () => void = () => undefined;

  before(async () => {
    app = Fastify();
    installHttpMetrics(app, m);
    app.get('/things/:id', async (req) => ({ id: (req.params as { id: string }).id }));
    app.post('/fail', async (_req, reply) => reply.status(429).send({ no: true }));
    app.get('/slow', async () => {
      await new Promise<void>((r) => {
        release = r;
      });
      return 'done';
    });
    // A hijacked reply, written by hand (the gateway's streams).
    app.get('/stream', (_req, reply) => {
      reply.hijack();
      reply.raw.writeHead(200, { 'content-type': 'text/event-stream' });
      reply.raw.write('data: 1\n\n');
      setTimeout(() => reply.raw.end('data: [DONE]\n\n'), 20);
    });
    url = await app.listen({ port: 0, host: '127.0.0.1' });
  });
  after(async () => {
    release();
    await app?.close();
  });

  const value = async (name: string, labels: string): Promise<number> => {
    const text = await m.text();
    const line = text.split('\n').find((l) => l.startsWith(`${name}{${labels}}`));
    return line ? Number(line.split(' ').pop()) : 0;
  };

  test('counts by route pattern, method and status, with durations, hijacked replies included', async () => {
    for (const id of ['a', 'b', 'c'])
      assert.equal((await fetch(`${url}/things/${id}`)).status, 200);
    assert.equal((await fetch(`${url}/fail`, { method: 'POST' })).status, 429);
    assert.equal((await fetch(`${url}/nowhere`)).status, 404);
    assert.equal(await (await fetch(`${url}/stream`)).text(), 'data: 1\n\ndata: [DONE]\n\n');
    await new Promise((r) => setTimeout(r, 20));
    assert.equal(
      await value('turnpike_http_requests_total', 'route="/things/:id",method="GET",status="200"'),
      3,
    );
    assert.equal(
      await value('turnpike_http_requests_total', 'route="/fail",method="POST",status="429"'),
      1,
    );
    assert.equal(
      await value('turnpike_http_requests_total', 'route="unmatched",method="GET",status="404"'),
      1,
    );
    assert.equal(
      await value('turnpike_http_requests_total', 'route="/stream",method="GET",status="200"'),
      1,
    );
    assert.equal(
      await value(
        'turnpike_http_request_duration_seconds_count',
        'route="/things/:id",method="GET"',
      ),
      3,
    );
    // The stream lasted at least its 20 ms: not in the 5 ms or 10 ms buckets.
    assert.equal(
      await value(
        'turnpike_http_request_duration_seconds_bucket',
        'le="0.01",route="/stream",method="GET"',
      ),
      0,
    );
  });

  test('in flight while being answered, and back down after', async () => {
    const before = httpRequestsInFlight();
    const pending = fetch(`${url}/slow`);
    for (let i = 0; i < 100 && httpRequestsInFlight() === before; i++)
      await new Promise((r) => setTimeout(r, 10));
    assert.equal(httpRequestsInFlight(), before + 1);
    assert.match(
      await m.text(),
      new RegExp(`^turnpike_http_requests_in_flight ${before + 1}$`, 'm'),
    );
    release();
    assert.equal(await (await pending).text(), 'done');
    for (let i = 0; i < 100 && httpRequestsInFlight() !== before; i++)
      await new Promise((r) => setTimeout(r, 10));
    assert.equal(httpRequestsInFlight(), before);
  });

  test('a client that left before the end is a 499', () => {
    assert.equal(statusOf({ statusCode: 200, writableFinished: false }), '499');
    assert.equal(statusOf({ statusCode: 503, writableFinished: true }), '503');
  });
});
