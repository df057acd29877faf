import assert from 'node:assert/strict';
import { test } from 'node:test';
import { firstChoice, prepared } from '../openai-compatible/family-testing.js';
import { deepseekProvider } from './deepseek.provider.js';

const conn = {
  baseUrl: 'https://api.deepseek.com',
  credentials: { type: 'api_key' as const, apiKey: 'sk-test' },
};

test('deepseek: thinking switch, json_object only, no seed or n', async () => {
  const { json, req } = await prepared(
    deepseekProvider,
    {
      seed: 3,
      n: 2,
      logit_bias: { '1': 1 },
      response_format: { type: 'json_schema', json_schema: { name: 'x', schema: {} } },
      reasoning: { effort: 'low' },
    },
    { connection: conn },
  );
  assert.equal(req.url, 'https://api.deepseek.com/chat/completions');
  assert.deepEqual(req.droppedParameters.sort(), ['logit_bias', 'n', 'seed']);
  assert.deepEqual(json['response_format'], { type: 'json_object' });
  assert.deepEqual(json['thinking'], { type: 'enabled' });
  assert.equal(json['reasoning_effort'], 'high', 'low and medium mean high');
  const off = await prepared(deepseekProvider, { reasoning: { enabled: false } });
  assert.deepEqual(off.json['thinking'], { type: 'disabled' });
});

test('deepseek: prefill is prefix completion at the beta base; thinking goes back', async () => {
  const { json, req } = await prepared(
    deepseekProvider,
    {
      messages: [
        { role: 'user', content: 'weather?' },
        {
          role: 'assistant',
          content: null,
          reasoning: 'I need the tool.',
          tool_calls: [{ id: 'c1', type: 'function', function: { name: 'w', arguments: '{}' } }],
        },
        { role: 'tool', tool_call_id: 'c1', content: 'sunny' },
        { role: 'assistant', content: '```python\n' },
      ],
    },
    { connection: conn },
  );
  assert.equal(req.url, 'https://api.deepseek.com/beta/chat/completions');
  const messages = json['messages'] as Array<Record<string, unknown>>;
  assert.equal(messages[1]!['reasoning_content'], 'I need the tool.');
  assert.equal('reasoning' in messages[1]!, false);
  assert.equal(messages[3]!['prefix'], true);
  const v1 = await prepared(
    deepseekProvider,
    {
      messages: [
        { role: 'user', content: 'x' },
        { role: 'assistant', content: 'y' },
      ],
    },
    { connection: { ...conn, baseUrl: 'https://api.deepseek.com/v1' } },
  );
  assert.equal(v1.req.url, 'https://api.deepseek.com/beta/chat/completions');
});

test('deepseek: cache hits are cached reads; reasoning_content is reasoning', () => {
  // Context caching guide: `prompt_cache_hit_tokens` + `prompt_cache_miss_tokens`.
  const p = deepseekProvider.parseCompletion(
    {
      id: 'd1',
      object: 'chat.completion',
      created: 1,
      model: 'deepseek-reasoner',
      choices: [
        {
          index: 0,
          message: { role: 'assistant', content: 'ok', reasoning_content: 'hmm' },
          finish_reason: 'insufficient_system_resource',
        },
      ],
      usage: {
        prompt_tokens: 100,
        completion_tokens: 20,
        total_tokens: 120,
        prompt_cache_hit_tokens: 64,
        prompt_cache_miss_tokens: 36,
        completion_tokens_details: { reasoning_tokens: 12 },
      },
    },
    { body: {}, upstreamModel: 'm', stream: false },
  );
  assert.deepEqual(p.tokens, {
    prompt: 100,
    completion: 20,
    cachedRead: 64,
    cacheWrite: 0,
    reasoning: 12,
  });
  assert.equal(p.finishReason, 'error');
  assert.equal(p.nativeFinishReason, 'insufficient_system_resource');
  const m = firstChoice(p.completion)['message'] as Record<string, unknown>;
  assert.equal(m['reasoning'], 'hmm');
});
