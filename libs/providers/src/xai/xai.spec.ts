import assert from 'node:assert/strict';
import { test } from 'node:test';
import { prepared } from '../openai-compatible/family-testing.js';
import { isXaiReasoningModel, xaiProvider } from './xai.provider.js';

const body = {
  presence_penalty: 0.5,
  frequency_penalty: 0.5,
  stop: ['END'],
  temperature: 0.3,
  reasoning: { effort: 'medium' },
};

test('xai: reasoning models get no penalties or stop sequences', async () => {
  assert.equal(isXaiReasoningModel('grok-3-mini'), true);
  assert.equal(isXaiReasoningModel('grok-4-fast-non-reasoning'), false);
  const mini = await prepared(xaiProvider, body, { model: 'grok-3-mini' });
  assert.equal(
    'presence_penalty' in mini.json || 'frequency_penalty' in mini.json || 'stop' in mini.json,
    false,
  );
  assert.equal(mini.json['temperature'], 0.3);
  assert.equal(mini.json['reasoning_effort'], 'high');
  const grok3 = await prepared(xaiProvider, body, { model: 'grok-3' });
  assert.equal(grok3.json['presence_penalty'], 0.5);
  assert.deepEqual(grok3.json['stop'], ['END']);
  assert.equal('reasoning_effort' in grok3.json, false, 'grok-3 refuses reasoning_effort');
  const grok4 = await prepared(xaiProvider, body, { model: 'grok-4' });
  assert.equal('reasoning_effort' in grok4.json || 'stop' in grok4.json, false);
});
