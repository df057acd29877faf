import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import type { ProviderConnection } from '@turnpike/contracts';
import { assertSkipsMalformed, sseEvents } from '../core/decoder-testing.js';
import type { Json } from '../core/json.js';
import { RequestMappingError } from '../core/param-map.js';
import { chunksOf, decodeAtEverySplit, firstChoice } from '../openai-compatible/family-testing.js';
import { cohereProvider } from './cohere.provider.js';

const fixture = (name: string): string =>
  readFileSync(new URL(`../../src/cohere/fixtures/${name}`, import.meta.url), 'utf8');
const conn: ProviderConnection = {
  baseUrl: 'https://api.cohere.com',
  credentials: { type: 'api_key', apiKey: 'co-key-0123456789' },
};
const call = (body: Json, stream = false) => ({ body, upstreamModel: 'command-a-03-2025', stream });
const opts = { requireParameters: false, now: new Date() };
const WEATHER = {
  type: 'function',
  function: { name: 'get_weather', description: 'w', parameters: { type: 'object' }, strict: true },
};

async function request(body: Json) {
  const req = await cohereProvider.prepareRequest(call(body, true), conn, opts);
  return { req, json: JSON.parse(req.body) as Json };
}

test('cohere: every parameter of the map, by its v2 name', async () => {
  const { req, json } = await request({
    messages: [{ role: 'user', content: 'hi' }],
    max_tokens: 64,
    temperature: 0.3,
    top_p: 1,
    top_k: 40,
    seed: 9,
    stop: ['END', 'STOP'],
    frequency_penalty: 0.1,
    presence_penalty: 0.2,
    tools: [WEATHER],
    tool_choice: 'required',
    response_format: {
      type: 'json_schema',
      json_schema: { name: 'r', schema: { type: 'object' } },
    },
    reasoning: { max_tokens: 2048 },
    logprobs: true,
    parallel_tool_calls: true,
    n: 2,
    logit_bias: { '1': 1 },
  });
  assert.equal(req.url, 'https://api.cohere.com/v2/chat');
  assert.equal(req.headers['authorization'], 'Bearer co-key-0123456789');
  assert.deepEqual(json, {
    model: 'command-a-03-2025',
    messages: [{ role: 'user', content: 'hi' }],
    stream: true,
    max_tokens: 64,
    temperature: 0.3,
    p: 0.99,
    k: 40,
    seed: 9,
    stop_sequences: ['END', 'STOP'],
    frequency_penalty: 0.1,
    presence_penalty: 0.2,
    tools: [
      {
        type: 'function',
        function: { name: 'get_weather', description: 'w', parameters: { type: 'object' } },
      },
    ],
    strict_tools: true,
    tool_choice: 'REQUIRED',
    response_format: { type: 'json_object', json_schema: { type: 'object' } },
    thinking: { type: 'enabled', token_budget: 2048 },
    logprobs: true,
  });
  assert.deepEqual(req.droppedParameters.sort(), ['logit_bias', 'n', 'parallel_tool_calls']);
  const time = { type: 'function', function: { name: 'get_time', parameters: {} } };
  const named = await request({
    messages: [{ role: 'user', content: 'x' }],
    tools: [WEATHER, time],
    tool_choice: { type: 'function', function: { name: 'get_time' } },
    reasoning: { enabled: false },
  });
  assert.deepEqual(
    (named.json['tools'] as Json[]).map((t) => (t['function'] as Json)['name']),
    ['get_time'],
  );
  assert.equal(named.json['tool_choice'], 'REQUIRED');
  assert.deepEqual(named.json['thinking'], { type: 'disabled' });
  const none = await request({ messages: [], tools: [WEATHER], tool_choice: 'none' });
  assert.equal(none.json['tool_choice'], 'NONE');
  const auto = await request({ messages: [], tools: [WEATHER], tool_choice: 'auto' });
  assert.equal('tool_choice' in auto.json, false, 'auto is the absence of tool_choice');
  await assert.rejects(
    cohereProvider.prepareRequest(
      call({ messages: [] }),
      {
        baseUrl: 'https://x',
        credentials: { type: 'vertex', accessToken: 't', projectId: 'p', location: 'l' },
      },
      opts,
    ),
    (e: unknown) =>
      e instanceof RequestMappingError && e.error.reply.code === 'provider_misconfigured',
  );
});

test('cohere: system, images, tool plan and calls, tool results, thinking back, multi-turn', async () => {
  const { json } = await request({
    messages: [
      { role: 'system', content: 'Be terse.' },
      {
        role: 'user',
        content: [
          { type: 'text', text: 'Weather here?' },
          { type: 'image_url', image_url: { url: 'data:image/png;base64,AAAA', detail: 'low' } },
        ],
      },
      {
        role: 'assistant',
        content: 'I will look it up.',
        reasoning_details: [
          { type: 'reasoning.text', text: 'Need a tool.', format: 'cohere-thinking-v1', index: 0 },
        ],
        tool_calls: [
          {
            id: 'get_weather_abc',
            type: 'function',
            function: { name: 'get_weather', arguments: '{"city":"Oslo"}' },
          },
        ],
      },
      { role: 'tool', tool_call_id: 'get_weather_abc', content: 'snow' },
      { role: 'assistant', content: 'It snows.' },
      { role: 'user', content: 'thanks' },
    ],
  });
  assert.deepEqual(json['messages'], [
    { role: 'system', content: 'Be terse.' },
    {
      role: 'user',
      content: [
        { type: 'text', text: 'Weather here?' },
        { type: 'image_url', image_url: { url: 'data:image/png;base64,AAAA', detail: 'low' } },
      ],
    },
    {
      role: 'assistant',
      tool_plan: 'I will look it up.',
      tool_calls: [
        {
          id: 'get_weather_abc',
          type: 'function',
          function: { name: 'get_weather', arguments: '{"city":"Oslo"}' },
        },
      ],
      content: [{ type: 'thinking', thinking: 'Need a tool.' }],
    },
    { role: 'tool', tool_call_id: 'get_weather_abc', content: 'snow' },
    { role: 'assistant', content: 'It snows.' },
    { role: 'user', content: 'thanks' },
  ]);
});

test("cohere: the SDK's text stream at every byte split", () => {
  const text = fixture('stream-text.sse');
  decodeAtEverySplit(cohereProvider, text, (events, cut) => {
    const chunks = chunksOf(events);
    const content = chunks
      .map((c) => ((firstChoice(c)['delta'] as Json | undefined)?.['content'] as string) ?? '')
      .join('');
    assert.equal(
      content,
      'LLMs stand for Large Language Models, which are a type of neural network model specialized in processing and generating human language.',
      `split ${cut}`,
    );
    assert.equal(chunks[0]!['id'], '29f14a5a-11de-4cae-9800-25e4747408ea');
    assert.equal(events.at(-1)!.type, 'done');
  });
  const d = cohereProvider.openStream(call({}, true));
  d.push(new TextEncoder().encode(text));
  assert.deepEqual(d.end(), {
    tokens: { prompt: 71, completion: 26, cachedRead: 0, cacheWrite: 0, reasoning: 0 },
    finishReason: 'stop',
    nativeFinishReason: 'COMPLETE',
    complete: true,
    malformedEvents: 0,
  });
});

test("cohere: the SDK's tool stream: plan as text, calls reassembled exactly with their indexes", () => {
  decodeAtEverySplit(cohereProvider, fixture('stream-tools.sse'), (events) => {
    const chunks = chunksOf(events);
    const calls: Array<{ id: string; name: string; args: string }> = [];
    let plan = '';
    let finish: unknown;
    for (const c of chunks) {
      const ch = firstChoice(c);
      const delta = (ch['delta'] ?? {}) as Json;
      if (typeof delta['content'] === 'string') plan += delta['content'];
      for (const t of (delta['tool_calls'] as Json[] | undefined) ?? []) {
        const i = t['index'] as number;
        const f = t['function'] as Json;
        calls[i] ??= { id: '', name: '', args: '' };
        if (typeof t['id'] === 'string') calls[i]!.id = t['id'];
        if (typeof f['name'] === 'string') calls[i]!.name = f['name'];
        calls[i]!.args += f['arguments'] as string;
      }
      finish = ch['finish_reason'] ?? finish;
    }
    assert.match(plan, /^I will use the query_daily_sales_report tool/);
    assert.deepEqual(calls, [
      {
        id: 'query_daily_sales_report_j3f0adww9pmr',
        name: 'query_daily_sales_report',
        args: '{"day": "2023-09-29"}',
      },
      {
        id: 'query_product_catalog_c66nf11r6s8g',
        name: 'query_product_catalog',
        args: '{"category": "Electronics"}',
      },
    ]);
    assert.equal(finish, 'tool_calls');
  });
});

test('cohere: thinking to reasoning, MAX_TOKENS, cached tokens', () => {
  decodeAtEverySplit(cohereProvider, fixture('stream-thinking.sse'), (events) => {
    const deltas = chunksOf(events).map((c) => (firstChoice(c)['delta'] ?? {}) as Json);
    assert.equal(
      deltas.map((d) => (d['reasoning'] as string) ?? '').join(''),
      'The user asks for 2+2.',
    );
    assert.equal(deltas.map((d) => (d['content'] as string) ?? '').join(''), '2+2 = 4 ✓');
    const details = deltas.flatMap((d) => (d['reasoning_details'] as Json[]) ?? []);
    assert.deepEqual(
      details.map((d) => d['index']),
      [0, 1],
    );
    assert.ok(details.every((d) => d['format'] === 'cohere-thinking-v1'));
  });
  const d = cohereProvider.openStream(call({}, true));
  d.push(new TextEncoder().encode(fixture('stream-thinking.sse')));
  const s = d.end();
  assert.equal(s.finishReason, 'length');
  assert.equal(s.nativeFinishReason, 'MAX_TOKENS');
  assert.deepEqual(s.tokens, {
    prompt: 500,
    completion: 12,
    cachedRead: 448,
    cacheWrite: 0,
    reasoning: 0,
  });
});

test("cohere: the SDK's completions: text, thinking and tool calls", () => {
  const text = cohereProvider.parseCompletion(JSON.parse(fixture('chat-text.json')), call({}));
  const tm = firstChoice(text.completion)['message'] as Json;
  assert.match(tm['content'] as string, /^LLMs stand for Large Language Models/);
  assert.equal(text.finishReason, 'stop');
  assert.deepEqual(text.tokens, {
    prompt: 71,
    completion: 418,
    cachedRead: 0,
    cacheWrite: 0,
    reasoning: 0,
  });
  const tools = cohereProvider.parseCompletion(
    JSON.parse(fixture('chat-tools-thinking.json')),
    call({}),
  );
  const m = firstChoice(tools.completion)['message'] as Json;
  assert.match(m['reasoning'] as string, /^I will first find the sales summary/);
  assert.equal(m['content'], null);
  assert.deepEqual(
    (m['tool_calls'] as Json[]).map((t) => [t['id'], (t['function'] as Json)['arguments']]),
    [
      ['query_daily_sales_report_hgxxmkby3wta', '{"day": "2023-09-29"}'],
      ['query_product_catalog_rpg0z5h8yyz2', '{"category": "Electronics"}'],
    ],
  );
  assert.equal(tools.finishReason, 'tool_calls');
  assert.equal(firstChoice(tools.completion)['native_finish_reason'], 'TOOL_CALL');
  assert.throws(() => cohereProvider.parseCompletion({ nope: 1 }, call({})));
});

test('cohere: errors: statuses, 498, context length, in-stream ERROR, malformed', () => {
  const auth = cohereProvider.mapError(401, fixture('error-401.json'), {});
  assert.equal(auth.reply.code, 'upstream_auth_failed');
  const token = cohereProvider.mapError(498, fixture('error-498.json'), {});
  assert.equal(token.reply.code, 'upstream_auth_failed');
  const limited = cohereProvider.mapError(429, fixture('error-429.json'), { 'retry-after': '4' });
  assert.equal(limited.reply.status, 503);
  assert.equal(limited.reply.retryAfterSec, 4);
  const long = cohereProvider.mapError(400, fixture('error-400-too-many-tokens.json'), {});
  assert.equal(long.reply.code, 'context_length_exceeded');
  const cancelled = cohereProvider.mapError(499, '{"message":"request cancelled"}', {});
  assert.equal(cancelled.reply.retryable, true);
  decodeAtEverySplit(cohereProvider, fixture('stream-error.sse'), (events) => {
    const last = events.at(-1)!;
    assert.equal(last.type, 'error');
    assert.ok(last.type === 'error' && last.error.reply.status >= 500);
  });
  // Data that is not JSON is skipped and counted (the attempt fails only past the tolerance).
  const d = cohereProvider.openStream(call({}, true));
  const bad = d.push(new TextEncoder().encode('event: content-delta\ndata: {not json\n\n'));
  assert.deepEqual(bad, [{ type: 'malformed', event: 1 }]);
  assert.equal(d.end().malformedEvents, 1);
  assert.equal(d.end().complete, false, 'no message-end: cut');
});

test('cohere: garbage amid recorded streams: skipped, counted, the answer whole', () => {
  for (const name of ['stream-text.sse', 'stream-thinking.sse', 'stream-tools.sse'])
    assertSkipsMalformed(
      () => cohereProvider.openStream(call({}, true)),
      sseEvents(fixture(name)),
      new TextEncoder().encode('event: content-delta\ndata: {"type":"content-delta","ind\n\n'),
      { every: 2 },
    );
});
