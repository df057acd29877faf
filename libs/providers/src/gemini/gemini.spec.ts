import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, test } from 'node:test';
import type { ProviderConnection } from '@turnpike/contracts';
import type { DecodedEvent } from '../core/decoder.js';
import type { Json } from '../core/json.js';
import { RequestMappingError } from '../core/param-map.js';
import { adapterFor } from '../registry.js';
import { GeminiStreamDecoder } from './gemini.decoder.js';
import { geminiProvider, vertexProvider } from './gemini.provider.js';
import { toGeminiSchema, usesReferences } from './gemini.schema.js';

const FIXTURES = new URL('../../src/gemini/fixtures/', import.meta.url);
const fixture = (name: string): string => readFileSync(new URL(name, FIXTURES), 'utf8');
const fixtureJson = (name: string): Json => JSON.parse(fixture(name)) as Json;

const KEY = 'AIza-test-key-0123456789';
const gemini: ProviderConnection = {
  baseUrl: 'https://generativelanguage.googleapis.com',
  credentials: { type: 'api_key', apiKey: KEY },
};
const vertex: ProviderConnection = {
  baseUrl: vertexProvider.defaultBaseUrl,
  credentials: {
    type: 'vertex',
    accessToken: 'ya29.token',
    projectId: 'my-proj',
    location: 'europe-west4',
  },
};

async function prepare(
  body: Json,
  opts: {
    stream?: boolean;
    model?: string;
    connection?: ProviderConnection;
    require?: boolean;
  } = {},
) {
  const adapter = opts.connection?.credentials.type === 'vertex' ? vertexProvider : geminiProvider;
  const req = await adapter.prepareRequest(
    { body, upstreamModel: opts.model ?? 'gemini-2.5-flash', stream: opts.stream ?? false },
    opts.connection ?? gemini,
    { requireParameters: opts.require ?? false, now: new Date() },
  );
  return { ...req, json: JSON.parse(req.body) as Json };
}

const user = (content: unknown) => ({ role: 'user', content });
/** The function of the SDK's recorded requests. */
const DIVIDE_TOOL = {
  type: 'function',
  function: {
    name: 'customDivide',
    description: 'Custom divide function',
    parameters: {
      type: 'object',
      properties: { denominator: { type: 'number' }, numerator: { type: 'number' } },
    },
  },
};
const gen = (j: Json): Json => (j['generationConfig'] ?? {}) as Json;

describe('URLs, authentication, registration', () => {
  test('the Gemini API: models/{model}:generateContent, x-goog-api-key', async () => {
    const r = await prepare({ messages: [user('hi')] });
    assert.equal(
      r.url,
      'https://generativelanguage.googleapis.com/v1beta/models/gemini-2.5-flash:generateContent',
    );
    assert.equal(r.headers['x-goog-api-key'], KEY);
    assert.equal(r.headers['authorization'], undefined);
    assert.equal(r.headers['content-type'], 'application/json');
    const s = await prepare(
      { messages: [user('hi')] },
      { stream: true, model: 'models/gemini-2.5-pro' },
    );
    assert.equal(
      s.url,
      'https://generativelanguage.googleapis.com/v1beta/models/gemini-2.5-pro:streamGenerateContent?alt=sse',
    );
    assert.equal(s.headers['accept'], 'text/event-stream');
    const custom = await prepare(
      { messages: [user('hi')] },
      {
        connection: {
          ...gemini,
          baseUrl: 'http://127.0.0.1:9/',
          headers: { 'x-goog-user-project': 'p' },
        },
      },
    );
    assert.equal(custom.url, 'http://127.0.0.1:9/v1beta/models/gemini-2.5-flash:generateContent');
    assert.equal(custom.headers['x-goog-user-project'], 'p');
  });

  test('Vertex AI: the regional endpoint of the location, projects/.../publishers/google/models, Bearer', async () => {
    const r = await prepare({ messages: [user('hi')] }, { connection: vertex, stream: true });
    assert.equal(
      r.url,
      'https://europe-west4-aiplatform.googleapis.com/v1/projects/my-proj/locations/europe-west4/publishers/google/models/gemini-2.5-flash:streamGenerateContent?alt=sse',
    );
    assert.equal(r.headers['authorization'], 'Bearer ya29.token');
    assert.equal(r.headers['x-goog-api-key'], undefined);
    const global = await prepare(
      { messages: [user('hi')] },
      {
        connection: {
          ...vertex,
          credentials: { ...vertex.credentials, location: 'global' } as never,
        },
      },
    );
    assert.match(
      global.url,
      /^https:\/\/aiplatform\.googleapis\.com\/v1\/projects\/my-proj\/locations\/global\//,
    );
    const sim = await prepare(
      { messages: [user('hi')] },
      { connection: { ...vertex, baseUrl: 'http://127.0.0.1:9' } },
    );
    assert.match(
      sim.url,
      /^http:\/\/127\.0\.0\.1:9\/v1\/projects\/my-proj\/locations\/europe-west4\//,
    );
  });

  test('the wrong credential type is our misconfiguration, a 502', async () => {
    await assert.rejects(
      geminiProvider.prepareRequest(
        { body: { messages: [user('hi')] }, upstreamModel: 'm', stream: false },
        vertex,
        { requireParameters: false, now: new Date() },
      ),
      (e: unknown) => e instanceof RequestMappingError && e.reply.code === 'provider_misconfigured',
    );
  });

  test('both kinds are registered, one protocol', () => {
    assert.equal(adapterFor('gemini'), geminiProvider);
    assert.equal(adapterFor('vertex'), vertexProvider);
    assert.equal(geminiProvider.protocol, 'gemini');
    assert.equal(vertexProvider.protocol, 'gemini');
    assert.deepEqual(geminiProvider.credentialTypes, ['api_key']);
    assert.deepEqual(vertexProvider.credentialTypes, ['vertex']);
    assert.equal(geminiProvider.capabilities.prefill, false);
    assert.deepEqual(geminiProvider.capabilities.parameters, [
      'frequency_penalty',
      'include_reasoning',
      'max_completion_tokens',
      'max_tokens',
      'n',
      'presence_penalty',
      'reasoning',
      'reasoning_effort',
      'response_format',
      'seed',
      'stop',
      'structured_outputs',
      'temperature',
      'tool_choice',
      'tools',
      'top_k',
      'top_p',
    ]);
  });
});

describe('the conversation', () => {
  test('system and developer messages are the systemInstruction, as the SDK sends it', async () => {
    const r = await prepare({
      messages: [{ role: 'system', content: 'I say high you say low' }, user('high')],
    });
    const sdk = fixtureJson('request-system-instruction.json');
    assert.deepEqual(r.json['contents'], sdk['contents']);
    assert.deepEqual(
      (r.json['systemInstruction'] as Json)['parts'],
      (sdk['systemInstruction'] as Json)['parts'],
    );
    const two = await prepare({
      messages: [
        { role: 'system', content: 'one' },
        { role: 'developer', content: [{ type: 'text', text: 'two' }] },
        user('x'),
      ],
    });
    assert.deepEqual(two.json['systemInstruction'], { parts: [{ text: 'one' }, { text: 'two' }] });
    assert.equal((await prepare({ messages: [user('x')] })).json['systemInstruction'], undefined);
  });

  test('multi-turn: user and model roles, in order; turns of one role merged; empty turns skipped', async () => {
    const r = await prepare({
      messages: [
        user('first'),
        { role: 'assistant', content: 'answer' },
        user('second'),
        user([{ type: 'text', text: 'third' }]),
        user(''),
        { role: 'assistant', content: 'partial answer' },
      ],
    });
    assert.deepEqual(r.json['contents'], [
      { role: 'user', parts: [{ text: 'first' }] },
      { role: 'model', parts: [{ text: 'answer' }] },
      { role: 'user', parts: [{ text: 'second' }, { text: 'third' }] },
      // No prefill on Gemini: a trailing assistant message is sent as what it is, context.
      { role: 'model', parts: [{ text: 'partial answer' }] },
    ]);
  });

  test('images and files: data URLs inline, https URLs as fileData', async () => {
    const r = await prepare({
      messages: [
        user([
          { type: 'text', text: 'look' },
          { type: 'image_url', image_url: { url: 'data:image/png;base64,iVBORw0KGgo=' } },
          { type: 'image_url', image_url: { url: 'https://example.com/cat.webp?x=1' } },
          { type: 'image_url', image_url: { url: 'https://example.com/photo' } },
          {
            type: 'file',
            file: { file_data: 'data:application/pdf;base64,JVBERi0=', filename: 'a.pdf' },
          },
        ]),
      ],
    });
    assert.deepEqual((r.json['contents'] as Json[])[0], {
      role: 'user',
      parts: [
        { text: 'look' },
        { inlineData: { mimeType: 'image/png', data: 'iVBORw0KGgo=' } },
        { fileData: { mimeType: 'image/webp', fileUri: 'https://example.com/cat.webp?x=1' } },
        { fileData: { mimeType: 'image/jpeg', fileUri: 'https://example.com/photo' } },
        { inlineData: { mimeType: 'application/pdf', data: 'JVBERi0=' } },
      ],
    });
  });

  test("tools and an earlier call: the SDK's recorded request", async () => {
    const sdk = fixtureJson('request-tools.json');
    const r = await prepare({
      messages: [
        user('what is the result of 100/2'),
        {
          role: 'assistant',
          content: null,
          tool_calls: [
            {
              id: 'call_0123456789abcdefghijklmn',
              type: 'function',
              function: { name: 'customDivide', arguments: '{"denominator":2,"numerator":100}' },
            },
          ],
        },
        user('what is the result of 50/2?'),
      ],
      tools: [DIVIDE_TOOL],
    });
    assert.deepEqual(r.json['contents'], sdk['contents']);
    assert.deepEqual(r.json['tools'], sdk['tools']);
  });

  test('tool results: functionResponse by name in a user turn; parallel results in one turn', async () => {
    const r = await prepare({
      messages: [
        user('weather and time?'),
        {
          role: 'assistant',
          content: null,
          tool_calls: [
            {
              id: 'call_a',
              type: 'function',
              function: { name: 'get_weather', arguments: '{"city":"Paris"}' },
            },
            { id: 'fc-77', type: 'function', function: { name: 'get_time', arguments: '' } },
          ],
        },
        { role: 'tool', tool_call_id: 'call_a', content: '{"temp":21}' },
        { role: 'tool', tool_call_id: 'fc-77', content: 'noon' },
        user('thanks'),
      ],
    });
    assert.deepEqual(r.json['contents'], [
      { role: 'user', parts: [{ text: 'weather and time?' }] },
      {
        role: 'model',
        parts: [
          { functionCall: { name: 'get_weather', args: { city: 'Paris' } } },
          // An id Gemini gave (not one we made up) goes back.
          { functionCall: { name: 'get_time', args: {}, id: 'fc-77' } },
        ],
      },
      {
        role: 'user',
        parts: [
          { functionResponse: { name: 'get_weather', response: { temp: 21 } } },
          { functionResponse: { name: 'get_time', response: { output: 'noon' }, id: 'fc-77' } },
          { text: 'thanks' },
        ],
      },
    ]);
  });

  test('a result for no known call, or arguments that are no object: 400', async () => {
    await assert.rejects(
      prepare({ messages: [user('x'), { role: 'tool', tool_call_id: 'nope', content: 'r' }] }),
      (e: unknown) => e instanceof RequestMappingError && e.reply.status === 400,
    );
    await assert.rejects(
      prepare({
        messages: [
          user('x'),
          {
            role: 'assistant',
            tool_calls: [{ id: 'c', type: 'function', function: { name: 'f', arguments: '[1]' } }],
          },
        ],
      }),
      (e: unknown) => e instanceof RequestMappingError && e.reply.status === 400,
    );
  });

  test("thought signatures round trip: the SDK's follow-up request, from our own decoded answer", async () => {
    // The answer, decoded as a client received it.
    const d = new GeminiStreamDecoder('gemini-2.5-flash');
    const events: DecodedEvent[] = d.push(
      new TextEncoder().encode(fixture('stream-function-call-signature.sse')),
    );
    const deltas = events.flatMap((e) =>
      e.type === 'chunk' ? ((e.chunk['choices'] as Json[]).map((c) => c['delta']) as Json[]) : [],
    );
    const toolCalls = deltas.flatMap((x) => (x['tool_calls'] as Json[] | undefined) ?? []);
    const details = deltas.flatMap((x) => (x['reasoning_details'] as Json[] | undefined) ?? []);
    const callId = toolCalls[0]!['id'] as string;
    const sdk = fixtureJson('request-function-call-signature.json');
    const r = await prepare({
      messages: [
        user(
          'Divide 10 by 2 using the customDivide function, then divide the result by 2 again, then tell me the result',
        ),
        {
          role: 'assistant',
          content: null,
          tool_calls: toolCalls.map((t) => ({ ...t, type: 'function' })),
          reasoning_details: details,
        },
        { role: 'tool', tool_call_id: callId, content: '42' },
      ],
      tools: [DIVIDE_TOOL],
      tool_choice: 'auto',
    });
    assert.deepEqual(r.json['contents'], sdk['contents']);
    assert.deepEqual(r.json['toolConfig'], sdk['toolConfig']);
  });

  test("another provider's reasoning is not sent; a loose signature goes on the first part", async () => {
    const r = await prepare({
      messages: [
        user('x'),
        {
          role: 'assistant',
          content: 'answer',
          reasoning_details: [
            {
              type: 'reasoning.text',
              text: 'hmm',
              signature: 'anthropic-sig',
              format: 'anthropic-claude-v1',
            },
            { type: 'reasoning.encrypted', data: 'gem-sig', format: 'google-gemini-v1' },
          ],
        },
        user('y'),
      ],
    });
    assert.deepEqual((r.json['contents'] as Json[])[1], {
      role: 'model',
      parts: [{ text: 'answer', thoughtSignature: 'gem-sig' }],
    });
  });
});

describe('parameters', () => {
  test('sampling, stop, seed, penalties, top_k, output limit', async () => {
    const r = await prepare({
      messages: [user('x')],
      temperature: 3,
      top_p: 0.9,
      top_k: 40.4,
      seed: 7,
      presence_penalty: 0.5,
      frequency_penalty: -0.5,
      stop: ['ZZZ', 'YYY'],
      max_completion_tokens: 64,
      max_tokens: 9,
    });
    assert.deepEqual(gen(r.json), {
      temperature: 2,
      topP: 0.9,
      topK: 40,
      seed: 7,
      presencePenalty: 0.5,
      frequencyPenalty: -0.5,
      stopSequences: ['ZZZ', 'YYY'],
      maxOutputTokens: 64,
    });
    assert.deepEqual(r.droppedParameters, []);
    assert.deepEqual(
      gen((await prepare({ messages: [user('x')], stop: 'Q', max_tokens: 5 })).json),
      {
        stopSequences: ['Q'],
        maxOutputTokens: 5,
      },
    );
    assert.equal((await prepare({ messages: [user('x')] })).json['generationConfig'], undefined);
  });

  test('n: candidateCount from 2 to 8; more is refused', async () => {
    assert.equal(gen((await prepare({ messages: [user('x')], n: 2 })).json)['candidateCount'], 2);
    assert.equal(
      gen((await prepare({ messages: [user('x')], n: 1 })).json)['candidateCount'],
      undefined,
    );
    await assert.rejects(
      prepare({ messages: [user('x')], n: 9 }),
      (e: unknown) => e instanceof RequestMappingError && e.reply.param === 'n',
    );
  });

  test('parameters Gemini lacks are dropped, or refused under require_parameters', async () => {
    const body = {
      messages: [user('x')],
      logit_bias: { '1': 2 },
      parallel_tool_calls: false,
      logprobs: true,
    };
    const r = await prepare(body);
    assert.deepEqual(r.droppedParameters.sort(), ['logit_bias', 'logprobs', 'parallel_tool_calls']);
    assert.equal(r.json['logit_bias'], undefined);
    await assert.rejects(
      prepare(body, { require: true }),
      (e: unknown) => e instanceof RequestMappingError && e.reply.code === 'unsupported_parameter',
    );
  });

  test('tool_choice: AUTO, NONE, ANY, ANY with the named function; none without tools', async () => {
    const tools = [
      { type: 'function', function: { name: 'f', parameters: { type: 'object', properties: {} } } },
    ];
    const cfg = async (tool_choice: unknown) =>
      (await prepare({ messages: [user('x')], tools, tool_choice })).json['toolConfig'];
    assert.deepEqual(await cfg('auto'), { functionCallingConfig: { mode: 'AUTO' } });
    assert.deepEqual(await cfg('none'), { functionCallingConfig: { mode: 'NONE' } });
    assert.deepEqual(await cfg('required'), { functionCallingConfig: { mode: 'ANY' } });
    assert.deepEqual(await cfg({ type: 'function', function: { name: 'f' } }), {
      functionCallingConfig: { mode: 'ANY', allowedFunctionNames: ['f'] },
    });
    const noTools = await prepare({ messages: [user('x')], tool_choice: 'auto' });
    assert.equal(noTools.json['toolConfig'], undefined);
    // A function without parameters declares none.
    assert.deepEqual((await prepare({ messages: [user('x')], tools })).json['tools'], [
      { functionDeclarations: [{ name: 'f' }] },
    ]);
  });

  test('response_format: JSON mode, and a JSON schema as responseSchema', async () => {
    const obj = await prepare({ messages: [user('x')], response_format: { type: 'json_object' } });
    assert.deepEqual(gen(obj.json), { responseMimeType: 'application/json' });
    const schema = {
      $schema: 'http://json-schema.org/draft-07/schema#',
      type: 'object',
      properties: {
        title: { type: 'string', description: 'The title' },
        rating: { type: 'integer', minimum: 1, maximum: 5 },
        tags: { type: 'array', items: { type: 'string' }, maxItems: 3 },
        note: { type: ['string', 'null'] },
      },
      required: ['title', 'rating'],
      additionalProperties: false,
    };
    const r = await prepare({
      messages: [user('x')],
      response_format: {
        type: 'json_schema',
        json_schema: { name: 'review', schema, strict: true },
      },
    });
    assert.deepEqual(gen(r.json), {
      responseMimeType: 'application/json',
      responseSchema: {
        type: 'OBJECT',
        properties: {
          title: { type: 'STRING', description: 'The title' },
          rating: { type: 'INTEGER', minimum: 1, maximum: 5 },
          tags: { type: 'ARRAY', maxItems: 3, items: { type: 'STRING' } },
          note: { type: 'STRING', nullable: true },
        },
        propertyOrdering: ['title', 'rating', 'tags', 'note'],
        required: ['title', 'rating'],
      },
    });
    const ref = await prepare({
      messages: [user('x')],
      response_format: {
        type: 'json_schema',
        json_schema: {
          name: 'tree',
          schema: {
            $defs: { n: { type: 'object' } },
            type: 'object',
            properties: { a: { $ref: '#/$defs/n' } },
          },
        },
      },
    });
    assert.deepEqual(Object.keys(gen(ref.json)), ['responseMimeType', 'responseJsonSchema']);
  });

  test('reasoning: thinkingConfig from a budget, an effort, off, excluded; the legacy fields', async () => {
    const tc = async (body: Json) =>
      gen((await prepare({ messages: [user('x')], ...body })).json)['thinkingConfig'];
    assert.deepEqual(await tc({ reasoning: { max_tokens: 2000 } }), {
      thinkingBudget: 2000,
      includeThoughts: true,
    });
    assert.deepEqual(await tc({ reasoning: { effort: 'high' } }), {
      thinkingBudget: 24576,
      includeThoughts: true,
    });
    assert.deepEqual(await tc({ reasoning: {} }), { thinkingBudget: -1, includeThoughts: true });
    assert.deepEqual(await tc({ reasoning: { effort: 'none' } }), { thinkingBudget: 0 });
    assert.deepEqual(await tc({ reasoning: { max_tokens: 100, exclude: true } }), {
      thinkingBudget: 100,
      includeThoughts: false,
    });
    assert.deepEqual(await tc({ reasoning_effort: 'low' }), {
      thinkingBudget: 1024,
      includeThoughts: true,
    });
    assert.deepEqual(await tc({ include_reasoning: true }), {
      thinkingBudget: -1,
      includeThoughts: true,
    });
    // Only "do not show it": nothing to send (a model that cannot think would refuse any).
    assert.equal(await tc({ include_reasoning: false }), undefined);
    assert.equal(await tc({ reasoning: { exclude: true } }), undefined);
    assert.equal(await tc({}), undefined);
  });
});

describe('JSON Schema → Gemini Schema', () => {
  test('types, nullability, enums, formats, composition', () => {
    assert.deepEqual(toGeminiSchema({ type: ['integer', 'null'], format: 'int64' }), {
      type: 'INTEGER',
      nullable: true,
      format: 'int64',
    });
    assert.deepEqual(toGeminiSchema({ anyOf: [{ type: 'string' }, { type: 'null' }] }), {
      type: 'STRING',
      nullable: true,
    });
    assert.deepEqual(toGeminiSchema({ oneOf: [{ type: 'string' }, { type: 'number' }] }), {
      anyOf: [{ type: 'STRING' }, { type: 'NUMBER' }],
    });
    assert.deepEqual(toGeminiSchema({ type: ['string', 'number'] }), {
      anyOf: [{ type: 'STRING' }, { type: 'NUMBER' }],
    });
    assert.deepEqual(toGeminiSchema({ const: 'x' }), { type: 'STRING', enum: ['x'] });
    assert.deepEqual(toGeminiSchema({ enum: ['a', null] }), {
      type: 'STRING',
      nullable: true,
      enum: ['a'],
    });
    assert.deepEqual(toGeminiSchema({ type: 'string', format: 'email' }), { type: 'STRING' });
    assert.deepEqual(toGeminiSchema({ type: 'string', format: 'date-time' }), {
      type: 'STRING',
      format: 'date-time',
    });
    assert.deepEqual(
      toGeminiSchema({
        allOf: [
          { type: 'object', properties: { a: { type: 'string' } }, required: ['a'] },
          { properties: { b: { type: 'boolean' } }, required: ['b'] },
        ],
      }),
      {
        type: 'OBJECT',
        properties: { a: { type: 'STRING' }, b: { type: 'BOOLEAN' } },
        required: ['a', 'b'],
      },
    );
    assert.deepEqual(
      toGeminiSchema({
        type: 'array',
        items: [{ type: 'string' }],
        minItems: 1,
        examples: ['z'],
        uniqueItems: true,
      }),
      { type: 'ARRAY', minItems: 1, example: 'z', items: { type: 'STRING' } },
    );
    assert.equal(usesReferences({ a: [{ b: { $ref: '#/x' } }] }), true);
    assert.equal(usesReferences({ a: [{ b: { ref: '#/x' } }] }), false);
  });
});
