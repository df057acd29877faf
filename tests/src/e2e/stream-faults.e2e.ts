/**
 * Faults inside a stream that has begun, through the gateway with the official `openai` client:
 * an upstream that stalls mid-way is ended by the connector at its stall limit (not at the
 * request's deadline), and an unparsable event amid good ones is skipped, so the answer arrives
 * whole. Both are counted where Prometheus reads them: every service serves `GET /metrics`.
 *
 * The models are this suite's own, each with ONE endpoint (provider `sim`, an `openai` kind, which
 * cannot continue a cut answer): what the client sees here is the connector's doing, whatever the
 * gateway's recovery does for models that have somewhere to continue.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import OpenAI from 'openai';
import { expectedContent } from '@turnpike/testing';
import {
  catalogAdmin,
  client,
  ctx,
  eventually,
  marker,
  metricValue,
  simRequests,
} from '../support/context.js';

const suffix = Math.random().toString(36).slice(2, 8);
const STALLING = `turnpike/stalling-${suffix}`;
const GARBLED = `turnpike/garbled-${suffix}`;

/** A counter's value as a service's `GET /metrics` shows it (0 when the series is absent). */
const counter = metricValue;

before(async () => {
  const endpoint = {
    upstream_model: 'sim-gpt-small',
    pricing: { prompt: '0.10', completion: '0.40' },
    context_length: 8192,
  };
  for (const model of [STALLING, GARBLED]) {
    const put = await catalogAdmin('PUT', `models/${model}`, { name: model, context_length: 8192 });
    assert.equal(put.status, 200);
    assert.equal(
      (await catalogAdmin('PUT', `models/${model}/endpoints/sim`, endpoint)).status,
      200,
    );
    await eventually(
      async () => (await fetch(`${ctx().gatewayUrl}/v1/models/${model}/endpoints`)).status === 200,
      `${model} in the gateway's routing table`,
    );
  }
});
after(async () => {
  for (const model of [STALLING, GARBLED]) await catalogAdmin('DELETE', `models/${model}`);
});

describe('every service serves Prometheus metrics', () => {
  test('GET /metrics: the text exposition format, with the process metrics', async () => {
    for (const s of ctx().services) {
      const res = await fetch(`${s.url}/metrics`);
      assert.equal(res.status, 200, s.name);
      assert.match(res.headers.get('content-type') ?? '', /^text\/plain; version=0\.0\.4/);
      const text = await res.text();
      assert.match(text, /^process_cpu_user_seconds_total \d/m, s.name);
      assert.match(text, /^nodejs_eventloop_lag_seconds \d/m, s.name);
    }
  });
});

describe('a stream that stalls mid-way', () => {
  test('is ended by the connector at its stall limit; the client gets the in-band error and what came before', async (t) => {
    const limit = ctx().connectorStallMs;
    const stallMs = 2 * limit;
    assert.ok(stallMs < ctx().requestTimeoutMs, 'the stall alone would end before the deadline');
    const stallsBefore = await counter(
      ctx().attemptRunner,
      'turnpike_attempt_stalls_total',
      'provider="sim"',
    );
    const prompt = `${marker('stall')} one two three four five six`;
    const started = Date.now();
    const stream = await client().chat.completions.create({
      model: STALLING,
      messages: [
        { role: 'user', content: `${prompt} [[sim tokens=12 stall_ms=${stallMs} stall_after=3]]` },
      ],
      stream: true,
      stream_options: { include_usage: true },
    });
    let text = '';
    let lastContentAt = 0;
    let failure: unknown;
    try {
      for await (const chunk of stream) {
        const content = chunk.choices[0]?.delta?.content;
        if (content) {
          text += content;
          lastContentAt = Date.now();
        }
      }
    } catch (e) {
      failure = e;
    }
    const endedAt = Date.now();
    // The in-band error, in the client's hands: a 504 the connector named.
    assert.ok(
      failure instanceof OpenAI.APIError,
      `expected the stream's error, got ${String(failure)}`,
    );
    const error = failure.error as { code?: unknown; metadata?: { error_type?: string } };
    assert.equal(error.metadata?.error_type, 'upstream_stalled', JSON.stringify(error));
    assert.equal(error.code, 504);
    // Everything before the stall was delivered, nothing after it.
    assert.equal(text, expectedContent(prompt, 3));
    // At the stall limit: never before it; on a busy machine somewhat after, but far from the
    // end of the stall (twice the limit) and from the request's deadline.
    const silence = endedAt - lastContentAt;
    t.diagnostic(`stream ended ${silence} ms after its last token (stall limit ${limit} ms)`);
    assert.ok(silence >= limit - 300, `ended ${silence} ms after the last token (limit ${limit})`);
    assert.ok(silence < limit + 2_500, `ended ${silence} ms after the last token (limit ${limit})`);
    assert.ok(endedAt - started < ctx().requestTimeoutMs, 'not the deadline');
    // The connector closed the upstream call before the stall ended.
    const [record] = await simRequests(prompt);
    assert.equal(record?.outcome, 'aborted');
    assert.equal(record?.tokensSent, 3);
    // Counted by provider.
    await eventually(
      async () =>
        (await counter(ctx().attemptRunner, 'turnpike_attempt_stalls_total', 'provider="sim"')) ===
        stallsBefore + 1,
      'the stall counted on the connector',
      3_000,
    );
  });
});

describe('a malformed event amid good ones', () => {
  test('is skipped: all 60 tokens delivered, the event counted', async () => {
    const before = await counter(
      ctx().attemptRunner,
      'turnpike_stream_malformed_events_total',
      'provider="sim"',
    );
    const prompt = `${marker('garbled')} alpha bravo charlie delta echo`;
    const stream = await client().chat.completions.create({
      model: GARBLED,
      messages: [{ role: 'user', content: `${prompt} [[sim tokens=60 malformed=1]]` }],
      stream: true,
      stream_options: { include_usage: true },
    });
    let text = '';
    let usage: OpenAI.CompletionUsage | null | undefined;
    let finish: string | null | undefined;
    for await (const chunk of stream) {
      text += chunk.choices[0]?.delta?.content ?? '';
      finish = chunk.choices[0]?.finish_reason ?? finish;
      if (chunk.usage) usage = chunk.usage;
    }
    assert.equal(text, expectedContent(prompt, 60));
    assert.equal(finish, 'stop');
    assert.equal(usage?.completion_tokens, 60);
    const [record] = await simRequests(prompt);
    assert.equal(record?.outcome, 'completed');
    await eventually(
      async () =>
        (await counter(
          ctx().attemptRunner,
          'turnpike_stream_malformed_events_total',
          'provider="sim"',
        )) ===
        before + 1,
      'the malformed event counted on the connector',
      3_000,
    );
  });
});

describe('the routing table says which endpoints can continue a cut answer', () => {
  test("the catalog admin view: supports_prefill from the endpoint's adapter", async () => {
    const supports = async (model: string) => {
      const { status, json } = await catalogAdmin('GET', `models/${model}`);
      assert.equal(status, 200);
      const endpoints = json['endpoints'] as Array<{ provider: string; supports_prefill: boolean }>;
      return Object.fromEntries(endpoints.map((e) => [e.provider, e.supports_prefill]));
    };
    // An OpenAI-kind endpoint cannot; an Anthropic one can.
    assert.deepEqual(await supports(STALLING), { sim: false });
    assert.deepEqual(await supports('turnpike/sim-anthropic'), { 'sim-anthropic': true });
  });
});
