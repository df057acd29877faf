import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  emptyUsage,
  type ChatCompletion,
  type ChatCompletionChunk,
  type CompletionUsage,
} from './chat-response.js';
import { loadSpec } from './spec-support.js';

const usage: CompletionUsage = {
  prompt_tokens: 1117,
  completion_tokens: 46,
  total_tokens: 1163,
  prompt_tokens_details: { cached_tokens: 1024, audio_tokens: 0, cache_write_tokens: 0 },
  completion_tokens_details: {
    reasoning_tokens: 10,
    audio_tokens: 0,
    accepted_prediction_tokens: 0,
    rejected_prediction_tokens: 0,
  },
  cost: 0.00123,
  is_byok: false,
};

const completion: ChatCompletion = {
  id: 'chatcmpl-123',
  object: 'chat.completion',
  created: 1741570283,
  model: 'gpt-4o-2024-08-06',
  choices: [
    {
      index: 0,
      message: { role: 'assistant', content: 'Paris.', refusal: null, annotations: [] },
      logprobs: null,
      finish_reason: 'stop',
    },
    {
      index: 1,
      message: {
        role: 'assistant',
        content: null,
        refusal: null,
        tool_calls: [
          {
            id: 'call_1',
            type: 'function',
            function: { name: 'get_weather', arguments: '{"city":"Paris"}' },
          },
          { id: 'call_2', type: 'custom', custom: { name: 'sql', input: 'SELECT 1' } },
        ],
      },
      logprobs: {
        content: [
          {
            token: 'Hi',
            logprob: -0.1,
            bytes: [72, 105],
            top_logprobs: [{ token: 'Hi', logprob: -0.1, bytes: null }],
          },
        ],
        refusal: null,
      },
      finish_reason: 'tool_calls',
    },
  ],
  usage,
  service_tier: 'default',
  system_fingerprint: 'fp_1',
  provider: 'OpenAI',
};

const chunks: ChatCompletionChunk[] = [
  {
    id: 'chatcmpl-123',
    object: 'chat.completion.chunk',
    created: 1741570283,
    model: 'gpt-4o',
    choices: [
      { index: 0, delta: { role: 'assistant', content: '' }, finish_reason: null, logprobs: null },
    ],
    usage: null,
  },
  {
    id: 'chatcmpl-123',
    object: 'chat.completion.chunk',
    created: 1741570283,
    model: 'gpt-4o',
    choices: [
      {
        index: 0,
        delta: {
          tool_calls: [
            { index: 0, id: 'call_1', type: 'function', function: { name: 'f', arguments: '' } },
          ],
        },
        finish_reason: null,
      },
    ],
    obfuscation: 'abc',
  },
  {
    id: 'chatcmpl-123',
    object: 'chat.completion.chunk',
    created: 1741570283,
    model: 'gpt-4o',
    choices: [{ index: 0, delta: {}, finish_reason: 'stop' }],
  },
  {
    id: 'chatcmpl-123',
    object: 'chat.completion.chunk',
    created: 1741570283,
    model: 'gpt-4o',
    choices: [],
    usage,
  },
];

describe('response types match the OpenAI spec', () => {
  const spec = loadSpec('openai-openapi.yaml');

  test('ChatCompletion ⊨ CreateChatCompletionResponse', () => {
    assert.deepEqual(spec.validate('CreateChatCompletionResponse', completion), []);
  });

  chunks.forEach((chunk, i) => {
    test(`ChatCompletionChunk #${i} ⊨ CreateChatCompletionStreamResponse`, () => {
      assert.deepEqual(spec.validate('CreateChatCompletionStreamResponse', chunk), []);
    });
  });

  test('emptyUsage ⊨ CompletionUsage, and is fresh each time', () => {
    const u = emptyUsage();
    assert.deepEqual(u, { prompt_tokens: 0, completion_tokens: 0, total_tokens: 0 });
    assert.deepEqual(spec.validate('CompletionUsage', u), []);
    u.prompt_tokens = 5;
    assert.equal(emptyUsage().prompt_tokens, 0);
  });

  test('the validator catches a wrong response', () => {
    const bad = {
      ...completion,
      choices: [{ index: 0, message: { role: 'assistant', content: 'x' }, finish_reason: 'done' }],
    };
    assert.notDeepEqual(spec.validate('CreateChatCompletionResponse', bad), []);
  });
});
