import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  chunksOf,
  decodeAtEverySplit,
  firstChoice,
  prepared,
} from '../openai-compatible/family-testing.js';
import { groqProvider } from './groq.provider.js';

test('groq: refused OpenAI fields are dropped, names removed, reasoning is parsed', async () => {
  const { req, json } = await prepared(groqProvider, {
    messages: [{ role: 'user', name: 'ann', content: 'hi' }],
    logprobs: true,
    top_logprobs: 2,
    logit_bias: { '1': 2 },
    n: 2,
    temperature: 0.5,
    max_completion_tokens: 100,
    reasoning: { effort: 'high' },
  });
  assert.deepEqual(req.droppedParameters.sort(), ['logit_bias', 'logprobs', 'n', 'top_logprobs']);
  assert.equal('logprobs' in json || 'logit_bias' in json || 'n' in json, false);
  assert.deepEqual(json['messages'], [{ role: 'user', content: 'hi' }]);
  assert.equal(json['max_tokens'], 100);
  assert.equal(json['reasoning_format'], 'parsed');
  assert.equal(json['reasoning_effort'], 'high');
  assert.equal('reasoning' in json, false);
  const hidden = await prepared(groqProvider, { reasoning: { exclude: true } });
  assert.equal(hidden.json['reasoning_format'], 'hidden');
  const off = await prepared(groqProvider, { reasoning_effort: 'none' });
  assert.equal(off.json['reasoning_effort'], 'none');
  assert.equal('reasoning_format' in off.json, false);
});

// Groq's stream: usage in the last chunk's `x_groq.usage` (API reference, chat create).
const STREAM = [
  'data: {"id":"chatcmpl-1","object":"chat.completion.chunk","created":1,"model":"openai/gpt-oss-20b","choices":[{"index":0,"delta":{"role":"assistant","content":""},"finish_reason":null}],"x_groq":{"id":"req_01"}}',
  'data: {"id":"chatcmpl-1","object":"chat.completion.chunk","created":1,"model":"openai/gpt-oss-20b","choices":[{"index":0,"delta":{"reasoning":"Think."},"finish_reason":null}]}',
  'data: {"id":"chatcmpl-1","object":"chat.completion.chunk","created":1,"model":"openai/gpt-oss-20b","choices":[{"index":0,"delta":{"content":"Hi"},"finish_reason":null}]}',
  'data: {"id":"chatcmpl-1","object":"chat.completion.chunk","created":1,"model":"openai/gpt-oss-20b","choices":[{"index":0,"delta":{},"finish_reason":"stop"}],"x_groq":{"id":"req_01","usage":{"queue_time":0.01,"prompt_tokens":12,"prompt_time":0.001,"completion_tokens":3,"completion_time":0.002,"total_tokens":15,"total_time":0.003}}}',
  'data: [DONE]',
  '',
].join('\n\n');

test('groq: x_groq.usage becomes the usage, reasoning gets reasoning_details', () => {
  decodeAtEverySplit(groqProvider, STREAM, (events, cut) => {
    const chunks = chunksOf(events);
    assert.equal(chunks.length, 4, `split ${cut}`);
    const delta = firstChoice(chunks[1]!)['delta'] as Record<string, unknown>;
    assert.equal(delta['reasoning'], 'Think.');
    assert.deepEqual(delta['reasoning_details'], [
      { type: 'reasoning.text', text: 'Think.', signature: null, format: 'groq', index: 0 },
    ]);
    const usage = chunks[3]!['usage'] as Record<string, unknown>;
    assert.equal(usage['prompt_tokens'], 12);
    assert.equal(usage['completion_tokens'], 3);
    assert.equal(events.at(-1)!.type, 'done');
  });
  const d = groqProvider.openStream();
  d.push(new TextEncoder().encode(STREAM));
  assert.deepEqual(d.end().tokens, {
    prompt: 12,
    completion: 3,
    cachedRead: 0,
    cacheWrite: 0,
    reasoning: 0,
  });
});
