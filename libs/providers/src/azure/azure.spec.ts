import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import type { ProviderConnection } from '@turnpike/contracts';
import type { Json } from '../core/json.js';
import { RequestMappingError } from '../core/param-map.js';
import { chunksOf, decodeAtEverySplit, firstChoice } from '../openai-compatible/family-testing.js';
import { azureProvider } from './azure.provider.js';

const fixture = (name: string): string =>
  readFileSync(new URL(`../../src/azure/fixtures/${name}`, import.meta.url), 'utf8');

const KEY = '0123456789abcdef0123456789abcdef';
const conn: ProviderConnection = {
  baseUrl: 'https://contoso.openai.azure.com/',
  credentials: {
    type: 'azure',
    apiKey: KEY,
    apiVersion: '2024-10-21',
    deployments: { 'gpt-4o': 'prod-4o' },
  },
};
const opts = { requireParameters: false, now: new Date() };

test('azure: the deployment path, api-version and api-key header; the OpenAI body', async () => {
  const req = await azureProvider.prepareRequest(
    {
      body: {
        messages: [{ role: 'user', content: 'hi' }],
        temperature: 0.2,
        tools: [{ type: 'function', function: { name: 'f', parameters: {} } }],
        response_format: { type: 'json_schema', json_schema: { name: 'x', schema: {} } },
      },
      upstreamModel: 'gpt-4o',
      stream: true,
    },
    conn,
    opts,
  );
  assert.equal(
    req.url,
    'https://contoso.openai.azure.com/openai/deployments/prod-4o/chat/completions?api-version=2024-10-21',
  );
  assert.equal(req.headers['api-key'], KEY);
  assert.equal(req.headers['authorization'], undefined);
  const body = JSON.parse(req.body) as Json;
  assert.equal(body['temperature'], 0.2);
  assert.deepEqual(body['stream_options'], { include_usage: true });
  assert.equal((body['tools'] as unknown[]).length, 1);
  const other = await azureProvider.prepareRequest(
    { body: { messages: [] }, upstreamModel: 'gpt-4o-mini', stream: false },
    conn,
    opts,
  );
  assert.match(other.url, /\/deployments\/gpt-4o-mini\/chat\/completions\?/, 'own-name default');
  await assert.rejects(
    azureProvider.prepareRequest(
      { body: { messages: [] }, upstreamModel: 'm', stream: false },
      { baseUrl: 'https://x', credentials: { type: 'api_key', apiKey: 'k' } },
      opts,
    ),
    (e: unknown) =>
      e instanceof RequestMappingError && e.error.reply.code === 'provider_misconfigured',
  );
});

test('azure: a completion keeps its content-filter annotations', () => {
  const p = azureProvider.parseCompletion(JSON.parse(fixture('chat-completion.json')), {
    body: {},
    upstreamModel: 'gpt-4.1',
    stream: false,
  });
  assert.ok(Array.isArray(p.completion['prompt_filter_results']));
  assert.ok(firstChoice(p.completion)['content_filter_results']);
  assert.equal(p.finishReason, 'length');
  assert.deepEqual(p.tokens, {
    prompt: 8,
    completion: 5,
    cachedRead: 0,
    cacheWrite: 0,
    reasoning: 0,
  });
});

test('azure: the stream at every byte split: annotation chunk, content_filter finish, usage', () => {
  decodeAtEverySplit(azureProvider, fixture('stream-content-filter.sse'), (events, cut) => {
    const chunks = chunksOf(events);
    assert.equal(chunks.length, 5, `split ${cut}`);
    assert.equal(chunks[0]!['object'], 'chat.completion.chunk', 'the empty object is normalised');
    assert.ok(Array.isArray(chunks[0]!['prompt_filter_results']));
    const text = chunks
      .map((c) => ((firstChoice(c)['delta'] as Json | undefined)?.['content'] as string) ?? '')
      .join('');
    assert.equal(text, 'Hé, ');
    assert.equal(firstChoice(chunks[3]!)['finish_reason'], 'content_filter');
    assert.equal(events.filter((e) => e.type === 'chunk' && e.hasOutput).length, 1);
    assert.equal(events.at(-1)!.type, 'done');
  });
  const d = azureProvider.openStream();
  d.push(new TextEncoder().encode(fixture('stream-content-filter.sse')));
  const s = d.end();
  assert.equal(s.finishReason, 'content_filter');
  assert.equal(s.tokens?.prompt, 21);
});

test("azure: errors through the policy: Azure's codes kept, no key, Retry-After", () => {
  const filtered = azureProvider.mapError(400, fixture('error-content-filter.json'), {});
  assert.equal(filtered.reply.status, 400);
  assert.equal(filtered.reply.retryable, false);
  assert.equal(filtered.reply.providerCode, 'content_filter');
  assert.equal(filtered.detail.providerType, 'ResponsibleAIPolicyViolation');
  const missing = azureProvider.mapError(404, fixture('error-deployment-not-found.json'), {});
  assert.equal(missing.reply.status, 502);
  assert.equal(missing.reply.code, 'upstream_model_not_found');
  assert.equal(missing.detail.providerCode, 'DeploymentNotFound');
  const limited = azureProvider.mapError(429, fixture('error-429.json'), {
    'retry-after': '6',
    'retry-after-ms': '6000',
  });
  assert.equal(limited.reply.status, 503);
  assert.equal(limited.reply.retryAfterSec, 6);
  const auth = azureProvider.mapError(401, fixture('error-401.json'), {});
  assert.equal(auth.reply.code, 'upstream_auth_failed');
  assert.doesNotMatch(JSON.stringify(auth.reply), /subscription key/);
  const long = azureProvider.mapError(
    400,
    '{"error":{"message":"This model\'s maximum context length is 128000 tokens. However, your messages resulted in 130000 tokens.","type":"invalid_request_error","param":"messages","code":"context_length_exceeded"}}',
    {},
  );
  assert.equal(long.reply.code, 'context_length_exceeded');
  assert.equal(long.reply.retryable, true);
});
