/**
 * The Anthropic simulator, checked with the official SDK (`@anthropic-ai/sdk`, pinned): what the
 * SDK cannot parse is a bug in the simulator. The SDK (1.x) sends `anthropic-version:
 * 2026-10-21` and the key as a bearer token; the gateway sends `2023-06-01` and `x-api-key`,
 * checked here with plain `fetch`.
 */
import assert from 'node:assert/strict';
import { performance } from 'node:perf_hooks';
import { after, before, beforeEach, describe, it } from 'node:test';
import Anthropic, {
  APIConnectionError,
  APIError,
  AuthenticationError,
  BadRequestError,
  InternalServerError,
  NotFoundError,
  OverloadedError,
  PermissionDeniedError,
  RateLimitError,
} from '@anthropic-ai/sdk';
import type {
  MessageCreateParamsNonStreaming,
  MessageParam,
  MessageStreamEvent,
  Tool,
} from '@anthropic-ai/sdk/resources/messages';
import { expectedContent } from '../core/content.js';
import { countTextTokens } from '../core/protocol.js';
import { REASONING_WORDS } from '../core/plan.js';
import { startSimulator } from '../registry.js';
import type { Simulator } from '../core/types.js';

const KEY = 'sk-ant-sim-0123456789abcdef';
const MODEL = 'claude-sim-sonnet';
const WORDS = 'alpha bravo charlie delta echo foxtrot';

const WEATHER: Tool = {
  name: 'get_weather',
  description: 'The weather in a city',
  input_schema: {
    type: 'object',
    properties: { city: { type: 'string' }, unit: { type: 'string', enum: ['c', 'f'] } },
    required: ['city', 'unit'],
  },
};
const TIME: Tool = {
  name: 'get_time',
  input_schema: { type: 'object', properties: { zone: { type: 'string' } }, required: ['zone'] },
};

/** A tool loop: the user asks, the assistant (after `before`) calls get_weather, the result comes back with the next question. */
const toolLoop = (before: Array<Record<string, unknown>>, result: string): MessageParam[] => [
  { role: 'user', content: 'weather in Paris?' },
  {
    role: 'assistant',
    content: [
      ...before,
      { type: 'tool_use', id: 'toolu_1', name: 'get_weather', input: { city: 'Paris', unit: 'c' } },
    ] as unknown as MessageParam['content'],
  },
  {
    role: 'user',
    content: [
      { type: 'tool_result', tool_use_id: 'toolu_1', content: result },
      { type: 'text', text: `${WORDS} [[sim tokens=2]]` },
    ],
  },
];

describe('Anthropic simulator (official @anthropic-ai/sdk)', () => {
  let sim: Simulator;
  let client: Anthropic;

  before(async () => {
    sim = await startSimulator('anthropic', {
      apiKey: KEY,
      name: 'anthropic-spec',
      models: [{ id: MODEL, contextLength: 200 }, { id: 'claude-sim-haiku' }],
    });
    client = new Anthropic({ apiKey: KEY, baseURL: sim.url, maxRetries: 0 });
  });
  after(() => sim.close());
  beforeEach(() => sim.reset());

  const ask = (text: string) => [{ role: 'user' as const, content: text }];
  const last = () => sim.requests().at(-1)!;

  /** A raw request as the gateway sends it (x-api-key, 2023-06-01). */
  const raw = (body: unknown, headers: Record<string, string> = {}) =>
    fetch(`${sim.origin}/v1/messages`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        'x-api-key': KEY,
        'anthropic-version': '2023-06-01',
        ...headers,
      },
      body: JSON.stringify(body),
    });

  describe('messages.create', () => {
    it('answers a Message: text, end_turn, usage, request-id', async () => {
      const { data: msg, response } = await client.messages
        .create({ model: MODEL, max_tokens: 100, messages: ask(`${WORDS} [[sim tokens=5]]`) })
        .withResponse();
      assert.match(msg.id, /^msg_01[A-Za-z0-9]{22}$/);
      assert.equal(msg.type, 'message');
      assert.equal(msg.role, 'assistant');
      assert.equal(msg.model, MODEL);
      assert.deepEqual(msg.content, [{ type: 'text', text: expectedContent(WORDS, 5) }]);
      assert.equal(msg.stop_reason, 'end_turn');
      assert.equal(msg.stop_sequence, null);
      assert.equal(msg.usage.output_tokens, 5);
      assert.ok(msg.usage.input_tokens > 0);
      assert.equal(msg.usage.cache_read_input_tokens, 0);
      assert.equal(msg.usage.cache_creation_input_tokens, 0);
      assert.match(response.headers.get('request-id') ?? '', /^req_/);
      assert.ok(response.headers.get('anthropic-ratelimit-requests-limit'));
      // The SDK's own headers: the bearer key and API version 2026-10-21.
      assert.equal(last().headers['anthropic-version'], '2026-10-21');
      assert.equal(last().outcome, 'completed');
    });

    it('usage in Anthropic convention: input_tokens excludes cache reads and writes', async () => {
      const text = `${WORDS} [[sim tokens=2 cached_tokens=4 cache_write_tokens=3]]`;
      const cached = await client.messages.create({
        model: MODEL,
        max_tokens: 100,
        messages: ask(text),
      });
      // The simulator's prompt count (ceil(chars / 4) + 3 a message) is split three ways.
      const prompt = countTextTokens([text]);
      assert.equal(cached.usage.cache_read_input_tokens, 4);
      assert.equal(cached.usage.cache_creation_input_tokens, 3);
      assert.equal(cached.usage.input_tokens, prompt - 7);
      assert.equal(cached.usage.cache_creation?.ephemeral_5m_input_tokens, 3);
    });

    it('max_tokens clips the answer: stop_reason max_tokens', async () => {
      const msg = await client.messages.create({
        model: MODEL,
        max_tokens: 3,
        messages: ask(`${WORDS} [[sim tokens=10]]`),
      });
      assert.equal(msg.stop_reason, 'max_tokens');
      assert.deepEqual(msg.content, [{ type: 'text', text: expectedContent(WORDS, 3) }]);
      assert.equal(msg.usage.output_tokens, 3);
    });

    it('records what it understood: system blocks, images, stop sequences, structured output', async () => {
      const msg = await client.messages.create({
        model: MODEL,
        max_tokens: 200,
        system: [
          { type: 'text', text: 'Policy.', cache_control: { type: 'ephemeral' } },
          { type: 'text', text: 'Be brief.' },
        ],
        stop_sequences: ['END'],
        output_config: {
          format: {
            type: 'json_schema',
            schema: {
              type: 'object',
              properties: { title: { type: 'string' } },
              required: ['title'],
              additionalProperties: false,
            },
          },
        },
        messages: [
          {
            role: 'user',
            content: [
              { type: 'text', text: `${WORDS} [[sim tokens=2]]` },
              {
                type: 'image',
                source: {
                  type: 'base64',
                  media_type: 'image/png',
                  data: 'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8DwHwAFBQIAX8jx0gAAAABJRU5ErkJggg==',
                },
              },
            ],
          },
        ],
      });
      const block = msg.content[0];
      assert.ok(block?.type === 'text');
      assert.deepEqual(Object.keys(JSON.parse(block.text) as object), ['title']);
      const parsed = last().parsed!;
      assert.equal(parsed.system, 'Policy.\nBe brief.');
      assert.equal(parsed.imageCount, 1);
      assert.deepEqual(parsed.stop, ['END']);
      assert.equal(parsed.maxTokens, 200);
      assert.equal(parsed.responseFormat, 'json_schema');
    });
  });

  describe('streaming', () => {
    it('raw events: the full grammar, in order', async () => {
      const stream = await client.messages.create({
        model: MODEL,
        max_tokens: 100,
        stream: true,
        messages: ask(`${WORDS} [[sim tokens=3 cached_tokens=2]]`),
      });
      const events: MessageStreamEvent[] = [];
      for await (const e of stream) events.push(e);
      assert.deepEqual(
        events.map((e) => e.type),
        [
          'message_start',
          'content_block_start',
          'content_block_delta',
          'content_block_delta',
          'content_block_delta',
          'content_block_stop',
          'message_delta',
          'message_stop',
        ],
      );
      const start = events[0]!;
      assert.ok(start.type === 'message_start');
      assert.match(start.message.id, /^msg_01/);
      assert.equal(start.message.usage.cache_read_input_tokens, 2);
      assert.equal(start.message.usage.output_tokens, 1);
      const delta = events[6]!;
      assert.ok(delta.type === 'message_delta');
      assert.equal(delta.delta.stop_reason, 'end_turn');
      assert.equal(delta.usage.output_tokens, 3);
      assert.equal(delta.usage.cache_read_input_tokens, 2);
    });

    it('a ping follows the first block start on the wire', async () => {
      const res = await raw({
        model: MODEL,
        max_tokens: 10,
        stream: true,
        messages: ask('hi [[sim tokens=1]]'),
      });
      assert.equal(res.status, 200);
      assert.match(res.headers.get('content-type') ?? '', /^text\/event-stream/);
      const text = await res.text();
      const names = [...text.matchAll(/^event: (\S+)$/gm)].map((m) => m[1]);
      assert.deepEqual(names, [
        'message_start',
        'content_block_start',
        'ping',
        'content_block_delta',
        'content_block_stop',
        'message_delta',
        'message_stop',
      ]);
      // Each data line's type names its event.
      for (const m of text.matchAll(/^event: (\S+)\ndata: (.*)$/gm))
        assert.equal((JSON.parse(m[2]!) as { type: string }).type, m[1]);
    });

    it('.stream(): text events and finalMessage()', async () => {
      const stream = client.messages.stream({
        model: MODEL,
        max_tokens: 100,
        messages: ask(`${WORDS} [[sim tokens=4]]`),
      });
      let text = '';
      stream.on('text', (t) => {
        text += t;
      });
      const final = await stream.finalMessage();
      assert.equal(text, expectedContent(WORDS, 4));
      assert.deepEqual(final.content, [{ type: 'text', text }]);
      assert.equal(final.stop_reason, 'end_turn');
      assert.equal(final.usage.output_tokens, 4);
    });

    it('the stream_error knob: an `event: error` with overloaded_error after the first token', async () => {
      const stream = client.messages.stream({
        model: MODEL,
        max_tokens: 100,
        messages: ask(`${WORDS} [[sim tokens=5 stream_error=after_first]]`),
      });
      let text = '';
      stream.on('text', (t) => {
        text += t;
      });
      await assert.rejects(stream.finalMessage(), (e: unknown) => {
        assert.ok(e instanceof APIError, String(e));
        assert.equal(e.type, 'overloaded_error');
        return true;
      });
      assert.equal(text, expectedContent(WORDS, 1));
    });

    it('cut after the first token: a connection error', async () => {
      const stream = client.messages.stream({
        model: MODEL,
        max_tokens: 100,
        messages: ask(`${WORDS} [[sim tokens=5 tps=100 cut=after_first]]`),
      });
      await assert.rejects(stream.finalMessage(), (e: unknown) => e instanceof APIConnectionError);
      await sim.waitForRequest((r) => r.outcome === 'cut');
    });

    it('cut_after=N: N tokens, then the connection drops', async () => {
      const stream = client.messages.stream({
        model: MODEL,
        max_tokens: 100,
        messages: ask(`${WORDS} [[sim tokens=8 cut_after=3]]`),
      });
      let text = '';
      stream.on('text', (t) => (text += t));
      await assert.rejects(stream.finalMessage(), (e: unknown) => e instanceof APIConnectionError);
      assert.equal(text, expectedContent(WORDS, 3));
      const rec = await sim.waitForRequest((r) => r.outcome === 'cut');
      assert.equal(rec.tokensSent, 3);
    });

    it('fault_times=1: the first request of a prompt fails, the same request again is served', async () => {
      const body = {
        model: MODEL,
        max_tokens: 100,
        messages: ask(`${WORDS} [[sim tokens=2 status=500 fault_times=1]]`),
      };
      await assert.rejects(client.messages.create(body), (e: unknown) => e instanceof APIError);
      const again = await client.messages.create(body);
      assert.deepEqual(again.content, [{ type: 'text', text: expectedContent(WORDS, 2) }]);
      // Another prompt meets the fault again.
      await assert.rejects(
        client.messages.create({ ...body, messages: ask(`other ${body.messages[0]!.content}`) }),
      );
      assert.deepEqual(
        sim.requests().map((r) => r.status),
        [500, 200, 500],
      );
    });

    it('a prefill is continued from the word after its last one: prefill + continuation is the answer', async () => {
      const prefill = expectedContent(WORDS, 4);
      const messages: MessageParam[] = [
        ...ask(`${WORDS} [[sim tokens=9]]`),
        { role: 'assistant', content: prefill },
      ];
      const unary = await client.messages.create({ model: MODEL, max_tokens: 100, messages });
      const first = unary.content[0];
      const continued = first?.type === 'text' ? first.text : '';
      assert.equal(prefill + continued, expectedContent(WORDS, 9));
      assert.equal(unary.usage.output_tokens, 5);
      assert.equal(last().parsed?.prefill, prefill);
      // Streamed the same; prefill_repeat=2: the continuation first repeats the prefill's tail.
      let text = '';
      const stream = client.messages.stream({
        model: MODEL,
        max_tokens: 100,
        messages: [
          ...ask(`${WORDS} [[sim tokens=9 prefill_repeat=2]]`),
          { role: 'assistant', content: prefill },
        ],
      });
      stream.on('text', (t) => (text += t));
      await stream.finalMessage();
      assert.equal(text, ' charlie delta' + continued);
    });

    it('stall: the stream pauses stall_ms after stall_after tokens', async () => {
      const t0 = performance.now();
      const stream = client.messages.stream({
        model: MODEL,
        max_tokens: 100,
        messages: ask(`${WORDS} [[sim tokens=3 stall_ms=250 stall_after=1]]`),
      });
      const final = await stream.finalMessage();
      assert.ok(performance.now() - t0 >= 240);
      assert.equal(final.usage.output_tokens, 3);
    });
  });

  describe('tool use', () => {
    it('a named tool: a tool_use block whose input fits the schema (unary and streamed)', async () => {
      const msg = await client.messages.create({
        model: MODEL,
        max_tokens: 200,
        tools: [WEATHER, TIME],
        tool_choice: { type: 'tool', name: 'get_weather' },
        messages: ask(`${WORDS} [[sim tokens=2]]`),
      });
      assert.equal(msg.stop_reason, 'tool_use');
      assert.equal(msg.content.length, 1);
      const block = msg.content[0]!;
      assert.ok(block.type === 'tool_use');
      assert.match(block.id, /^toolu_01[A-Za-z0-9]{22}$/);
      assert.equal(block.name, 'get_weather');
      const input = block.input as { city: string; unit: string };
      assert.equal(typeof input.city, 'string');
      assert.equal(input.unit, 'c');

      const stream = client.messages.stream({
        model: MODEL,
        max_tokens: 200,
        tools: [WEATHER, TIME],
        tool_choice: { type: 'tool', name: 'get_weather' },
        messages: ask(`${WORDS} [[sim tokens=2]]`),
      });
      const pieces: string[] = [];
      stream.on('inputJson', (partial) => {
        pieces.push(partial);
      });
      const final = await stream.finalMessage();
      const streamed = final.content[0]!;
      assert.ok(streamed.type === 'tool_use');
      assert.deepEqual(
        streamed.input,
        msg.content[0]!.type === 'tool_use' ? msg.content[0]!.input : null,
      );
      assert.ok(pieces.length > 1, 'the input arrived in several input_json_delta pieces');
      assert.deepEqual(JSON.parse(pieces.join('')), streamed.input);
    });

    it('parallel tool calls: one tool_use block each, with their own ids', async () => {
      const msg = await client.messages.create({
        model: MODEL,
        max_tokens: 300,
        tools: [WEATHER, TIME],
        messages: ask(`${WORDS} [[sim tool_call=get_weather,get_time]]`),
      });
      const uses = msg.content.filter((b) => b.type === 'tool_use');
      assert.deepEqual(
        uses.map((b) => b.name),
        ['get_weather', 'get_time'],
      );
      assert.equal(new Set(uses.map((b) => b.id)).size, 2);
    });

    it('a tool result round trip; a tool_result without its tool_use is refused', async () => {
      const msg = await client.messages.create({
        model: MODEL,
        max_tokens: 100,
        tools: [WEATHER],
        messages: toolLoop([], 'sunny, 21 degrees'),
      });
      assert.deepEqual(msg.content, [{ type: 'text', text: expectedContent(WORDS, 2) }]);
      assert.match(last().parsed!.messages.join('\n'), /sunny, 21 degrees/);
      await assert.rejects(
        client.messages.create({
          model: MODEL,
          max_tokens: 100,
          messages: [
            {
              role: 'user',
              content: [{ type: 'tool_result', tool_use_id: 'toolu_9', content: 'x' }],
            },
          ],
        }),
        (e: unknown) => e instanceof BadRequestError && /tool_use_id/.test(e.message),
      );
    });
  });

  describe('extended thinking', () => {
    it('thinking blocks with a signature before the answer (unary and streamed)', async () => {
      const msg = await client.messages.create({
        model: MODEL,
        max_tokens: 2048,
        thinking: { type: 'enabled', budget_tokens: 1024 },
        messages: ask(`${WORDS} [[sim tokens=3]]`),
      });
      const [thinking, text] = msg.content;
      assert.ok(thinking?.type === 'thinking');
      assert.equal(thinking.thinking, REASONING_WORDS.join(' '));
      assert.ok(thinking.signature.length > 20);
      assert.deepEqual(text, { type: 'text', text: expectedContent(WORDS, 3) });
      assert.equal(msg.usage.output_tokens, REASONING_WORDS.length + 3);
      assert.equal(msg.usage.output_tokens_details?.thinking_tokens, REASONING_WORDS.length);
      assert.equal(last().parsed!.reasoning, true);

      const stream = client.messages.stream({
        model: MODEL,
        max_tokens: 2048,
        thinking: { type: 'enabled', budget_tokens: 1024 },
        messages: ask(`${WORDS} [[sim tokens=3]]`),
      });
      let thought = '';
      const signatures: string[] = [];
      stream.on('thinking', (delta) => {
        thought += delta;
      });
      stream.on('signature', (s) => {
        signatures.push(s);
      });
      const final = await stream.finalMessage();
      assert.equal(thought, REASONING_WORDS.join(' '));
      assert.equal(signatures.length, 1);
      const block = final.content[0];
      assert.ok(block?.type === 'thinking');
      assert.equal(block.signature, signatures[0]);
      assert.equal(final.usage.output_tokens, REASONING_WORDS.length + 3);
      assert.equal(final.usage.output_tokens_details?.thinking_tokens, REASONING_WORDS.length);
    });

    it('a tool loop with thinking: the calling turn gives its thinking back first', async () => {
      const res = await raw({
        model: MODEL,
        max_tokens: 2048,
        thinking: { type: 'enabled', budget_tokens: 1024 },
        tools: [WEATHER],
        messages: toolLoop(
          [{ type: 'thinking', thinking: 'Use the tool.', signature: 'c2ln' }],
          'sun',
        ),
      });
      assert.equal(res.status, 200);
      const msg = (await res.json()) as { content: Array<{ type: string }> };
      assert.deepEqual(
        msg.content.map((b) => b.type),
        ['thinking', 'text'],
      );
    });

    it("thinking's constraints: budget ≥ 1024 and < max_tokens, temperature 1, no forced tool", async () => {
      const bad = (extra: Record<string, unknown>) =>
        raw({ model: MODEL, max_tokens: 2048, messages: ask('x'), ...extra });
      for (const [extra, pattern] of [
        [{ thinking: { type: 'enabled', budget_tokens: 100 } }, /greater than or equal to 1024/],
        [{ thinking: { type: 'enabled', budget_tokens: 4096 } }, /max_tokens.*greater than/],
        [
          { thinking: { type: 'enabled', budget_tokens: 1024 }, temperature: 0.5 },
          /temperature.*only be set to 1/,
        ],
        [
          {
            thinking: { type: 'enabled', budget_tokens: 1024 },
            tools: [WEATHER],
            tool_choice: { type: 'any' },
          },
          /forces tool use/,
        ],
        [
          {
            thinking: { type: 'enabled', budget_tokens: 1024 },
            tools: [WEATHER],
            messages: [
              ...ask('weather?'),
              {
                role: 'assistant',
                content: [{ type: 'tool_use', id: 'toolu_1', name: 'get_weather', input: {} }],
              },
              {
                role: 'user',
                content: [{ type: 'tool_result', tool_use_id: 'toolu_1', content: 'sun' }],
              },
            ],
          },
          /must start with a thinking block/,
        ],
      ] as const) {
        const res = await bad(extra);
        assert.equal(res.status, 400);
        const body = (await res.json()) as {
          type: string;
          error: { type: string; message: string };
        };
        assert.equal(body.type, 'error');
        assert.equal(body.error.type, 'invalid_request_error');
        assert.match(body.error.message, pattern);
      }
    });
  });

  describe('errors', () => {
    const status = (code: number, extra = '') =>
      client.messages.create({
        model: MODEL,
        max_tokens: 10,
        messages: ask(`hi [[sim status=${code}${extra}]]`),
      });

    it('the status knob: the SDK error class, status and Anthropic error type', async () => {
      const table: Array<[number, new (...a: never[]) => APIError, string]> = [
        [400, BadRequestError, 'invalid_request_error'],
        [401, AuthenticationError, 'authentication_error'],
        [403, PermissionDeniedError, 'permission_error'],
        [404, NotFoundError, 'not_found_error'],
        [429, RateLimitError, 'rate_limit_error'],
        [500, InternalServerError, 'api_error'],
        [529, OverloadedError, 'overloaded_error'],
      ];
      for (const [code, cls, type] of table) {
        await assert.rejects(status(code), (e: unknown) => {
          assert.ok(e instanceof cls, `${code}: ${String(e)}`);
          assert.equal(e.status, code);
          assert.equal(e.type, type);
          const body = e.error as { type: string; request_id: string };
          assert.equal(body.type, 'error');
          assert.match(body.request_id, /^req_/);
          assert.equal(e.requestID, body.request_id);
          return true;
        });
      }
    });

    it('529 overloaded_error is an InternalServerError; 429 carries retry-after and exhausted rate-limit headers', async () => {
      await assert.rejects(status(529, ' retry_after=3'), (e: unknown) => {
        assert.ok(e instanceof InternalServerError);
        assert.equal(e.status, 529);
        assert.equal(e.headers?.get('retry-after'), '3');
        return true;
      });
      await assert.rejects(status(429, ' retry_after=7'), (e: unknown) => {
        assert.ok(e instanceof RateLimitError);
        assert.equal(e.headers?.get('retry-after'), '7');
        assert.equal(e.headers?.get('anthropic-ratelimit-requests-remaining'), '0');
        assert.ok(
          Date.parse(e.headers?.get('anthropic-ratelimit-requests-reset') ?? '') > Date.now(),
        );
        return true;
      });
    });

    it('authentication: a wrong key, a missing key, x-api-key or bearer', async () => {
      const wrong = new Anthropic({ apiKey: 'sk-ant-wrong', baseURL: sim.url, maxRetries: 0 });
      await assert.rejects(
        wrong.messages.create({ model: MODEL, max_tokens: 5, messages: ask('x') }),
        (e: unknown) =>
          e instanceof AuthenticationError && e.status === 401 && e.type === 'authentication_error',
      );
      const none = await raw(
        { model: MODEL, max_tokens: 5, messages: ask('x') },
        { 'x-api-key': '' },
      );
      assert.equal(none.status, 401);
      assert.deepEqual(((await none.json()) as { error: unknown }).error, {
        type: 'authentication_error',
        message: 'x-api-key header is required',
      });
      const ok = await raw({ model: MODEL, max_tokens: 5, messages: ask('x [[sim tokens=1]]') });
      assert.equal(ok.status, 200);
      // The key is a credential: the records keep no copy of it.
      assert.equal('x-api-key' in last().headers, false);
    });

    it('anthropic-version: required, known, and 2026-10-21 refuses the sampling parameters', async () => {
      const missing = await raw(
        { model: MODEL, max_tokens: 5, messages: ask('x') },
        { 'anthropic-version': '' },
      );
      assert.equal(missing.status, 400);
      assert.match(
        ((await missing.json()) as { error: { message: string } }).error.message,
        /anthropic-version/,
      );
      const bogus = await raw(
        { model: MODEL, max_tokens: 5, messages: ask('x') },
        { 'anthropic-version': '1999-01-01' },
      );
      assert.equal(bogus.status, 400);
      // The SDK's types no longer have the sampling parameters; the body still can.
      const sampled = (text: string) =>
        ({
          model: MODEL,
          max_tokens: 5,
          temperature: 0.5,
          top_k: 3,
          messages: ask(text),
        }) as unknown as MessageCreateParamsNonStreaming;
      await assert.rejects(
        client.messages.create(sampled('x')),
        (e: unknown) => e instanceof BadRequestError && /temperature/.test(e.message),
      );
      const old = new Anthropic({
        apiKey: KEY,
        baseURL: sim.url,
        maxRetries: 0,
        defaultHeaders: { 'anthropic-version': '2023-06-01' },
      });
      const msg = await old.messages.create(sampled('x [[sim tokens=1]]'));
      assert.equal(msg.stop_reason, 'end_turn');
    });

    it('request validation like the API: max_tokens, messages, roles, trailing whitespace, model', async () => {
      const cases: Array<[unknown, RegExp, number]> = [
        [{ model: MODEL, messages: ask('x') }, /^max_tokens: Field required$/, 400],
        [
          { model: MODEL, max_tokens: 0, messages: ask('x') },
          /max_tokens: Input should be greater than or equal to 1/,
          400,
        ],
        [{ model: MODEL, max_tokens: 5 }, /^messages: Field required$/, 400],
        [{ max_tokens: 5, messages: ask('x') }, /^model: Field required$/, 400],
        [
          { model: MODEL, max_tokens: 5, messages: [{ role: 'system', content: 'x' }] },
          /messages\.0\.role/,
          400,
        ],
        [
          {
            model: MODEL,
            max_tokens: 5,
            messages: [...ask('x'), { role: 'assistant', content: 'so ' }],
          },
          /trailing whitespace/,
          400,
        ],
        [
          {
            model: MODEL,
            max_tokens: 5,
            messages: [{ role: 'user', content: [{ type: 'text', text: '' }] }],
          },
          /non-empty/,
          400,
        ],
        [{ model: 'claude-nope', max_tokens: 5, messages: ask('x') }, /^model: claude-nope$/, 404],
      ];
      for (const [body, pattern, code] of cases) {
        const res = await raw(body);
        assert.equal(res.status, code, JSON.stringify(body));
        const err = (await res.json()) as {
          type: string;
          error: { type: string; message: string };
          request_id: string;
        };
        assert.equal(err.type, 'error');
        assert.match(err.error.message, pattern);
        assert.match(err.request_id, /^req_/);
        assert.equal(res.headers.get('request-id'), err.request_id);
      }
    });

    it('a prompt over the context window: "prompt is too long"', async () => {
      await assert.rejects(
        client.messages.create({
          model: MODEL,
          max_tokens: 5,
          messages: ask('word '.repeat(1000)),
        }),
        (e: unknown) =>
          e instanceof BadRequestError &&
          /prompt is too long: \d+ tokens > 200 maximum/.test(e.message),
      );
    });

    it('reset: no response at all', async () => {
      await assert.rejects(
        client.messages.create({ model: MODEL, max_tokens: 5, messages: ask('x [[sim reset]]') }),
        (e: unknown) => e instanceof APIConnectionError,
      );
    });

    it('usage=none: a Message without usage', async () => {
      const res = await raw({
        model: MODEL,
        max_tokens: 5,
        messages: ask('x [[sim tokens=1 usage=none]]'),
      });
      const body = (await res.json()) as Record<string, unknown>;
      assert.equal('usage' in body, false);
    });
  });

  describe('models', () => {
    it('models.list pages and models.retrieve', async () => {
      const page = await client.models.list({ limit: 1 });
      assert.deepEqual(
        page.data.map((m) => m.id),
        [MODEL],
      );
      assert.equal(page.has_more, true);
      const all: string[] = [];
      for await (const m of client.models.list({ limit: 1 })) all.push(m.id);
      assert.deepEqual(all, [MODEL, 'claude-sim-haiku']);
      const one = await client.models.retrieve(MODEL);
      assert.equal(one.type, 'model');
      assert.equal(one.max_input_tokens, 200);
      await assert.rejects(
        client.models.retrieve('nope'),
        (e: unknown) => e instanceof NotFoundError,
      );
    });
  });
});
