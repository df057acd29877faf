import assert from 'node:assert/strict';
import { test } from 'node:test';
import { firstChoice, prepared } from '../openai-compatible/family-testing.js';
import { togetherProvider } from './together.provider.js';

test('together: open-model sampling passes, logprobs become a count, reasoning is switched', async () => {
  const { req, json } = await prepared(togetherProvider, {
    top_k: 40,
    repetition_penalty: 1.1,
    min_p: 0.05,
    top_a: 0.2,
    logprobs: true,
    top_logprobs: 3,
    n: 2,
    reasoning: { effort: 'low' },
  });
  assert.equal(json['top_k'], 40);
  assert.equal(json['repetition_penalty'], 1.1);
  assert.equal(json['min_p'], 0.05);
  assert.equal(json['n'], 2);
  assert.equal(json['logprobs'], 3, "Together's logprobs is the number of top tokens");
  assert.equal('top_logprobs' in json, false);
  assert.deepEqual(json['reasoning'], { enabled: true });
  assert.equal(json['reasoning_effort'], 'low');
  assert.deepEqual(req.droppedParameters, ['top_a']);
  const off = await prepared(togetherProvider, { reasoning: { enabled: false } });
  assert.deepEqual(off.json['reasoning'], { enabled: false });
});

test('together: the reasoning field of an answer gets reasoning_details', () => {
  // A reasoning model's answer (reasoning guide): the thinking in `message.reasoning`.
  const p = togetherProvider.parseCompletion(
    {
      id: 'o1',
      object: 'chat.completion',
      created: 1,
      model: 'deepseek-ai/DeepSeek-R1',
      choices: [
        {
          index: 0,
          message: { role: 'assistant', content: '4', reasoning: '2+2 is 4.' },
          finish_reason: 'stop',
        },
      ],
      usage: { prompt_tokens: 9, completion_tokens: 7, total_tokens: 16 },
    },
    { body: {}, upstreamModel: 'm', stream: false },
  );
  const m = firstChoice(p.completion)['message'] as Record<string, unknown>;
  assert.equal(m['reasoning'], '2+2 is 4.');
  assert.deepEqual(m['reasoning_details'], [
    { type: 'reasoning.text', text: '2+2 is 4.', signature: null, format: 'together', index: 0 },
  ]);
});
