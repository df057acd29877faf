import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { ProviderConnection } from '@turnpike/contracts';
import { assertSkipsMalformed, sseEvents } from '../core/decoder-testing.js';
import type { Json } from '../core/json.js';
import { openaiProvider } from '../openai/openai.provider.js';
import { RequestMappingError } from '../core/param-map.js';
import { OpenAICompatibleAdapter, passThrough } from './openai-compatible.adapter.js';

const conn: ProviderConnection = {
  baseUrl: 'http://127.0.0.1:9/v1/',
  credentials: { type: 'api_key', apiKey: 'sk-test' },
  headers: { 'openai-organization': 'org-1' },
};
const opts = { requireParameters: false, now: new Date() };
const enc = new TextEncoder();
const choice = (j: Json): Json => (j['choices'] as Json[])[0]!;

test('OpenAI: fields pass through, gateway-only fields never leave, usage is always asked for', async () => {
  const req = await openaiProvider.prepareRequest(
    {
      body: {
        model: 'openai/gpt-4o',
        models: ['x/y'],
        provider: { sort: 'price' },
        messages: [{ role: 'user', content: 'hi' }],
        temperature: 0.3,
        some_future_field: { a: 1 },
        stream_options: { include_obfuscation: false },
        tools: [{ type: 'openrouter:web_search' }],
      },
      upstreamModel: 'gpt-4o',
      stream: true,
    },
    conn,
    opts,
  );
  assert.equal(req.url, 'http://127.0.0.1:9/v1/chat/completions');
  assert.equal(req.headers['authorization'], 'Bearer sk-test');
  assert.equal(req.headers['openai-organization'], 'org-1');
  const body = JSON.parse(req.body);
  assert.equal(body.model, 'gpt-4o');
  assert.equal(body.stream, true);
  assert.equal(body.temperature, 0.3);
  assert.deepEqual(body.some_future_field, { a: 1 });
  assert.deepEqual(body.stream_options, { include_obfuscation: false, include_usage: true });
  assert.equal('models' in body || 'provider' in body || 'tools' in body, false);
  assert.deepEqual(req.droppedParameters, []);
});

test('a restricted compatible provider drops what it does not take, or refuses it', async () => {
  const small = new OpenAICompatibleAdapter({
    kind: 'tiny',
    defaultBaseUrl: 'https://tiny.example/v1',
    capabilities: { ...openaiProvider.capabilities },
    params: passThrough('temperature', 'max_tokens'),
    streamOptions: false,
  });
  const call = {
    body: { messages: [], temperature: 1, logit_bias: { '5': 1 }, seed: 2 },
    upstreamModel: 't',
    stream: true,
  };
  const req = await small.prepareRequest(call, conn, opts);
  const body = JSON.parse(req.body);
  assert.deepEqual(req.droppedParameters.sort(), ['logit_bias', 'seed']);
  assert.equal('logit_bias' in body || 'seed' in body || 'stream_options' in body, false);
  await assert.rejects(
    small.prepareRequest(call, conn, { ...opts, requireParameters: true }),
    /does not support/,
  );
  assert.deepEqual(small.capabilities.parameters, ['max_tokens', 'temperature']);
});

test('credentials of the wrong type are a configuration error', async () => {
  await assert.rejects(
    openaiProvider.prepareRequest(
      { body: { messages: [] }, upstreamModel: 'm', stream: false },
      {
        baseUrl: 'http://x',
        credentials: { type: 'aws', accessKeyId: 'a', secretAccessKey: 'b', region: 'us-east-1' },
      },
      opts,
    ),
    (e: unknown) =>
      e instanceof RequestMappingError &&
      e.error.reply.code === 'provider_misconfigured' &&
      e.error.reply.status === 502 &&
      /cannot use 'aws' credentials/.test(e.error.detail.providerMessage ?? '') &&
      !/aws/.test(e.error.reply.message),
  );
});

const STREAM =
  [
    'data: {"id":"c1","object":"chat.completion.chunk","created":1,"model":"m","choices":[{"index":0,"delta":{"role":"assistant","content":""},"finish_reason":null}]}',
    ': keep-alive',
    'data: {"id":"c1","object":"chat.completion.chunk","created":1,"model":"m","choices":[{"index":0,"delta":{"reasoning_content":"think"},"finish_reason":null}]}',
    'data: {"id":"c1","object":"chat.completion.chunk","created":1,"model":"m","choices":[{"index":0,"delta":{"content":"Hé"},"finish_reason":null}]}',
    'data: {"id":"c1","object":"chat.completion.chunk","created":1,"model":"m","choices":[{"index":0,"delta":{},"finish_reason":"eos"}]}',
    'data: {"id":"c1","object":"chat.completion.chunk","created":1,"model":"m","choices":[],"usage":{"prompt_tokens":9,"completion_tokens":3,"total_tokens":12,"prompt_tokens_details":{"cached_tokens":4}}}',
    'data: [DONE]',
  ].join('\n\n') + '\n\n';

test('the stream decoder: any byte split, reasoning_content, finish map, usage, [DONE]', () => {
  const bytes = enc.encode(STREAM);
  const vendor = new OpenAICompatibleAdapter({
    kind: 'v',
    defaultBaseUrl: 'https://v.example/v1',
    capabilities: { ...openaiProvider.capabilities },
    params: [],
    finishReasons: { eos: 'stop' },
  });
  for (const cut of [1, 17, 100, 333, bytes.length - 3]) {
    const d = vendor.openStream();
    const events = [...d.push(bytes.subarray(0, cut)), ...d.push(bytes.subarray(cut))];
    const chunks = events.filter((e) => e.type === 'chunk');
    assert.equal(chunks.length, 5, `cut ${cut}`);
    assert.deepEqual(
      chunks.map((c) => c.type === 'chunk' && c.hasOutput),
      [false, true, true, false, false],
    );
    const reasoning = chunks[1]!.type === 'chunk' ? choice(chunks[1]!.chunk)['delta'] : null;
    assert.deepEqual(reasoning, {
      reasoning: 'think',
      reasoning_details: [
        { type: 'reasoning.text', text: 'think', signature: null, format: 'unknown', index: 0 },
      ],
    });
    const fin = chunks[3]!.type === 'chunk' ? choice(chunks[3]!.chunk) : {};
    assert.equal(fin['finish_reason'], 'stop');
    assert.equal(fin['native_finish_reason'], 'eos');
    assert.equal(events.at(-1)!.type, 'done');
    const s = d.end();
    assert.deepEqual(s.tokens, {
      prompt: 9,
      completion: 3,
      cachedRead: 4,
      cacheWrite: 0,
      reasoning: 0,
    });
    assert.equal(s.finishReason, 'stop');
    assert.equal(s.nativeFinishReason, 'eos');
    assert.equal(s.complete, true);
  }
});

test('a stream cut before any finish is incomplete; an in-stream error is an error event; data that is not JSON is skipped', () => {
  const d = openaiProvider.openStream();
  d.push(enc.encode(STREAM.split('\n\n').slice(0, 4).join('\n\n') + '\n\n'));
  assert.equal(d.end().complete, false);
  const e = openaiProvider.openStream();
  const [ev] = e.push(
    enc.encode('data: {"error":{"message":"overloaded","code":"server_error"}}\n\n'),
  );
  assert.equal(ev!.type, 'error');
  // Data that is not JSON is skipped and counted (the attempt fails only past the tolerance).
  const m = openaiProvider.openStream();
  assert.deepEqual(m.push(enc.encode('data: {not json\n\n')), [{ type: 'malformed', event: 1 }]);
  assert.equal(m.end().malformedEvents, 1);
});

test('malformed events amid a real stream: skipped, counted, the answer whole', () => {
  assertSkipsMalformed(
    () => openaiProvider.openStream(),
    sseEvents(STREAM),
    enc.encode('data: {"id":"c1","object":"chat.completion.chunk","choi\n\n'),
    { every: 2 },
  );
});

test('parseCompletion: usage, reasoning_content, silent upstream', () => {
  const p = openaiProvider.parseCompletion(
    {
      id: 'c',
      object: 'chat.completion',
      choices: [
        {
          index: 0,
          message: { role: 'assistant', content: 'x', reasoning_content: 'r' },
          finish_reason: 'length',
        },
      ],
      usage: { prompt_tokens: 5, completion_tokens: 1, total_tokens: 6 },
    },
    { body: {}, upstreamModel: 'm', stream: false },
  );
  assert.equal(p.usageReported, true);
  assert.equal(p.finishReason, 'length');
  assert.equal((choice(p.completion)['message'] as Json)['reasoning'], 'r');
  assert.deepEqual((choice(p.completion)['message'] as Json)['reasoning_details'], [
    { type: 'reasoning.text', text: 'r', signature: null, format: 'unknown', index: 0 },
  ]);
  const silent = openaiProvider.parseCompletion(
    {
      choices: [{ index: 0, message: { role: 'assistant', content: 'x' }, finish_reason: 'stop' }],
    },
    { body: {}, upstreamModel: 'm', stream: false },
  );
  assert.equal(silent.usageReported, false);
  assert.throws(() =>
    openaiProvider.parseCompletion({ nope: 1 }, { body: {}, upstreamModel: 'm', stream: false }),
  );
});
