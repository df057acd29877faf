import assert from 'node:assert/strict';
import { test } from 'node:test';
import { chunksOf, decodeAtEverySplit, prepared } from '../openai-compatible/family-testing.js';
import { perplexityProvider } from './perplexity.provider.js';

test('perplexity: no tools, stop or seed; search options pass; json_schema only', async () => {
  const { json, req } = await prepared(perplexityProvider, {
    tools: [{ type: 'function', function: { name: 'f', parameters: {} } }],
    tool_choice: 'auto',
    stop: ['x'],
    seed: 1,
    search_domain_filter: ['wikipedia.org'],
    search_recency_filter: 'week',
    response_format: { type: 'json_object' },
  });
  assert.deepEqual(req.droppedParameters.sort(), ['seed', 'stop', 'tool_choice', 'tools']);
  assert.deepEqual(json['search_domain_filter'], ['wikipedia.org']);
  assert.equal(json['search_recency_filter'], 'week');
  assert.equal('response_format' in json, false, 'json_object is not a Perplexity format');
  assert.equal(perplexityProvider.capabilities.tools, false);
  assert.equal(req.url, 'https://upstream.example/v1/chat/completions');
});

test('perplexity: citations and search_results are kept', () => {
  // Chat completions reference: `citations` and `search_results` beside `choices`.
  const answer = {
    id: 'p1',
    model: 'sonar',
    object: 'chat.completion',
    created: 1,
    citations: ['https://example.com/a'],
    search_results: [{ title: 'A', url: 'https://example.com/a', date: '2025-01-01' }],
    choices: [
      { index: 0, message: { role: 'assistant', content: 'A [1]' }, finish_reason: 'stop' },
    ],
    usage: {
      prompt_tokens: 5,
      completion_tokens: 3,
      total_tokens: 8,
      citation_tokens: 40,
      num_search_queries: 1,
    },
  };
  const p = perplexityProvider.parseCompletion(structuredClone(answer), {
    body: {},
    upstreamModel: 'sonar',
    stream: false,
  });
  assert.deepEqual(p.completion['citations'], answer.citations);
  assert.deepEqual(p.completion['search_results'], answer.search_results);
  assert.equal(p.tokens.prompt, 5);
  const chunk = {
    ...answer,
    object: 'chat.completion.chunk',
    choices: [{ index: 0, delta: { content: 'A' }, finish_reason: 'stop' }],
  };
  decodeAtEverySplit(perplexityProvider, `data: ${JSON.stringify(chunk)}\n\n`, (events) => {
    const [c] = chunksOf(events);
    assert.deepEqual(c!['citations'], answer.citations);
    assert.deepEqual(c!['search_results'], answer.search_results);
  });
});
