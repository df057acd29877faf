import assert from 'node:assert/strict';
import { test } from 'node:test';
import { prepared } from '../openai-compatible/family-testing.js';
import { vllmProvider } from './vllm.provider.js';

test('vllm: extra sampling passes, thinking via chat_template_kwargs, prefill continues', async () => {
  const { json } = await prepared(vllmProvider, {
    messages: [
      { role: 'user', content: 'Count' },
      { role: 'assistant', content: 'one, two,' },
    ],
    top_k: 5,
    min_p: 0.1,
    repetition_penalty: 1.2,
    chat_template_kwargs: { custom: 1 },
    reasoning: { enabled: true },
  });
  assert.equal(json['top_k'], 5);
  assert.equal(json['min_p'], 0.1);
  assert.equal(json['repetition_penalty'], 1.2);
  assert.deepEqual(json['chat_template_kwargs'], { custom: 1, enable_thinking: true });
  assert.equal(json['continue_final_message'], true);
  assert.equal(json['add_generation_prompt'], false);
  const plain = await prepared(vllmProvider, {});
  assert.equal('continue_final_message' in plain.json, false);
  assert.equal(vllmProvider.defaultBaseUrl, 'http://localhost:8000/v1');
});
