/**
 * The Mistral simulator, checked with the official SDK (`@mistralai/mistralai`): `chat.complete`,
 * `chat.stream`, tools, thinking, prefill and errors with the SDK's typed classes.
 */
import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, it } from 'node:test';
import { Mistral } from '@mistralai/mistralai';
import { HTTPValidationError, MistralError, SDKError } from '@mistralai/mistralai/models/errors';
import { expectedContent } from '../core/content.js';
import { REASONING_WORDS } from '../core/plan.js';
import type { Simulator } from '../core/types.js';
import { startSimulator } from '../registry.js';

const KEY = 'mistral-sim-key-0123456789';
const PROMPT = 'alpha bravo charlie delta';
const WEATHER = {
  type: 'function' as const,
  function: {
    name: 'get_weather',
    description: 'Weather in a city',
    parameters: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] },
  },
};

describe('Mistral simulator (@mistralai/mistralai)', () => {
  let sim: Simulator;
  let client: Mistral;
  before(async () => {
    sim = await startSimulator('mistral', {
      apiKey: KEY,
      name: 'mistral-test',
      models: [
        { id: 'mistral-small-latest', contextLength: 32_000 },
        { id: 'magistral-small-latest' },
      ],
    });
    client = new Mistral({ apiKey: KEY, serverURL: sim.url, retryConfig: { strategy: 'none' } });
  });
  after(() => sim.close());
  beforeEach(() => sim.reset());

  it('chat.complete: the answer, usage and finish reason', async () => {
    const r = await client.chat.complete({
      model: 'mistral-small-latest',
      messages: [
        { role: 'system', content: 'Be terse.' },
        { role: 'user', content: `${PROMPT} [[sim tokens=4]]` },
      ],
      randomSeed: 7,
      maxTokens: 100,
    });
    assert.equal(r.choices[0]!.message!.content, expectedContent(PROMPT, 4));
    assert.equal(r.choices[0]!.finishReason, 'stop');
    assert.equal(r.usage.completionTokens, 4);
    assert.match(r.id, /^[0-9a-f]{32}$/);
    assert.equal(sim.requests()[0]!.parsed?.system, 'Be terse.');
  });

  it('chat.stream: text deltas, then the finish and usage in the last chunk', async () => {
    const stream = await client.chat.stream({
      model: 'mistral-small-latest',
      messages: [{ role: 'user', content: `${PROMPT} [[sim tokens=5 cached_tokens=3]]` }],
    });
    let text = '';
    let last: { finish?: string | null; usage?: number; cached?: unknown } = {};
    for await (const ev of stream) {
      const c = ev.data.choices[0];
      if (typeof c?.delta.content === 'string') text += c.delta.content;
      if (c?.finishReason)
        last = {
          finish: c.finishReason,
          usage: ev.data.usage?.completionTokens,
          cached: (ev.data.usage as Record<string, unknown> | undefined)?.['prompt_tokens_details'],
        };
    }
    assert.equal(text, expectedContent(PROMPT, 5));
    assert.deepEqual(last, { finish: 'stop', usage: 5, cached: { cached_tokens: 3 } });
  });

  it('tools: a whole tool call with a 9-character id; its result goes back', async () => {
    const r = await client.chat.complete({
      model: 'mistral-small-latest',
      messages: [{ role: 'user', content: 'weather? [[sim tool_call=get_weather]]' }],
      tools: [WEATHER],
      toolChoice: 'any',
    });
    const call = r.choices[0]!.message!.toolCalls![0]!;
    assert.match(call.id ?? '', /^[a-zA-Z0-9]{9}$/);
    assert.equal(call.function.name, 'get_weather');
    assert.equal(typeof JSON.parse(call.function.arguments as string).city, 'string');
    assert.equal(r.choices[0]!.finishReason, 'tool_calls');
    const stream = await client.chat.stream({
      model: 'mistral-small-latest',
      messages: [
        { role: 'user', content: 'weather?' },
        { role: 'assistant', content: '', toolCalls: [{ id: call.id!, function: call.function }] },
        { role: 'tool', toolCallId: call.id!, name: 'get_weather', content: 'sunny' },
        { role: 'user', content: `${PROMPT} [[sim tool_call=get_weather]]` },
      ],
      tools: [WEATHER],
    });
    const calls: Array<{ id?: string; args: unknown }> = [];
    for await (const ev of stream)
      for (const t of ev.data.choices[0]?.delta.toolCalls ?? [])
        calls.push({ id: t.id, args: t.function.arguments });
    assert.equal(calls.length, 1, 'the call arrives whole, in one delta');
    assert.match(calls[0]!.id ?? '', /^[a-zA-Z0-9]{9}$/);
  });

  it('thinking chunks and a prefix prefill', async () => {
    const r = await client.chat.complete({
      model: 'magistral-small-latest',
      messages: [
        { role: 'user', content: `${PROMPT} [[sim tokens=3]]` },
        { role: 'assistant', content: 'alpha', prefix: true },
      ],
    });
    const content = r.choices[0]!.message!.content as Array<Record<string, unknown>>;
    assert.equal(content[0]!['type'], 'thinking');
    const thinking = content[0]!['thinking'] as Array<{ text: string }>;
    assert.equal(thinking.map((t) => t.text).join(''), REASONING_WORDS.join(' '));
    assert.equal(sim.requests()[0]!.parsed?.prefill, 'alpha');
  });

  it("errors: SDKError with Mistral's bodies and statuses, HTTPValidationError for 422", async () => {
    const ask = (knobs: string) =>
      client.chat.complete({
        model: 'mistral-small-latest',
        messages: [{ role: 'user', content: `hi [[sim ${knobs}]]` }],
      });
    await assert.rejects(ask('status=429 retry_after=2'), (e: unknown) => {
      assert.ok(e instanceof SDKError);
      assert.equal(e.statusCode, 429);
      assert.equal(JSON.parse(e.body).type, 'rate_limited');
      return true;
    });
    await assert.rejects(
      ask('status=503'),
      (e: unknown) => e instanceof MistralError && e.statusCode === 503,
    );
    const wrong = new Mistral({
      apiKey: 'nope',
      serverURL: sim.url,
      retryConfig: { strategy: 'none' },
    });
    await assert.rejects(
      wrong.chat.complete({
        model: 'mistral-small-latest',
        messages: [{ role: 'user', content: 'x' }],
      }),
      (e: unknown) =>
        e instanceof SDKError &&
        e.statusCode === 401 &&
        JSON.parse(e.body).message === 'Unauthorized',
    );
    await assert.rejects(
      client.chat.complete({ model: 'no-such-model', messages: [{ role: 'user', content: 'x' }] }),
      (e: unknown) =>
        e instanceof SDKError &&
        e.statusCode === 400 &&
        JSON.parse(e.body).type === 'invalid_model',
    );
    // A field Mistral does not take (OpenAI's stream_options) is a 422 validation error.
    const extra = await fetch(`${sim.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${KEY}`, 'content-type': 'application/json' },
      body: JSON.stringify({
        model: 'mistral-small-latest',
        messages: [{ role: 'user', content: 'x' }],
        stream_options: { include_usage: true },
      }),
    });
    assert.equal(extra.status, 422);
    assert.equal(
      ((await extra.json()) as { detail: Array<{ type: string }> }).detail[0]!.type,
      'extra_forbidden',
    );
    await assert.rejects(
      client.chat.complete({
        model: 'mistral-small-latest',
        messages: [{ role: 'user', content: 'x [[sim status=422]]' }],
      }),
      (e: unknown) =>
        e instanceof HTTPValidationError &&
        e.statusCode === 422 &&
        e.detail?.[0]?.type === 'missing',
    );
    await assert.rejects(
      client.chat.complete({
        model: 'mistral-small-latest',
        messages: [
          { role: 'user', content: 'x' },
          {
            role: 'assistant',
            content: '',
            toolCalls: [{ id: 'call_abc123', function: { name: 'f', arguments: '{}' } }],
          },
          { role: 'tool', toolCallId: 'call_abc123', content: 'y' },
        ],
      }),
      (e: unknown) => e instanceof SDKError && e.statusCode === 400 && /length of 9/.test(e.body),
    );
  });

  it('a stream error is a final chunk with finish_reason error', async () => {
    const stream = await client.chat.stream({
      model: 'mistral-small-latest',
      messages: [{ role: 'user', content: `${PROMPT} [[sim tokens=6 stream_error=after_first]]` }],
    });
    let finish: string | null | undefined;
    for await (const ev of stream) finish = ev.data.choices[0]?.finishReason ?? finish;
    assert.equal(finish, 'error');
  });
});
