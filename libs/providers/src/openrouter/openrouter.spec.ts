import assert from 'node:assert/strict';
import { test } from 'node:test';
import { chunksOf, decodeAtEverySplit, prepared } from '../openai-compatible/family-testing.js';
import { openrouterProvider } from './openrouter.provider.js';

test('openrouter: which routing fields reach it, usage is always included', async () => {
  const { json } = await prepared(
    openrouterProvider,
    {
      models: ['anthropic/claude-sonnet-4.5', 'openai/gpt-4o'],
      route: 'fallback',
      provider: { order: ['our-provider'], only: ['x'], data_collection: 'deny', sort: 'price' },
      transforms: ['middle-out'],
      plugins: [{ id: 'web' }],
      reasoning: { effort: 'high', exclude: false },
      top_a: 0.1,
    },
    { model: 'anthropic/claude-sonnet-4.5' },
  );
  assert.equal(json['model'], 'anthropic/claude-sonnet-4.5');
  assert.equal('models' in json || 'route' in json || 'plugins' in json, false);
  assert.deepEqual(json['provider'], { data_collection: 'deny', sort: 'price' });
  assert.deepEqual(json['transforms'], ['middle-out']);
  assert.deepEqual(json['usage'], { include: true });
  assert.deepEqual(json['reasoning'], { effort: 'high', exclude: false });
  assert.equal(json['top_a'], 0.1);
  const plain = await prepared(openrouterProvider, { provider: { order: ['a'] } });
  assert.equal('provider' in plain.json, false);
});

test('openrouter: reasoning_details pass untouched; an in-stream error is an error event', () => {
  const detail = {
    type: 'reasoning.text',
    text: 'Hm.',
    signature: 'sig',
    format: 'anthropic-claude-v1',
    index: 0,
  };
  const stream =
    [
      ': OPENROUTER PROCESSING',
      `data: ${JSON.stringify({ id: 'gen-1', object: 'chat.completion.chunk', created: 1, model: 'm', choices: [{ index: 0, delta: { role: 'assistant', reasoning: 'Hm.', reasoning_details: [detail] }, finish_reason: null }] })}`,
      'data: {"id":"gen-1","object":"chat.completion.chunk","created":1,"model":"m","error":{"code":502,"message":"Provider returned error"},"choices":[{"index":0,"delta":{"content":""},"finish_reason":"error"}]}',
    ].join('\n\n') + '\n\n';
  decodeAtEverySplit(openrouterProvider, stream, (events) => {
    const [c] = chunksOf(events);
    const delta = (c!['choices'] as Array<Record<string, unknown>>)[0]!['delta'] as Record<
      string,
      unknown
    >;
    assert.deepEqual(delta['reasoning_details'], [detail]);
    const err = events.at(-1)!;
    assert.ok(err.type === 'error');
    assert.equal(err.error.reply.upstreamStatus, 502);
  });
});
