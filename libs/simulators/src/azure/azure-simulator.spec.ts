/**
 * The Azure OpenAI simulator, checked with the official `openai` package's `AzureOpenAI`
 * client: a simulator it cannot parse is a bug in the simulator.
 */
import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, it } from 'node:test';
import {
  AuthenticationError,
  AzureOpenAI,
  BadRequestError,
  InternalServerError,
  NotFoundError,
  RateLimitError,
} from 'openai';
import { expectedContent } from '../core/content.js';
import type { Simulator } from '../core/types.js';
import { startSimulator } from '../registry.js';

const KEY = 'azure-sim-key-0123456789abcdef';
const API_VERSION = '2024-10-21';
const PROMPT = 'alpha bravo charlie delta';

describe('Azure OpenAI simulator (AzureOpenAI client)', () => {
  let sim: Simulator;
  let client: AzureOpenAI;
  before(async () => {
    sim = await startSimulator('azure', { apiKey: KEY, name: 'azure-test' });
    client = new AzureOpenAI({
      endpoint: sim.origin,
      apiKey: KEY,
      apiVersion: API_VERSION,
      deployment: 'sim-gpt-large',
      maxRetries: 0,
    });
  });
  after(() => sim.close());
  beforeEach(() => sim.reset());

  it('answers a chat completion under the deployment path, with content-filter annotations', async () => {
    const res = await client.chat.completions
      .create({
        model: 'ignored',
        messages: [{ role: 'user', content: `${PROMPT} [[sim tokens=4]]` }],
      })
      .withResponse();
    const c = res.data;
    assert.equal(c.choices[0]!.message.content, expectedContent(PROMPT, 4));
    assert.equal(c.model, 'sim-gpt-large');
    assert.equal(c.usage?.completion_tokens, 4);
    const raw = c as unknown as Record<string, unknown>;
    assert.ok(Array.isArray(raw['prompt_filter_results']));
    assert.ok((c.choices[0] as unknown as Record<string, unknown>)['content_filter_results']);
    assert.ok(res.response.headers.get('apim-request-id'));
    const rec = sim.requests()[0]!;
    // The key authenticated the call (it answered), and records never keep credentials.
    assert.equal(rec.headers['api-key'], undefined);
    assert.equal(rec.model, 'sim-gpt-large');
  });

  it('streams, opening with the prompt-filter chunk, with usage when asked', async () => {
    const stream = await client.chat.completions.create({
      model: 'sim-gpt-large',
      messages: [{ role: 'user', content: `${PROMPT} [[sim tokens=5]]` }],
      stream: true,
      stream_options: { include_usage: true },
    });
    let text = '';
    let first: Record<string, unknown> | undefined;
    let usage: number | undefined;
    for await (const chunk of stream) {
      first ??= chunk as unknown as Record<string, unknown>;
      text += chunk.choices[0]?.delta.content ?? '';
      if (chunk.usage) usage = chunk.usage.completion_tokens;
    }
    assert.equal(text, expectedContent(PROMPT, 5));
    assert.ok(Array.isArray(first?.['prompt_filter_results']), 'the prompt-filter chunk first');
    assert.equal(usage, 5);
  });

  it('calls tools with streamed arguments', async () => {
    const stream = await client.chat.completions.create({
      model: 'sim-gpt-large',
      messages: [{ role: 'user', content: 'weather [[sim tool_call=get_weather]]' }],
      tools: [
        {
          type: 'function',
          function: {
            name: 'get_weather',
            parameters: { type: 'object', properties: { city: { type: 'string' } } },
          },
        },
      ],
      stream: true,
    });
    let args = '';
    let name = '';
    let finish: string | null = null;
    for await (const chunk of stream) {
      const t = chunk.choices[0]?.delta.tool_calls?.[0];
      name += t?.function?.name ?? '';
      args += t?.function?.arguments ?? '';
      finish = chunk.choices[0]?.finish_reason ?? finish;
    }
    assert.equal(name, 'get_weather');
    assert.equal(typeof (JSON.parse(args) as { city: unknown }).city, 'string');
    assert.equal(finish, 'tool_calls');
  });

  it("answers Azure's errors with the SDK's typed classes", async () => {
    const ask = (knobs: string) =>
      client.chat.completions.create({
        model: 'sim-gpt-large',
        messages: [{ role: 'user', content: `hi [[sim ${knobs}]]` }],
      });
    await assert.rejects(ask('status=429 retry_after=6'), (e: unknown) => {
      assert.ok(e instanceof RateLimitError);
      assert.equal(e.headers?.get('retry-after'), '6');
      assert.equal(e.code, '429');
      return true;
    });
    await assert.rejects(ask('status=400'), (e: unknown) => {
      assert.ok(e instanceof BadRequestError);
      assert.equal(e.code, 'content_filter');
      return true;
    });
    await assert.rejects(ask('status=500'), InternalServerError);
    const other = new AzureOpenAI({
      endpoint: sim.origin,
      apiKey: KEY,
      apiVersion: API_VERSION,
      deployment: 'no-such-deployment',
      maxRetries: 0,
    });
    await assert.rejects(
      other.chat.completions.create({ model: 'x', messages: [{ role: 'user', content: 'hi' }] }),
      (e: unknown) => e instanceof NotFoundError && e.code === 'DeploymentNotFound',
    );
    const wrongKey = new AzureOpenAI({
      endpoint: sim.origin,
      apiKey: 'wrong',
      apiVersion: API_VERSION,
      deployment: 'sim-gpt-large',
      maxRetries: 0,
    });
    await assert.rejects(
      wrongKey.chat.completions.create({ model: 'x', messages: [{ role: 'user', content: 'hi' }] }),
      AuthenticationError,
    );
    const noVersion = await fetch(
      `${sim.origin}/openai/deployments/sim-gpt-large/chat/completions`,
      {
        method: 'POST',
        headers: { 'api-key': KEY, 'content-type': 'application/json' },
        body: JSON.stringify({ messages: [{ role: 'user', content: 'hi' }] }),
      },
    );
    assert.equal(noVersion.status, 404, 'api-version is required');
  });
});
