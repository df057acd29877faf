import 'reflect-metadata';
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import { MetricsModule } from './metrics.controller.js';
import { Metrics, metrics } from './metrics.js';

describe('metrics', () => {
  let app: NestFastifyApplication;
  let url: string;

  before(async () => {
    app = await NestFactory.create<NestFastifyApplication>(MetricsModule, new FastifyAdapter(), {
      logger: false,
    });
    await app.listen(0, '127.0.0.1');
    url = `${await app.getUrl()}/metrics`;
  });
  after(async () => {
    await app?.close();
  });

  const scrape = async (): Promise<string> => {
    const res = await fetch(url);
    assert.equal(res.status, 200);
    // Prometheus' text exposition format.
    assert.equal(res.headers.get('content-type'), 'text/plain; version=0.0.4; charset=utf-8');
    return res.text();
  };

  test('GET /metrics: the process metrics, and a counter as it increments', async () => {
    const c = metrics.counter('turnpike_test_things_total', 'Things counted by the test.', [
      'kind',
    ]);
    const first = await scrape();
    for (const name of [
      'process_cpu_user_seconds_total',
      'process_resident_memory_bytes',
      'nodejs_eventloop_lag_seconds',
      'nodejs_heap_size_used_bytes',
    ])
      assert.match(first, new RegExp(`^${name} `, 'm'), `${name} is exported`);
    assert.match(first, /^# HELP turnpike_test_things_total Things counted by the test\.$/m);
    assert.match(first, /^# TYPE turnpike_test_things_total counter$/m);
    c.inc({ kind: 'a' });
    c.inc({ kind: 'a' });
    c.inc({ kind: 'b' }, 5);
    const second = await scrape();
    assert.match(second, /^turnpike_test_things_total\{kind="a"\} 2$/m);
    assert.match(second, /^turnpike_test_things_total\{kind="b"\} 5$/m);
  });

  test('a name asked for again is the same counter; with other labels, a bug', () => {
    const m = new Metrics();
    const a = m.counter('turnpike_x_total', 'x', ['provider']);
    assert.equal(m.counter('turnpike_x_total', 'x', ['provider']), a);
    assert.throws(() => m.counter('turnpike_x_total', 'x', ['provider', 'code']), /labels/);
  });

  test('the default process metrics are registered once, whoever asks', async () => {
    const m = new Metrics();
    m.collectDefaults();
    m.collectDefaults();
    const text = await m.text();
    assert.equal(text.match(/^# TYPE process_cpu_user_seconds_total /gm)?.length, 1);
  });

  test('gauges (with a collect on scrape) and histograms; a name is one type', async () => {
    const m = new Metrics();
    let depth = 3;
    m.gauge('turnpike_q', 'queue', [], (g) => g.set(depth));
    assert.match(await m.text(), /^turnpike_q 3$/m);
    depth = 7;
    assert.match(await m.text(), /^turnpike_q 7$/m);
    const h = m.histogram('turnpike_d_seconds', 'd', ['route'], [0.1, 1]);
    assert.equal(m.histogram('turnpike_d_seconds', 'd', ['route']), h);
    h.observe({ route: '/a' }, 0.5);
    const text = await m.text();
    assert.match(text, /^turnpike_d_seconds_bucket\{le="0.1",route="\/a"\} 0$/m);
    assert.match(text, /^turnpike_d_seconds_bucket\{le="1",route="\/a"\} 1$/m);
    assert.throws(() => m.counter('turnpike_q', 'queue'), /as a gauge/);
  });
});
