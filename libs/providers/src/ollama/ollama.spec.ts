import assert from 'node:assert/strict';
import { test } from 'node:test';
import { prepared } from '../openai-compatible/family-testing.js';
import { ollamaProvider } from './ollama.provider.js';

test('ollama: only its supported fields; stream usage must be asked for', async () => {
  const { json, req } = await prepared(
    ollamaProvider,
    { n: 2, logit_bias: { '1': 1 }, top_k: 3, parallel_tool_calls: true, seed: 4 },
    { stream: true },
  );
  assert.deepEqual(req.droppedParameters.sort(), [
    'logit_bias',
    'n',
    'parallel_tool_calls',
    'top_k',
  ]);
  assert.equal(json['seed'], 4);
  assert.deepEqual(json['stream_options'], { include_usage: true });
  const r = await prepared(ollamaProvider, { reasoning: { enabled: false } });
  assert.equal(r.json['reasoning_effort'], 'none');
  assert.equal(ollamaProvider.defaultBaseUrl, 'http://localhost:11434/v1');
});
