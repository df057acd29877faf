import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import type { ProviderConnection } from '@turnpike/contracts';
import { assertSkipsMalformed, sseEvents } from '../core/decoder-testing.js';
import type { Json } from '../core/json.js';
import { chunksOf, decodeAtEverySplit, firstChoice } from '../openai-compatible/family-testing.js';
import { mistralProvider } from './mistral.provider.js';
import { mistralToolCallId } from './mistral.request.js';

const fixture = (name: string): string =>
  readFileSync(new URL(`../../src/mistral/fixtures/${name}`, import.meta.url), 'utf8');
const conn: ProviderConnection = {
  baseUrl: 'https://api.mistral.ai/',
  credentials: { type: 'api_key', apiKey: 'mistral-key-0123456789' },
};
const opts = { requireParameters: false, now: new Date() };

async function request(body: Json, stream = false) {
  const req = await mistralProvider.prepareRequest(
    { body, upstreamModel: 'mistral-large-latest', stream },
    conn,
    opts,
  );
  return { req, json: JSON.parse(req.body) as Json };
}

test('mistral: every parameter of the map, by its Mistral name', async () => {
  const schema = { type: 'object', properties: { a: { type: 'string' } } };
  const { req, json } = await request(
    {
      messages: [{ role: 'user', content: 'hi' }],
      max_completion_tokens: 50,
      temperature: 0.4,
      top_p: 0.9,
      stop: 'END',
      seed: 42,
      presence_penalty: 0.1,
      frequency_penalty: 0.2,
      n: 2,
      tools: [{ type: 'function', function: { name: 'f', description: 'd', parameters: schema } }],
      tool_choice: 'required',
      parallel_tool_calls: false,
      response_format: { type: 'json_schema', json_schema: { name: 'r', schema, strict: true } },
      prediction: { type: 'content', content: 'x' },
      reasoning: { effort: 'high' },
      safe_prompt: true,
      logprobs: true,
      logit_bias: { '1': 1 },
      user: 'u1',
      stream_options: { include_usage: true },
    },
    true,
  );
  assert.equal(req.url, 'https://api.mistral.ai/v1/chat/completions');
  assert.equal(req.headers['authorization'], 'Bearer mistral-key-0123456789');
  assert.deepEqual(json, {
    model: 'mistral-large-latest',
    messages: [{ role: 'user', content: 'hi' }],
    stream: true,
    safe_prompt: true,
    max_tokens: 50,
    temperature: 0.4,
    top_p: 0.9,
    stop: ['END'],
    random_seed: 42,
    presence_penalty: 0.1,
    frequency_penalty: 0.2,
    n: 2,
    tools: [{ type: 'function', function: { name: 'f', description: 'd', parameters: schema } }],
    tool_choice: 'any',
    parallel_tool_calls: false,
    response_format: { type: 'json_schema', json_schema: { name: 'r', schema, strict: true } },
    prediction: { type: 'content', content: 'x' },
    reasoning_effort: 'high',
  });
  // `user` and `stream_options` are not routed parameters: simply not sent (see the body above).
  assert.deepEqual(req.droppedParameters.sort(), ['logit_bias', 'logprobs']);
  const named = await request({
    messages: [{ role: 'user', content: 'x' }],
    tools: [{ type: 'function', function: { name: 'f' } }],
    tool_choice: { type: 'function', function: { name: 'f' } },
    response_format: { type: 'json_object' },
    reasoning: { enabled: false },
  });
  assert.deepEqual(named.json['tool_choice'], { type: 'function', function: { name: 'f' } });
  assert.deepEqual(named.json['response_format'], { type: 'json_object' });
  assert.equal(named.json['reasoning_effort'], 'none');
});

test('mistral: system, images, tool calls with 9-character ids, results, prefill, thinking back', async () => {
  const { json } = await request({
    messages: [
      { role: 'system', content: 'Be terse.' },
      { role: 'developer', content: 'Use metric.' },
      {
        role: 'user',
        content: [
          { type: 'text', text: 'What is this?' },
          { type: 'image_url', image_url: { url: 'data:image/png;base64,AAAA' } },
          { type: 'image_url', image_url: { url: 'https://example.com/a.png' } },
        ],
      },
      {
        role: 'assistant',
        content: null,
        reasoning_details: [
          { type: 'reasoning.text', text: 'Look first.', format: 'mistral-thinking-v1', index: 0 },
          { type: 'reasoning.text', text: 'Not ours.', format: 'anthropic-claude-v1', index: 1 },
        ],
        tool_calls: [
          { id: 'call_abc123', type: 'function', function: { name: 'look', arguments: '{}' } },
          { id: 'D681PevKs', type: 'function', function: { name: 'look', arguments: '{"a":1}' } },
        ],
      },
      { role: 'tool', tool_call_id: 'call_abc123', content: 'a cat' },
      { role: 'tool', tool_call_id: 'D681PevKs', content: 'a dog' },
      { role: 'assistant', content: 'It is' },
    ],
  });
  const id = mistralToolCallId('call_abc123');
  assert.match(id, /^[A-Za-z0-9]{9}$/);
  assert.equal(mistralToolCallId('call_abc123'), id, 'the same id both times');
  assert.deepEqual(json['messages'], [
    { role: 'system', content: 'Be terse.\n\nUse metric.' },
    {
      role: 'user',
      content: [
        { type: 'text', text: 'What is this?' },
        { type: 'image_url', image_url: 'data:image/png;base64,AAAA' },
        { type: 'image_url', image_url: 'https://example.com/a.png' },
      ],
    },
    {
      role: 'assistant',
      content: [{ type: 'thinking', thinking: [{ type: 'text', text: 'Look first.' }] }],
      tool_calls: [
        { id, type: 'function', function: { name: 'look', arguments: '{}' } },
        { id: 'D681PevKs', type: 'function', function: { name: 'look', arguments: '{"a":1}' } },
      ],
    },
    { role: 'tool', tool_call_id: id, content: 'a cat' },
    { role: 'tool', tool_call_id: 'D681PevKs', content: 'a dog' },
    { role: 'assistant', content: 'It is', prefix: true },
  ]);
});

test('mistral: the Magistral stream at every byte split: thinking, text, usage with cache reads', () => {
  decodeAtEverySplit(mistralProvider, fixture('stream-magistral.sse'), (events, cut) => {
    const chunks = chunksOf(events);
    const deltas = chunks.map((c) => (firstChoice(c)['delta'] ?? {}) as Json);
    const reasoning = deltas.map((d) => (d['reasoning'] as string) ?? '').join('');
    const text = deltas.map((d) => (d['content'] as string) ?? '').join('');
    assert.equal(reasoning, '好的，2+2=4.', `split ${cut}`);
    assert.equal(text, 'The answer is 4.');
    const details = deltas.flatMap((d) => (d['reasoning_details'] as Json[]) ?? []);
    assert.deepEqual(
      details.map((d) => [d['type'], d['format'], d['index']]),
      [
        ['reasoning.text', 'mistral-thinking-v1', 0],
        ['reasoning.text', 'mistral-thinking-v1', 1],
      ],
    );
    const usage = chunks.at(-1)!['usage'] as Json;
    assert.equal(usage['prompt_tokens'], 10);
    assert.equal(events.at(-1)!.type, 'done');
  });
  const d = mistralProvider.openStream({ body: {}, upstreamModel: 'm', stream: true });
  d.push(new TextEncoder().encode(fixture('stream-magistral.sse')));
  assert.deepEqual(d.end(), {
    tokens: { prompt: 10, completion: 25, cachedRead: 3, cacheWrite: 0, reasoning: 0 },
    finishReason: 'stop',
    nativeFinishReason: 'stop',
    complete: true,
    malformedEvents: 0,
  });
});

test('mistral: whole tool calls in one delta get their own indexes and ids', () => {
  decodeAtEverySplit(mistralProvider, fixture('stream-tool-calls.sse'), (events) => {
    const calls = chunksOf(events).flatMap(
      (c) => ((firstChoice(c)['delta'] as Json | undefined)?.['tool_calls'] as Json[]) ?? [],
    );
    assert.deepEqual(
      calls.map((t) => [t['index'], t['id'], (t['function'] as Json)['arguments']]),
      [
        [0, 'D681PevKs', '{"city": "Hamburg"}'],
        [1, 'a9Xk2mP0q', '{"zone": "CET"}'],
      ],
    );
    const fin = chunksOf(events).find((c) => firstChoice(c)['finish_reason']);
    assert.equal(firstChoice(fin!)['finish_reason'], 'tool_calls');
  });
});

test('mistral: completions: thinking chunks, model_length, object arguments, usage', () => {
  const thinking = mistralProvider.parseCompletion(
    JSON.parse(fixture('completion-thinking.json')),
    {
      body: {},
      upstreamModel: 'm',
      stream: false,
    },
  );
  const m = firstChoice(thinking.completion)['message'] as Json;
  assert.equal(m['content'], '最终答案');
  assert.equal(m['reasoning'], '先分析，再作答');
  assert.equal(thinking.finishReason, 'length');
  assert.equal(thinking.nativeFinishReason, 'model_length');
  assert.equal(firstChoice(thinking.completion)['native_finish_reason'], 'model_length');
  assert.equal(thinking.tokens.cachedRead, 5);
  const tools = mistralProvider.parseCompletion(JSON.parse(fixture('completion-tools.json')), {
    body: {},
    upstreamModel: 'm',
    stream: false,
  });
  const tm = firstChoice(tools.completion)['message'] as Json;
  assert.equal(tm['content'], null);
  assert.deepEqual(
    (tm['tool_calls'] as Json[]).map((t) => (t['function'] as Json)['arguments']),
    ['{"city":"Hamburg"}', '{"city":"Paris"}'],
  );
  assert.equal(tools.finishReason, 'tool_calls');
  const silent = mistralProvider.parseCompletion(
    {
      id: 'x',
      choices: [{ index: 0, message: { content: 'a' }, finish_reason: 'stop' }],
      usage: {},
    },
    { body: {}, upstreamModel: 'm', stream: false },
  );
  assert.equal(silent.usageReported, false);
  assert.throws(() =>
    mistralProvider.parseCompletion({ nope: 1 }, { body: {}, upstreamModel: 'm', stream: false }),
  );
});

test('mistral: errors: statuses, bodies, context length, invalid model, in-stream error', () => {
  const limited = mistralProvider.mapError(429, fixture('error-429.json'), { 'retry-after': '2' });
  assert.equal(limited.reply.status, 503);
  assert.equal(limited.reply.retryAfterSec, 2);
  assert.equal(limited.detail.providerCode, '1300');
  const auth = mistralProvider.mapError(401, fixture('error-401.json'), {});
  assert.equal(auth.reply.code, 'upstream_auth_failed');
  const invalid = mistralProvider.mapError(422, fixture('error-422.json'), {});
  assert.equal(invalid.reply.status, 400);
  assert.match(invalid.reply.message, /body\.messages: Field required/);
  const long = mistralProvider.mapError(400, fixture('error-400-context.json'), {});
  assert.equal(long.reply.code, 'context_length_exceeded');
  const model = mistralProvider.mapError(400, fixture('error-400-invalid-model.json'), {});
  assert.equal(model.reply.code, 'upstream_model_not_found');
  assert.equal(model.reply.retryable, true);
  const failing =
    'data: {"id":"x","object":"chat.completion.chunk","created":1,"model":"m","choices":[{"index":0,"delta":{"content":"a"},"finish_reason":null}]}\n\n' +
    'data: {"id":"x","object":"chat.completion.chunk","created":1,"model":"m","choices":[{"index":0,"delta":{"content":""},"finish_reason":"error"}]}\n\n';
  decodeAtEverySplit(mistralProvider, failing, (events) => {
    assert.equal(events.at(-1)!.type, 'error');
    assert.equal(chunksOf(events).filter((c) => firstChoice(c)['finish_reason']).length, 0);
  });
  // Data that is not JSON is skipped and counted (the attempt fails only past the tolerance).
  const d = mistralProvider.openStream({ body: {}, upstreamModel: 'm', stream: true });
  const bad = d.push(new TextEncoder().encode('data: {oops\n\n'));
  assert.deepEqual(bad, [{ type: 'malformed', event: 1 }]);
  assert.equal(d.end().malformedEvents, 1);
  assert.equal(d.end().complete, false);
});

test('mistral: garbage amid recorded streams: skipped, counted, the answer whole', () => {
  for (const name of ['stream-magistral.sse', 'stream-tool-calls.sse'])
    assertSkipsMalformed(
      () => mistralProvider.openStream({ body: {}, upstreamModel: 'm', stream: true }),
      sseEvents(fixture(name)),
      new TextEncoder().encode('data: {"id":"x","object":"chat.completion.chunk","cho\n\n'),
      { every: 1 },
    );
});
