/**
 * The Cohere v2 simulator, checked with the official SDK (`cohere-ai`'s `CohereClientV2`):
 * `chat`, `chatStream`, tools, thinking and errors with the SDK's typed classes and statuses.
 */
import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, it } from 'node:test';
import { Cohere, CohereClientV2, CohereError } from 'cohere-ai';
import { expectedContent } from '../core/content.js';
import { REASONING_WORDS } from '../core/plan.js';
import type { Simulator } from '../core/types.js';
import { startSimulator } from '../registry.js';

const KEY = 'cohere-sim-key-0123456789';
const PROMPT = 'alpha bravo charlie delta';
const MODEL = 'command-a-03-2025';
const WEATHER: Cohere.ToolV2 = {
  type: 'function',
  function: {
    name: 'get_weather',
    description: 'Weather in a city',
    parameters: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] },
  },
};

describe('Cohere simulator (cohere-ai CohereClientV2)', () => {
  let sim: Simulator;
  let client: CohereClientV2;
  before(async () => {
    sim = await startSimulator('cohere', {
      apiKey: KEY,
      name: 'cohere-test',
      models: [{ id: MODEL, contextLength: 256_000 }],
    });
    client = new CohereClientV2({ token: KEY, environment: sim.url });
  });
  after(() => sim.close());
  beforeEach(() => sim.reset());

  it('chat: the answer, finish reason and usage', async () => {
    const r = await client.chat(
      {
        model: MODEL,
        messages: [
          { role: 'system', content: 'Be terse.' },
          { role: 'user', content: `${PROMPT} [[sim tokens=4 cached_tokens=2]]` },
        ],
        maxTokens: 100,
        stopSequences: ['END'],
      },
      { maxRetries: 0 },
    );
    const text = r.message.content?.find((c) => c.type === 'text');
    assert.equal(text?.type === 'text' ? text.text : '', expectedContent(PROMPT, 4));
    assert.equal(r.finishReason, 'COMPLETE');
    assert.equal(r.usage?.tokens?.outputTokens, 4);
    assert.equal(r.usage?.cachedTokens, 2);
    const rec = sim.requests()[0]!;
    assert.equal(rec.parsed?.system, 'Be terse.');
    assert.deepEqual(rec.parsed?.stop, ['END']);
  });

  it('chatStream: the v2 event grammar, text deltas, message-end with usage', async () => {
    const stream = await client.chatStream(
      { model: MODEL, messages: [{ role: 'user', content: `${PROMPT} [[sim tokens=5]]` }] },
      { maxRetries: 0 },
    );
    const types: string[] = [];
    let text = '';
    let end: Cohere.V2ChatStreamResponse.MessageEnd | undefined;
    for await (const ev of stream) {
      types.push(ev.type);
      if (ev.type === 'content-delta') text += ev.delta?.message?.content?.text ?? '';
      if (ev.type === 'message-end') end = ev;
    }
    assert.equal(text, expectedContent(PROMPT, 5));
    assert.deepEqual(
      [...new Set(types)],
      ['message-start', 'content-start', 'content-delta', 'content-end', 'message-end'],
    );
    assert.equal(end?.delta?.finishReason, 'COMPLETE');
    assert.equal(end?.delta?.usage?.tokens?.outputTokens, 5);
  });

  it('tools: streamed tool calls with their argument deltas, TOOL_CALL', async () => {
    const stream = await client.chatStream(
      {
        model: MODEL,
        messages: [{ role: 'user', content: 'weather? [[sim tool_call=get_weather]]' }],
        tools: [WEATHER],
        toolChoice: 'REQUIRED',
      },
      { maxRetries: 0 },
    );
    let name = '';
    let id = '';
    let args = '';
    let finish: string | undefined;
    for await (const ev of stream) {
      if (ev.type === 'tool-call-start') {
        name = ev.delta?.message?.toolCalls?.function?.name ?? '';
        id = ev.delta?.message?.toolCalls?.id ?? '';
      }
      if (ev.type === 'tool-call-delta')
        args += ev.delta?.message?.toolCalls?.function?.arguments ?? '';
      if (ev.type === 'message-end') finish = ev.delta?.finishReason;
    }
    assert.equal(name, 'get_weather');
    assert.match(id, /^get_weather_[a-z0-9]{12}$/);
    assert.equal(typeof (JSON.parse(args) as { city: unknown }).city, 'string');
    assert.equal(finish, 'TOOL_CALL');
    const r = await client.chat(
      {
        model: MODEL,
        messages: [
          { role: 'user', content: 'weather?' },
          {
            role: 'assistant',
            toolPlan: 'I will look.',
            toolCalls: [{ id, type: 'function', function: { name, arguments: args } }],
          },
          { role: 'tool', toolCallId: id, content: 'sunny' },
          { role: 'user', content: `${PROMPT} [[sim tokens=2]]` },
        ],
        tools: [WEATHER],
      },
      { maxRetries: 0 },
    );
    assert.equal(r.finishReason, 'COMPLETE');
    assert.match(sim.requests()[1]!.parsed?.messages.join('\n') ?? '', /sunny/);
  });

  it('thinking: thinking content before the text', async () => {
    const r = await client.chat(
      {
        model: MODEL,
        messages: [{ role: 'user', content: `${PROMPT} [[sim tokens=2]]` }],
        thinking: { type: 'enabled', tokenBudget: 2000 },
      },
      { maxRetries: 0 },
    );
    const thinking = r.message.content?.find((c) => c.type === 'thinking');
    assert.equal(thinking?.type === 'thinking' ? thinking.thinking : '', REASONING_WORDS.join(' '));
  });

  it("errors: the SDK's typed classes and Cohere's statuses", async () => {
    const ask = (knobs: string) =>
      client.chat(
        { model: MODEL, messages: [{ role: 'user', content: `hi [[sim ${knobs}]]` }] },
        { maxRetries: 0 },
      );
    await assert.rejects(ask('status=429'), Cohere.TooManyRequestsError);
    await assert.rejects(ask('status=498'), Cohere.InvalidTokenError);
    await assert.rejects(ask('status=499'), Cohere.ClientClosedRequestError);
    await assert.rejects(ask('status=503'), Cohere.ServiceUnavailableError);
    await assert.rejects(ask('status=402'), (e: unknown) => {
      assert.ok(e instanceof CohereError);
      assert.equal(e.statusCode, 402);
      assert.match((e.body as { message: string }).message, /payment method/);
      return true;
    });
    const wrong = new CohereClientV2({ token: 'nope', environment: sim.url });
    await assert.rejects(
      wrong.chat({ model: MODEL, messages: [{ role: 'user', content: 'x' }] }, { maxRetries: 0 }),
      (e: unknown) =>
        e instanceof Cohere.UnauthorizedError &&
        (e.body as { message: string }).message === 'invalid api token',
    );
    await assert.rejects(
      client.chat(
        { model: 'command-nope', messages: [{ role: 'user', content: 'x' }] },
        { maxRetries: 0 },
      ),
      Cohere.NotFoundError,
    );
  });

  it('a failed generation ends the stream with message-end ERROR', async () => {
    const stream = await client.chatStream(
      {
        model: MODEL,
        messages: [
          { role: 'user', content: `${PROMPT} [[sim tokens=6 stream_error=after_first]]` },
        ],
      },
      { maxRetries: 0 },
    );
    let end: Cohere.V2ChatStreamResponse.MessageEnd | undefined;
    for await (const ev of stream) if (ev.type === 'message-end') end = ev;
    assert.equal(end?.delta?.finishReason, 'ERROR');
    assert.match(end?.delta?.error ?? '', /internal server error/);
  });
});
