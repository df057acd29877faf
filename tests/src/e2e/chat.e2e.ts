/**
 * The new-user flow through the official `openai` client: models, a non-streaming completion,
 * a streaming one whose chunks arrive as they are generated, and the final usage chunk.
 * Every body is checked against OpenAI's published schemas.
 */
import assert from 'node:assert/strict';
import { before, describe, test } from 'node:test';
import OpenAI from 'openai';
import {
  describePacing,
  expectedContent,
  loadOpenAISpecValidators,
  pacingProblems,
  type OpenAISpecValidators,
} from '@turnpike/testing';
import { client, ctx, marker, metricValue, simRequests } from '../support/context.js';

let spec: OpenAISpecValidators;
before(() => {
  spec = loadOpenAISpecValidators();
});

describe('chat completions through the gateway', () => {
  test('the attempts run where the transport says: a connector (split) or the gateway itself (fused)', async () => {
    const gateway = ctx().services.find((s) => s.url === ctx().gatewayUrl)!.name;
    const ttft = 'turnpike_upstream_ttft_seconds_count';
    const label = 'provider="sim"';
    const before = {
      gateway: await metricValue(gateway, ttft, label),
      connector: await metricValue('connector-1', ttft, label),
    };
    for (const stream of [false, true]) {
      const r = await client().chat.completions.create({
        model: 'turnpike/sim-small',
        messages: [{ role: 'user', content: `${marker('where')} where do I run?` }],
        stream,
      });
      if (stream) for await (const _ of r as AsyncIterable<unknown>) void _;
    }
    const after = {
      gateway: await metricValue(gateway, ttft, label),
      connector: await metricValue('connector-1', ttft, label),
    };
    const ran = ctx().transport === 'inprocess' ? 'gateway' : 'connector';
    const idle = ran === 'gateway' ? 'connector' : 'gateway';
    assert.ok(after[ran] - before[ran] >= 2, `the two attempts timed on the ${ran}`);
    assert.equal(after[idle], before[idle], `none on the ${idle}`);
  });

  test('GET /v1/models lists the catalog in OpenRouter and OpenAI shape', async () => {
    const models = await client().models.list();
    const ids = models.data.map((m) => m.id);
    assert.ok(ids.includes('turnpike/sim-small'), ids.join(','));
    const raw = (await (await fetch(`${ctx().gatewayUrl}/v1/models`)).json()) as {
      data: Array<Record<string, unknown>>;
    };
    const small = raw.data.find((m) => m['id'] === 'turnpike/sim-small')!;
    assert.equal(small['object'], 'model');
    assert.equal(small['context_length'], 8192);
    assert.deepEqual(small['pricing'], {
      prompt: '0.00000015',
      completion: '0.0000006',
      request: '0',
      image: '0',
      web_search: '0',
      internal_reasoning: '0.0000006',
      input_cache_read: '0.000000075',
      input_cache_write: '0',
    });
    assert.ok(
      Array.isArray(small['supported_parameters']) &&
        (small['supported_parameters'] as string[]).includes('tools'),
    );
    assert.deepEqual(
      (small['top_provider'] as Record<string, unknown>)['max_completion_tokens'],
      4096,
    );
  });

  test('models.retrieve("author/slug"): sent as %2F, answered with the model', async () => {
    const urls: string[] = [];
    const c = new OpenAI({
      baseURL: `${ctx().gatewayUrl}/v1`,
      apiKey: ctx().tenants[0]!.key,
      maxRetries: 0,
      fetch: (url, init) => {
        urls.push(String(url));
        return fetch(url, init);
      },
    });
    const m = await c.models.retrieve('turnpike/sim-large');
    assert.deepEqual(urls, [`${ctx().gatewayUrl}/v1/models/turnpike%2Fsim-large`]);
    assert.equal(m.id, 'turnpike/sim-large');
    assert.equal(m.object, 'model');
    assert.equal(m.owned_by, 'turnpike');
    assert.equal(m.created, 1732406400);
    assert.equal((m as unknown as { context_length: number }).context_length, 128000);
    const missing = await c.models.retrieve('turnpike/no-such-model').then(
      () => assert.fail('expected a 404'),
      (e: unknown) => e,
    );
    assert.ok(missing instanceof OpenAI.NotFoundError, String(missing));
    assert.equal(missing.code, 'model_not_found');
  });

  test('a non-streaming completion: body, usage with cost, generation id, trace id, Server-Timing', async () => {
    const text = `say something ${marker('unary')}`;
    const { data, response } = await client()
      .chat.completions.create({
        model: 'turnpike/sim-small',
        messages: [{ role: 'user', content: `${text} [[sim tokens=12]]` }],
      })
      .withResponse();
    assert.deepEqual(spec.chatCompletion(data), []);
    assert.match(data.id, /^gen-\d+-[A-Za-z0-9]{20}$/);
    assert.equal(response.headers.get('x-generation-id'), data.id);
    assert.match(response.headers.get('x-trace-id') ?? '', /^[0-9a-f]{32}$/);
    assert.notEqual(response.headers.get('x-trace-id'), '0'.repeat(32));
    assert.equal(data.model, 'turnpike/sim-small');
    assert.equal((data as unknown as { provider: string }).provider, 'sim');
    assert.equal(data.choices[0]!.message.content, expectedContent(text, 12));
    assert.equal(data.choices[0]!.finish_reason, 'stop');
    assert.equal(data.usage!.completion_tokens, 12);
    // 12 completion tokens at $0.60/M plus the prompt at $0.15/M, rounded up to a micro-dollar.
    const usage = data.usage as unknown as { cost: number; prompt_tokens: number };
    const expectedMicros = Math.ceil((usage.prompt_tokens * 150_000 + 12 * 600_000) / 1_000_000);
    assert.equal(Math.round(usage.cost * 1_000_000), expectedMicros);
    const timing = response.headers.get('server-timing') ?? '';
    // The hop is named after the transport: the Kafka round trip, or the in-process hand-over.
    for (const part of ['gateway', ctx().transport, 'connector', 'upstream', 'total']) {
      assert.match(timing, new RegExp(`${part};dur=\\d+(\\.\\d+)?`), timing);
    }
  });

  test('a streaming completion arrives chunk by chunk, spread out as the upstream sent it', async () => {
    const text = `stream please ${marker('stream')}`;
    // 12 tokens at 10 tokens/s: the simulator sends over ~1.1 s after the first token. The
    // arrivals are compared with the simulator's own send times (not with the nominal pace), so
    // a busy machine that delays sends or arrivals does not fail it, while a hop that holds
    // chunks back and delivers them in clumps does (see libs/testing/src/assertions/stream-pacing.ts).
    const stream = await client().chat.completions.create({
      model: 'turnpike/sim-small',
      stream: true,
      messages: [{ role: 'user', content: `${text} [[sim tokens=12 tps=10 ttft_ms=50]]` }],
    });
    const arrivals: number[] = [];
    let content = '';
    let finish: string | null = null;
    let id = '';
    for await (const chunk of stream) {
      const at = performance.now();
      assert.deepEqual(spec.chatCompletionChunk(chunk), [], JSON.stringify(chunk));
      assert.equal('usage' in chunk, false, 'no usage field unless include_usage was asked');
      id = chunk.id;
      const delta = chunk.choices[0]?.delta.content;
      if (delta) {
        arrivals.push(at);
        content += delta;
      }
      finish = chunk.choices[0]?.finish_reason ?? finish;
    }
    assert.match(id, /^gen-/);
    assert.equal(content, expectedContent(text, 12));
    assert.equal(finish, 'stop');
    assert.equal(arrivals.length, 12, 'one chunk per token');

    const records = (
      await Promise.all(ctx().simulators.map((_s, i) => simRequests(text, i)))
    ).flat();
    assert.equal(records.length, 1, 'one upstream request');
    const sent = records[0]!.tokenTimes;
    assert.equal(sent.length, 12, 'the simulator recorded a send time per token');
    console.log(`  pacing: ${describePacing(sent, arrivals)}`);
    assert.deepEqual(pacingProblems(sent, arrivals), [], describePacing(sent, arrivals));
  });

  test('stream_options.include_usage adds a final usage chunk with the cost', async () => {
    const text = `usage please ${marker('usage')}`;
    const stream = await client().chat.completions.create({
      model: 'turnpike/sim-small',
      stream: true,
      stream_options: { include_usage: true },
      messages: [{ role: 'user', content: `${text} [[sim tokens=7]]` }],
    });
    const chunks = [];
    for await (const chunk of stream) {
      assert.deepEqual(spec.chatCompletionChunk(chunk), [], JSON.stringify(chunk));
      chunks.push(chunk);
    }
    const last = chunks.at(-1)!;
    assert.deepEqual(last.choices, []);
    assert.equal(last.usage?.completion_tokens, 7);
    assert.ok(((last.usage as unknown as { cost: number }).cost ?? 0) > 0);
    // Non-final chunks carry no `usage` key at all: `@openrouter/sdk` rejects `usage: null`,
    // and the openai client treats a missing key like null.
    for (const c of chunks.slice(0, -1)) assert.equal('usage' in c, false, JSON.stringify(c));
  });

  test('tool calls stream through and assemble in the SDK', async () => {
    const stream = client().chat.completions.stream({
      model: 'turnpike/sim-small',
      messages: [{ role: 'user', content: `weather? ${marker('tools')}` }],
      tools: [
        {
          type: 'function',
          function: {
            name: 'get_weather',
            parameters: { type: 'object', properties: { city: { type: 'string' } } },
          },
        },
      ],
      tool_choice: { type: 'function', function: { name: 'get_weather' } },
    });
    const final = await stream.finalChatCompletion();
    const call = final.choices[0]!.message.tool_calls?.[0];
    assert.equal(call?.type, 'function');
    assert.equal(call?.type === 'function' ? call.function.name : '', 'get_weather');
    assert.doesNotThrow(() => JSON.parse(call?.type === 'function' ? call.function.arguments : ''));
    assert.equal(final.choices[0]!.finish_reason, 'tool_calls');
  });

  test('unknown request fields are forwarded to OpenAI-compatible upstreams', async () => {
    const m = marker('passthrough');
    await client().chat.completions.create({
      model: 'turnpike/sim-small',
      messages: [{ role: 'user', content: m }],
      // @ts-expect-error -- not an OpenAI field: it must reach the upstream untouched
      x_custom_vendor_flag: { keep: true },
      metadata: { trace: 'abc' },
    });
    const [rec] = await simRequests(m);
    assert.ok(rec, 'the simulator saw the request');
    assert.deepEqual(rec.body['x_custom_vendor_flag'], { keep: true });
    assert.deepEqual(rec.body['metadata'], { trace: 'abc' });
    assert.equal(
      rec.body['model'],
      'sim-gpt-small',
      'the upstream model id replaces the catalog id',
    );
  });
});
