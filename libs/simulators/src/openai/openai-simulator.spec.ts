import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, beforeEach, describe, it } from 'node:test';
import OpenAI, {
  APIConnectionError,
  APIError,
  AuthenticationError,
  BadRequestError,
  InternalServerError,
  NotFoundError,
  PermissionDeniedError,
  RateLimitError,
} from 'openai';
import type {
  ChatCompletionChunk,
  ChatCompletionCreateParamsNonStreaming,
  ChatCompletionMessageParam,
  ChatCompletionTool,
} from 'openai/resources/chat/completions';
import {
  countPromptTokens,
  expectedContent,
  startOpenAISimulator,
  type OpenAISimulator,
} from './openai-simulator.js';
import { parseDirectiveBody } from '../core/knobs.js';
import { KNOB_MAXIMA, OUTPUT_LIMITS } from '../core/limits.js';
import { loadOpenAISpecValidators } from '@turnpike/openai-api/spec';
import { REASONING_WORDS } from '../core/plan.js';

const KEY = 'sk-sim-test-0123456789';
const spec = loadOpenAISpecValidators();

function assertValid(errors: string[], what: string): void {
  assert.deepEqual(errors, [], `${what} does not match the OpenAI spec:\n${errors.join('\n')}`);
}

const user = (content: string): ChatCompletionMessageParam[] => [{ role: 'user', content }];

const TOOLS: ChatCompletionTool[] = [
  {
    type: 'function',
    function: {
      name: 'get_weather',
      description: 'Weather for a city',
      parameters: {
        type: 'object',
        properties: {
          city: { type: 'string' },
          unit: { type: 'string', enum: ['celsius', 'fahrenheit'] },
          days: { type: 'integer', minimum: 1 },
        },
        required: ['city', 'unit', 'days'],
        additionalProperties: false,
      },
    },
  },
  {
    type: 'function',
    function: {
      name: 'get_time',
      parameters: { type: 'object', properties: { tz: { type: 'string' } }, required: ['tz'] },
    },
  },
];

interface SseRead {
  status: number;
  headers: Headers;
  text: string;
  events: Array<Record<string, unknown>>;
  done: boolean;
  error?: unknown;
}

/** Reads an SSE response to its end (or to the transport error that ends it). */
async function readSse(res: Response): Promise<SseRead> {
  const decoder = new TextDecoder();
  let text = '';
  let error: unknown;
  try {
    for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>)
      text += decoder.decode(chunk, { stream: true });
  } catch (e) {
    error = e;
  }
  const datas = text
    .split('\n\n')
    .filter((b) => b.startsWith('data: '))
    .map((b) => b.slice('data: '.length));
  return {
    status: res.status,
    headers: res.headers,
    text,
    events: datas
      .filter((d) => d !== '[DONE]')
      .map((d) => JSON.parse(d) as Record<string, unknown>),
    done: datas.includes('[DONE]'),
    ...(error !== undefined ? { error } : {}),
  };
}

describe('OpenAI simulator', () => {
  let sim: OpenAISimulator;
  let client: OpenAI;

  const raw = (body: unknown, headers: Record<string, string> = {}) =>
    fetch(`${sim.url}/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${KEY}`, ...headers },
      body: typeof body === 'string' ? body : JSON.stringify(body),
    });

  before(async () => {
    sim = await startOpenAISimulator({ apiKey: KEY, name: 'sim-test' });
    client = new OpenAI({ baseURL: sim.url, apiKey: KEY, maxRetries: 0 });
  });
  after(() => sim.close());
  beforeEach(() => sim.reset());

  describe('models', () => {
    it('lists and retrieves models', async () => {
      const page = await client.models.list();
      assert.deepEqual(
        page.data.map((m) => m.id),
        ['sim-gpt-small', 'sim-gpt-large', 'sim-gpt-nano'],
      );
      for (const m of page.data) assertValid(spec.validate('Model', m), 'model');
      const m = await client.models.retrieve('sim-gpt-large');
      assert.deepEqual(
        { id: m.id, object: m.object, owned_by: m.owned_by },
        { id: 'sim-gpt-large', object: 'model', owned_by: 'system' },
      );
      await assert.rejects(client.models.retrieve('gpt-nope'), NotFoundError);
    });
  });

  describe('non-streaming', () => {
    it('returns a chat.completion that matches the spec', async () => {
      const messages: ChatCompletionMessageParam[] = [
        { role: 'system', content: 'Be brief.' },
        { role: 'user', content: 'The quick brown fox' },
      ];
      const { data, response } = await client.chat.completions
        .create({ model: 'sim-gpt-small', messages })
        .withResponse();
      assertValid(spec.chatCompletion(data), 'chat.completion');
      assert.match(data.id, /^chatcmpl-[A-Za-z0-9]{29}$/);
      assert.equal(data.object, 'chat.completion');
      assert.ok(Math.abs(data.created - Date.now() / 1000) < 10);
      assert.equal(data.model, 'sim-gpt-small');
      assert.match(data.system_fingerprint ?? '', /^fp_[0-9a-f]{10}$/);
      assert.equal(data.service_tier, 'default');
      assert.equal(data.choices.length, 1);
      const [choice] = data.choices;
      assert.deepEqual(choice, {
        index: 0,
        message: {
          role: 'assistant',
          content: expectedContent('The quick brown fox', 16),
          refusal: null,
          annotations: [],
        },
        logprobs: null,
        finish_reason: 'stop',
      });
      assert.equal(
        choice?.message.content,
        'The quick brown fox The quick brown fox The quick brown fox The quick brown fox',
      );
      // ceil(9/4)+3 + ceil(19/4)+3
      assert.equal(countPromptTokens(messages), 14);
      assert.deepEqual(data.usage, {
        prompt_tokens: 14,
        completion_tokens: 16,
        total_tokens: 30,
        prompt_tokens_details: { cached_tokens: 0, audio_tokens: 0 },
        completion_tokens_details: {
          reasoning_tokens: 0,
          audio_tokens: 0,
          accepted_prediction_tokens: 0,
          rejected_prediction_tokens: 0,
        },
      });
      assert.match(response.headers.get('x-request-id') ?? '', /^req_[0-9a-f]{32}$/);
      assert.match(response.headers.get('openai-processing-ms') ?? '', /^\d+$/);
      assert.equal(response.headers.get('content-type'), 'application/json');
      assert.equal(response.headers.get('x-ratelimit-limit-requests'), '10000');

      const [rec] = sim.requests();
      assert.ok(rec);
      assert.equal(rec.id, response.headers.get('x-request-id'));
      assert.equal(rec.outcome, 'completed');
      assert.equal(rec.status, 200);
      assert.equal(rec.tokensSent, 16);
      assert.equal(rec.model, 'sim-gpt-small');
      assert.equal(rec.stream, false);
      assert.equal(rec.messagesCount, 2);
      assert.equal(rec.headers['authorization'], undefined);
      assert.equal(rec.headers['content-type'], 'application/json');
      assert.deepEqual(rec.body, { model: 'sim-gpt-small', messages });
      assert.ok(rec.endedAt !== undefined && rec.endedAt >= rec.receivedAt);
    });

    it('the spec validators reject what does not conform', () => {
      assert.notDeepEqual(
        spec.chatCompletion({ id: 'x', object: 'chat.completion', choices: [] }),
        [],
      );
      assert.notDeepEqual(spec.errorResponse({ error: { message: 'x' } }), []);
      const chunk = {
        id: 'c',
        object: 'chat.completion.chunk',
        created: 1,
        model: 'm',
        choices: [{ index: 0, delta: {}, logprobs: null, finish_reason: null }],
        usage: null,
      };
      assertValid(spec.chatCompletionChunk(chunk), 'nullable finish_reason / usage');
      assert.notDeepEqual(
        spec.chatCompletionChunk({
          ...chunk,
          choices: [{ index: 0, delta: {}, finish_reason: 'nope' }],
        }),
        [],
      );
    });

    it('returns n choices, each with its own deterministic content', async () => {
      const prompt = 'one two three four';
      const data = await client.chat.completions.create({
        model: 'sim-gpt-small',
        messages: user(`${prompt} [[sim tokens=5]]`),
        n: 3,
      });
      assertValid(spec.chatCompletion(data), 'n=3 completion');
      assert.deepEqual(
        data.choices.map((c) => [c.index, c.message.content]),
        [0, 1, 2].map((k) => [k, expectedContent(prompt, 5, k)]),
      );
      assert.equal(data.choices[1]?.message.content, 'two three four one two');
      assert.equal(data.usage?.completion_tokens, 15);
    });

    it('clips at max_tokens / max_completion_tokens with finish_reason length', async () => {
      for (const limit of [{ max_tokens: 4 }, { max_completion_tokens: 4 }]) {
        const data = await client.chat.completions.create({
          model: 'sim-gpt-small',
          messages: user('a b c [[sim tokens=10]]'),
          ...limit,
        });
        assert.equal(data.choices[0]?.message.content, 'a b c a');
        assert.equal(data.choices[0]?.finish_reason, 'length');
        assert.equal(data.usage?.completion_tokens, 4);
      }
    });

    it('answers response_format json_object / json_schema with valid JSON', async () => {
      const obj = await client.chat.completions.create({
        model: 'sim-gpt-small',
        messages: user('make json'),
        response_format: { type: 'json_object' },
      });
      assert.deepEqual(JSON.parse(obj.choices[0]?.message.content ?? ''), {
        text: expectedContent('make json', 16),
      });

      const schema = {
        type: 'object',
        properties: {
          name: { type: 'string' },
          age: { type: 'integer', minimum: 18 },
          tags: { type: 'array', items: { type: 'string' } },
          kind: { type: 'string', enum: ['a', 'b'] },
          when: { type: ['string', 'null'], format: 'date-time' },
        },
        required: ['name', 'age', 'tags', 'kind', 'when'],
        additionalProperties: false,
      };
      const params: ChatCompletionCreateParamsNonStreaming = {
        model: 'sim-gpt-small',
        messages: user('alpha beta [[sim tokens=3]]'),
        response_format: {
          type: 'json_schema',
          json_schema: { name: 'person', schema, strict: true },
        },
      };
      const data = await client.chat.completions.create(params);
      const parsed = JSON.parse(data.choices[0]?.message.content ?? '') as Record<string, unknown>;
      assert.deepEqual(parsed, {
        name: 'alpha beta alpha',
        age: 18,
        tags: ['beta'],
        kind: 'a',
        when: '2024-01-01T00:00:00Z',
      });

      const stream = await client.chat.completions.create({ ...params, stream: true });
      let streamed = '';
      for await (const c of stream) streamed += c.choices[0]?.delta.content ?? '';
      assert.equal(streamed, data.choices[0]?.message.content);
    });

    it('honours ttft and tps (duration ≈ ttft + tokens / tps)', async () => {
      const t0 = performance.now();
      const data = await client.chat.completions.create({
        model: 'sim-gpt-small',
        messages: user('slow [[sim ttft_ms=100 tps=50 tokens=6]]'),
      });
      const elapsed = performance.now() - t0;
      assert.equal(data.usage?.completion_tokens, 6);
      assert.ok(elapsed >= 195, `took only ${elapsed}ms`); // 100 + 5 * 20
      assert.ok(elapsed < 2000, `took ${elapsed}ms`);
    });
  });

  describe('streaming', () => {
    it('usage=none: a silent upstream sends no usage, streamed or not', async () => {
      const messages = user('quiet please [[sim tokens=5 usage=none]]');
      const data = await client.chat.completions.create({ model: 'sim-gpt-small', messages });
      assert.equal(data.usage, undefined);
      assert.ok((data.choices[0]?.message.content ?? '').length > 0);
      const stream = await client.chat.completions.create({
        model: 'sim-gpt-small',
        messages,
        stream: true,
        stream_options: { include_usage: true },
      });
      const chunks: ChatCompletionChunk[] = [];
      for await (const c of stream) chunks.push(c);
      assert.ok(chunks.length >= 3);
      for (const c of chunks) {
        assert.equal('usage' in c, false);
        assert.ok(c.choices.length > 0, 'no usage-only chunk');
      }
    });

    it('streams spec-valid chunks over time, usage last, deltas = non-stream content', async () => {
      const messages = user('stream me please [[sim ttft_ms=80 tps=50 tokens=8]]');
      const t0 = performance.now();
      const stream = await client.chat.completions.create({
        model: 'sim-gpt-small',
        messages,
        stream: true,
        stream_options: { include_usage: true },
      });
      const got: Array<{ chunk: ChatCompletionChunk; at: number }> = [];
      for await (const chunk of stream) got.push({ chunk, at: performance.now() - t0 });
      const chunks = got.map((g) => g.chunk);
      chunks.forEach((c, i) => assertValid(spec.chatCompletionChunk(c), `chunk ${i}`));

      // role chunk, 8 content chunks, finish chunk, usage chunk
      assert.equal(chunks.length, 11);
      assert.deepEqual(chunks[0]?.choices[0]?.delta, {
        role: 'assistant',
        content: '',
        refusal: null,
      });
      const finish = chunks[9];
      assert.deepEqual(finish?.choices, [
        { index: 0, delta: {}, logprobs: null, finish_reason: 'stop' },
      ]);
      const last = chunks[10];
      assert.deepEqual(last?.choices, []);
      assert.equal(last?.usage?.completion_tokens, 8);
      assert.equal(last?.usage?.prompt_tokens, countPromptTokens(messages));
      for (const c of chunks.slice(0, -1)) assert.equal(c.usage, null);
      assert.equal(new Set(chunks.map((c) => c.id)).size, 1);
      assert.equal(new Set(chunks.map((c) => c.created)).size, 1);
      for (const c of chunks.slice(1, 9))
        assert.deepEqual(Object.keys(c.choices[0]?.delta ?? {}), ['content']);

      const content = chunks.map((c) => c.choices[0]?.delta.content ?? '').join('');
      const nonStream = await client.chat.completions.create({ model: 'sim-gpt-small', messages });
      assert.equal(content, nonStream.choices[0]?.message.content);
      assert.equal(content, expectedContent('stream me please', 8));

      const firstContent = got[1]?.at ?? 0;
      const lastContent = got[8]?.at ?? 0;
      assert.ok(firstContent >= 70, `first token after ${firstContent}ms, ttft is 80ms`);
      assert.ok(
        lastContent - firstContent >= 110,
        `tokens spread over ${lastContent - firstContent}ms, expected ~140ms`,
      );

      const rec = await sim.waitForRequest((r) => r.stream && r.outcome === 'completed');
      assert.equal(rec.tokensSent, 8);
      assert.ok(rec.firstTokenAt !== undefined && rec.firstTokenAt - rec.receivedAt >= 70);
    });

    it('frames raw SSE like OpenAI and omits usage / obfuscation unless asked', async () => {
      const res = await raw({
        model: 'sim-gpt-small',
        messages: user('raw frames [[sim tokens=2]]'),
        stream: true,
      });
      assert.equal(res.headers.get('content-type'), 'text/event-stream; charset=utf-8');
      assert.match(res.headers.get('x-request-id') ?? '', /^req_/);
      const r = await readSse(res);
      assert.equal(r.error, undefined);
      assert.ok(r.done);
      assert.ok(r.text.endsWith('data: [DONE]\n\n'));
      assert.match(r.text, /^(data: [^\n]+\n\n)+$/);
      assert.equal(r.events.length, 4);
      for (const e of r.events) {
        assertValid(spec.chatCompletionChunk(e), 'raw chunk');
        assert.equal('usage' in e, false);
        assert.equal(typeof e['obfuscation'], 'string');
      }
      const r2 = await readSse(
        await raw({
          model: 'sim-gpt-small',
          messages: user('x [[sim tokens=1]]'),
          stream: true,
          stream_options: { include_obfuscation: false },
        }),
      );
      for (const e of r2.events) assert.equal('obfuscation' in e, false);
    });

    it('streams n choices that assemble to the non-stream choices', async () => {
      const messages = user('red green blue [[sim tokens=4]]');
      const stream = await client.chat.completions.create({
        model: 'sim-gpt-small',
        messages,
        n: 2,
        stream: true,
      });
      const byIndex = ['', ''];
      const finishes: Array<string | null> = [];
      for await (const c of stream) {
        assertValid(spec.chatCompletionChunk(c), 'n=2 chunk');
        for (const ch of c.choices) {
          byIndex[ch.index] += ch.delta.content ?? '';
          if (ch.finish_reason) finishes.push(ch.finish_reason);
        }
      }
      const full = await client.chat.completions.create({ model: 'sim-gpt-small', messages, n: 2 });
      assert.deepEqual(
        byIndex,
        full.choices.map((c) => c.message.content),
      );
      assert.deepEqual(finishes, ['stop', 'stop']);
    });

    it('pauses for stall_ms after stall_after tokens', async () => {
      const t0 = performance.now();
      const stream = await client.chat.completions.create({
        model: 'sim-gpt-small',
        messages: user('stall here [[sim tokens=4 stall_ms=300 stall_after=2]]'),
        stream: true,
      });
      const times: number[] = [];
      for await (const c of stream)
        if (c.choices[0]?.delta.content) times.push(performance.now() - t0);
      assert.equal(times.length, 4);
      const [a = 0, b = 0, c = 0, d = 0] = times;
      assert.ok(b - a < 150, `gap 1-2 ${b - a}ms`);
      assert.ok(c - b >= 280, `stall gap ${c - b}ms`);
      assert.ok(d - c < 150, `gap 3-4 ${d - c}ms`);
    });
  });

  describe('tool calls', () => {
    it('answers tool_choice required / forced with tool_calls (non-streaming)', async () => {
      const required = await client.chat.completions.create({
        model: 'sim-gpt-small',
        messages: user('weather in Paris [[sim tokens=2]]'),
        tools: TOOLS,
        tool_choice: 'required',
      });
      assertValid(spec.chatCompletion(required), 'tool-call completion');
      const choice = required.choices[0];
      assert.equal(choice?.finish_reason, 'tool_calls');
      assert.equal(choice?.message.content, null);
      const call = choice?.message.tool_calls?.[0];
      assert.ok(call && call.type === 'function');
      assert.match(call.id, /^call_[A-Za-z0-9]{24}$/);
      assert.equal(call.function.name, 'get_weather');
      assert.deepEqual(JSON.parse(call.function.arguments), {
        city: 'weather in',
        unit: 'celsius',
        days: 1,
      });

      const forced = await client.chat.completions.create({
        model: 'sim-gpt-small',
        messages: user('what time'),
        tools: TOOLS,
        tool_choice: { type: 'function', function: { name: 'get_time' } },
      });
      const forcedCall = forced.choices[0]?.message.tool_calls?.[0];
      assert.equal(forcedCall?.type === 'function' && forcedCall.function.name, 'get_time');
    });

    it('calls the tool(s) named by the tool_call knob, text otherwise', async () => {
      const both = await client.chat.completions.create({
        model: 'sim-gpt-small',
        messages: user('plan [[sim tool_call=get_time,get_weather]]'),
        tools: TOOLS,
      });
      assert.deepEqual(
        both.choices[0]?.message.tool_calls?.map((c) =>
          c.type === 'function' ? c.function.name : c.type,
        ),
        ['get_time', 'get_weather'],
      );
      const auto = await client.chat.completions.create({
        model: 'sim-gpt-small',
        messages: user('just talk'),
        tools: TOOLS,
      });
      assert.equal(auto.choices[0]?.finish_reason, 'stop');
      assert.equal(auto.choices[0]?.message.tool_calls, undefined);
      const none = await client.chat.completions.create({
        model: 'sim-gpt-small',
        messages: user('no tools [[sim tool_call=get_time]]'),
        tools: TOOLS,
        tool_choice: 'none',
      });
      assert.equal(none.choices[0]?.finish_reason, 'stop');
      const noTools = await client.chat.completions.create({
        model: 'sim-gpt-small',
        messages: user('x [[sim tool_call=get_time]]'),
      });
      assert.equal(noTools.choices[0]?.message.tool_calls, undefined);
    });

    it('streams tool-call deltas that the SDK assembles into the same call', async () => {
      const messages = user('weather please [[sim tool_call=get_weather,get_time tokens=2]]');
      const full = await client.chat.completions.create({
        model: 'sim-gpt-small',
        messages,
        tools: TOOLS,
      });

      const chunks: ChatCompletionChunk[] = [];
      const runner = client.chat.completions.stream({
        model: 'sim-gpt-small',
        messages,
        tools: TOOLS,
        stream_options: { include_usage: true },
      });
      runner.on('chunk', (c) => chunks.push(c));
      const final = await runner.finalChatCompletion();
      chunks.forEach((c, i) => assertValid(spec.chatCompletionChunk(c), `tool chunk ${i}`));

      const calls = (m: (typeof full.choices)[number]['message'] | undefined) =>
        m?.tool_calls?.map((c) =>
          c.type === 'function' ? [c.function.name, c.function.arguments] : [],
        );
      assert.deepEqual(calls(final.choices[0]?.message), calls(full.choices[0]?.message));
      assert.equal(final.choices[0]?.finish_reason, 'tool_calls');

      const first = chunks[0]?.choices[0]?.delta;
      assert.equal(first?.role, 'assistant');
      assert.equal(first?.content, null);
      const start = first?.tool_calls?.[0];
      assert.equal(start?.index, 0);
      assert.match(start?.id ?? '', /^call_/);
      assert.equal(start?.type, 'function');
      assert.deepEqual(start?.function, { name: 'get_weather', arguments: '' });
      const fragments = chunks
        .flatMap((c) => c.choices[0]?.delta.tool_calls ?? [])
        .filter((t) => t.id === undefined);
      assert.ok(fragments.length > 3);
      for (const f of fragments) assert.deepEqual(Object.keys(f).sort(), ['function', 'index']);
      const second = chunks
        .flatMap((c) => c.choices[0]?.delta.tool_calls ?? [])
        .find((t) => t.index === 1 && t.id);
      assert.deepEqual(second?.function, { name: 'get_time', arguments: '' });
      const usage = chunks.at(-1)?.usage;
      assert.equal(usage?.completion_tokens, full.usage?.completion_tokens);
    });
  });

  describe('errors', () => {
    const cases: Array<[number, new (...a: never[]) => APIError, string, string | null]> = [
      [400, BadRequestError, 'invalid_request_error', null],
      [401, AuthenticationError, 'invalid_request_error', 'invalid_api_key'],
      [403, PermissionDeniedError, 'invalid_request_error', 'model_not_found'],
      [404, NotFoundError, 'invalid_request_error', 'model_not_found'],
      [408, APIError, 'server_error', 'timeout'],
      [429, RateLimitError, 'requests', 'rate_limit_exceeded'],
      [500, InternalServerError, 'server_error', null],
      [502, InternalServerError, 'cf_bad_gateway', null],
      [503, InternalServerError, 'server_error', null],
      [529, InternalServerError, 'overloaded_error', null],
    ];
    for (const [status, ErrorClass, type, code] of cases) {
      it(`status=${status} → ${ErrorClass.name} with OpenAI's body`, async () => {
        for (const stream of [false, true]) {
          await assert.rejects(
            client.chat.completions.create({
              model: 'sim-gpt-small',
              messages: user(`fail [[sim status=${status}]]`),
              stream,
            }),
            (e: unknown) => {
              assert.ok(e instanceof ErrorClass, `got ${String(e)}`);
              assert.equal(e.status, status);
              assert.equal(e.type, type);
              assert.equal(e.code ?? null, code);
              assert.match(e.requestID ?? '', /^req_/);
              return true;
            },
          );
        }
        const res = await raw(
          { model: 'sim-gpt-small', messages: user('fail') },
          { 'x-sim-status': String(status) },
        );
        assert.equal(res.status, status);
        assert.equal(res.headers.get('content-type'), 'application/json');
        assert.match(res.headers.get('x-request-id') ?? '', /^req_/);
        assert.ok(res.headers.has('openai-processing-ms'));
        const body: unknown = await res.json();
        assertValid(spec.errorResponse(body), `${status} body`);
        const recs = sim.requests();
        assert.equal(recs.length, 3);
        for (const r of recs)
          assert.deepEqual([r.outcome, r.status, r.tokensSent], ['error', status, 0]);
      });
    }

    it('429 / 503 carry retry-after and x-ratelimit-* headers', async () => {
      await assert.rejects(
        client.chat.completions.create({
          model: 'sim-gpt-small',
          messages: user('x [[sim status=429 retry_after=3]]'),
        }),
        (e: unknown) => {
          assert.ok(e instanceof RateLimitError);
          assert.equal(e.headers?.get('retry-after'), '3');
          assert.equal(e.headers?.get('x-ratelimit-remaining-requests'), '0');
          assert.match(e.message, /^429 Rate limit reached for sim-gpt-small/);
          return true;
        },
      );
      const res = await raw({
        model: 'sim-gpt-small',
        messages: user('x [[sim status=503 retry_after=1.5]]'),
      });
      assert.equal(res.headers.get('retry-after'), '2');
      assert.equal(res.headers.get('retry-after-ms'), '1500');
      assert.deepEqual(await res.json(), {
        error: {
          message: 'The server is overloaded or not ready yet.',
          type: 'server_error',
          param: null,
          code: null,
        },
      });
    });

    it('rejects bad or missing API keys like OpenAI', async () => {
      const bad = new OpenAI({ baseURL: sim.url, apiKey: 'sk-wrong-key-abcdefgh', maxRetries: 0 });
      await assert.rejects(
        bad.chat.completions.create({ model: 'sim-gpt-small', messages: user('hi') }),
        (e: unknown) => {
          assert.ok(e instanceof AuthenticationError);
          assert.equal(e.code, 'invalid_api_key');
          assert.match(e.message, /Incorrect API key provided: sk-wro\*+efgh\./);
          return true;
        },
      );
      await assert.rejects(bad.models.list(), AuthenticationError);
      const res = await fetch(`${sim.url}/chat/completions`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ model: 'sim-gpt-small', messages: user('hi') }),
      });
      assert.equal(res.status, 401);
      const body = (await res.json()) as { error: { message: string } };
      assertValid(spec.errorResponse(body), '401 body');
      assert.match(body.error.message, /^You didn't provide an API key/);
    });

    it('status=401 quotes a fragment of the key that was sent, like OpenAI', async () => {
      const res = await raw({ model: 'sim-gpt-small', messages: user('x [[sim status=401]]') });
      assert.equal(res.status, 401);
      const body = (await res.json()) as { error: { message: string; code: string } };
      assert.equal(body.error.code, 'invalid_api_key');
      assert.ok(body.error.message.includes(`${KEY.slice(0, 6)}****`), body.error.message);
      assert.ok(body.error.message.includes(`****${KEY.slice(-4)}.`), body.error.message);
    });

    it("body=html / body=text: a proxy's error page instead of OpenAI's JSON", async () => {
      const html = await raw({
        model: 'sim-gpt-small',
        messages: user('x [[sim status=502 body=html]]'),
      });
      assert.equal(html.status, 502);
      assert.match(html.headers.get('content-type') ?? '', /^text\/html/);
      const page = await html.text();
      assert.match(page, /<title>502 Bad Gateway<\/title>/);
      // Like Apache's, the page names the server's address.
      assert.ok(page.includes(`Server at 127.0.0.1 Port ${sim.port}`), page);
      const text = await raw(
        { model: 'sim-gpt-small', messages: user('x') },
        { 'x-sim-status': '503', 'x-sim-body': 'text', 'x-sim-retry-after': '2' },
      );
      assert.equal(text.status, 503);
      assert.equal(text.headers.get('content-type'), 'text/plain');
      assert.equal(text.headers.get('retry-after'), '2');
      assert.match(await text.text(), /^upstream connect error/);
      const rec = sim.requests();
      assert.deepEqual(
        rec.map((r) => [r.outcome, r.status]),
        [
          ['error', 502],
          ['error', 503],
        ],
      );
    });

    it('message=...: the JSON error says what the test wants', async () => {
      await assert.rejects(
        client.chat.completions.create({
          model: 'sim-gpt-small',
          messages: user('x [[sim status=400 message="bad key sk-live-123 at https://a.example"]]'),
        }),
        (e: unknown) => {
          assert.ok(e instanceof BadRequestError);
          assert.match(e.message, /^400 bad key sk-live-123 at https:\/\/a\.example$/);
          return true;
        },
      );
    });

    it('validates requests like OpenAI', async () => {
      const expectBadRequest = async (
        body: unknown,
        param: string | null,
        code: string | null,
        message?: RegExp,
      ) => {
        await assert.rejects(
          client.chat.completions.create(body as ChatCompletionCreateParamsNonStreaming),
          (e: unknown) => {
            assert.ok(e instanceof BadRequestError, String(e));
            assert.equal(e.type, 'invalid_request_error');
            assert.equal(e.param ?? null, param);
            assert.equal(e.code ?? null, code);
            if (message) assert.match(e.message, message);
            return true;
          },
        );
      };
      await expectBadRequest({ model: 'sim-gpt-small' }, 'messages', 'missing_required_parameter');
      await expectBadRequest(
        { messages: user('x') },
        'model',
        null,
        /you must provide a model parameter/,
      );
      await expectBadRequest({ model: 'sim-gpt-small', messages: [] }, 'messages', 'empty_array');
      await expectBadRequest(
        { model: 'sim-gpt-small', messages: 'hi' },
        'messages',
        'invalid_type',
      );
      await expectBadRequest(
        { model: 'sim-gpt-small', messages: [{ role: 'robot', content: 'x' }] },
        'messages[0].role',
        'invalid_value',
      );
      await expectBadRequest(
        { model: 'sim-gpt-small', messages: user('x'), max_tokens: 0 },
        'max_tokens',
        'integer_below_min_value',
      );
      await expectBadRequest(
        { model: 'sim-gpt-small', messages: user('x'), tool_choice: 'required' },
        'tool_choice',
        null,
      );
      await expectBadRequest(
        { model: 'sim-gpt-small', messages: user('x [[sim speed=9]]') },
        null,
        'sim_invalid_knob',
        /unknown sim knob 'speed'/,
      );

      const res = await raw('{"model": "sim-gpt-small", ');
      assert.equal(res.status, 400);
      const body = (await res.json()) as { error: { message: string } };
      assertValid(spec.errorResponse(body), 'invalid JSON body');
      assert.match(body.error.message, /^We could not parse the JSON body of your request/);
    });

    it('404s unknown models and URLs', async () => {
      await assert.rejects(
        client.chat.completions.create({ model: 'gpt-nope', messages: user('x') }),
        (e: unknown) => {
          assert.ok(e instanceof NotFoundError);
          assert.equal(e.code, 'model_not_found');
          assert.equal(
            e.message,
            '404 The model `gpt-nope` does not exist or you do not have access to it.',
          );
          return true;
        },
      );
      const res = await fetch(`${sim.url}/embeddingz`, {
        headers: { authorization: `Bearer ${KEY}` },
      });
      assert.equal(res.status, 404);
      assert.deepEqual(await res.json(), {
        error: {
          message: 'Invalid URL (GET /v1/embeddingz)',
          type: 'invalid_request_error',
          param: null,
          code: null,
        },
      });
    });

    it('400s prompts over the context length', async () => {
      await assert.rejects(
        client.chat.completions.create({ model: 'sim-gpt-nano', messages: user('x'.repeat(4000)) }),
        (e: unknown) => {
          assert.ok(e instanceof BadRequestError);
          assert.deepEqual(e.error, {
            message:
              "This model's maximum context length is 512 tokens. However, your messages resulted in 1003 tokens. Please reduce the length of the messages.",
            type: 'invalid_request_error',
            param: 'messages',
            code: 'context_length_exceeded',
          });
          return true;
        },
      );
    });
  });

  describe('faults', () => {
    it('records a client abort and stops generating', async () => {
      const ac = new AbortController();
      const stream = await client.chat.completions.create(
        {
          model: 'sim-gpt-small',
          messages: user('abort me [[sim tps=40 tokens=200]]'),
          stream: true,
        },
        { signal: ac.signal },
      );
      let seen = 0;
      try {
        for await (const c of stream) {
          if (c.choices[0]?.delta.content && ++seen === 3) ac.abort();
        }
      } catch {
        // the SDK may surface the abort as an error
      }
      const rec = await sim.waitForRequest((r) => r.outcome === 'aborted', { timeoutMs: 3000 });
      assert.equal(rec.status, 200);
      assert.ok(rec.tokensSent >= 3 && rec.tokensSent < 20, `tokensSent ${rec.tokensSent}`);
      assert.ok(rec.endedAt !== undefined);
      await sleep(200);
      assert.equal(
        sim.requests()[0]?.tokensSent,
        rec.tokensSent,
        'generation continued after the abort',
      );
      const health = (await (
        await fetch(`${sim.url.replace(/\/v1$/, '')}/__sim/health`)
      ).json()) as { inFlight: number };
      assert.equal(health.inFlight, 0);
    });

    it('records an abort of a non-streaming request during ttft', async () => {
      const ac = new AbortController();
      const pending = client.chat.completions.create(
        { model: 'sim-gpt-small', messages: user('wait [[sim ttft_ms=5000]]') },
        { signal: ac.signal },
      );
      await sim.waitForRequest((r) => r.model === 'sim-gpt-small');
      setTimeout(() => ac.abort(), 50);
      await assert.rejects(pending);
      const rec = await sim.waitForRequest((r) => r.outcome === 'aborted', { timeoutMs: 2000 });
      assert.deepEqual([rec.status, rec.tokensSent], [null, 0]);
    });

    it('cut=after_first ends the raw stream after one token, without [DONE]', async () => {
      const r = await readSse(
        await raw({
          model: 'sim-gpt-small',
          messages: user('cut me [[sim cut=after_first]]'),
          stream: true,
        }),
      );
      assert.equal(r.status, 200);
      assert.equal(r.done, false);
      assert.ok(r.error, 'the body should end with a transport error');
      assert.deepEqual(
        r.events.map((e) => (e['choices'] as Array<{ delta: unknown }>)[0]?.delta),
        [{ role: 'assistant', content: '', refusal: null }, { content: 'cut' }],
      );
      const rec = await sim.waitForRequest((x) => x.outcome === 'cut');
      assert.deepEqual([rec.status, rec.tokensSent], [200, 1]);

      const viaSdk = await client.chat.completions.create({
        model: 'sim-gpt-small',
        messages: user('cut [[sim cut=after_first]]'),
        stream: true,
      });
      await assert.rejects(async () => {
        for await (const _ of viaSdk) void _;
      });
    });

    it('malformed=N: N unparsable data lines spread among the good events (streams only)', async () => {
      const prompt = 'alpha bravo charlie';
      const res = await raw({
        model: 'sim-gpt-small',
        messages: user(`${prompt} [[sim tokens=8 malformed=2]]`),
        stream: true,
      });
      const datas = (await res.text())
        .split('\n\n')
        .filter((b) => b.startsWith('data: '))
        .map((b) => b.slice('data: '.length));
      const parsed = datas.map((d): Record<string, unknown> | 'done' | 'bad' => {
        if (d === '[DONE]') return 'done';
        try {
          return JSON.parse(d) as Record<string, unknown>;
        } catch {
          return 'bad';
        }
      });
      // role, steps 0-2, garbage, steps 3-5, garbage, steps 6-7, finish, [DONE]: after steps
      // floor(k * 8 / 3), never before the first token, never two in a row.
      assert.deepEqual(
        parsed.flatMap((p, i) => (p === 'bad' ? [i] : [])),
        [4, 8],
      );
      assert.match(datas[4]!, /^\{"id":"chatcmpl-/, 'a JSON chunk cut in half');
      const content = parsed
        .flatMap((p) => (typeof p === 'object' ? [p] : []))
        .map(
          (c) => (c['choices'] as Array<{ delta: { content?: string } }>)[0]?.delta.content ?? '',
        )
        .join('');
      assert.equal(content, expectedContent(prompt, 8), 'the good events carry the whole answer');
      assert.equal(parsed.at(-1), 'done');
      // A whole answer has no events to garble.
      const unary = await client.chat.completions.create({
        model: 'sim-gpt-small',
        messages: user(`${prompt} [[sim tokens=8 malformed=2]]`),
      });
      assert.equal(unary.choices[0]?.message.content, expectedContent(prompt, 8));
    });

    it('cut=before_first sends 200 headers and no chunk', async () => {
      const r = await readSse(
        await raw({
          model: 'sim-gpt-small',
          messages: user('cut [[sim cut=before_first ttft_ms=30]]'),
          stream: true,
        }),
      );
      assert.equal(r.status, 200);
      assert.equal(r.text, '');
      assert.ok(r.error);
      await assert.rejects(
        client.chat.completions.create({
          model: 'sim-gpt-small',
          messages: user('cut [[sim cut=after_first]]'),
        }),
      );
      const outcomes = sim.requests().map((x) => [x.outcome, x.tokensSent]);
      assert.deepEqual(outcomes, [
        ['cut', 0],
        ['cut', 1],
      ]);
    });

    it('reset drops the connection without a response', async () => {
      await assert.rejects(
        client.chat.completions.create({
          model: 'sim-gpt-small',
          messages: user('bye [[sim reset]]'),
        }),
        APIConnectionError,
      );
      await assert.rejects(
        raw({ model: 'sim-gpt-small', messages: user('x') }, { 'x-sim-reset': 'true' }),
        TypeError,
      );
      assert.deepEqual(
        sim.requests().map((r) => [r.outcome, r.status]),
        [
          ['reset', null],
          ['reset', null],
        ],
      );
    });
  });

  describe('knob overrides', () => {
    it('applies defaults < x-sim-* headers < [[sim]] directives', async () => {
      sim.setDefaults({ completionTokens: 3 });
      const tokens = async (content: string, headers?: Record<string, string>) =>
        (
          await client.chat.completions.create(
            { model: 'sim-gpt-small', messages: user(content) },
            headers ? { headers } : {},
          )
        ).usage?.completion_tokens;
      assert.equal(await tokens('a'), 3);
      assert.equal(await tokens('a [[sim tokens=7]]'), 7);
      assert.equal(await tokens('a', { 'x-sim-tokens': '5' }), 5);
      assert.equal(await tokens('a [[sim tokens=6]]', { 'x-sim-tokens': '5' }), 6);
      assert.deepEqual(
        sim.requests().map((r) => r.knobs.completionTokens),
        [3, 7, 5, 6],
      );
      sim.reset();
      assert.equal(await tokens('a'), 16);
    });

    it('reads directives only from the last user message, in string or part form, and strips them from the echo', async () => {
      const data = await client.chat.completions.create({
        model: 'sim-gpt-small',
        messages: [
          { role: 'user', content: 'old [[sim tokens=9]]' },
          { role: 'assistant', content: 'ok' },
          { role: 'user', content: [{ type: 'text', text: 'alpha [[sim tokens=3]] beta' }] },
        ],
      });
      assert.equal(data.choices[0]?.message.content, 'alpha beta alpha');
    });

    it('exposes the control API', async () => {
      const base = sim.url.replace(/\/v1$/, '');
      const post = (path: string, body?: unknown) =>
        fetch(`${base}${path}`, {
          method: 'POST',
          ...(body ? { body: JSON.stringify(body) } : {}),
        });
      assert.equal((await post('/__sim/config', { tokens: 2, ttftMs: 0 })).status, 200);
      await client.chat.completions.create({ model: 'sim-gpt-small', messages: user('x y') });
      const list = (await (await fetch(`${base}/__sim/requests`)).json()) as {
        data: Array<{ tokensSent: number; outcome: string }>;
      };
      assert.deepEqual(
        list.data.map((r) => [r.outcome, r.tokensSent]),
        [['completed', 2]],
      );
      const health = (await (await fetch(`${base}/__sim/health`)).json()) as Record<
        string,
        unknown
      >;
      assert.equal(health['status'], 'ok');
      assert.equal(health['name'], 'sim-test');
      assert.equal((await post('/__sim/config', { nope: 1 })).status, 400);
      assert.equal((await post('/__sim/reset')).status, 200);
      assert.equal(sim.requests().length, 0);
      assert.equal(sim.defaults().completionTokens, 16);
    });

    it('POST /__sim/auth changes the accepted keys (a rotation); records show which key, never the key', async () => {
      const base = sim.url.replace(/\/v1$/, '');
      const auth = (keys: unknown) =>
        fetch(`${base}/__sim/auth`, { method: 'POST', body: JSON.stringify({ api_keys: keys }) });
      const NEW = 'sk-sim-rotated-9876543210';
      const as = (key: string) => new OpenAI({ baseURL: sim.url, apiKey: key, maxRetries: 0 });
      const ask = (key: string) =>
        as(key).chat.completions.create({ model: 'sim-gpt-small', messages: user('k') });
      await assert.rejects(ask(NEW), AuthenticationError);

      // Both keys during the rotation, then only the new one.
      const both = await auth([KEY, NEW]);
      assert.deepEqual(await both.json(), { ok: true, api_keys: 2 });
      await ask(KEY);
      await ask(NEW);
      assert.equal((await auth([NEW])).status, 200);
      await ask(NEW);
      await assert.rejects(ask(KEY), AuthenticationError);

      const sha = (k: string) => createHash('sha256').update(k).digest('hex');
      const used = sim.requests().map((r) => r.credentialSha256);
      assert.deepEqual(used, [sha(NEW), sha(KEY), sha(NEW), sha(NEW), sha(KEY)]);
      const listed = await (await fetch(`${base}/__sim/requests`)).text();
      assert.ok(!listed.includes(NEW) && !listed.includes(KEY), 'no key in the records');

      // Refused bodies; reset restores the key given at start.
      assert.equal((await auth('nope')).status, 400);
      assert.equal((await auth(['has space'])).status, 400);
      sim.reset();
      await ask(KEY);
      await assert.rejects(ask(NEW), AuthenticationError);
    });
  });

  describe('load', () => {
    it('serves 300 concurrent streams with correct content', async () => {
      const N = 300;
      const t0 = performance.now();
      const results = await Promise.all(
        Array.from({ length: N }, async (_, i) => {
          const prompt = `stream number ${i} go`;
          const stream = await client.chat.completions.create({
            model: 'sim-gpt-small',
            messages: user(`${prompt} [[sim ttft_ms=50 tps=100 tokens=10]]`),
            stream: true,
            stream_options: { include_usage: true },
          });
          let content = '';
          let usage: ChatCompletionChunk['usage'] = null;
          for await (const c of stream) {
            content += c.choices[0]?.delta.content ?? '';
            usage = c.usage ?? usage;
          }
          return { ok: content === expectedContent(prompt, 10), tokens: usage?.completion_tokens };
        }),
      );
      const elapsed = performance.now() - t0;
      assert.equal(results.filter((r) => r.ok && r.tokens === 10).length, N);
      const recs = sim.requests();
      assert.equal(recs.length, N);
      assert.ok(recs.every((r) => r.outcome === 'completed' && r.tokensSent === 10));
      assert.ok(elapsed < 10_000, `took ${elapsed}ms`);
    });
  });

  describe('hostile requests: bounded output or a clean 400', () => {
    /** Runs `fn` and checks it was quick and did not grow the heap much (the simulator runs in this process). */
    const bounded = async <T>(what: string, fn: () => Promise<T>): Promise<T> => {
      const heap0 = process.memoryUsage().heapUsed;
      const t0 = performance.now();
      const out = await fn();
      const ms = performance.now() - t0;
      const grewMb = (process.memoryUsage().heapUsed - heap0) / 2 ** 20;
      // Unbounded generation would take minutes and gigabytes (or kill the process).
      assert.ok(ms < 10_000, `${what}: took ${Math.round(ms)} ms`);
      assert.ok(grewMb < 256, `${what}: the heap grew by ${Math.round(grewMb)} MB`);
      return out;
    };
    const schemaRequest = (schema: Record<string, unknown>, content = 'alpha beta') => ({
      model: 'sim-gpt-large',
      messages: user(content),
      response_format: {
        type: 'json_schema' as const,
        json_schema: { name: 'hostile', schema },
      },
    });

    it('tokens=1e9 with max_tokens=5: five tokens at once, finish_reason length, streamed or not', async () => {
      const messages = user('one two three [[sim tokens=1000000000]]');
      const data = await bounded('unary', () =>
        client.chat.completions.create({ model: 'sim-gpt-small', messages, max_tokens: 5 }),
      );
      assert.equal(data.choices[0]?.message.content, expectedContent('one two three', 5));
      assert.equal(data.choices[0]?.finish_reason, 'length');
      assert.equal(data.usage?.completion_tokens, 5);
      const chunks = await bounded('stream', async () => {
        const stream = await client.chat.completions.create({
          model: 'sim-gpt-small',
          messages,
          max_completion_tokens: 5,
          stream: true,
          stream_options: { include_usage: true },
        });
        const out: ChatCompletionChunk[] = [];
        for await (const c of stream) out.push(c);
        return out;
      });
      assert.equal(
        chunks.map((c) => c.choices[0]?.delta.content ?? '').join(''),
        'one two three one two',
      );
      assert.equal(
        chunks.find((c) => c.choices[0]?.finish_reason)?.choices[0]?.finish_reason,
        'length',
      );
      assert.equal(chunks.at(-1)?.usage?.completion_tokens, 5);
      assert.deepEqual(
        sim.requests().map((r) => r.tokensSent),
        [5, 5],
      );
    });

    it('without max_tokens a choice stops at the hard cap, and n choices share the request cap', async () => {
      const one = await bounded('one choice', () =>
        client.chat.completions.create({
          model: 'sim-gpt-large',
          messages: user('w [[sim tokens=1000000000]]'),
        }),
      );
      assert.equal(one.usage?.completion_tokens, OUTPUT_LIMITS.tokensPerChoice);
      assert.equal(one.choices[0]?.finish_reason, 'length');
      const many = await bounded('128 choices', () =>
        client.chat.completions.create({
          model: 'sim-gpt-large',
          messages: user('w [[sim tokens=1000000000]]'),
          n: 128,
        }),
      );
      assert.equal(many.choices.length, 128);
      assert.equal(many.usage?.completion_tokens, OUTPUT_LIMITS.tokensPerRequest);
      assert.ok(many.choices.every((c) => c.finish_reason === 'length'));
      // Fewer tokens than the caps are generated in full, as before.
      const small = await client.chat.completions.create({
        model: 'sim-gpt-large',
        messages: user('w [[sim tokens=3000]]'),
        n: 2,
      });
      assert.equal(small.usage?.completion_tokens, 6000);
      assert.ok(small.choices.every((c) => c.finish_reason === 'stop'));
    });

    it('a prompt of one huge word cannot make the answer huge: characters are capped too', async () => {
      const word = 'x'.repeat(400_000); // 100,000 prompt tokens: within the context window
      const data = await bounded('huge word', () =>
        client.chat.completions.create({
          model: 'sim-gpt-large',
          messages: user(`${word} [[sim tokens=1000]]`),
        }),
      );
      const content = data.choices[0]?.message.content ?? '';
      assert.ok(content.length <= OUTPUT_LIMITS.charsPerRequest, `${content.length} characters`);
      assert.ok(content.startsWith(word));
      assert.equal(data.choices[0]?.finish_reason, 'length');
    });

    it('absurd knob values are refused with sim_invalid_knob, in directives, headers and config', async () => {
      const refused = async (directive: string, headers: Record<string, string> = {}) => {
        const res = await raw(
          { model: 'sim-gpt-small', messages: user(`x ${directive}`) },
          headers,
        );
        const body = (await res.json()) as { error: { code: string; message: string } };
        assert.equal(res.status, 400, directive);
        assertValid(spec.errorResponse(body), directive);
        assert.equal(body.error.code, 'sim_invalid_knob', directive);
        return body.error.message;
      };
      assert.match(
        await refused('[[sim tokens=1000000000000]]'),
        /'tokens' must be at most 1000000000/,
      );
      assert.match(await refused('[[sim tokens=1e300]]'), /at most/);
      await refused('[[sim ttft_ms=10000000000]]');
      await refused('[[sim stall_ms=99999999999 stall_after=1]]');
      await refused('[[sim stall_after=1e12]]');
      await refused('[[sim tps=1e9]]');
      await refused('[[sim retry_after=1e7 status=429]]');
      await refused(
        `[[sim tool_call=${Array.from({ length: 129 }, (_, i) => `f${i}`).join(',')}]]`,
      );
      await refused('', { 'x-sim-tokens': '1e15' });
      const base = sim.url.replace(/\/v1$/, '');
      const config = await fetch(`${base}/__sim/config`, {
        method: 'POST',
        body: JSON.stringify({ ttftMs: 1e12 }),
      });
      assert.equal(config.status, 400);
      assert.equal(
        ((await config.json()) as { error: { code: string } }).error.code,
        'sim_invalid_knob',
      );
      // The maxima themselves are fine.
      for (const [key, max] of Object.entries(KNOB_MAXIMA))
        assert.doesNotThrow(() => parseDirectiveBody(` ${key}=${max}`), key);
      assert.equal(sim.requests().filter((r) => r.tokensSent > 0).length, 0);
    });

    it('json_schema minItems 1e9 and minLength 1e9: a bounded answer, valid JSON', async () => {
      const data = await bounded('minItems', () =>
        client.chat.completions.create(
          schemaRequest({
            type: 'object',
            properties: {
              list: { type: 'array', minItems: 1e9, items: { type: 'integer', minimum: 3 } },
              text: { type: 'string', minLength: 1e9 },
            },
          }),
        ),
      );
      const parsed = JSON.parse(data.choices[0]?.message.content ?? '') as {
        list: number[];
        text: string;
      };
      assert.equal(parsed.list.length, OUTPUT_LIMITS.arrayItems);
      assert.ok(parsed.list.every((n) => n === 3));
      assert.ok(parsed.text.length >= OUTPUT_LIMITS.stringLength, `${parsed.text.length}`);
      assert.ok(parsed.text.length < OUTPUT_LIMITS.stringLength + 16, `${parsed.text.length}`);
      assert.equal(data.choices[0]?.finish_reason, 'stop');
    });

    it('a schema that refers to itself, wide and deep, builds a bounded value', async () => {
      const node = {
        type: 'object',
        properties: Object.fromEntries(
          ['a', 'b', 'c', 'd', 'e', 'f'].map((k) => [k, { $ref: '#/$defs/node' }]),
        ),
      };
      const schema = {
        $defs: {
          node: {
            ...node,
            properties: {
              ...node.properties,
              all: { type: 'array', minItems: 1e6, items: { $ref: '#/$defs/node' } },
            },
          },
        },
        $ref: '#/$defs/node',
      };
      const data = await bounded('$ref recursion', () =>
        client.chat.completions.create(schemaRequest(schema)),
      );
      const content = data.choices[0]?.message.content ?? '';
      const value: unknown = JSON.parse(content);
      const depth = (v: unknown): number =>
        typeof v === 'object' && v !== null ? 1 + Math.max(0, ...Object.values(v).map(depth)) : 0;
      assert.ok(depth(value) <= OUTPUT_LIMITS.schemaDepth + 1, `depth ${depth(value)}`);
      const count = (v: unknown): number =>
        typeof v === 'object' && v !== null
          ? 1 + Object.values(v).reduce((n: number, x) => n + count(x), 0)
          : 1;
      assert.ok(count(value) <= OUTPUT_LIMITS.schemaNodes + 1, `${count(value)} values`);
    });

    it('a large const repeated by an array stays within the character cap (tool arguments too)', async () => {
      const big = 'y'.repeat(500_000);
      const schema = { type: 'array', minItems: 64, items: { const: big } };
      const data = await bounded('const × 64', () =>
        client.chat.completions.create(
          schemaRequest({ type: 'object', properties: { v: schema } }),
        ),
      );
      const content = data.choices[0]?.message.content ?? '';
      assert.ok(content.length <= OUTPUT_LIMITS.charsPerRequest, `${content.length} characters`);
      const parsed = JSON.parse(content) as { v: Array<string | null> };
      assert.ok(parsed.v.some((x) => x === big));
      assert.ok(
        parsed.v.some((x) => x === null),
        'the items past the cap are null',
      );

      const tools: ChatCompletionTool[] = [
        {
          type: 'function',
          function: { name: 'f', parameters: { type: 'object', properties: { v: schema } } },
        },
      ];
      const call = await bounded('tool arguments', () =>
        client.chat.completions.create({
          model: 'sim-gpt-large',
          messages: user('x [[sim tool_call=f,f,f,f]]'),
          tools,
        }),
      );
      const args = (call.choices[0]?.message.tool_calls ?? []).map((c) =>
        c.type === 'function' ? c.function.arguments : '',
      );
      assert.ok(args.length >= 1);
      const total = args.reduce((n, a) => n + a.length, 0);
      assert.ok(total <= OUTPUT_LIMITS.charsPerRequest, `${total} characters of arguments`);
    });
  });

  describe('the OpenAI-compatible family', () => {
    it('returns the thinking in the field the reasoning_field knob names, when asked for', async () => {
      const ask = { model: 'sim-gpt-large', messages: user('alpha bravo [[sim tokens=3]]') };
      const hidden = await client.chat.completions.create({ ...ask, reasoning_effort: 'low' });
      assert.equal('reasoning_content' in hidden.choices[0]!.message, false, 'OpenAI hides it');
      assert.ok((hidden.usage?.completion_tokens_details?.reasoning_tokens ?? 0) > 0);
      const asks: Array<Record<string, unknown>> = [
        { reasoning_effort: 'high' },
        { thinking: { type: 'enabled' } },
        { reasoning: { enabled: true } },
        { reasoning_format: 'parsed' },
        { chat_template_kwargs: { enable_thinking: true } },
      ];
      for (const extra of asks) {
        const res = await raw(
          { ...ask, ...extra },
          { 'x-sim-reasoning-field': 'reasoning_content' },
        );
        const body = (await res.json()) as { choices: Array<{ message: Record<string, unknown> }> };
        assert.equal(
          body.choices[0]!.message['reasoning_content'],
          REASONING_WORDS.join(' '),
          JSON.stringify(extra),
        );
      }
      const plain = await raw(ask, { 'x-sim-reasoning-field': 'reasoning_content' });
      const plainBody = (await plain.json()) as { choices: Array<{ message: object }> };
      assert.equal('reasoning_content' in plainBody.choices[0]!.message, false, 'not asked');
      const stream = await client.chat.completions.create(
        { ...ask, stream: true, reasoning_effort: 'low' },
        { headers: { 'x-sim-reasoning-field': 'reasoning' } },
      );
      let thought = '';
      for await (const c of stream)
        thought += (c.choices[0]?.delta as { reasoning?: string } | undefined)?.reasoning ?? '';
      assert.equal(thought, REASONING_WORDS.join(' '));
    });

    it('records a marked trailing assistant message as a prefill, at /v1 and /beta', async () => {
      const messages = [
        { role: 'user', content: 'count' },
        { role: 'assistant', content: 'one two', prefix: true },
      ];
      await (await raw({ model: 'sim-gpt-large', messages })).json();
      assert.equal(sim.requests().at(-1)!.parsed?.prefill, 'one two');
      const beta = await fetch(`${sim.origin}/beta/chat/completions`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${KEY}` },
        body: JSON.stringify({
          model: 'sim-gpt-large',
          messages: [messages[0], { role: 'assistant', content: 'one two' }],
          continue_final_message: true,
        }),
      });
      assert.equal(beta.status, 200);
      assert.equal(sim.requests().at(-1)!.parsed?.prefill, 'one two');
      await (
        await raw({
          model: 'sim-gpt-large',
          messages: [messages[0], { role: 'assistant', content: 'x' }],
        })
      ).json();
      assert.equal(
        sim.requests().at(-1)!.parsed?.prefill,
        undefined,
        'OpenAI answers, not continues',
      );
    });
  });
});

describe('OpenAI simulator lifecycle', () => {
  it('close() destroys open streams', async () => {
    const sim = await startOpenAISimulator({
      defaults: { tokensPerSecond: 5, completionTokens: 100 },
    });
    const client = new OpenAI({ baseURL: sim.url, apiKey: 'unused', maxRetries: 0 });
    const stream = await client.chat.completions.create({
      model: 'sim-gpt-large',
      messages: user('long'),
      stream: true,
    });
    const consumed = (async () => {
      for await (const _ of stream) void _;
    })();
    await sim.waitForRequest((r) => r.tokensSent > 0);
    const t0 = performance.now();
    await sim.close();
    assert.ok(performance.now() - t0 < 1000);
    await assert.rejects(consumed);
  });

  it('runs as a CLI that prints its URL and exits on SIGTERM', async () => {
    const main = fileURLToPath(new URL('../main.js', import.meta.url));
    const child = spawn(
      process.execPath,
      [
        main,
        '--port',
        '0',
        '--api-key',
        'sk-cli',
        '--name',
        'sim-a',
        '--tokens',
        '24',
        '--ttft-ms',
        '5',
      ],
      {
        stdio: ['ignore', 'pipe', 'inherit'],
      },
    );
    try {
      const line = await new Promise<string>((resolve, reject) => {
        let buf = '';
        child.stdout.on('data', (d: Buffer) => {
          buf += d.toString();
          const nl = buf.indexOf('\n');
          if (nl >= 0) resolve(buf.slice(0, nl));
        });
        child.once('exit', (code) => reject(new Error(`exited early with ${code}`)));
      });
      const info = JSON.parse(line) as { url: string; port: number; name: string };
      assert.equal(info.url, `http://127.0.0.1:${info.port}/v1`);
      assert.equal(info.name, 'sim-a');
      const client = new OpenAI({ baseURL: info.url, apiKey: 'sk-cli', maxRetries: 0 });
      const data = await client.chat.completions.create({
        model: 'sim-gpt-small',
        messages: user('cli'),
      });
      assert.equal(data.usage?.completion_tokens, 24);
      const exited = once(child, 'exit');
      child.kill('SIGTERM');
      const [code] = (await exited) as [number | null];
      assert.equal(code, 0);
    } finally {
      if (child.exitCode === null) child.kill('SIGKILL');
    }
  });
});
