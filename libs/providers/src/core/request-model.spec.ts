import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseDataUrl, prefillOf, readChatRequest } from './request-model.js';

test('system and developer messages collect in order; turns keep roles, parts, tool calls', () => {
  const m = readChatRequest({
    messages: [
      { role: 'system', content: 'Be brief.' },
      { role: 'developer', content: [{ type: 'text', text: 'Use JSON.' }] },
      {
        role: 'user',
        content: [
          { type: 'text', text: 'What is this?', cache_control: { type: 'ephemeral' } },
          {
            type: 'image_url',
            image_url: { url: 'data:image/png;base64,iVBORw0KGgo=', detail: 'low' },
          },
          { type: 'image_url', image_url: { url: 'https://example.com/a.jpg' } },
        ],
      },
      {
        role: 'assistant',
        content: null,
        tool_calls: [
          { id: 'call_1', type: 'function', function: { name: 'look', arguments: '{"q":1}' } },
        ],
        reasoning_details: [
          { type: 'reasoning.text', text: 'hmm', signature: 'sig', format: 'anthropic-claude-v1' },
        ],
      },
      { role: 'tool', tool_call_id: 'call_1', content: 'a cat' },
    ],
  });
  assert.deepEqual(
    m.system.map((p) => p.text),
    ['Be brief.', 'Use JSON.'],
  );
  assert.deepEqual(
    m.turns.map((t) => t.role),
    ['user', 'assistant', 'tool'],
  );
  const user = m.turns[0]!;
  assert.equal(user.parts.length, 3);
  assert.deepEqual(user.parts[0], {
    type: 'text',
    text: 'What is this?',
    cacheControl: { type: 'ephemeral' },
  });
  assert.deepEqual(user.parts[1], {
    type: 'image',
    data: 'iVBORw0KGgo=',
    mediaType: 'image/png',
    detail: 'low',
  });
  assert.deepEqual(user.parts[2], { type: 'image', url: 'https://example.com/a.jpg' });
  const a = m.turns[1]!;
  assert.ok(a.role === 'assistant');
  assert.deepEqual(a.toolCalls, [{ id: 'call_1', name: 'look', arguments: '{"q":1}' }]);
  assert.deepEqual(a.reasoning, [
    { type: 'text', text: 'hmm', signature: 'sig', format: 'anthropic-claude-v1' },
  ]);
  const t = m.turns[2]!;
  assert.ok(t.role === 'tool');
  assert.equal(t.toolCallId, 'call_1');
});

test('tools, tool_choice, response_format, stop, max tokens and sampling', () => {
  const m = readChatRequest({
    messages: [{ role: 'user', content: 'hi' }],
    tools: [
      {
        type: 'function',
        function: { name: 'f', description: 'd', parameters: { type: 'object' }, strict: true },
      },
      { type: 'openrouter:web_search' },
    ],
    tool_choice: { type: 'function', function: { name: 'f' } },
    parallel_tool_calls: false,
    response_format: {
      type: 'json_schema',
      json_schema: { name: 'r', schema: { type: 'object' }, strict: true },
    },
    stop: ['a', '', 'b'],
    max_tokens: 10,
    max_completion_tokens: 20,
    temperature: 0.5,
    top_k: 40,
    seed: 7,
  });
  assert.deepEqual(m.tools, [
    { name: 'f', description: 'd', parameters: { type: 'object' }, strict: true },
  ]);
  assert.deepEqual(m.toolChoice, { name: 'f' });
  assert.equal(m.parallelToolCalls, false);
  assert.deepEqual(m.responseFormat, {
    type: 'json_schema',
    name: 'r',
    schema: { type: 'object' },
    strict: true,
  });
  assert.deepEqual(m.stop, ['a', 'b']);
  assert.equal(m.maxTokens, 20, 'max_completion_tokens wins');
  assert.equal(m.temperature, 0.5);
  assert.equal(m.topK, 40);
  assert.equal(m.seed, 7);
});

test('reasoning: OpenRouter object, OpenAI effort, legacy include_reasoning', () => {
  assert.deepEqual(readChatRequest({ messages: [], reasoning: { max_tokens: 2000 } }).reasoning, {
    enabled: true,
    maxTokens: 2000,
    exclude: false,
  });
  assert.deepEqual(readChatRequest({ messages: [], reasoning: { effort: 'none' } }).reasoning, {
    enabled: false,
    exclude: false,
  });
  assert.deepEqual(
    readChatRequest({ messages: [], reasoning: { effort: 'high', exclude: true } }).reasoning,
    {
      enabled: true,
      effort: 'high',
      exclude: true,
    },
  );
  assert.deepEqual(readChatRequest({ messages: [], reasoning_effort: 'low' }).reasoning, {
    enabled: true,
    effort: 'low',
    exclude: false,
  });
  assert.equal(readChatRequest({ messages: [] }).reasoning, undefined);
});

test('prefill: a trailing assistant text message', () => {
  const base = [{ role: 'user', content: 'Count' }];
  assert.equal(
    prefillOf(readChatRequest({ messages: [...base, { role: 'assistant', content: '1, 2,' }] })),
    '1, 2,',
  );
  assert.equal(prefillOf(readChatRequest({ messages: base })), undefined);
});

test('data URLs', () => {
  assert.deepEqual(parseDataUrl('data:image/jpeg;base64,/9j/'), {
    mediaType: 'image/jpeg',
    data: '/9j/',
  });
  assert.equal(parseDataUrl('https://x/y.png'), null);
});

test('reasoning details keep the id that ties them to a part of the answer', () => {
  const m = readChatRequest({
    messages: [
      {
        role: 'assistant',
        content: null,
        tool_calls: [{ id: 'call_9', type: 'function', function: { name: 'f', arguments: '{}' } }],
        reasoning_details: [
          { type: 'reasoning.encrypted', data: 'c2ln', id: 'call_9', format: 'google-gemini-v1' },
          { type: 'reasoning.text', text: 'plan', signature: 's', id: 'r1' },
        ],
      },
    ],
  });
  const a = m.turns[0]!;
  assert.ok(a.role === 'assistant');
  assert.deepEqual(a.reasoning, [
    { type: 'encrypted', data: 'c2ln', format: 'google-gemini-v1', id: 'call_9' },
    { type: 'text', text: 'plan', signature: 's', id: 'r1' },
  ]);
});
