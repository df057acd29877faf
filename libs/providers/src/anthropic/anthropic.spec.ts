import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, test } from 'node:test';
import type { NativeTokens, ProviderConnection } from '@turnpike/contracts';
import type { GenerationCall } from '../core/adapter.js';
import type { DecodedEvent } from '../core/decoder.js';
import { assertSkipsMalformed, sseEvents } from '../core/decoder-testing.js';
import type { Json } from '../core/json.js';
import { RequestMappingError } from '../core/param-map.js';
import { UpstreamError } from '../errors/index.js';
import { adapterFor } from '../registry.js';
import { anthropicProvider, ANTHROPIC_VERSION } from './anthropic.provider.js';
import { DEFAULT_MAX_TOKENS } from './anthropic.params.js';
import { anthropicRetryAfter } from './anthropic.errors.js';

const FIXTURES = new URL('../../src/anthropic/fixtures/', import.meta.url);
const fixture = (name: string): string => readFileSync(new URL(name, FIXTURES), 'utf8');
const enc = new TextEncoder();

const KEY = 'sk-ant-api03-test-0123456789abcdef';
const conn: ProviderConnection = {
  baseUrl: 'https://api.anthropic.com/',
  credentials: { type: 'api_key', apiKey: KEY },
};
const opts = { requireParameters: false, now: new Date() };

function call(body: Json, extra: Partial<GenerationCall> = {}): GenerationCall {
  return { body, upstreamModel: 'claude-sonnet-4-5', stream: false, ...extra };
}

async function prepared(body: Json, extra: Partial<GenerationCall> = {}) {
  const req = await anthropicProvider.prepareRequest(call(body, extra), conn, opts);
  return { req, body: JSON.parse(req.body) as Json };
}

const user = (content: unknown) => ({ role: 'user', content });

describe('Anthropic request', () => {
  test('POST {base}/v1/messages with x-api-key and anthropic-version; the model; stream', async () => {
    const { req, body } = await prepared({ messages: [user('hi')] }, { stream: true });
    assert.equal(req.method, 'POST');
    assert.equal(req.url, 'https://api.anthropic.com/v1/messages');
    assert.equal(req.headers['x-api-key'], KEY);
    assert.equal(req.headers['anthropic-version'], ANTHROPIC_VERSION);
    assert.equal(req.headers['anthropic-version'], '2023-06-01');
    assert.equal(req.headers['content-type'], 'application/json');
    assert.equal(req.headers['authorization'], undefined);
    assert.equal(body['model'], 'claude-sonnet-4-5');
    assert.equal(body['stream'], true);
    assert.deepEqual(body['messages'], [{ role: 'user', content: [{ type: 'text', text: 'hi' }] }]);
    // A base URL that already names the version, and extra account headers.
    const v1 = await anthropicProvider.prepareRequest(
      call({ messages: [user('hi')] }),
      { ...conn, baseUrl: 'http://127.0.0.1:9/v1/', headers: { 'anthropic-beta': 'x' } },
      opts,
    );
    assert.equal(v1.url, 'http://127.0.0.1:9/v1/messages');
    assert.equal(v1.headers['anthropic-beta'], 'x');
    assert.equal('stream' in JSON.parse(v1.body), false);
  });

  test('the registry serves kind anthropic; credentials of another type are a configuration error', async () => {
    assert.equal(adapterFor('anthropic'), anthropicProvider);
    assert.equal(anthropicProvider.protocol, 'anthropic');
    assert.equal(anthropicProvider.defaultBaseUrl, 'https://api.anthropic.com');
    await assert.rejects(
      anthropicProvider.prepareRequest(
        call({ messages: [user('hi')] }),
        {
          baseUrl: 'http://x',
          credentials: { type: 'aws', accessKeyId: 'a', secretAccessKey: 'b', region: 'us-east-1' },
        },
        opts,
      ),
      (e: unknown) =>
        e instanceof RequestMappingError &&
        e.error.reply.code === 'provider_misconfigured' &&
        e.error.reply.status === 502,
    );
  });

  test('system: a string; blocks when a part has cache_control (kept)', async () => {
    const plain = await prepared({
      messages: [
        { role: 'system', content: 'You are terse.' },
        { role: 'developer', content: 'Answer in English.' },
        user('hi'),
      ],
    });
    assert.equal(plain.body['system'], 'You are terse.\n\nAnswer in English.');
    const cached = await prepared({
      messages: [
        {
          role: 'system',
          content: [
            {
              type: 'text',
              text: 'A long policy.',
              cache_control: { type: 'ephemeral', ttl: '1h' },
            },
            { type: 'text', text: 'Be kind.' },
          ],
        },
        user('hi'),
      ],
    });
    assert.deepEqual(cached.body['system'], [
      { type: 'text', text: 'A long policy.', cache_control: { type: 'ephemeral', ttl: '1h' } },
      { type: 'text', text: 'Be kind.' },
    ]);
    const none = await prepared({ messages: [user('hi')] });
    assert.equal('system' in none.body, false);
  });

  test('multi-turn: alternating turns, consecutive ones merged, tool calls and results as blocks', async () => {
    const { body } = await prepared({
      messages: [
        user('first'),
        user([{ type: 'text', text: 'second', cache_control: { type: 'ephemeral' } }]),
        {
          role: 'assistant',
          content: 'Let me look.',
          tool_calls: [
            {
              id: 'toolu_01A',
              type: 'function',
              function: { name: 'get_weather', arguments: '{"city":"Paris"}' },
            },
            {
              id: 'toolu_01B',
              type: 'function',
              function: { name: 'get_time', arguments: 'oops' },
            },
          ],
        },
        { role: 'tool', tool_call_id: 'toolu_01A', content: 'sunny' },
        {
          role: 'tool',
          tool_call_id: 'toolu_01B',
          content: [
            { type: 'text', text: 'noon' },
            { type: 'image_url', image_url: { url: 'https://example.com/clock.png' } },
          ],
        },
        { role: 'tool', tool_call_id: 'toolu_01C', content: '' },
        user('thanks'),
        { role: 'assistant', content: null },
        user('again'),
      ],
    });
    assert.deepEqual(body['messages'], [
      {
        role: 'user',
        content: [
          { type: 'text', text: 'first' },
          { type: 'text', text: 'second', cache_control: { type: 'ephemeral' } },
        ],
      },
      {
        role: 'assistant',
        content: [
          { type: 'text', text: 'Let me look.' },
          { type: 'tool_use', id: 'toolu_01A', name: 'get_weather', input: { city: 'Paris' } },
          // Arguments that are not a JSON object: Anthropic needs an object.
          { type: 'tool_use', id: 'toolu_01B', name: 'get_time', input: {} },
        ],
      },
      {
        role: 'user',
        content: [
          { type: 'tool_result', tool_use_id: 'toolu_01A', content: 'sunny' },
          {
            type: 'tool_result',
            tool_use_id: 'toolu_01B',
            content: [
              { type: 'text', text: 'noon' },
              { type: 'image', source: { type: 'url', url: 'https://example.com/clock.png' } },
            ],
          },
          { type: 'tool_result', tool_use_id: 'toolu_01C' },
          { type: 'text', text: 'thanks' },
          // The empty assistant turn between two user turns is left out: they merge.
          { type: 'text', text: 'again' },
        ],
      },
    ]);
  });

  test('images: data URLs as base64 sources, https as url sources, cache_control kept; PDFs as documents', async () => {
    const { body } = await prepared({
      messages: [
        user([
          { type: 'text', text: 'What is this?' },
          {
            type: 'image_url',
            image_url: { url: 'data:image/jpeg;base64,/9j/AAAA' },
            cache_control: { type: 'ephemeral' },
          },
          { type: 'image_url', image_url: { url: 'https://example.com/a.png', detail: 'high' } },
          { type: 'image_url', image_url: { url: 'ftp://example.com/a.png' } },
          {
            type: 'file',
            file: { filename: 'a.pdf', file_data: 'data:application/pdf;base64,JVBERi0x' },
          },
        ]),
      ],
    });
    assert.deepEqual((body['messages'] as Json[])[0]!['content'], [
      { type: 'text', text: 'What is this?' },
      {
        type: 'image',
        source: { type: 'base64', media_type: 'image/jpeg', data: '/9j/AAAA' },
        cache_control: { type: 'ephemeral' },
      },
      { type: 'image', source: { type: 'url', url: 'https://example.com/a.png' } },
      {
        type: 'document',
        source: { type: 'base64', media_type: 'application/pdf', data: 'JVBERi0x' },
        title: 'a.pdf',
      },
    ]);
  });

  test("earlier turns' reasoning_details go back as thinking / redacted_thinking blocks, signed only", async () => {
    const { body } = await prepared({
      messages: [
        user('q'),
        {
          role: 'assistant',
          content: 'a',
          reasoning_details: [
            {
              type: 'reasoning.text',
              text: 'think',
              signature: 'sig==',
              format: 'anthropic-claude-v1',
            },
            { type: 'reasoning.encrypted', data: 'EncRypt', format: 'anthropic-claude-v1' },
            // Unsigned (another provider's): Anthropic could not verify it.
            { type: 'reasoning.text', text: 'unsigned' },
            { type: 'reasoning.summary', summary: 'sum' },
          ],
        },
        user('next'),
      ],
    });
    assert.deepEqual((body['messages'] as Json[])[1], {
      role: 'assistant',
      content: [
        { type: 'thinking', thinking: 'think', signature: 'sig==' },
        { type: 'redacted_thinking', data: 'EncRypt' },
        { type: 'text', text: 'a' },
      ],
    });
  });

  test('prefill: a trailing assistant message stays last, without trailing whitespace', async () => {
    const { body } = await prepared({
      messages: [user('Name a colour.'), { role: 'assistant', content: 'The colour is ' }],
    });
    const msgs = body['messages'] as Json[];
    assert.deepEqual(msgs[msgs.length - 1], {
      role: 'assistant',
      content: [{ type: 'text', text: 'The colour is' }],
    });
    assert.equal(anthropicProvider.capabilities.prefill, true);
  });

  test('max_tokens: required; the request, else the endpoint limit, else the default', async () => {
    assert.equal(
      (await prepared({ messages: [user('x')], max_tokens: 77 })).body['max_tokens'],
      77,
    );
    assert.equal(
      (await prepared({ messages: [user('x')], max_completion_tokens: 55, max_tokens: 77 })).body[
        'max_tokens'
      ],
      55,
    );
    assert.equal(
      (await prepared({ messages: [user('x')] }, { maxOutputTokens: 64_000 })).body['max_tokens'],
      64_000,
    );
    assert.equal(
      (await prepared({ messages: [user('x')] })).body['max_tokens'],
      DEFAULT_MAX_TOKENS,
    );
    assert.equal((await prepared({ messages: [user('x')], max_tokens: 0 })).body['max_tokens'], 1);
  });

  test('sampling: temperature clamped to 0..1, top_p, top_k (0 = off), stop → stop_sequences, user → metadata', async () => {
    const { body, req } = await prepared({
      messages: [user('x')],
      temperature: 1.7,
      top_p: 0.9,
      top_k: 40,
      stop: ['END', ''],
      user: 'user-42',
      seed: 7,
      n: 1,
      presence_penalty: 0.5,
      logit_bias: { '1': 2 },
    });
    assert.equal(body['temperature'], 1);
    assert.equal(body['top_p'], 0.9);
    assert.equal(body['top_k'], 40);
    assert.deepEqual(body['stop_sequences'], ['END']);
    assert.deepEqual(body['metadata'], { user_id: 'user-42' });
    for (const k of ['seed', 'n', 'presence_penalty', 'logit_bias', 'stop', 'user'])
      assert.equal(k in body, false, k);
    assert.deepEqual(req.droppedParameters.sort(), ['logit_bias', 'n', 'presence_penalty', 'seed']);
    const cold = await prepared({ messages: [user('x')], temperature: -1, top_k: 0, stop: 'X' });
    assert.equal(cold.body['temperature'], 0);
    assert.equal('top_k' in cold.body, false);
    assert.deepEqual(cold.body['stop_sequences'], ['X']);
  });

  test('parameters Anthropic does not take are refused under provider.require_parameters', async () => {
    await assert.rejects(
      anthropicProvider.prepareRequest(call({ messages: [user('x')], seed: 1 }), conn, {
        ...opts,
        requireParameters: true,
      }),
      (e: unknown) =>
        e instanceof RequestMappingError &&
        e.error.reply.status === 400 &&
        e.error.reply.param === 'seed',
    );
    assert.deepEqual(anthropicProvider.capabilities.parameters, [
      'include_reasoning',
      'max_completion_tokens',
      'max_tokens',
      'parallel_tool_calls',
      'reasoning',
      'reasoning_effort',
      'response_format',
      'stop',
      'structured_outputs',
      'temperature',
      'tool_choice',
      'tools',
      'top_k',
      'top_p',
      'user',
    ]);
  });

  const WEATHER = {
    type: 'function',
    function: {
      name: 'get_weather',
      description: 'The weather',
      parameters: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] },
      strict: true,
    },
    cache_control: { type: 'ephemeral' },
  };
  const TIME = { type: 'function', function: { name: 'get_time' } };

  test('tools → {name, description, input_schema} (strict and cache_control kept)', async () => {
    const { body } = await prepared({ messages: [user('x')], tools: [WEATHER, TIME] });
    assert.deepEqual(body['tools'], [
      {
        name: 'get_weather',
        description: 'The weather',
        input_schema: {
          type: 'object',
          properties: { city: { type: 'string' } },
          required: ['city'],
        },
        strict: true,
        cache_control: { type: 'ephemeral' },
      },
      { name: 'get_time', input_schema: { type: 'object', properties: {} } },
    ]);
    assert.equal('tool_choice' in body, false);
  });

  test('tool_choice: auto / required → any / named → tool / none; parallel_tool_calls: false', async () => {
    const choice = async (extra: Json) =>
      (await prepared({ messages: [user('x')], tools: [WEATHER, TIME], ...extra })).body[
        'tool_choice'
      ];
    assert.deepEqual(await choice({ tool_choice: 'auto' }), { type: 'auto' });
    assert.deepEqual(await choice({ tool_choice: 'required' }), { type: 'any' });
    assert.deepEqual(await choice({ tool_choice: 'none' }), { type: 'none' });
    assert.deepEqual(
      await choice({ tool_choice: { type: 'function', function: { name: 'get_time' } } }),
      { type: 'tool', name: 'get_time' },
    );
    assert.deepEqual(await choice({ tool_choice: 'required', parallel_tool_calls: false }), {
      type: 'any',
      disable_parallel_tool_use: true,
    });
    assert.deepEqual(await choice({ parallel_tool_calls: false }), {
      type: 'auto',
      disable_parallel_tool_use: true,
    });
    assert.deepEqual(await choice({ tool_choice: 'none', parallel_tool_calls: false }), {
      type: 'none',
    });
    assert.equal(await choice({ parallel_tool_calls: true }), undefined);
    // Without tools Anthropic refuses a tool_choice: none is sent.
    const bare = await prepared({ messages: [user('x')], tool_choice: 'auto' });
    assert.equal('tool_choice' in bare.body, false);
  });

  test('response_format json_schema → output_config.format; json_object and text send nothing', async () => {
    const schema = {
      type: 'object',
      properties: { title: { type: 'string' } },
      required: ['title'],
      additionalProperties: false,
    };
    const { body } = await prepared({
      messages: [user('x')],
      response_format: { type: 'json_schema', json_schema: { name: 'r', schema, strict: true } },
    });
    assert.deepEqual(body['output_config'], { format: { type: 'json_schema', schema } });
    for (const type of ['json_object', 'text']) {
      const other = await prepared({ messages: [user('x')], response_format: { type } });
      assert.equal('output_config' in other.body, false, type);
    }
    assert.equal(anthropicProvider.capabilities.jsonSchema, true);
    assert.equal(anthropicProvider.capabilities.jsonMode, false);
  });

  describe('reasoning → thinking', () => {
    const thinking = async (extra: Json, maxOutputTokens?: number) =>
      (
        await prepared(
          { messages: [user('x')], ...extra },
          maxOutputTokens !== undefined ? { maxOutputTokens } : {},
        )
      ).body;

    test('reasoning.max_tokens is the budget; max_tokens stays above it', async () => {
      const b = await thinking({ reasoning: { max_tokens: 2000 }, max_tokens: 8000 });
      assert.deepEqual(b['thinking'], { type: 'enabled', budget_tokens: 2000 });
      assert.equal(b['max_tokens'], 8000);
      // A budget at or over max_tokens: the answer keeps its max_tokens on top.
      const tight = await thinking({ reasoning: { max_tokens: 3000 }, max_tokens: 500 });
      assert.deepEqual(tight['thinking'], { type: 'enabled', budget_tokens: 3000 });
      assert.equal(tight['max_tokens'], 3500);
      // Never under Anthropic's minimum of 1024.
      const small = await thinking({ reasoning: { max_tokens: 10 }, max_tokens: 4000 });
      assert.deepEqual(small['thinking'], { type: 'enabled', budget_tokens: 1024 });
    });

    test('effort: a share of max_tokens (medium by default), between 1024 and 32000', async () => {
      const budget = async (extra: Json, max?: number) =>
        ((await thinking(extra, max))['thinking'] as Json)['budget_tokens'];
      assert.equal(await budget({ reasoning: { effort: 'high' }, max_tokens: 10_000 }), 8000);
      assert.equal(await budget({ reasoning: { effort: 'low' }, max_tokens: 10_000 }), 2000);
      assert.equal(await budget({ reasoning_effort: 'medium', max_tokens: 10_000 }), 5000);
      assert.equal(await budget({ reasoning: {}, max_tokens: 10_000 }), 5000);
      assert.equal(await budget({ include_reasoning: true, max_tokens: 10_000 }), 5000);
      assert.equal(await budget({ reasoning: { effort: 'high' } }, 64_000), 32_000);
      assert.equal(await budget({ reasoning: { effort: 'minimal' }, max_tokens: 2000 }), 1024);
    });

    test('temperature must be 1 or unset, top_k unset, top_p ≥ 0.95 with thinking', async () => {
      const b = await thinking({
        reasoning: { effort: 'low' },
        temperature: 0.2,
        top_k: 5,
        top_p: 0.5,
        max_tokens: 8000,
      });
      assert.ok(b['thinking']);
      assert.equal('temperature' in b, false);
      assert.equal('top_k' in b, false);
      assert.equal(b['top_p'], 0.95);
      const one = await thinking({
        reasoning: { effort: 'low' },
        temperature: 1,
        max_tokens: 8000,
      });
      assert.equal(one['temperature'], 1);
      // Without thinking they pass as asked.
      const off = await thinking({ temperature: 0.2, top_k: 5 });
      assert.equal(off['temperature'], 0.2);
      assert.equal(off['top_k'], 5);
    });

    test('no thinking when disabled, when tool_choice forces a tool, or with a prefill', async () => {
      assert.equal('thinking' in (await thinking({ reasoning: { effort: 'none' } })), false);
      assert.equal('thinking' in (await thinking({ reasoning: { enabled: false } })), false);
      assert.equal('thinking' in (await thinking({ reasoning_effort: 'none' })), false);
      const forced = await thinking({
        reasoning: { effort: 'high' },
        tools: [WEATHER],
        tool_choice: 'required',
        temperature: 0.3,
      });
      assert.equal('thinking' in forced, false);
      assert.equal(forced['temperature'], 0.3, 'sampling untouched without thinking');
      const auto = await thinking({
        reasoning: { effort: 'high' },
        tools: [WEATHER],
        tool_choice: 'auto',
      });
      assert.ok(auto['thinking']);
      const prefill = await prepared({
        messages: [user('x'), { role: 'assistant', content: 'Sure:' }],
        reasoning: { effort: 'high' },
      });
      assert.equal('thinking' in prefill.body, false);
    });

    test('a tool loop keeps thinking only when the calling turn gives its signed thinking back', async () => {
      const loop = (reasoning_details?: Json[]) =>
        prepared({
          messages: [
            user('weather?'),
            {
              role: 'assistant',
              content: null,
              tool_calls: [
                {
                  id: 'toolu_1',
                  type: 'function',
                  function: { name: 'get_weather', arguments: '{}' },
                },
              ],
              ...(reasoning_details ? { reasoning_details } : {}),
            },
            { role: 'tool', tool_call_id: 'toolu_1', content: 'sunny' },
          ],
          tools: [WEATHER],
          reasoning: { effort: 'low' },
          max_tokens: 8000,
        });
      assert.equal('thinking' in (await loop()).body, false);
      const signed = await loop([{ type: 'reasoning.text', text: 'hm', signature: 'S' }]);
      assert.ok(signed.body['thinking']);
      assert.deepEqual(((signed.body['messages'] as Json[])[1]!['content'] as Json[])[0], {
        type: 'thinking',
        thinking: 'hm',
        signature: 'S',
      });
    });
  });
});

/** Everything a decoded stream said, folded. */
interface Folded {
  events: string[];
  role: boolean;
  text: string;
  reasoning: string;
  details: Json[];
  tools: Array<{ id: string; name: string; arguments: string }>;
  finish: unknown[];
  usage: Json | null;
  errors: UpstreamError[];
  hasOutput: boolean[];
}

function fold(events: DecodedEvent[]): Folded {
  const f: Folded = {
    events: [],
    role: false,
    text: '',
    reasoning: '',
    details: [],
    tools: [],
    finish: [],
    usage: null,
    errors: [],
    hasOutput: [],
  };
  for (const e of events) {
    f.events.push(e.type);
    if (e.type === 'error') f.errors.push(e.error);
    if (e.type !== 'chunk') continue;
    f.hasOutput.push(e.hasOutput);
    const c = e.chunk;
    assert.equal(c['object'], 'chat.completion.chunk');
    if (c['usage']) f.usage = c['usage'] as Json;
    for (const ch of c['choices'] as Json[]) {
      const d = ch['delta'] as Json;
      if (d['role'] === 'assistant') f.role = true;
      if (typeof d['content'] === 'string') f.text += d['content'];
      if (typeof d['reasoning'] === 'string') f.reasoning += d['reasoning'];
      if (Array.isArray(d['reasoning_details']))
        f.details.push(...(d['reasoning_details'] as Json[]));
      for (const t of (d['tool_calls'] as Json[] | undefined) ?? []) {
        const i = t['index'] as number;
        const fn = t['function'] as Json;
        f.tools[i] ??= { id: '', name: '', arguments: '' };
        if (typeof t['id'] === 'string') f.tools[i]!.id = t['id'];
        if (typeof fn['name'] === 'string') f.tools[i]!.name += fn['name'];
        if (typeof fn['arguments'] === 'string') f.tools[i]!.arguments += fn['arguments'];
      }
      if (ch['finish_reason'] !== null)
        f.finish.push([ch['finish_reason'], ch['native_finish_reason']]);
    }
  }
  return f;
}

const streamCall = call({ messages: [user('x')] }, { stream: true });

/** Decodes `bytes` in pieces cut at `cuts`. */
function decode(bytes: Uint8Array, cuts: number[]) {
  const d = anthropicProvider.openStream(streamCall);
  const events: DecodedEvent[] = [];
  let at = 0;
  for (const cut of [...cuts, bytes.length]) {
    events.push(...d.push(bytes.subarray(at, cut)));
    at = cut;
  }
  return { folded: fold(events), summary: d.end() };
}

/**
 * Decodes a fixture whole, one byte at a time, and split in two at EVERY byte: each must say
 * exactly what the whole one says (reasoning-detail signatures and tool ids included).
 */
function decodeEverySplit(name: string) {
  const bytes = enc.encode(fixture(name));
  const whole = decode(bytes, []);
  const strip = (r: ReturnType<typeof decode>) => JSON.stringify(r);
  assert.equal(
    strip(
      decode(
        bytes,
        Array.from({ length: bytes.length - 1 }, (_, i) => i + 1),
      ),
    ),
    strip(whole),
    `${name}: byte by byte`,
  );
  for (let cut = 1; cut < bytes.length; cut++)
    assert.equal(strip(decode(bytes, [cut])), strip(whole), `${name}: split at ${cut}`);
  return whole;
}

const tokens = (t: Partial<NativeTokens>): NativeTokens => ({
  prompt: 0,
  completion: 0,
  cachedRead: 0,
  cacheWrite: 0,
  reasoning: 0,
  ...t,
});

describe('Anthropic stream decoder over recorded fixtures, at every byte split', () => {
  test('stream-basic: role, text, ping ignored, end_turn → stop, usage, done', () => {
    const { folded: f, summary } = decodeEverySplit('stream-basic.sse');
    assert.equal(f.role, true);
    assert.equal(f.text, 'Hello there!');
    assert.deepEqual(f.finish, [['stop', 'end_turn']]);
    assert.equal(f.events.at(-1), 'done');
    assert.deepEqual(f.hasOutput, [false, true, true, true, false, false]);
    assert.deepEqual(f.usage, {
      prompt_tokens: 11,
      completion_tokens: 6,
      total_tokens: 17,
      prompt_tokens_details: { cached_tokens: 0, cache_write_tokens: 0 },
      completion_tokens_details: { reasoning_tokens: 0 },
    });
    assert.deepEqual(summary, {
      tokens: tokens({ prompt: 11, completion: 6 }),
      finishReason: 'stop',
      nativeFinishReason: 'end_turn',
      complete: true,
      malformedEvents: 0,
    });
  });

  test('stream-tool-use: the tool call starts with its id and name, arguments reassembled exactly', () => {
    const { folded: f, summary } = decodeEverySplit('stream-tool-use.sse');
    assert.equal(f.text, "I'll check the current weather in Paris for you.");
    assert.deepEqual(f.tools, [
      {
        id: 'toolu_01NRLabsLyVHZPKxbKvkfSMn',
        name: 'get_weather',
        arguments: '{"location": "Paris"}',
      },
    ]);
    assert.deepEqual(JSON.parse(f.tools[0]!.arguments), { location: 'Paris' });
    assert.deepEqual(f.finish, [['tool_calls', 'tool_use']]);
    assert.deepEqual(summary.tokens, tokens({ prompt: 377, completion: 65 }));
  });

  test('stream-max-tokens-partial-tool: padded JSON, a call cut by max_tokens → length', () => {
    const { folded: f, summary } = decodeEverySplit('stream-max-tokens-partial-tool.sse');
    assert.equal(f.tools.length, 1);
    assert.equal(f.tools[0]!.name, 'make_file');
    assert.ok(f.tools[0]!.arguments.startsWith('{"filename": "taxes.txt", "lines_of_text": [\n'));
    assert.ok(f.tools[0]!.arguments.endsWith('\n"Filing taxes'));
    assert.deepEqual(f.finish, [['length', 'max_tokens']]);
    assert.equal(summary.complete, true);
    assert.equal(summary.malformedEvents, 0);
    assert.deepEqual(summary.tokens, tokens({ prompt: 450, completion: 124 }));
  });

  test('stream-thinking-refusal: thinking → reasoning + reasoning_details with the signature; refusal → content_filter', () => {
    const { folded: f, summary } = decodeEverySplit('stream-thinking-refusal.sse');
    const thought =
      'Simple educational question about what a solar eclipse is. This is benign general knowledge — definitions are fine. Also the user called me "claudius" — I\'m Claude. Minor correction or just roll with it politely.';
    assert.equal(f.reasoning, thought);
    assert.equal(f.text, 'Hi');
    // One detail per delta, all of block 0, the last one carrying the signature.
    assert.ok(f.details.every((d) => d['index'] === 0 && d['format'] === 'anthropic-claude-v1'));
    assert.ok(f.details.every((d) => d['type'] === 'reasoning.text'));
    assert.equal(f.details.map((d) => d['text']).join(''), thought);
    const signed = f.details.filter((d) => d['signature']);
    assert.deepEqual(
      signed.map((d) => d['signature']),
      ['c3ludGhldGljLXNpZ25hdHVyZS1maXh0dXJlLWEtbm90LWEtcmVhbC1zaWduYXR1cmU='],
    );
    assert.equal(signed[0]!['text'], '');
    assert.deepEqual(f.finish, [['content_filter', 'refusal']]);
    // Anthropic's thinking_tokens is the reasoning part of the output.
    assert.deepEqual(summary.tokens, tokens({ prompt: 28, completion: 106, reasoning: 67 }));
    assert.equal(summary.nativeFinishReason, 'refusal');
  });

  test('stream-server-tool-refusal: a server tool is not an OpenAI tool call', () => {
    const { folded: f, summary } = decodeEverySplit('stream-server-tool-refusal.sse');
    assert.deepEqual(f.tools, []);
    assert.equal(f.text, "Here's a summary of this year's solar eclipses and how");
    assert.equal(summary.malformedEvents, 0);
    assert.equal(summary.complete, true);
    assert.deepEqual(summary.tokens, tokens({ prompt: 28, completion: 106, reasoning: 67 }));
  });

  test('cache usage: message_start counts, replaced by the cumulative message_delta; input excludes cache', () => {
    const full = decodeEverySplit('stream-cache-usage-full-delta.sse');
    // input 42 + cache reads 8 + cache writes 7.
    assert.deepEqual(
      full.summary.tokens,
      tokens({ prompt: 57, completion: 99, cachedRead: 8, cacheWrite: 7, reasoning: 30 }),
    );
    assert.deepEqual(full.folded.usage, {
      prompt_tokens: 57,
      completion_tokens: 99,
      total_tokens: 156,
      prompt_tokens_details: { cached_tokens: 8, cache_write_tokens: 7 },
      completion_tokens_details: { reasoning_tokens: 30 },
    });
    const partial = decodeEverySplit('stream-cache-usage-partial-delta.sse');
    assert.equal(partial.folded.text, 'Hi.');
    assert.deepEqual(
      partial.summary.tokens,
      tokens({ prompt: 15, completion: 12, cachedRead: 3, cacheWrite: 2 }),
    );
  });

  test('stream-error-overloaded: the in-stream error event, through the error policy', () => {
    const { folded: f, summary } = decodeEverySplit('stream-error-overloaded.sse');
    assert.deepEqual(f.events, ['error']);
    const e = f.errors[0]!;
    assert.equal(e.reply.status, 503);
    assert.equal(e.reply.code, 'upstream_overloaded');
    assert.equal(e.reply.retryable, true);
    assert.equal(e.reply.upstreamStatus, 529);
    assert.equal(e.detail.providerType, 'overloaded_error');
    assert.equal(summary.complete, false);
  });
});

/** SSE text of events (as Anthropic frames them). */
const sse = (...events: Json[]): string =>
  events.map((e) => `event: ${String(e['type'])}\ndata: ${JSON.stringify(e)}\n\n`).join('');
const START = {
  type: 'message_start',
  message: {
    id: 'msg_x',
    type: 'message',
    role: 'assistant',
    model: 'claude-x',
    content: [],
    stop_reason: null,
    stop_sequence: null,
    usage: { input_tokens: 5, output_tokens: 1 },
  },
};
const blockStart = (index: number, block: Json) => ({
  type: 'content_block_start',
  index,
  content_block: block,
});
const delta = (index: number, d: Json) => ({ type: 'content_block_delta', index, delta: d });
const stop = (index: number) => ({ type: 'content_block_stop', index });
const msgDelta = (reason: string, output: number) => ({
  type: 'message_delta',
  delta: { stop_reason: reason, stop_sequence: null },
  usage: { output_tokens: output },
});
const END = { type: 'message_stop' };

describe('Anthropic stream decoder: constructed streams', () => {
  test('parallel tool calls keep their own indexes; redacted thinking is reasoning.encrypted', () => {
    const text = sse(
      START,
      blockStart(0, { type: 'redacted_thinking', data: 'EmwKAhgB' }),
      stop(0),
      blockStart(1, { type: 'thinking', thinking: '', signature: '' }),
      delta(1, { type: 'thinking_delta', thinking: 'plan' }),
      delta(1, { type: 'signature_delta', signature: 'SIG' }),
      stop(1),
      blockStart(2, { type: 'tool_use', id: 'toolu_a', name: 'get_weather', input: {} }),
      delta(2, { type: 'input_json_delta', partial_json: '{"city":' }),
      delta(2, { type: 'input_json_delta', partial_json: '"Paris"}' }),
      stop(2),
      blockStart(3, { type: 'tool_use', id: 'toolu_b', name: 'get_time', input: {} }),
      delta(3, { type: 'input_json_delta', partial_json: '{"zone":"CET"}' }),
      stop(3),
      msgDelta('tool_use', 40),
      END,
    );
    const bytes = enc.encode(text);
    const { folded: f, summary } = decode(bytes, []);
    for (let cut = 1; cut < bytes.length; cut += 7)
      assert.equal(JSON.stringify(decode(bytes, [cut]).folded), JSON.stringify(f));
    assert.deepEqual(f.tools, [
      { id: 'toolu_a', name: 'get_weather', arguments: '{"city":"Paris"}' },
      { id: 'toolu_b', name: 'get_time', arguments: '{"zone":"CET"}' },
    ]);
    assert.deepEqual(f.details, [
      { type: 'reasoning.encrypted', data: 'EmwKAhgB', format: 'anthropic-claude-v1', index: 0 },
      {
        type: 'reasoning.text',
        text: 'plan',
        signature: null,
        format: 'anthropic-claude-v1',
        index: 1,
      },
      {
        type: 'reasoning.text',
        text: '',
        signature: 'SIG',
        format: 'anthropic-claude-v1',
        index: 1,
      },
    ]);
    assert.equal(f.reasoning, 'plan');
    assert.deepEqual(f.finish, [['tool_calls', 'tool_use']]);
    // Without thinking_tokens, the thinking text is counted (bounded by the output).
    assert.equal(summary.tokens?.reasoning, 1);
  });

  test('stop reasons: stop_sequence → stop, max_tokens → length, pause_turn and context window kept native', () => {
    for (const [native, want] of [
      ['stop_sequence', 'stop'],
      ['max_tokens', 'length'],
      ['model_context_window_exceeded', 'length'],
      ['pause_turn', 'stop'],
      ['some_future_reason', 'stop'],
    ]) {
      const d = anthropicProvider.openStream(streamCall);
      d.push(enc.encode(sse(START, msgDelta(native!, 2), END)));
      const s = d.end();
      assert.equal(s.finishReason, want, native);
      assert.equal(s.nativeFinishReason, native);
    }
  });

  test('a stream cut before message_stop is incomplete; unknown events are skipped', () => {
    const d = anthropicProvider.openStream(streamCall);
    const events = d.push(
      enc.encode(
        sse(
          START,
          { type: 'some_new_event', x: 1 },
          blockStart(0, { type: 'text', text: '' }),
          delta(0, { type: 'citations_delta', citation: {} }),
          delta(0, { type: 'text_delta', text: 'Hel' }),
        ),
      ),
    );
    assert.equal(fold(events).text, 'Hel');
    const s = d.end();
    assert.equal(s.complete, false);
    assert.equal(s.malformedEvents, 0);
    assert.deepEqual(s.tokens, tokens({ prompt: 5, completion: 1 }));
  });

  test('malformed events (not JSON, a delta of a block that never started, events before message_start, a second message_start) are skipped, counted and placed; the answer around them is whole', () => {
    const d = anthropicProvider.openStream(streamCall);
    const events = d.push(
      enc.encode(
        'event: content_block_delta\ndata: {not json\n\n' + // 1
          sse(
            blockStart(0, { type: 'text', text: '' }), // 2: before message_start
            START, // 3
            blockStart(0, { type: 'text', text: '' }), // 4
            delta(0, { type: 'text_delta', text: 'Hel' }), // 5
            delta(4, { type: 'text_delta', text: 'x' }), // 6: block 4 never started
          ) +
          'event: content_block_delta\ndata: {"type":"content_block_delta","index":0,"delta":{"ty\n\n' + // 7
          sse(
            delta(0, { type: 'text_delta', text: 'lo' }), // 8
            START, // 9: a second message_start
            stop(0), // 10
            msgDelta('end_turn', 2), // 11
            END, // 12
          ),
      ),
    );
    assert.deepEqual(
      events.flatMap((e) => (e.type === 'malformed' ? [e.event] : [])),
      [1, 2, 6, 7, 9],
    );
    assert.equal(
      events.some((e) => e.type === 'error'),
      false,
    );
    assert.equal(fold(events).text, 'Hello');
    const s = d.end();
    assert.equal(s.malformedEvents, 5);
    assert.equal(s.complete, true);
    assert.equal(s.finishReason, 'stop');
    assert.equal(d.events, 12);
  });

  test('garbage amid recorded streams: skipped, counted, the answer whole', () => {
    for (const name of ['stream-basic.sse', 'stream-tool-use.sse', 'stream-thinking-refusal.sse'])
      assertSkipsMalformed(
        () => anthropicProvider.openStream(streamCall),
        sseEvents(fixture(name)),
        enc.encode('event: content_block_delta\ndata: {"type":"content_block_delta","in\n\n'),
      );
  });

  test('an in-stream invalid_request_error about the prompt length is a context-length error', () => {
    const d = anthropicProvider.openStream(streamCall);
    const [ev] = d.push(
      enc.encode(
        sse({
          type: 'error',
          error: {
            type: 'invalid_request_error',
            message: 'prompt is too long: 210000 tokens > 200000 maximum',
          },
        }),
      ),
    );
    assert.ok(ev?.type === 'error');
    assert.equal(ev.error.reply.code, 'context_length_exceeded');
    assert.equal(ev.error.reply.status, 400);
  });
});

describe('Anthropic non-streamed Message', () => {
  test('message-basic and message-tool-use fixtures', () => {
    const basic = anthropicProvider.parseCompletion(
      JSON.parse(fixture('message-basic.json')) as unknown,
      call({}),
    );
    const c = basic.completion;
    assert.equal(c['object'], 'chat.completion');
    assert.equal(c['id'], 'msg_4QpJur2dWWDjF6C758FbBw5vm12BaVipnK');
    assert.equal(c['model'], 'claude-opus-4-8');
    const choice = (c['choices'] as Json[])[0]!;
    assert.deepEqual(choice['message'], {
      role: 'assistant',
      content: 'Hello there!',
      refusal: null,
    });
    assert.equal(choice['finish_reason'], 'stop');
    assert.equal(choice['native_finish_reason'], 'end_turn');
    assert.deepEqual(basic.tokens, tokens({ prompt: 11, completion: 6 }));
    assert.equal(basic.usageReported, true);

    const tool = anthropicProvider.parseCompletion(
      JSON.parse(fixture('message-tool-use.json')) as unknown,
      call({}),
    );
    const m = ((tool.completion['choices'] as Json[])[0]!['message'] as Json) ?? {};
    assert.equal(m['content'], "I'll check the current weather in Paris for you.");
    assert.deepEqual(m['tool_calls'], [
      {
        id: 'toolu_01NRLabsLyVHZPKxbKvkfSMn',
        type: 'function',
        function: { name: 'get_weather', arguments: '{"location":"Paris"}' },
      },
    ]);
    assert.equal(tool.finishReason, 'tool_calls');
    assert.equal(tool.nativeFinishReason, 'tool_use');
  });

  test('thinking, redacted thinking and cache usage in a whole Message', () => {
    const p = anthropicProvider.parseCompletion(
      {
        id: 'msg_t',
        type: 'message',
        role: 'assistant',
        model: 'claude-x',
        content: [
          { type: 'thinking', thinking: 'Let me think.', signature: 'SIG1' },
          { type: 'redacted_thinking', data: 'ENC' },
          { type: 'tool_use', id: 'toolu_1', name: 'f', input: { a: 1 } },
        ],
        stop_reason: 'tool_use',
        stop_sequence: null,
        usage: {
          input_tokens: 10,
          cache_read_input_tokens: 100,
          cache_creation_input_tokens: 20,
          output_tokens: 30,
          output_tokens_details: { thinking_tokens: 12 },
        },
      },
      call({}),
    );
    const m = (p.completion['choices'] as Json[])[0]!['message'] as Json;
    assert.equal(m['content'], null);
    assert.equal(m['reasoning'], 'Let me think.');
    assert.deepEqual(m['reasoning_details'], [
      {
        type: 'reasoning.text',
        text: 'Let me think.',
        signature: 'SIG1',
        format: 'anthropic-claude-v1',
        index: 0,
      },
      { type: 'reasoning.encrypted', data: 'ENC', format: 'anthropic-claude-v1', index: 1 },
    ]);
    assert.deepEqual(
      p.tokens,
      tokens({ prompt: 130, completion: 30, cachedRead: 100, cacheWrite: 20, reasoning: 12 }),
    );
  });

  test('an error body in a 200, a body without content, a Message without usage', () => {
    assert.throws(
      () =>
        anthropicProvider.parseCompletion(
          JSON.parse(fixture('error-overloaded-529.json')),
          call({}),
        ),
      (e: unknown) => e instanceof UpstreamError && e.reply.code === 'upstream_overloaded',
    );
    assert.throws(
      () => anthropicProvider.parseCompletion({ id: 'x' }, call({})),
      (e: unknown) => e instanceof UpstreamError && e.reply.code === 'upstream_bad_response',
    );
    const silent = anthropicProvider.parseCompletion(
      { content: [{ type: 'text', text: 'x' }], stop_reason: 'end_turn' },
      call({}),
    );
    assert.equal(silent.usageReported, false);
    assert.equal(
      silent.completion['model'] as string,
      'claude-sonnet-4-5',
      'the upstream model when the body names none',
    );
  });
});

describe('Anthropic errors', () => {
  const body = (type: string, message: string) =>
    JSON.stringify({
      type: 'error',
      error: { type, message },
      request_id: 'req_011CSHoEeqs5C35K2UUqR7Fy',
    });

  // [status, Anthropic type, client status, client code, retryable]
  const table: [number, string, number, string, boolean][] = [
    [400, 'invalid_request_error', 400, 'invalid_request_error', false],
    [401, 'authentication_error', 502, 'upstream_auth_failed', true],
    [402, 'billing_error', 502, 'upstream_payment_required', true],
    [403, 'permission_error', 502, 'upstream_auth_failed', true],
    [404, 'not_found_error', 502, 'upstream_model_not_found', true],
    [413, 'request_too_large', 413, 'request_too_large', false],
    [429, 'rate_limit_error', 503, 'upstream_rate_limited', true],
    [500, 'api_error', 502, 'upstream_error', true],
    [504, 'timeout_error', 504, 'upstream_timeout', true],
    [529, 'overloaded_error', 503, 'upstream_overloaded', true],
  ];
  for (const [status, type, want, code, retryable] of table) {
    test(`${status} ${type} → ${want} ${code}`, () => {
      const e = anthropicProvider.mapError(status, body(type, `the ${type} message`), {});
      assert.equal(e.reply.status, want);
      assert.equal(e.reply.code, code);
      assert.equal(e.reply.retryable, retryable);
      assert.equal(e.reply.upstreamStatus, status);
      assert.equal(e.detail.providerType, type);
      assert.equal(e.detail.providerMessage, `the ${type} message`);
      // The upstream's words reach the client only for the request's own faults.
      assert.equal(
        e.reply.message.includes(`the ${type} message`),
        status === 400 || status === 413,
      );
    });
  }

  test('the recorded bodies', () => {
    const bad = anthropicProvider.mapError(400, fixture('error-invalid-request-400.json'), {});
    assert.equal(bad.reply.message, 'Bad request');
    assert.equal(bad.reply.providerCode, 'invalid_request_error');
    const over = anthropicProvider.mapError(529, fixture('error-overloaded-529.json'), {
      'retry-after': '12',
    });
    assert.equal(over.reply.status, 503);
    assert.equal(over.reply.retryAfterSec, 12);
  });

  test('context length: "prompt is too long" and "exceed context limit" → context_length_exceeded', () => {
    for (const message of [
      'prompt is too long: 215000 tokens > 200000 maximum',
      'input length and `max_tokens` exceed context limit: 198000 + 8192 > 200000, decrease input length or `max_tokens` and try again',
    ]) {
      const e = anthropicProvider.mapError(400, body('invalid_request_error', message), {});
      assert.equal(e.reply.code, 'context_length_exceeded', message);
      assert.equal(e.reply.status, 400);
      assert.equal(e.reply.retryable, true);
    }
  });

  test('429: retry-after, else the reset of the exhausted anthropic-ratelimit budget', () => {
    const now = Date.parse('2026-01-01T00:00:00Z');
    const headers = {
      'anthropic-ratelimit-requests-limit': '50',
      'anthropic-ratelimit-requests-remaining': '0',
      'anthropic-ratelimit-requests-reset': '2026-01-01T00:00:20Z',
      'anthropic-ratelimit-tokens-remaining': '1000',
      'anthropic-ratelimit-tokens-reset': '2026-01-01T00:01:00Z',
      'anthropic-ratelimit-input-tokens-remaining': '0',
      'anthropic-ratelimit-input-tokens-reset': '2026-01-01T00:00:31Z',
    };
    assert.equal(anthropicRetryAfter(headers, now), 31);
    assert.equal(anthropicRetryAfter({ ...headers, 'Retry-After': '4' }, now), 4);
    assert.equal(anthropicRetryAfter({}, now), null);
    const e = anthropicProvider.mapError(
      429,
      body('rate_limit_error', 'Number of request tokens has exceeded your per-minute rate limit'),
      { 'retry-after': '7' },
    );
    assert.equal(e.reply.retryAfterSec, 7);
  });

  test('a 401 never passes the key or its fragments; HTML from a proxy is never echoed', () => {
    const e = anthropicProvider.mapError(
      401,
      body('authentication_error', `invalid x-api-key ${KEY.slice(0, 14)}***${KEY.slice(-4)}`),
      {},
    );
    const seen = JSON.stringify(e.reply);
    assert.ok(!seen.includes(KEY.slice(0, 14)) && !seen.includes('***'), seen);
    const html = anthropicProvider.mapError(
      502,
      '<html><body>Bad Gateway at 10.0.0.1</body></html>',
      {},
    );
    assert.ok(!JSON.stringify(html.reply).includes('10.0.0.1'));
    assert.equal(html.reply.code, 'upstream_error');
  });
});
