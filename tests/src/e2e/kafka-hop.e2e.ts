/**
 * The Kafka hop between gateway and connector: cancellation, at-most-once delivery, many
 * concurrent generations on one connector, and the usage event of each generation landing
 * durably in billing and counted in analytics' rollups.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import kafkajs from 'kafkajs';
import pg from 'pg';
import { TOPICS, type LlmGenerateV1, type UsageEventV1 } from '@turnpike/contracts';
import { expectedContent } from '@turnpike/testing';
import { client, ctx, eventually, marker, simRequests } from '../support/context.js';

let db: pg.Client;
before(async () => {
  db = new pg.Client({ connectionString: ctx().databaseUrl });
  await db.connect();
});
after(async () => {
  await db.end();
});

async function storedEvent(generationId: string): Promise<UsageEventV1 | undefined> {
  const r = await db.query<{ event: UsageEventV1 }>(
    'SELECT event FROM billing.usage_events WHERE generation_id = $1',
    [generationId],
  );
  return r.rows[0]?.event;
}

describe('the Kafka hop', () => {
  test('a client disconnect cancels the upstream call (the simulator sees the abort)', async () => {
    const m = marker('abort');
    const controller = new AbortController();
    const stream = await client().chat.completions.create(
      {
        model: 'turnpike/sim-small',
        stream: true,
        messages: [{ role: 'user', content: `${m} [[sim tokens=200 tps=10]]` }],
      },
      { signal: controller.signal },
    );
    let generationId = '';
    let received = 0;
    try {
      for await (const chunk of stream) {
        generationId = chunk.id;
        if (chunk.choices[0]?.delta.content) received++;
        if (received === 2) controller.abort();
      }
    } catch {
      // The SDK may raise an abort error, or just end the iteration.
    }
    assert.equal(received, 2);
    const rec = await eventually(async () => {
      const [r] = await simRequests(m);
      return r && r.outcome !== 'in_progress' ? r : undefined;
    }, 'the simulator to record the end of the request');
    assert.equal(rec.outcome, 'aborted');
    assert.ok(rec.tokensSent < 200, `generation stopped early (${rec.tokensSent} tokens sent)`);
    // The generation is still accounted for: cancelled, with what was produced.
    const event = await eventually(() => storedEvent(generationId), 'the usage event in billing');
    assert.equal(event.status, 'cancelled');
    assert.equal(event.usageReported, false);
    assert.ok(event.tokens.completion >= 1, JSON.stringify(event.tokens));
    assert.equal(event.attempts[0]?.outcome, 'cancelled');
  });

  test('a redelivered request never calls the upstream a second time', async () => {
    const kafka = new kafkajs.Kafka({
      clientId: 'redelivery-test',
      brokers: [ctx().kafkaBrokers],
      logLevel: kafkajs.logLevel.NOTHING,
    });
    const producer = kafka.producer();
    await producer.connect();
    try {
      const m = marker('redeliver');
      const generationId = `gen-${Math.floor(Date.now() / 1000)}-redeliver${Math.random().toString(36).slice(2, 10)}`;
      const request: LlmGenerateV1 = {
        v: 1,
        kind: 'generate',
        generationId,
        attempt: 1,
        tenantId: 'tenant-a',
        keyId: 'key-test',
        // Replies go to a partition and instance nobody reads: this test only watches the upstream.
        replyTo: { topic: TOPICS.llmReplies, partition: 11, instance: 'nobody' },
        deadlineAt: Date.now() + 30_000,
        createdAt: Date.now(),
        endpoint: {
          id: 'turnpike/sim-small@sim',
          provider: 'sim',
          upstreamModel: 'sim-gpt-small',
          pricing: {
            promptPerM: 0,
            completionPerM: 0,
            cachedReadPerM: 0,
            cacheWritePerM: 0,
            reasoningPerM: 0,
            perRequest: 0,
          },
        },
        stream: false,
        body: { model: 'turnpike/sim-small', messages: [{ role: 'user', content: m }] },
      };
      const value = JSON.stringify(request);
      // The same message three times, as a redelivery after a crash or rebalance would bring it.
      for (let i = 0; i < 3; i++)
        await producer.send({
          topic: TOPICS.llmRequests,
          messages: [{ key: generationId, value }],
        });
      await eventually(
        async () => (await simRequests(m)).length > 0,
        'the first delivery to reach the upstream',
      );
      await new Promise((r) => setTimeout(r, 1500));
      assert.equal((await simRequests(m)).length, 1);
    } finally {
      await producer.disconnect();
    }
  });

  test('500 concurrent streams through one connector instance all complete correctly', async () => {
    const connectors = ctx().services.filter((s) => s.name.startsWith('connector'));
    assert.equal(connectors.length, 1, 'exactly one connector instance serves this test');
    const n = 500;
    const tokens = 20;
    const c = client(0, { timeout: 120_000 });
    const run = async (i: number) => {
      const text = `concurrent ${i} ${marker('c')}`;
      const stream = await c.chat.completions.create({
        model: 'turnpike/sim-small',
        stream: true,
        stream_options: { include_usage: true },
        // 20 tokens at 10 tokens/s: every generation is in flight for ~2 s, all at the same time.
        messages: [{ role: 'user', content: `${text} [[sim tokens=${tokens} tps=10]]` }],
      });
      let content = '';
      let usage = 0;
      for await (const chunk of stream) {
        content += chunk.choices[0]?.delta.content ?? '';
        usage = chunk.usage?.completion_tokens ?? usage;
      }
      return { ok: content === expectedContent(text, tokens) && usage === tokens, content };
    };
    const started = Date.now();
    const results = await Promise.allSettled(Array.from({ length: n }, (_, i) => run(i)));
    const elapsed = Date.now() - started;
    const failures = results.filter((r) => r.status === 'rejected' || !r.value.ok);
    assert.equal(
      failures.length,
      0,
      `${failures.length}/${n} failed, e.g. ${failures
        .slice(0, 3)
        .map((f) => (f.status === 'rejected' ? String(f.reason) : f.value.content))
        .join(' | ')}`,
    );
    // Held concurrently, not one after another: 500 x 2 s sequentially would be 1000 s.
    assert.ok(elapsed < 60_000, `took ${elapsed} ms`);
  });

  test('each generation yields one usage event, booked by billing and counted by analytics', async () => {
    const m = marker('usage-event');
    const { data, response } = await client()
      .chat.completions.create(
        {
          model: 'turnpike/sim-small',
          messages: [{ role: 'user', content: `${m} [[sim tokens=5 ttft_ms=30]]` }],
        },
        { headers: { 'HTTP-Referer': 'https://app.example.com', 'X-Title': 'Example App' } },
      )
      .withResponse();
    const id = response.headers.get('x-generation-id')!;
    assert.equal(id, data.id);
    const e = await eventually(() => storedEvent(id), 'the usage event in billing');
    assert.equal(e.status, 'success');
    assert.equal(e.tenantId, 'tenant-a');
    assert.equal(e.model, 'turnpike/sim-small');
    assert.equal(e.provider, 'sim');
    assert.deepEqual(e.app, { referer: 'https://app.example.com', title: 'Example App' });
    assert.equal(e.tokens.completion, 5);
    assert.equal(e.tokens.prompt, data.usage!.prompt_tokens);
    assert.equal(e.usageReported, true);
    assert.ok(e.ttftMs !== null && e.ttftMs >= 30, `ttft ${e.ttftMs}`);
    assert.ok(e.latencyMs >= e.ttftMs!);
    assert.ok(Number.isInteger(e.cost.upstreamMicros) && e.cost.upstreamMicros > 0);
    assert.equal(e.attempts.length, 1);
    assert.equal(e.attempts[0]!.outcome, 'success');
    // Analytics counted it once, into the buckets of its tenant, key, model, endpoint and app.
    const counted = await eventually(async () => {
      const r = await db.query<{ tenant_id: string; key_id: string; model: string }>(
        'SELECT tenant_id, key_id, model FROM analytics.processed_generations WHERE generation_id = $1',
        [id],
      );
      return r.rows[0];
    }, 'the usage event counted by analytics');
    assert.deepEqual(counted, {
      tenant_id: 'tenant-a',
      key_id: e.keyId,
      model: 'turnpike/sim-small',
    });
    const buckets = await db.query<{ granularity: string }>(
      `SELECT granularity FROM analytics.usage_rollups
        WHERE tenant_id = 'tenant-a' AND app = 'https://app.example.com' AND model = 'turnpike/sim-small'
          AND endpoint_id = $1 AND status = 'success' AND bucket_start <= $2 AND requests >= 1 ORDER BY 1`,
      [e.endpointId, e.createdAt],
    );
    assert.deepEqual([...new Set(buckets.rows.map((b) => b.granularity))], ['day', 'minute']);
    const count = await db.query(
      'SELECT count(*)::int AS n FROM billing.usage_events WHERE generation_id = $1',
      [id],
    );
    assert.equal(count.rows[0].n, 1);
  });
});
