import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  chunksOf,
  decodeAtEverySplit,
  firstChoice,
  prepared,
} from '../openai-compatible/family-testing.js';
import { fireworksProvider } from './fireworks.provider.js';

test('fireworks: top_k and min_p pass, reasoning becomes reasoning_effort', async () => {
  const { json, req } = await prepared(fireworksProvider, {
    top_k: 20,
    min_p: 0.1,
    repetition_penalty: 1.05,
    reasoning: { effort: 'minimal' },
    service_tier: 'flex',
  });
  assert.equal(json['top_k'], 20);
  assert.equal(json['min_p'], 0.1);
  assert.equal(json['repetition_penalty'], 1.05);
  assert.equal(json['reasoning_effort'], 'low');
  assert.deepEqual(req.droppedParameters, ['service_tier']);
  const off = await prepared(fireworksProvider, { reasoning: { enabled: false } });
  assert.equal(off.json['reasoning_effort'], 'none');
});

// Reasoning guide: the thinking streams in `reasoning_content`.
const STREAM =
  [
    'data: {"id":"f1","object":"chat.completion.chunk","created":1,"model":"accounts/fireworks/models/deepseek-r1","choices":[{"index":0,"delta":{"role":"assistant","reasoning_content":"25*37"},"finish_reason":null}]}',
    'data: {"id":"f1","object":"chat.completion.chunk","created":1,"model":"accounts/fireworks/models/deepseek-r1","choices":[{"index":0,"delta":{"content":"925"},"finish_reason":"stop"}],"usage":{"prompt_tokens":10,"completion_tokens":20,"total_tokens":30}}',
    'data: [DONE]',
  ].join('\n\n') + '\n\n';

test('fireworks: reasoning_content becomes reasoning and reasoning_details', () => {
  decodeAtEverySplit(fireworksProvider, STREAM, (events) => {
    const [first, second] = chunksOf(events);
    const delta = firstChoice(first!)['delta'] as Record<string, unknown>;
    assert.equal(delta['reasoning'], '25*37');
    assert.equal('reasoning_content' in delta, false);
    assert.equal((delta['reasoning_details'] as unknown[]).length, 1);
    assert.equal((firstChoice(second!)['delta'] as Record<string, unknown>)['content'], '925');
  });
});
