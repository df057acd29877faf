import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { describe, test } from 'node:test';
import { ReplyError, type ProviderConnection } from '@turnpike/contracts';
import { SignatureV4 } from '@smithy/signature-v4';
import type { GenerationCall, PreparedRequest } from '../core/adapter.js';
import type { DecodedEvent } from '../core/decoder.js';
import { assertSkipsMalformed, concat } from '../core/decoder-testing.js';
import { encodeEventStreamMessage } from '../core/framing/aws-event-stream.js';
import type { Json } from '../core/json.js';
import { RequestMappingError } from '../core/param-map.js';
import { adapterFor } from '../registry.js';
import { UpstreamError } from '../errors/index.js';
import { errorTypeOf, responseErrorType } from './bedrock.errors.js';
import { BedrockAdapter, bedrockProvider } from './bedrock.provider.js';
import { toolUseIdOf } from './bedrock.request.js';
import { NodeSha256 } from '../core/signing/node-sha256.js';

const fixture = <T>(name: string): T =>
  JSON.parse(
    readFileSync(new URL(`../../src/bedrock/fixtures/${name}`, import.meta.url), 'utf8'),
  ) as T;

const CLAUDE = 'anthropic.claude-3-7-sonnet-20250219-v1:0';
const LLAMA = 'meta.llama3-1-70b-instruct-v1:0';
const NOW = new Date('2025-03-04T05:06:07Z');
const CREDS = {
  type: 'aws' as const,
  accessKeyId: 'AKIAIOSFODNN7EXAMPLE',
  secretAccessKey: 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY',
  region: 'us-west-2',
};
const CONN: ProviderConnection = {
  baseUrl: bedrockProvider.defaultBaseUrl,
  credentials: CREDS,
};

const call = (body: Json, opts: Partial<GenerationCall> = {}): GenerationCall => ({
  body: { model: 'x/y', ...body },
  upstreamModel: CLAUDE,
  stream: false,
  ...opts,
});

async function prepare(
  body: Json,
  opts: Partial<GenerationCall> = {},
  conn: ProviderConnection = CONN,
  requireParameters = false,
): Promise<PreparedRequest & { json: Json }> {
  const req = await bedrockProvider.prepareRequest(call(body, opts), conn, {
    requireParameters,
    now: NOW,
  });
  return { ...req, json: JSON.parse(req.body) as Json };
}

const user = (content: unknown) => ({ role: 'user', content });

describe('registration and capabilities', () => {
  test('the registry serves kind bedrock', () => {
    assert.equal(adapterFor('bedrock'), bedrockProvider);
    assert.equal(bedrockProvider.protocol, 'bedrock');
    assert.deepEqual([...bedrockProvider.credentialTypes], ['aws']);
  });
  test('supported parameters come from the parameter map', () => {
    assert.deepEqual(bedrockProvider.capabilities.parameters, [
      'include_reasoning',
      'max_completion_tokens',
      'max_tokens',
      'reasoning',
      'reasoning_effort',
      'response_format',
      'service_tier',
      'stop',
      'structured_outputs',
      'temperature',
      'tool_choice',
      'tools',
      'top_k',
      'top_p',
    ]);
    assert.equal(bedrockProvider.capabilities.multipleChoices, false);
    assert.equal(bedrockProvider.capabilities.prefill, true);
  });
});

describe('the HTTP request: URL, SigV4 signature, headers', () => {
  test('the default base URL takes the account region; the model id is URI-encoded', async () => {
    const r = await prepare(
      { messages: [user('hi')] },
      { upstreamModel: 'anthropic.claude-3-5-sonnet-20241022-v2:0' },
    );
    assert.equal(
      r.url,
      'https://bedrock-runtime.us-west-2.amazonaws.com/model/anthropic.claude-3-5-sonnet-20241022-v2%3A0/converse',
    );
    const s = await prepare({ messages: [user('hi')] }, { stream: true });
    assert.match(s.url, /\/model\/anthropic\.claude-3-7-sonnet-20250219-v1%3A0\/converse-stream$/);
    const arn =
      'arn:aws:bedrock:us-west-2:123456789012:inference-profile/us.anthropic.claude-3-7-sonnet-20250219-v1:0';
    const a = await prepare({ messages: [user('hi')] }, { upstreamModel: arn });
    assert.ok(a.url.endsWith(`/model/${encodeURIComponent(arn)}/converse`), a.url);
  });

  test('a base URL with a path (a proxy) keeps it', async () => {
    const r = await prepare(
      { messages: [user('hi')] },
      {},
      { ...CONN, baseUrl: 'http://127.0.0.1:9000/aws/' },
    );
    assert.equal(r.url, `http://127.0.0.1:9000/aws/model/${encodeURIComponent(CLAUDE)}/converse`);
  });

  test('the signature is what the AWS SDK signer computes for the same request', async () => {
    const withToken: typeof CREDS & { sessionToken?: string } = {
      ...CREDS,
      sessionToken: 'FwoGZXIvYXdzEBYaDEXAMPLETOKEN',
    };
    for (const creds of [CREDS as typeof withToken, withToken]) {
      const r = await prepare({ messages: [user('héllo')] }, {}, { ...CONN, credentials: creds });
      const url = new URL(r.url);
      const signer = new SignatureV4({
        credentials: creds,
        region: 'us-west-2',
        service: 'bedrock',
        sha256: NodeSha256,
      });
      const expected = await signer.sign(
        {
          method: 'POST',
          protocol: url.protocol,
          hostname: url.hostname,
          path: url.pathname,
          query: {},
          headers: { host: url.host, 'content-type': 'application/json' },
          body: r.body,
        },
        { signingDate: NOW },
      );
      assert.equal(r.headers['authorization'], expected.headers['authorization']);
      assert.equal(r.headers['x-amz-date'], '20250304T050607Z');
      assert.equal(
        r.headers['x-amz-content-sha256'],
        createHash('sha256').update(r.body).digest('hex'),
      );
      assert.equal(r.headers['x-amz-security-token'], creds.sessionToken);
      assert.match(
        r.headers['authorization'] ?? '',
        /Credential=AKIAIOSFODNN7EXAMPLE\/20250304\/us-west-2\/bedrock\/aws4_request/,
      );
    }
  });

  test("an account's extra headers travel unsigned and cannot replace a signed one", async () => {
    const r = await prepare(
      { messages: [user('hi')] },
      {},
      {
        ...CONN,
        headers: { 'X-Team': 't9', 'X-Amz-Date': '19990101T000000Z', Authorization: 'nope' },
      },
    );
    assert.equal(r.headers['x-team'], 't9');
    assert.equal(r.headers['x-amz-date'], '20250304T050607Z');
    assert.match(r.headers['authorization'] ?? '', /^AWS4-HMAC-SHA256 /);
    assert.doesNotMatch(r.headers['authorization'] ?? '', /x-team/);
  });

  test('an account without AWS credentials is a configuration error, not the request', async () => {
    await assert.rejects(
      bedrockProvider.prepareRequest(
        call({ messages: [user('hi')] }),
        {
          baseUrl: 'https://x.example',
          credentials: { type: 'api_key', apiKey: 'k' },
        },
        { requireParameters: false, now: NOW },
      ),
      (e: unknown) =>
        e instanceof RequestMappingError &&
        e.error.reply.status === 502 &&
        e.error.reply.code === 'provider_misconfigured',
    );
  });
});

describe('request mapping', () => {
  test('system and developer messages become system blocks; turns alternate', async () => {
    const { json } = await prepare({
      messages: [
        { role: 'system', content: 'You are terse.' },
        { role: 'developer', content: [{ type: 'text', text: 'Answer in English.' }] },
        user('first question'),
        { role: 'assistant', content: 'first answer' },
        user('second'),
        user([{ type: 'text', text: 'and third' }]),
      ],
    });
    assert.deepEqual(json['system'], [{ text: 'You are terse.' }, { text: 'Answer in English.' }]);
    assert.deepEqual(json['messages'], [
      { role: 'user', content: [{ text: 'first question' }] },
      { role: 'assistant', content: [{ text: 'first answer' }] },
      { role: 'user', content: [{ text: 'second' }, { text: 'and third' }] },
    ]);
    assert.equal(json['toolConfig'], undefined);
    assert.equal(json['inferenceConfig'], undefined);
  });

  test('every parameter of the map', async () => {
    const { json, droppedParameters } = await prepare({
      messages: [user('hi')],
      max_completion_tokens: 300,
      max_tokens: 50,
      temperature: 1.7,
      top_p: 0.9,
      stop: 'END',
      top_k: 40,
      seed: 7,
      presence_penalty: 0.5,
      frequency_penalty: 0.1,
      n: 1,
      service_tier: 'flex',
    });
    assert.deepEqual(json['inferenceConfig'], {
      maxTokens: 300,
      temperature: 1, // clamped into Converse's 0-1
      topP: 0.9,
      stopSequences: ['END'],
    });
    assert.deepEqual(json['additionalModelRequestFields'], { top_k: 40 });
    assert.deepEqual(json['serviceTier'], { type: 'flex' });
    assert.deepEqual(droppedParameters.sort(), [
      'frequency_penalty',
      'n',
      'presence_penalty',
      'seed',
    ]);
    // Nova takes top_k as inferenceConfig.topK of the extra fields.
    const nova = await prepare(
      { messages: [user('hi')], top_k: 5, stop: ['a', 'b'] },
      { upstreamModel: 'amazon.nova-pro-v1:0' },
    );
    assert.deepEqual(nova.json['additionalModelRequestFields'], { inferenceConfig: { topK: 5 } });
    assert.deepEqual(nova.json['inferenceConfig'], { stopSequences: ['a', 'b'] });
  });

  test('provider.require_parameters refuses what Converse lacks; max_tokens < 1 is refused', async () => {
    await assert.rejects(
      prepare({ messages: [user('hi')], seed: 7 }, {}, CONN, true),
      (e: unknown) => e instanceof RequestMappingError && e.error.reply.param === 'seed',
    );
    await assert.rejects(
      prepare({ messages: [user('hi')], max_tokens: 0 }),
      (e: unknown) => e instanceof RequestMappingError && e.error.reply.code === 'invalid_value',
    );
  });

  test('images: inline data, S3 URIs; remote URLs and other formats are refused (retryable)', async () => {
    const png = 'iVBORw0KGgo=';
    const { json } = await prepare({
      messages: [
        user([
          { type: 'text', text: 'What is this?' },
          { type: 'image_url', image_url: { url: `data:image/png;base64,${png}` } },
          { type: 'image_url', image_url: { url: 's3://bucket/cat.JPG' } },
        ]),
      ],
    });
    assert.deepEqual((json['messages'] as Json[])[0], {
      role: 'user',
      content: [
        { text: 'What is this?' },
        { image: { format: 'png', source: { bytes: png } } },
        { image: { format: 'jpeg', source: { s3Location: { uri: 's3://bucket/cat.JPG' } } } },
      ],
    });
    for (const url of ['https://example.com/cat.png', 'data:image/tiff;base64,AAAA']) {
      await assert.rejects(
        prepare({ messages: [user([{ type: 'image_url', image_url: { url } }])] }),
        (e: unknown) =>
          e instanceof RequestMappingError &&
          e.error.reply.status === 400 &&
          e.error.reply.retryable === true,
      );
    }
  });

  test('files become documents with valid, unique names', async () => {
    const { json } = await prepare({
      messages: [
        user([
          {
            type: 'file',
            file: {
              filename: 'HW3 feedback.v2.pdf',
              file_data: 'data:application/pdf;base64,JVBERi0=',
            },
          },
          {
            type: 'file',
            file: {
              filename: 'HW3 feedback.v2.pdf',
              file_data: 'data:application/pdf;base64,JVBERi0=',
            },
          },
          { type: 'text', text: 'Summarise both.' },
        ]),
      ],
    });
    const blocks = (json['messages'] as Json[])[0]!['content'] as Json[];
    assert.deepEqual(blocks.slice(0, 2), [
      { document: { format: 'pdf', name: 'HW3 feedback v2', source: { bytes: 'JVBERi0=' } } },
      { document: { format: 'pdf', name: 'HW3 feedback v2 (2)', source: { bytes: 'JVBERi0=' } } },
    ]);
  });

  test("tools: the user guide's top_song tool, tool_choice auto/required/named/none", async () => {
    const guide = fixture<Json & { toolConfig: Json; userMessage: Json; forcedToolChoice: Json }>(
      'userguide-tool-use.json',
    );
    const spec = (guide.toolConfig['tools'] as Json[])[0]!['toolSpec'] as Json;
    const openaiTool = {
      type: 'function',
      function: {
        name: spec['name'],
        description: spec['description'],
        parameters: (spec['inputSchema'] as Json)['json'],
      },
    };
    const body = {
      messages: [user('What is the most popular song on WZPZ?')],
      tools: [openaiTool],
    };
    const plain = await prepare(body);
    assert.deepEqual(plain.json['toolConfig'], guide.toolConfig);
    assert.deepEqual((plain.json['messages'] as Json[])[0], guide.userMessage);
    const forced = await prepare({
      ...body,
      tool_choice: { type: 'function', function: { name: 'top_song' } },
    });
    assert.deepEqual((forced.json['toolConfig'] as Json)['toolChoice'], guide.forcedToolChoice);
    const any = await prepare({ ...body, tool_choice: 'required' });
    assert.deepEqual((any.json['toolConfig'] as Json)['toolChoice'], { any: {} });
    const auto = await prepare({ ...body, tool_choice: 'auto' });
    assert.deepEqual((auto.json['toolConfig'] as Json)['toolChoice'], { auto: {} });
    const none = await prepare({ ...body, tool_choice: 'none' });
    assert.equal(none.json['toolConfig'], undefined, 'Converse has no "none": no tools offered');
    // parallel_tool_calls has no Converse form: dropped.
    const p = await prepare({ ...body, parallel_tool_calls: false });
    assert.deepEqual(p.droppedParameters, ['parallel_tool_calls']);
  });

  test("tool calls and results round-trip as the user guide's toolUse / toolResult", async () => {
    const guide = fixture<Json & { toolResultMessage: Json; toolErrorMessage: Json }>(
      'userguide-tool-use.json',
    );
    const { json } = await prepare({
      messages: [
        user('What is the most popular song on WZPZ?'),
        {
          role: 'assistant',
          content: null,
          tool_calls: [
            {
              id: 'tooluse_kZJMlvQmRJ6eAyJE5GIl7Q',
              type: 'function',
              function: { name: 'top_song', arguments: '{"sign": "WZPZ"}' },
            },
          ],
        },
        {
          role: 'tool',
          tool_call_id: 'tooluse_kZJMlvQmRJ6eAyJE5GIl7Q',
          content: '{"song": "Elemental Hotel", "artist": "8 Storey Hike"}',
        },
      ],
      tools: [{ type: 'function', function: { name: 'top_song', parameters: { type: 'object' } } }],
    });
    const messages = json['messages'] as Json[];
    assert.deepEqual(messages[1], {
      role: 'assistant',
      content: [
        {
          toolUse: {
            toolUseId: 'tooluse_kZJMlvQmRJ6eAyJE5GIl7Q',
            name: 'top_song',
            input: { sign: 'WZPZ' },
          },
        },
      ],
    });
    assert.deepEqual(messages[2], guide.toolResultMessage);
  });

  test('parallel tool results and the next user text merge into one user message', async () => {
    const { json } = await prepare({
      messages: [
        user('weather and time?'),
        {
          role: 'assistant',
          content: 'Let me check.',
          tool_calls: [
            {
              id: 'call_1',
              type: 'function',
              function: { name: 'get_weather', arguments: '{"city":"Paris"}' },
            },
            { id: 'fc_67.abc', type: 'function', function: { name: 'get_time', arguments: '' } },
          ],
        },
        { role: 'tool', tool_call_id: 'call_1', content: 'sunny, 21 degrees' },
        { role: 'tool', tool_call_id: 'fc_67.abc', content: [{ type: 'text', text: '10:00' }] },
        user('thanks'),
      ],
    });
    const messages = json['messages'] as Json[];
    assert.equal(messages.length, 3);
    const mapped = toolUseIdOf('fc_67.abc');
    assert.match(mapped, /^[A-Za-z0-9_-]{1,64}$/);
    assert.notEqual(mapped, toolUseIdOf('fc_67:abc'), 'distinct ids stay distinct');
    assert.deepEqual(messages[1], {
      role: 'assistant',
      content: [
        { text: 'Let me check.' },
        { toolUse: { toolUseId: 'call_1', name: 'get_weather', input: { city: 'Paris' } } },
        { toolUse: { toolUseId: mapped, name: 'get_time', input: {} } },
      ],
    });
    assert.deepEqual(messages[2], {
      role: 'user',
      content: [
        { toolResult: { toolUseId: 'call_1', content: [{ text: 'sunny, 21 degrees' }] } },
        { toolResult: { toolUseId: mapped, content: [{ text: '10:00' }] } },
        { text: 'thanks' },
      ],
    });
    // The conversation used tools the request no longer declares: Converse needs them named.
    const names = ((json['toolConfig'] as Json)['tools'] as Json[]).map(
      (t) => (t['toolSpec'] as Json)['name'],
    );
    assert.deepEqual(names, ['get_weather', 'get_time']);
  });

  test('tool arguments that are not JSON are refused with a clear 400', async () => {
    await assert.rejects(
      prepare({
        messages: [
          user('x'),
          {
            role: 'assistant',
            tool_calls: [
              { id: 'c', type: 'function', function: { name: 'f', arguments: '{"a":' } },
            ],
          },
          { role: 'tool', tool_call_id: 'c', content: 'r' },
        ],
      }),
      (e: unknown) =>
        e instanceof RequestMappingError && /not valid JSON/.test(e.error.reply.message),
    );
  });

  /** A conversation in which `f` was called and answered. */
  const callOfF = [
    user('x'),
    {
      role: 'assistant',
      tool_calls: [{ id: 'c', type: 'function', function: { name: 'f', arguments: '{}' } }],
    },
    { role: 'tool', tool_call_id: 'c', content: 'r' },
  ];

  test('tool_choice none with tool history and a response_format: the declared tools come back', async () => {
    const { json } = await prepare({
      messages: callOfF,
      tools: [
        {
          type: 'function',
          function: { name: 'f', parameters: { type: 'object', properties: { a: {} } } },
        },
      ],
      tool_choice: 'none',
      response_format: { type: 'json_object' },
    });
    const tc = json['toolConfig'] as Json;
    assert.deepEqual(
      (tc['tools'] as Json[]).map((t) => [
        (t['toolSpec'] as Json)['name'],
        (t['toolSpec'] as Json)['inputSchema'],
      ]),
      [
        ['json_response', { json: { type: 'object' } }],
        ['f', { json: { type: 'object', properties: { a: {} } } }],
      ],
    );
    assert.deepEqual(tc['toolChoice'], { tool: { name: 'json_response' } });
  });

  test('tool_choice none with tool history keeps the tools (Converse requires them), unforced', async () => {
    const { json } = await prepare({
      messages: callOfF,
      tools: [{ type: 'function', function: { name: 'f', parameters: { type: 'object' } } }],
      tool_choice: 'none',
    });
    assert.deepEqual(json['toolConfig'], {
      tools: [{ toolSpec: { name: 'f', inputSchema: { json: { type: 'object' } } } }],
    });
  });

  test('response_format json_schema and json_object become a forced tool', async () => {
    const schema = {
      type: 'object',
      properties: { title: { type: 'string' } },
      required: ['title'],
    };
    const { json } = await prepare({
      messages: [user('review it')],
      response_format: {
        type: 'json_schema',
        json_schema: { name: 'review', schema, strict: true },
      },
    });
    assert.deepEqual(json['toolConfig'], {
      tools: [
        {
          toolSpec: {
            name: 'review',
            description:
              'Answer with a JSON value that matches this schema: call this tool with it as its input.',
            inputSchema: { json: schema },
          },
        },
      ],
      toolChoice: { tool: { name: 'review' } },
    });
    // A schema name a user tool already has, or an invalid one, gives way to json_response.
    const clash = await prepare({
      messages: [user('x')],
      tools: [{ type: 'function', function: { name: 'review', parameters: { type: 'object' } } }],
      response_format: { type: 'json_schema', json_schema: { name: 'review', schema } },
    });
    const tc = clash.json['toolConfig'] as Json;
    assert.deepEqual(
      (tc['tools'] as Json[]).map((t) => (t['toolSpec'] as Json)['name']),
      ['review', 'json_response'],
    );
    assert.deepEqual(tc['toolChoice'], { tool: { name: 'json_response' } });
    const obj = await prepare({ messages: [user('x')], response_format: { type: 'json_object' } });
    const spec = ((obj.json['toolConfig'] as Json)['tools'] as Json[])[0]!['toolSpec'] as Json;
    assert.deepEqual(
      [spec['name'], spec['inputSchema']],
      ['json_response', { json: { type: 'object' } }],
    );
    const text = await prepare({ messages: [user('x')], response_format: { type: 'text' } });
    assert.equal(text.json['toolConfig'], undefined);
  });

  test('reasoning: Claude thinking with a budget below max_tokens; sampling dropped', async () => {
    const a = await prepare({
      messages: [user('x')],
      reasoning: { max_tokens: 2048 },
      temperature: 0.2,
      top_p: 0.5,
      top_k: 3,
    });
    assert.deepEqual(a.json['additionalModelRequestFields'], {
      thinking: { type: 'enabled', budget_tokens: 2048 },
    });
    assert.deepEqual(a.json['inferenceConfig'], { maxTokens: 2048 + 4096 });
    assert.deepEqual(a.droppedParameters.sort(), ['temperature', 'top_k', 'top_p']);
    // The client's max_tokens leaves room: kept; it does not: it is the answer's share.
    const b = await prepare({
      messages: [user('x')],
      reasoning: { max_tokens: 2048 },
      max_tokens: 10_000,
    });
    assert.equal((b.json['inferenceConfig'] as Json)['maxTokens'], 10_000);
    const c = await prepare({
      messages: [user('x')],
      reasoning: { effort: 'high' },
      max_tokens: 1000,
    });
    assert.deepEqual(c.json['additionalModelRequestFields'], {
      thinking: { type: 'enabled', budget_tokens: 16384 },
    });
    assert.equal((c.json['inferenceConfig'] as Json)['maxTokens'], 17384);
    // Within the endpoint's output limit.
    const d = await prepare(
      { messages: [user('x')], reasoning_effort: 'high' },
      { maxOutputTokens: 8192 },
    );
    assert.deepEqual(d.json['inferenceConfig'], { maxTokens: 8192 });
    assert.deepEqual(d.json['additionalModelRequestFields'], {
      thinking: { type: 'enabled', budget_tokens: 8191 },
    });
    // A top_p of at least 0.95 is allowed while thinking.
    const e = await prepare({ messages: [user('x')], reasoning: {}, top_p: 0.97 });
    assert.equal((e.json['inferenceConfig'] as Json)['topP'], 0.97);
    assert.deepEqual(e.json['additionalModelRequestFields'], {
      thinking: { type: 'enabled', budget_tokens: 8192 },
    });
    // Disabled, or not a Claude model: no thinking field.
    for (const [body, model] of [
      [{ reasoning: { enabled: false } }, CLAUDE],
      [{ reasoning: { effort: 'none' } }, CLAUDE],
      [{ reasoning: { max_tokens: 2048 } }, LLAMA],
    ] as const) {
      const r = await prepare({ messages: [user('x')], ...body }, { upstreamModel: model });
      assert.equal(r.json['additionalModelRequestFields'], undefined, JSON.stringify(body));
    }
  });

  test('reasoning with a JSON schema: the schema tool is offered, not forced (Claude refuses that)', async () => {
    const { json } = await prepare({
      messages: [user('x')],
      reasoning: { max_tokens: 1024 },
      response_format: {
        type: 'json_schema',
        json_schema: { name: 'r', schema: { type: 'object' } },
      },
    });
    assert.deepEqual((json['toolConfig'] as Json)['toolChoice'], { auto: {} });
  });

  test('earlier reasoning goes back to Claude: signed text and redacted data; others are not sent', async () => {
    const body = {
      messages: [
        user('q'),
        {
          role: 'assistant',
          content: 'a',
          reasoning_details: [
            {
              type: 'reasoning.text',
              text: 'thought',
              signature: 'sig==',
              format: 'anthropic-claude-v1',
              index: 0,
            },
            { type: 'reasoning.encrypted', data: 'ZW5j', format: 'anthropic-claude-v1', index: 1 },
            { type: 'reasoning.text', text: 'unsigned', index: 2 },
            {
              type: 'reasoning.encrypted',
              data: 'Zm9yZWlnbg==',
              format: 'openai-responses-v1',
              index: 3,
            },
          ],
        },
        user('again'),
      ],
    };
    const { json } = await prepare(body);
    assert.deepEqual((json['messages'] as Json[])[1], {
      role: 'assistant',
      content: [
        { reasoningContent: { reasoningText: { text: 'thought', signature: 'sig==' } } },
        { reasoningContent: { redactedContent: 'ZW5j' } },
        { text: 'a' },
      ],
    });
    const llama = await prepare(body, { upstreamModel: LLAMA });
    assert.deepEqual((llama.json['messages'] as Json[])[1], {
      role: 'assistant',
      content: [{ text: 'a' }],
    });
  });

  test('prefill: a trailing assistant message is continued, without trailing whitespace', async () => {
    const { json } = await prepare({
      messages: [user('alpha bravo charlie'), { role: 'assistant', content: 'alpha bravo  ' }],
    });
    assert.deepEqual((json['messages'] as Json[]).at(-1), {
      role: 'assistant',
      content: [{ text: 'alpha bravo' }],
    });
  });

  test('cache_control adds cachePoint blocks after system parts, message parts and tools', async () => {
    const { json } = await prepare({
      messages: [
        {
          role: 'system',
          content: [{ type: 'text', text: 'A long policy.', cache_control: { type: 'ephemeral' } }],
        },
        user([
          { type: 'text', text: 'A long document.', cache_control: { type: 'ephemeral' } },
          { type: 'text', text: 'Question?' },
        ]),
      ],
      tools: [
        {
          type: 'function',
          function: { name: 'f', parameters: { type: 'object' } },
          cache_control: { type: 'ephemeral' },
        },
      ],
    });
    assert.deepEqual(json['system'], [
      { text: 'A long policy.' },
      { cachePoint: { type: 'default' } },
    ]);
    assert.deepEqual((json['messages'] as Json[])[0], {
      role: 'user',
      content: [
        { text: 'A long document.' },
        { cachePoint: { type: 'default' } },
        { text: 'Question?' },
      ],
    });
    assert.deepEqual((json['toolConfig'] as Json)['tools'], [
      { toolSpec: { name: 'f', inputSchema: { json: { type: 'object' } } } },
      { cachePoint: { type: 'default' } },
    ]);
  });
});

// ---------------------------------------------------------------------------------------------
// The stream decoder

interface Frame {
  headers: [string, string][];
  payload: string;
  totalSize: number;
  headerSize: number;
  preludeCrc: number;
  messageCrc: number;
}

const enc = new TextEncoder();
const event = (type: string, payload: Json): Uint8Array =>
  encodeEventStreamMessage(
    { ':event-type': type, ':content-type': 'application/json', ':message-type': 'event' },
    enc.encode(JSON.stringify(payload)),
  );
const exception = (type: string, payload: Json): Uint8Array =>
  encodeEventStreamMessage(
    { ':exception-type': type, ':content-type': 'application/json', ':message-type': 'exception' },
    enc.encode(JSON.stringify(payload)),
  );

interface Folded {
  text: string;
  reasoning: string;
  details: Json[];
  tools: { id: string; name: string; args: string }[];
  finish: unknown;
  native: unknown;
  usage: Json | null;
  errors: UpstreamError[];
  /** Events skipped as malformed. */
  malformed: number;
  done: boolean;
}

function fold(events: DecodedEvent[]): Folded {
  const f: Folded = {
    text: '',
    reasoning: '',
    details: [],
    tools: [],
    finish: null,
    native: null,
    usage: null,
    errors: [],
    malformed: 0,
    done: false,
  };
  for (const e of events) {
    if (e.type === 'error') f.errors.push(e.error);
    else if (e.type === 'done') f.done = true;
    else if (e.type === 'malformed') f.malformed++;
    else {
      const c = e.chunk;
      if (c['usage']) f.usage = c['usage'] as Json;
      for (const ch of (c['choices'] as Json[]) ?? []) {
        const d = (ch['delta'] as Json) ?? {};
        if (typeof d['content'] === 'string') f.text += d['content'];
        if (typeof d['reasoning'] === 'string') f.reasoning += d['reasoning'];
        if (Array.isArray(d['reasoning_details']))
          f.details.push(...(d['reasoning_details'] as Json[]));
        for (const t of (d['tool_calls'] as Json[]) ?? []) {
          const i = t['index'] as number;
          const fn = t['function'] as Json;
          f.tools[i] ??= { id: '', name: '', args: '' };
          if (typeof t['id'] === 'string') f.tools[i].id = t['id'];
          if (typeof fn['name'] === 'string') f.tools[i].name += fn['name'];
          if (typeof fn['arguments'] === 'string') f.tools[i].args += fn['arguments'];
        }
        if (ch['finish_reason']) {
          f.finish = ch['finish_reason'];
          f.native = ch['native_finish_reason'];
        }
      }
    }
  }
  return f;
}

const decoderFor = (body: Json = {}, upstreamModel = CLAUDE) =>
  bedrockProvider.openStream(
    call({ messages: [user('x')], ...body }, { upstreamModel, stream: true }),
  );

/** Pushes `bytes` split at every boundary pair (a, b) sampled, and checks the result is the same. */
function decodeAtEverySplit(bytes: Uint8Array, body: Json = {}, model = CLAUDE) {
  const whole = decoderFor(body, model);
  const reference = fold(whole.push(bytes));
  const summary = whole.end();
  for (let cut = 0; cut <= bytes.length; cut++) {
    const d = decoderFor(body, model);
    const got = fold([...d.push(bytes.subarray(0, cut)), ...d.push(bytes.subarray(cut))]);
    assert.deepEqual(
      { ...got, errors: got.errors.length },
      { ...reference, errors: reference.errors.length },
      `split at ${cut}`,
    );
    assert.deepEqual(d.end(), summary, `summary, split at ${cut}`);
  }
  // One byte at a time.
  const d = decoderFor(body, model);
  const events: DecodedEvent[] = [];
  for (let i = 0; i < bytes.length; i++) events.push(...d.push(bytes.subarray(i, i + 1)));
  assert.deepEqual({ ...fold(events), errors: 0 }, { ...reference, errors: 0 });
  return { ...reference, summary };
}

describe('ConverseStream decoder', () => {
  test("the AWS SDK's recorded frames: byte-exact (sizes and CRCs), then decoded", () => {
    const { frames } = fixture<{ frames: Frame[] }>('converse-stream.sdk-snapshot.json');
    const bytes = frames.map((f) => {
      const b = encodeEventStreamMessage(Object.fromEntries(f.headers), enc.encode(f.payload));
      const v = new DataView(b.buffer);
      assert.deepEqual(
        [b.length, v.getUint32(4), v.getUint32(8), v.getUint32(b.length - 4)],
        [f.totalSize, f.headerSize, f.preludeCrc, f.messageCrc],
        `frame ${f.headers[0]![1]} matches the SDK's recording`,
      );
      return b;
    });
    // The events: a role chunk, nothing for an image block or a toolResult delta (not model
    // output Converse sends to chat), the finish (an unknown reason is a stop, kept as native).
    const d = decoderFor();
    const events = d.push(concat(bytes.slice(0, 5)));
    const f = fold(events);
    assert.equal(events.length, 2);
    assert.equal(f.text, '');
    assert.equal(f.finish, 'stop');
    assert.equal(f.native, '__stopReason__');
    assert.deepEqual(d.end(), {
      tokens: null,
      finishReason: 'stop',
      nativeFinishReason: '__stopReason__',
      complete: true,
      malformedEvents: 0,
    });
    // The same at every byte split.
    const r = decodeAtEverySplit(concat(bytes.slice(0, 5)));
    assert.deepEqual(
      [r.finish, r.native, r.text, r.summary.complete],
      ['stop', '__stopReason__', '', true],
    );
    // Each exception (as the SDK's recording writes them, events named after the exception).
    const want: [string, number, string][] = [
      ['internalServerException', 502, 'upstream_error'],
      ['modelStreamErrorException', 502, 'upstream_error'],
      ['validationException', 400, 'validationException'],
      ['throttlingException', 503, 'upstream_rate_limited'],
      ['serviceUnavailableException', 503, 'upstream_overloaded'],
    ];
    want.forEach(([name, status, code], i) => {
      const ev = decoderFor().push(bytes[5 + i]!);
      assert.equal(ev.length, 1, name);
      assert.equal(ev[0]!.type, 'error');
      const e = (ev[0] as { error: UpstreamError }).error;
      assert.equal(e.reply.status, status, name);
      assert.equal(e.reply.code, code, name);
      assert.ok(
        !JSON.stringify(e.reply).includes('__message__') || status === 400,
        'no upstream text on 5xx',
      );
    });
  });

  // The user guide's top_song call, streamed as ConverseStream sends a tool call: text, the
  // call's contentBlockStart, its input in fragments, stops, the stop reason, the bill.
  const toolFrames = () => [
    event('messageStart', { role: 'assistant' }),
    event('contentBlockDelta', {
      contentBlockIndex: 0,
      delta: { text: 'Let me look ' },
      p: 'abcd',
    }),
    event('contentBlockDelta', { contentBlockIndex: 0, delta: { text: 'that up.' } }),
    event('contentBlockStop', { contentBlockIndex: 0 }),
    event('contentBlockStart', {
      contentBlockIndex: 1,
      start: { toolUse: { toolUseId: 'tooluse_kZJMlvQmRJ6eAyJE5GIl7Q', name: 'top_song' } },
    }),
    event('contentBlockDelta', { contentBlockIndex: 1, delta: { toolUse: { input: '{"si' } } }),
    event('contentBlockDelta', {
      contentBlockIndex: 1,
      delta: { toolUse: { input: 'gn": "WZ' } },
    }),
    event('contentBlockDelta', { contentBlockIndex: 1, delta: { toolUse: { input: 'PZ"}' } } }),
    event('contentBlockStop', { contentBlockIndex: 1 }),
    event('contentBlockStart', {
      contentBlockIndex: 2,
      start: { toolUse: { toolUseId: 'tooluse_second', name: 'get_time' } },
    }),
    event('contentBlockDelta', { contentBlockIndex: 2, delta: { toolUse: { input: '{}' } } }),
    event('contentBlockStop', { contentBlockIndex: 2 }),
    event('messageStop', { stopReason: 'tool_use' }),
    event('metadata', {
      usage: { inputTokens: 412, outputTokens: 58, totalTokens: 470 },
      metrics: { latencyMs: 930 },
    }),
  ];
  const toolStream = () => concat(toolFrames());

  test('tool calls: ids, names and argument fragments reassembled exactly, at every byte split', () => {
    const r = decodeAtEverySplit(toolStream());
    assert.equal(r.text, 'Let me look that up.');
    assert.deepEqual(r.tools, [
      { id: 'tooluse_kZJMlvQmRJ6eAyJE5GIl7Q', name: 'top_song', args: '{"sign": "WZPZ"}' },
      { id: 'tooluse_second', name: 'get_time', args: '{}' },
    ]);
    assert.equal(r.finish, 'tool_calls');
    assert.equal(r.native, 'tool_use');
    assert.equal(r.done, true);
    assert.deepEqual(r.summary, {
      tokens: { prompt: 412, completion: 58, cachedRead: 0, cacheWrite: 0, reasoning: 0 },
      finishReason: 'tool_calls',
      nativeFinishReason: 'tool_use',
      complete: true,
      malformedEvents: 0,
    });
  });

  const thinkingStream = () =>
    concat([
      event('messageStart', { role: 'assistant' }),
      event('contentBlockDelta', {
        contentBlockIndex: 0,
        delta: { reasoningContent: { text: 'Let me think ' } },
      }),
      event('contentBlockDelta', {
        contentBlockIndex: 0,
        delta: { reasoningContent: { text: 'about it.' } },
      }),
      event('contentBlockDelta', {
        contentBlockIndex: 0,
        delta: { reasoningContent: { signature: 'EqQBCkgIARABGAIiQL==' } },
      }),
      event('contentBlockStop', { contentBlockIndex: 0 }),
      event('contentBlockDelta', {
        contentBlockIndex: 1,
        delta: { reasoningContent: { redactedContent: 'cmVkYWN0ZWQ=' } },
      }),
      event('contentBlockStop', { contentBlockIndex: 1 }),
      event('contentBlockDelta', { contentBlockIndex: 2, delta: { text: 'Forty-two.' } }),
      event('contentBlockStop', { contentBlockIndex: 2 }),
      event('messageStop', { stopReason: 'end_turn' }),
      event('metadata', {
        usage: {
          inputTokens: 10,
          outputTokens: 50,
          totalTokens: 180,
          cacheReadInputTokens: 100,
          cacheWriteInputTokens: 20,
        },
        metrics: { latencyMs: 412 },
      }),
    ]);

  test('reasoning: text, signature and redacted blocks as reasoning and reasoning_details', () => {
    const r = decodeAtEverySplit(thinkingStream());
    assert.equal(r.reasoning, 'Let me think about it.');
    assert.equal(r.text, 'Forty-two.');
    assert.deepEqual(r.details, [
      {
        type: 'reasoning.text',
        text: 'Let me think ',
        signature: null,
        format: 'anthropic-claude-v1',
        index: 0,
      },
      {
        type: 'reasoning.text',
        text: 'about it.',
        signature: null,
        format: 'anthropic-claude-v1',
        index: 0,
      },
      {
        type: 'reasoning.text',
        text: '',
        signature: 'EqQBCkgIARABGAIiQL==',
        format: 'anthropic-claude-v1',
        index: 0,
      },
      {
        type: 'reasoning.encrypted',
        data: 'cmVkYWN0ZWQ=',
        format: 'anthropic-claude-v1',
        index: 1,
      },
    ]);
    // Usage: inputTokens excludes the cache, the normalised prompt includes it.
    const t = r.summary.tokens!;
    assert.deepEqual(
      {
        prompt: t.prompt,
        completion: t.completion,
        cachedRead: t.cachedRead,
        cacheWrite: t.cacheWrite,
      },
      { prompt: 130, completion: 50, cachedRead: 100, cacheWrite: 20 },
    );
    assert.ok(t.reasoning > 0 && t.reasoning <= 50, `reasoning ${t.reasoning}`);
    assert.deepEqual(r.usage, {
      prompt_tokens: 130,
      completion_tokens: 50,
      total_tokens: 180,
      prompt_tokens_details: { cached_tokens: 100, cache_write_tokens: 20 },
      completion_tokens_details: { reasoning_tokens: t.reasoning },
    });
  });

  test('the structured-output tool streams as content, and its tool_use stop is a stop', () => {
    const body = {
      response_format: {
        type: 'json_schema',
        json_schema: { name: 'review', schema: { type: 'object' } },
      },
    };
    const bytes = concat([
      event('messageStart', { role: 'assistant' }),
      event('contentBlockStart', {
        contentBlockIndex: 0,
        start: { toolUse: { toolUseId: 'tooluse_x', name: 'review' } },
      }),
      event('contentBlockDelta', {
        contentBlockIndex: 0,
        delta: { toolUse: { input: '{"title":' } },
      }),
      event('contentBlockDelta', {
        contentBlockIndex: 0,
        delta: { toolUse: { input: ' "Good"}' } },
      }),
      event('contentBlockStop', { contentBlockIndex: 0 }),
      event('messageStop', { stopReason: 'tool_use' }),
    ]);
    const r = decodeAtEverySplit(bytes, body);
    assert.equal(r.text, '{"title": "Good"}');
    assert.deepEqual(r.tools, []);
    assert.equal(r.finish, 'stop');
    assert.equal(r.native, 'tool_use');
    assert.equal(r.summary.complete, true, 'messageStop without metadata is complete');
    assert.equal(r.summary.tokens, null);
  });

  test('finish reasons: mapped, the native one kept', () => {
    const table: [string, string][] = [
      ['end_turn', 'stop'],
      ['stop_sequence', 'stop'],
      ['max_tokens', 'length'],
      ['model_context_window_exceeded', 'length'],
      ['tool_use', 'tool_calls'],
      ['guardrail_intervened', 'content_filter'],
      ['content_filtered', 'content_filter'],
      ['malformed_model_output', 'stop'],
    ];
    for (const [native, want] of table) {
      const d = decoderFor();
      const f = fold(d.push(event('messageStop', { stopReason: native })));
      assert.deepEqual([f.finish, f.native], [want, native]);
      assert.equal(d.end().nativeFinishReason, native);
    }
  });

  test('exceptions as AWS sends them, through the error policy', () => {
    const cases: [Uint8Array, number, string, boolean][] = [
      [
        exception('throttlingException', {
          message: 'Too many requests, please wait before trying again.',
        }),
        503,
        'upstream_rate_limited',
        true,
      ],
      [
        exception('modelStreamErrorException', {
          message: 'boom',
          originalStatusCode: 429,
          originalMessage: 'x',
        }),
        503,
        'upstream_rate_limited',
        true,
      ],
      [
        exception('modelStreamErrorException', { message: 'The model encountered an error.' }),
        502,
        'upstream_error',
        true,
      ],
      [exception('internalServerException', { message: 'internal' }), 502, 'upstream_error', true],
      [
        exception('serviceUnavailableException', { message: 'busy' }),
        503,
        'upstream_overloaded',
        true,
      ],
      [
        exception('validationException', { message: 'Input is too long for requested model.' }),
        400,
        'context_length_exceeded',
        true,
      ],
      [
        encodeEventStreamMessage(
          { ':message-type': 'error', ':error-code': 'InternalFailure', ':error-message': 'oops' },
          new Uint8Array(),
        ),
        502,
        'upstream_error',
        true,
      ],
    ];
    for (const [bytes, status, code, retryable] of cases) {
      const d = decoderFor();
      const before = fold(
        d.push(
          concat([
            event('messageStart', { role: 'assistant' }),
            event('contentBlockDelta', { contentBlockIndex: 0, delta: { text: 'Hi' } }),
          ]),
        ),
      );
      assert.equal(before.text, 'Hi');
      const ev = d.push(bytes);
      assert.equal(ev.length, 1);
      const e = (ev[0] as { error: UpstreamError }).error;
      assert.ok(e instanceof UpstreamError);
      assert.deepEqual(
        [e.reply.status, e.reply.code, e.reply.retryable],
        [status, code, retryable],
      );
      assert.deepEqual(ReplyError.parse(e.reply), e.reply);
      assert.equal(d.end().complete, false);
      assert.deepEqual(
        d.push(event('messageStop', { stopReason: 'end_turn' })),
        [],
        'nothing after an error',
      );
    }
  });

  test('cuts, corruption and malformed events', () => {
    const bytes = toolStream();
    // Cut mid-frame, or before messageStop: not complete.
    const cut = decoderFor();
    cut.push(bytes.subarray(0, bytes.length - 40));
    assert.equal(cut.end().complete, false);
    const early = decoderFor();
    early.push(
      concat([
        event('messageStart', { role: 'assistant' }),
        event('contentBlockDelta', { contentBlockIndex: 0, delta: { text: 'a' } }),
      ]),
    );
    assert.equal(early.end().complete, false);
    // A corrupt frame (CRC) is a bad stream at once, not a skipped event: where the next frame
    // starts is lost with it. Nothing after it is read.
    const corrupt = toolStream();
    corrupt[60] = corrupt[60]! ^ 0xff;
    const c = decoderFor();
    const ev = c.push(corrupt);
    const err = ev.find((e) => e.type === 'error') as { error: UpstreamError } | undefined;
    assert.equal(err?.error.reply.code, 'upstream_bad_stream');
    assert.equal(c.end().complete, false);
    assert.equal(c.end().malformedEvents, 1);
    // A payload that is not JSON, and tool arguments for a call that never started.
    const m = decoderFor();
    const bad = m.push(
      concat([
        encodeEventStreamMessage(
          { ':event-type': 'contentBlockDelta', ':message-type': 'event' },
          enc.encode('{nope'),
        ),
        event('contentBlockDelta', { contentBlockIndex: 4, delta: { toolUse: { input: '{}' } } }),
      ]),
    );
    // Both skipped (well framed, so the stream goes on), each at its position, and counted.
    assert.deepEqual(bad, [
      { type: 'malformed', event: 1 },
      { type: 'malformed', event: 2 },
    ]);
    assert.equal(m.end().malformedEvents, 2);
    assert.equal(m.events, 2);
    // Garbage frames amid a whole answer: the same answer, every garbage frame counted.
    assertSkipsMalformed(
      () => decoderFor(),
      toolFrames(),
      encodeEventStreamMessage(
        { ':event-type': 'contentBlockDelta', ':message-type': 'event' },
        enc.encode('{"contentBlockIndex":0,"delta":{"te'),
      ),
      { dropIds: true },
    );
    // Unknown events and deltas (citations, a newer API's) are skipped.
    const u = decoderFor();
    assert.deepEqual(
      u.push(
        concat([
          event('somethingNew', { a: 1 }),
          event('contentBlockDelta', { contentBlockIndex: 0, delta: { citation: { title: 't' } } }),
        ]),
      ),
      [],
    );
  });
});

// ---------------------------------------------------------------------------------------------
// Non-streaming responses

describe('Converse responses', () => {
  const guide = fixture<Json & { toolUseResponse: Json; finalResponse: Json }>(
    'userguide-tool-use.json',
  );

  test("the user guide's tool-use response is an OpenAI tool call", () => {
    const p = bedrockProvider.parseCompletion(
      guide.toolUseResponse,
      call({ messages: [user('x')] }),
    );
    const choice = (p.completion['choices'] as Json[])[0] as Json;
    assert.deepEqual(choice['message'], {
      role: 'assistant',
      content: null,
      refusal: null,
      tool_calls: [
        {
          id: 'tooluse_kZJMlvQmRJ6eAyJE5GIl7Q',
          type: 'function',
          function: { name: 'top_song', arguments: '{"sign":"WZPZ"}' },
        },
      ],
    });
    assert.deepEqual(
      [choice['finish_reason'], choice['native_finish_reason']],
      ['tool_calls', 'tool_use'],
    );
    assert.equal(p.usageReported, false, 'the guide shows no usage');
  });

  test("the user guide's final answer, with usage and cache", () => {
    const p = bedrockProvider.parseCompletion(
      {
        ...guide.finalResponse,
        usage: {
          inputTokens: 30,
          outputTokens: 62,
          totalTokens: 1092,
          cacheReadInputTokens: 1000,
          cacheWriteInputTokens: 0,
        },
        metrics: { latencyMs: 800 },
      },
      call({ messages: [user('x')] }),
    );
    const choice = (p.completion['choices'] as Json[])[0] as Json;
    assert.equal(
      (choice['message'] as Json)['content'],
      'The most popular song on WZPZ is Elemental Hotel by 8 Storey Hike.',
    );
    assert.deepEqual([p.finishReason, p.nativeFinishReason], ['stop', 'end_turn']);
    assert.deepEqual(p.tokens, {
      prompt: 1030,
      completion: 62,
      cachedRead: 1000,
      cacheWrite: 0,
      reasoning: 0,
    });
    assert.deepEqual(p.completion['usage'], {
      prompt_tokens: 1030,
      completion_tokens: 62,
      total_tokens: 1092,
      prompt_tokens_details: { cached_tokens: 1000, cache_write_tokens: 0 },
      completion_tokens_details: { reasoning_tokens: 0 },
    });
  });

  test('reasoning content and a structured-output answer', () => {
    const p = bedrockProvider.parseCompletion(
      {
        output: {
          message: {
            role: 'assistant',
            content: [
              { reasoningContent: { reasoningText: { text: 'Weigh it.', signature: 'c2ln' } } },
              { reasoningContent: { redactedContent: 'cmVk' } },
              { text: 'Here it is:' },
              { toolUse: { toolUseId: 'tooluse_1', name: 'review', input: { title: 'Good' } } },
            ],
          },
        },
        stopReason: 'tool_use',
        usage: { inputTokens: 5, outputTokens: 20, totalTokens: 25 },
      },
      call({
        messages: [user('x')],
        response_format: {
          type: 'json_schema',
          json_schema: { name: 'review', schema: { type: 'object' } },
        },
      }),
    );
    const message = ((p.completion['choices'] as Json[])[0] as Json)['message'] as Json;
    assert.equal(
      message['content'],
      '{"title":"Good"}',
      'the answer is the tool input, prose dropped',
    );
    assert.equal(message['tool_calls'], undefined);
    assert.equal(message['reasoning'], 'Weigh it.');
    assert.deepEqual(message['reasoning_details'], [
      {
        type: 'reasoning.text',
        text: 'Weigh it.',
        signature: 'c2ln',
        format: 'anthropic-claude-v1',
        index: 0,
      },
      { type: 'reasoning.encrypted', data: 'cmVk', format: 'anthropic-claude-v1', index: 1 },
    ]);
    assert.equal(p.finishReason, 'stop');
    assert.ok(p.tokens.reasoning > 0 && p.tokens.reasoning <= 20);
  });

  test('a body without output is a bad response', () => {
    for (const bad of [{}, { message: 'x' }, null, []])
      assert.throws(
        () => bedrockProvider.parseCompletion(bad, call({ messages: [user('x')] })),
        (e: unknown) => e instanceof UpstreamError && e.reply.code === 'upstream_bad_response',
      );
  });
});

// ---------------------------------------------------------------------------------------------
// Errors

describe('HTTP errors', () => {
  test("the error type as every AWS SDK reads it (Smithy's restJson1 protocol tests)", () => {
    const { cases } = fixture<{
      cases: { id: string; headers: Record<string, string>; body?: string }[];
    }>('restjson1-error-types.json');
    for (const c of cases) {
      const headers = Object.fromEntries(
        Object.entries(c.headers).map(([k, v]) => [k.toLowerCase(), v]),
      );
      assert.equal(responseErrorType(headers, c.body ?? ''), 'FooError', c.id);
      const e = bedrockProvider.mapError(500, c.body ?? '', headers);
      assert.equal(e.reply.code, 'upstream_error', c.id);
      if (c.body) assert.equal(e.detail.providerType, 'FooError', c.id);
    }
  });

  const aws = (type: string, message: string) => ({
    headers: { 'x-amzn-errortype': `${type}:http://internal.amazon.com/coral/com.amazon.bedrock/` },
    body: JSON.stringify({ message }),
  });
  const table: [number, string, string, number, string, boolean][] = [
    [
      400,
      'ValidationException',
      'Malformed input request, please reformat your input and try again.',
      400,
      'ValidationException',
      false,
    ],
    [
      400,
      'ValidationException',
      'Input is too long for requested model.',
      400,
      'context_length_exceeded',
      true,
    ],
    [
      400,
      'ValidationException',
      'Too many input tokens. Max input tokens: 8192, request input token count: 9000 ',
      400,
      'context_length_exceeded',
      true,
    ],
    [
      400,
      'ValidationException',
      'The model returned the following errors: prompt is too long: 205000 tokens > 200000 maximum',
      400,
      'context_length_exceeded',
      true,
    ],
    [
      400,
      'ValidationException',
      'The provided model identifier is invalid.',
      502,
      'upstream_model_not_found',
      true,
    ],
    [
      400,
      'ServiceQuotaExceededException',
      'Your request exceeds the service quota for your account.',
      503,
      'upstream_rate_limited',
      true,
    ],
    [
      403,
      'AccessDeniedException',
      "You don't have access to the model with the specified model ID.",
      502,
      'upstream_auth_failed',
      true,
    ],
    [
      403,
      'UnrecognizedClientException',
      'The security token included in the request is invalid.',
      502,
      'upstream_auth_failed',
      true,
    ],
    [404, 'ResourceNotFoundException', 'Model not found.', 502, 'upstream_model_not_found', true],
    [
      408,
      'ModelTimeoutException',
      'Model has timed out in processing the request.',
      504,
      'upstream_timeout',
      true,
    ],
    [
      424,
      'ModelErrorException',
      'The request failed due to an error while processing the model.',
      502,
      'upstream_error',
      true,
    ],
    [
      429,
      'ThrottlingException',
      'Too many requests, please wait before trying again.',
      503,
      'upstream_rate_limited',
      true,
    ],
    [
      429,
      'ModelNotReadyException',
      'The model specified in the request is not ready to serve inference requests.',
      503,
      'upstream_overloaded',
      true,
    ],
    [
      500,
      'InternalServerException',
      'The server encountered an internal error.',
      502,
      'upstream_error',
      true,
    ],
    [
      503,
      'ServiceUnavailableException',
      'Bedrock is unable to process your request.',
      503,
      'upstream_overloaded',
      true,
    ],
  ];
  for (const [status, type, message, want, code, retryable] of table) {
    test(`${status} ${type}: ${message.slice(0, 40)}`, () => {
      const r = aws(type, message);
      const e = bedrockProvider.mapError(status, r.body, r.headers);
      assert.deepEqual([e.reply.status, e.reply.code, e.reply.retryable], [want, code, retryable]);
      assert.equal(e.reply.upstreamStatus, status);
      assert.equal(e.detail.providerCode, type);
      assert.equal(e.detail.providerMessage, message);
      if (want >= 500) assert.ok(!e.reply.message.includes(message), 'our words only');
      assert.deepEqual(ReplyError.parse(e.reply), e.reply);
    });
  }

  test('a bad signature: AWS quotes the canonical request (with the session token); none of it reaches the client', () => {
    const token = 'IQoJb3JpZ2luX2VjEJr//////////wEaCXVzLWVhc3QtMSJHMEUCIQDsessiontoken';
    const body = JSON.stringify({
      message: `The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details.\n\nThe Canonical String for this request should have been\n'POST\n/model/us.anthropic.claude-sonnet-4-20250514-v1%253A0/converse-stream\n\ncontent-type:application/json\nhost:bedrock-runtime.us-east-2.amazonaws.com\nx-amz-date:20250921T101604Z\nx-amz-security-token:${token}\n\ncontent-type;host;x-amz-date;x-amz-security-token\nfea7815fd74adf3ef10f764bcea846ea6a3ffec335c8754302d2e40114f9db3e'`,
    });
    const e = bedrockProvider.mapError(403, body, {
      'x-amzn-errortype':
        'InvalidSignatureException:http://internal.amazon.com/coral/com.amazon.coral.service/',
    });
    assert.equal(e.reply.status, 502);
    assert.equal(e.reply.code, 'upstream_auth_failed');
    const seen = JSON.stringify(e.reply);
    for (const piece of [
      token.slice(0, 12),
      'Canonical',
      'amazonaws.com',
      'signature we calculated',
    ])
      assert.ok(!seen.includes(piece), piece);
  });

  test('a proxy page instead of JSON: the header still names the exception; no HTML passes', () => {
    const e = bedrockProvider.mapError(429, '<html><body>Too Many Requests</body></html>', {
      'x-amzn-errortype': 'ModelNotReadyException',
    });
    assert.equal(e.reply.code, 'upstream_overloaded');
    assert.doesNotMatch(JSON.stringify(e.reply), /<html/);
    const plain = bedrockProvider.mapError(502, 'Bad Gateway', {});
    assert.equal(plain.reply.code, 'upstream_error');
  });

  test('errorTypeOf', () => {
    assert.equal(
      errorTypeOf('ThrottlingException:http://internal.amazon.com/coral/com.amazon.bedrock/'),
      'ThrottlingException',
    );
    assert.equal(
      errorTypeOf('com.amazonaws.bedrockruntime#ThrottlingException'),
      'ThrottlingException',
    );
    assert.equal(errorTypeOf(['ValidationException']), 'ValidationException');
    assert.equal(errorTypeOf(''), null);
    assert.equal(errorTypeOf('<html>'), null);
    assert.equal(errorTypeOf(undefined), null);
  });
});

test('a fresh adapter instance behaves like the registered one', async () => {
  const a = new BedrockAdapter();
  const r = await a.prepareRequest(call({ messages: [user('hi')] }), CONN, {
    requireParameters: false,
    now: NOW,
  });
  assert.equal(r.url, (await prepare({ messages: [user('hi')] })).url);
});
