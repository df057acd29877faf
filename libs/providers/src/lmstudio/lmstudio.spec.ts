import assert from 'node:assert/strict';
import { test } from 'node:test';
import { prepared } from '../openai-compatible/family-testing.js';
import { lmstudioProvider } from './lmstudio.provider.js';

test('lmstudio: repetition_penalty is repeat_penalty; json_schema only', async () => {
  const { json, req } = await prepared(lmstudioProvider, {
    repetition_penalty: 1.1,
    top_k: 40,
    n: 3,
    response_format: { type: 'json_object' },
  });
  assert.equal(json['repeat_penalty'], 1.1);
  assert.equal('repetition_penalty' in json, false);
  assert.equal(json['top_k'], 40);
  assert.equal('response_format' in json, false);
  assert.deepEqual(req.droppedParameters, ['n']);
  const schema = { type: 'json_schema', json_schema: { name: 'a', schema: { type: 'object' } } };
  const s = await prepared(lmstudioProvider, { response_format: schema });
  assert.deepEqual(s.json['response_format'], schema);
});
