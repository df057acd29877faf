import assert from 'node:assert/strict';
import { test } from 'node:test';
import { RequestMappingError } from '../core/param-map.js';
import { prepared } from '../openai-compatible/family-testing.js';
import { cerebrasProvider } from './cerebras.provider.js';

const body = {
  frequency_penalty: 0.2,
  presence_penalty: 0.2,
  logit_bias: { '1': 1 },
  parallel_tool_calls: false,
  service_tier: 'auto',
  seed: 5,
  reasoning: { effort: 'high' },
};

test('cerebras: the fields it refuses are dropped, or refused under require_parameters', async () => {
  const { json, req } = await prepared(cerebrasProvider, body);
  assert.deepEqual(req.droppedParameters.sort(), [
    'frequency_penalty',
    'logit_bias',
    'parallel_tool_calls',
    'presence_penalty',
    'service_tier',
  ]);
  assert.equal(json['seed'], 5);
  assert.equal(json['reasoning_format'], 'parsed');
  assert.equal(json['reasoning_effort'], 'high');
  await assert.rejects(
    cerebrasProvider.prepareRequest(
      { body: { messages: [], ...body }, upstreamModel: 'm', stream: false },
      {
        baseUrl: 'https://api.cerebras.ai/v1',
        credentials: { type: 'api_key', apiKey: 'csk-x' },
      },
      { requireParameters: true, now: new Date() },
    ),
    (e: unknown) => e instanceof RequestMappingError && e.error.reply.status === 400,
  );
});
