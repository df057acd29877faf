/**
 * The Bedrock simulator, checked with the official `@aws-sdk/client-bedrock-runtime` in its
 * default configuration (HTTP/2, SigV4 with static credentials, endpoint = the simulator): the
 * SDK signs, the simulator verifies. Plus the raw wire over HTTP/1.1 (what the connector speaks),
 * signed by `@turnpike/providers`' signer.
 */
import assert from 'node:assert/strict';
import { after, afterEach, before, beforeEach, describe, it } from 'node:test';
import {
  AccessDeniedException,
  BedrockRuntimeClient,
  BedrockRuntimeServiceException,
  ConverseCommand,
  ConverseStreamCommand,
  InternalServerException,
  ModelErrorException,
  ModelStreamErrorException,
  ModelTimeoutException,
  ResourceNotFoundException,
  ServiceUnavailableException,
  ThrottlingException,
  ValidationException,
  type ContentBlock,
  type ConverseCommandInput,
  type ConverseStreamOutput,
  type Message,
  type Tool,
} from '@aws-sdk/client-bedrock-runtime';
import { EventStreamDecoder, signRequest, uriEncode } from '@turnpike/providers';
import { expectedContent } from '../core/content.js';
import { REASONING_WORDS } from '../core/plan.js';
import type { Simulator } from '../core/types.js';
import { startSimulator } from '../registry.js';
import { SIM_AWS_ACCESS_KEY_ID } from './auth.js';

const SECRET = 'sim/Bedrock+Secret0123456789abcdefGHIJKL';
const CLAUDE = 'anthropic.claude-3-7-sonnet-20250219-v1:0';
const LLAMA = 'meta.llama3-1-70b-instruct-v1:0';
const TINY = 'tiny.model-v1:0';

const user = (text: string): Message => ({ role: 'user', content: [{ text }] });
/** An assistant turn calling get_weather with the id `toolUseId`. */
const calls = (toolUseId: string): Message => ({
  role: 'assistant',
  content: [{ toolUse: { toolUseId, name: 'get_weather', input: {} } }],
});
/** A user turn with the results of the calls `ids`. */
const results = (...ids: string[]): Message => ({
  role: 'user',
  content: ids.map((toolUseId) => ({ toolResult: { toolUseId, content: [{ text: 'r' }] } })),
});

const WEATHER: Tool = {
  toolSpec: {
    name: 'get_weather',
    description: 'Weather in a city',
    inputSchema: {
      json: {
        type: 'object',
        properties: { city: { type: 'string' }, unit: { type: 'string', enum: ['c', 'f'] } },
        required: ['city', 'unit'],
      },
    },
  },
};
const TIME: Tool = {
  toolSpec: {
    name: 'get_time',
    inputSchema: { json: { type: 'object', properties: { zone: { type: 'string' } } } },
  },
};

interface Streamed {
  events: ConverseStreamOutput[];
  text: string;
  reasoning: string;
  signatures: string[];
  tools: { id: string; name: string; input: string }[];
  stopReason?: string;
  usage?: Record<string, unknown>;
  error?: unknown;
}

async function collect(stream: AsyncIterable<ConverseStreamOutput> | undefined): Promise<Streamed> {
  const out: Streamed = { events: [], text: '', reasoning: '', signatures: [], tools: [] };
  const byBlock = new Map<number, number>();
  try {
    for await (const ev of stream ?? []) {
      out.events.push(ev);
      if (ev.contentBlockStart?.start?.toolUse) {
        const t = ev.contentBlockStart.start.toolUse;
        byBlock.set(ev.contentBlockStart.contentBlockIndex ?? 0, out.tools.length);
        out.tools.push({ id: t.toolUseId ?? '', name: t.name ?? '', input: '' });
      }
      const d = ev.contentBlockDelta;
      if (d?.delta?.text) out.text += d.delta.text;
      if (d?.delta?.reasoningContent?.text) out.reasoning += d.delta.reasoningContent.text;
      if (d?.delta?.reasoningContent?.signature)
        out.signatures.push(d.delta.reasoningContent.signature);
      if (d?.delta?.toolUse?.input !== undefined) {
        const i = byBlock.get(d.contentBlockIndex ?? 0);
        assert.ok(i !== undefined, 'tool input after its contentBlockStart');
        out.tools[i]!.input += d.delta.toolUse.input;
      }
      if (ev.messageStop) out.stopReason = ev.messageStop.stopReason;
      if (ev.metadata) out.usage = ev.metadata.usage as unknown as Record<string, unknown>;
    }
  } catch (e) {
    out.error = e;
  }
  return out;
}

describe('Bedrock simulator (official @aws-sdk/client-bedrock-runtime)', () => {
  let sim: Simulator;
  let client: BedrockRuntimeClient;
  const clientWith = (
    credentials = { accessKeyId: SIM_AWS_ACCESS_KEY_ID, secretAccessKey: SECRET },
    extra: Record<string, unknown> = {},
  ) =>
    new BedrockRuntimeClient({
      region: 'us-east-1',
      endpoint: sim.url,
      credentials,
      maxAttempts: 1,
      ...extra,
    });

  before(async () => {
    sim = await startSimulator('bedrock', {
      apiKey: SECRET,
      name: 'bedrock-test',
      models: [
        { id: CLAUDE, contextLength: 200_000 },
        { id: LLAMA, contextLength: 128_000 },
        { id: TINY, contextLength: 64 },
      ],
    });
    client = clientWith();
  });
  after(async () => {
    client.destroy();
    await sim.close();
  });
  beforeEach(() => sim.reset());

  const converse = (input: Partial<ConverseCommandInput>) =>
    client.send(new ConverseCommand({ modelId: CLAUDE, messages: [], ...input }));
  const converseStream = async (input: Partial<ConverseCommandInput>) => {
    const r = await client.send(
      new ConverseStreamCommand({ modelId: CLAUDE, messages: [], ...input }),
    );
    return { response: r, ...(await collect(r.stream)) };
  };

  describe('Converse', () => {
    it('answers with text, usage, metrics and an AWS request id', async () => {
      const r = await converse({
        system: [{ text: 'Be brief.' }, { text: 'Answer in English.' }],
        messages: [user('alpha bravo charlie [[sim tokens=5]]')],
        inferenceConfig: { maxTokens: 100, temperature: 0.5, topP: 0.9, stopSequences: ['ZZZ'] },
      });
      assert.deepEqual(r.output?.message, {
        role: 'assistant',
        content: [{ text: expectedContent('alpha bravo charlie', 5) }],
      });
      assert.equal(r.stopReason, 'end_turn');
      assert.equal(r.usage?.outputTokens, 5);
      assert.equal(r.usage?.totalTokens, (r.usage?.inputTokens ?? 0) + 5);
      assert.ok((r.usage?.inputTokens ?? 0) > 0);
      assert.equal(typeof r.metrics?.latencyMs, 'number');
      assert.match(
        r.$metadata.requestId ?? '',
        /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/,
      );
      const [rec] = sim.requests();
      assert.equal(rec?.outcome, 'completed');
      assert.equal(rec?.model, CLAUDE);
      assert.equal(rec?.parsed?.system, 'Be brief.\nAnswer in English.');
      assert.deepEqual(rec?.parsed?.stop, ['ZZZ']);
      assert.equal(rec?.parsed?.maxTokens, 100);
      assert.equal(rec?.headers['authorization'], undefined, 'credentials are not recorded');
    });

    it('max tokens: clipped, stopReason max_tokens', async () => {
      const r = await converse({
        messages: [user('alpha bravo [[sim tokens=20]]')],
        inferenceConfig: { maxTokens: 3 },
      });
      assert.equal(r.stopReason, 'max_tokens');
      assert.equal(r.usage?.outputTokens, 3);
    });

    it('multi-turn, images and prefill reach the model', async () => {
      const png = Uint8Array.from(Buffer.from('iVBORw0KGgoAAAANSUhEUg==', 'base64'));
      await converse({
        messages: [
          {
            role: 'user',
            content: [{ text: 'first' }, { image: { format: 'png', source: { bytes: png } } }],
          },
          { role: 'assistant', content: [{ text: 'first answer' }] },
          user('alpha bravo charlie'),
          { role: 'assistant', content: [{ text: 'alpha bravo' }] },
        ],
      });
      const p = sim.requests()[0]?.parsed;
      assert.equal(p?.imageCount, 1);
      assert.equal(p?.prefill, 'alpha bravo');
      assert.deepEqual(p?.messages, [
        'first',
        'first answer',
        'alpha bravo charlie',
        'alpha bravo',
      ]);
    });

    it('usage reports cache reads and writes from the knobs; inputTokens excludes them', async () => {
      const r = await converse({
        system: [{ text: 'A long policy.' }, { cachePoint: { type: 'default' } }],
        messages: [user('alpha bravo [[sim tokens=2 cached_tokens=8 cache_write_tokens=3]]')],
      });
      const u = r.usage!;
      assert.equal(u.cacheReadInputTokens, 8);
      assert.equal(u.cacheWriteInputTokens, 3);
      const prompt = sim
        .requests()[0]!
        .parsed!.messages.reduce((n, t) => n + Math.ceil(t.length / 4) + 3, 0);
      assert.equal((u.inputTokens ?? 0) + 8 + 3, prompt);
      assert.equal(u.totalTokens, (u.inputTokens ?? 0) + 8 + 3 + 2);
    });

    it('usage=none: no usage at all', async () => {
      const r = await converse({ messages: [user('alpha [[sim usage=none tokens=2]]')] });
      assert.equal(r.usage, undefined);
      const s = await converseStream({ messages: [user('alpha [[sim usage=none tokens=2]]')] });
      assert.equal(s.usage, undefined);
      assert.equal(
        s.events.some((e) => e.metadata),
        false,
      );
      assert.equal(s.stopReason, 'end_turn');
    });

    it('thinking on a Claude model: reasoningContent with a signature first', async () => {
      const r = await converse({
        messages: [user('alpha bravo [[sim tokens=3]]')],
        inferenceConfig: { maxTokens: 4096 },
        additionalModelRequestFields: { thinking: { type: 'enabled', budget_tokens: 1024 } },
      });
      const [first, second] = r.output?.message?.content ?? [];
      assert.equal(first?.reasoningContent?.reasoningText?.text, REASONING_WORDS.join(' '));
      assert.match(
        first?.reasoningContent?.reasoningText?.signature ?? '',
        /^[A-Za-z0-9+/]{40,}={0,2}$/,
      );
      assert.equal(second?.text, expectedContent('alpha bravo', 3));
      assert.equal(r.usage?.outputTokens, REASONING_WORDS.length + 3);
      assert.equal(sim.requests()[0]?.parsed?.reasoning, true);
    });

    it("Claude's and Converse's rules are enforced as Bedrock does", async () => {
      const refused: [Partial<ConverseCommandInput>, RegExp][] = [
        [
          {
            modelId: LLAMA,
            messages: [user('x')],
            additionalModelRequestFields: { thinking: { type: 'enabled', budget_tokens: 2048 } },
          },
          /extraneous key \[thinking\]/,
        ],
        [
          {
            messages: [user('x')],
            additionalModelRequestFields: { thinking: { type: 'enabled', budget_tokens: 512 } },
          },
          /budget_tokens: Input should be greater than or equal to 1024/,
        ],
        [
          {
            messages: [user('x')],
            inferenceConfig: { maxTokens: 1000 },
            additionalModelRequestFields: { thinking: { type: 'enabled', budget_tokens: 1024 } },
          },
          /`max_tokens` must be greater than `thinking.budget_tokens`/,
        ],
        [
          {
            messages: [user('x')],
            inferenceConfig: { temperature: 0.2 },
            additionalModelRequestFields: { thinking: { type: 'enabled', budget_tokens: 1024 } },
          },
          /`temperature` may only be set to 1/,
        ],
        [
          {
            messages: [user('x')],
            toolConfig: { tools: [WEATHER], toolChoice: { any: {} } },
            additionalModelRequestFields: { thinking: { type: 'enabled', budget_tokens: 1024 } },
          },
          /Thinking may not be enabled when tool_choice forces tool use/,
        ],
        [
          { messages: [{ role: 'assistant', content: [{ text: 'hi' }] }] },
          /must start with a user message/,
        ],
        [{ messages: [user('a'), user('b')] }, /must alternate between user and assistant roles/],
        [{ messages: [{ role: 'user', content: [{ text: '  ' }] }] }, /is blank/],
        [
          { messages: [user('x')], inferenceConfig: { maxTokens: 0 } },
          /Value '0' at 'inferenceConfig.maxTokens' failed to satisfy constraint/,
        ],
        [
          { messages: [user('x')], inferenceConfig: { temperature: 1.5 } },
          /inferenceConfig.temperature/,
        ],
        [
          {
            messages: [user('x')],
            toolConfig: { tools: [WEATHER], toolChoice: { tool: { name: 'nope' } } },
          },
          /doesn't match any of the specified tools/,
        ],
        [
          { modelId: 'no.such-model-v1:0', messages: [user('x')] },
          /The provided model identifier is invalid\./,
        ],
        [
          { modelId: TINY, messages: [user('x '.repeat(400))] },
          /Input is too long for requested model\./,
        ],
      ];
      for (const [input, message] of refused) {
        await assert.rejects(converse(input), (e: unknown) => {
          assert.ok(e instanceof ValidationException, `${String(e)}`);
          assert.match(e.message, message);
          assert.equal(e.$metadata.httpStatusCode, 400);
          return true;
        });
      }
    });

    it('structured output (outputConfig.textFormat json_schema)', async () => {
      const schema = {
        type: 'object',
        properties: { title: { type: 'string' }, n: { type: 'integer' } },
        required: ['title', 'n'],
      };
      const r = await converse({
        messages: [user('alpha bravo')],
        outputConfig: {
          textFormat: {
            type: 'json_schema',
            structure: { jsonSchema: { schema: JSON.stringify(schema), name: 'r' } },
          },
        },
      });
      const v = JSON.parse(r.output?.message?.content?.[0]?.text ?? '') as Record<string, unknown>;
      assert.equal(typeof v['title'], 'string');
      assert.equal(typeof v['n'], 'number');
      assert.equal(sim.requests()[0]?.parsed?.responseFormat, 'json_schema');
    });
  });

  describe('tools', () => {
    it('a tool call, then its result and the answer', async () => {
      const r = await converse({
        messages: [user('alpha bravo [[sim tool_call=get_weather]]')],
        toolConfig: { tools: [WEATHER, TIME] },
      });
      assert.equal(r.stopReason, 'tool_use');
      const use = r.output?.message?.content?.[0]?.toolUse;
      assert.equal(use?.name, 'get_weather');
      assert.match(use?.toolUseId ?? '', /^tooluse_[A-Za-z0-9]{1,22}$/);
      const input = use?.input as Record<string, unknown>;
      assert.equal(typeof input['city'], 'string');
      assert.equal(input['unit'], 'c');
      // The result goes back: accepted, and it reached the model.
      const again = await converse({
        messages: [
          user('alpha bravo'),
          { role: 'assistant', content: [{ toolUse: use! }] },
          {
            role: 'user',
            content: [
              { toolResult: { toolUseId: use!.toolUseId!, content: [{ json: { temp: 21 } }] } },
              { text: 'and now? [[sim tokens=2]]' },
            ],
          },
        ],
        toolConfig: { tools: [WEATHER] },
      });
      assert.equal(again.stopReason, 'end_turn');
      assert.match(sim.requests()[1]?.parsed?.messages.join('\n') ?? '', /\{"temp":21\}/);
    });

    it('a result for a call the previous turn did not make is refused', async () => {
      await assert.rejects(
        converse({
          messages: [user('x'), calls('tooluse_a'), results('tooluse_a', 'tooluse_b')],
          toolConfig: { tools: [WEATHER] },
        }),
        (e: unknown) =>
          e instanceof ValidationException && /unexpected `tool_use_id`.*tooluse_b/.test(e.message),
      );
      await assert.rejects(
        converse({
          messages: [user('x'), calls('tooluse_a'), user('no result')],
          toolConfig: { tools: [WEATHER] },
        }),
        (e: unknown) =>
          e instanceof ValidationException &&
          /ids were found without `tool_result` blocks/.test(e.message),
      );
      await assert.rejects(
        converse({
          messages: [user('x'), calls('tooluse_a'), results('tooluse_a')],
        }),
        (e: unknown) =>
          e instanceof ValidationException && /toolConfig field must be defined/.test(e.message),
      );
    });

    it('streamed parallel tool calls: contentBlockStart, input fragments, stop', async () => {
      const s = await converseStream({
        messages: [user('alpha bravo [[sim tool_call=get_weather,get_time]]')],
        toolConfig: { tools: [WEATHER, TIME] },
      });
      assert.equal(s.error, undefined);
      assert.deepEqual(
        s.tools.map((t) => t.name),
        ['get_weather', 'get_time'],
      );
      assert.equal(new Set(s.tools.map((t) => t.id)).size, 2);
      for (const t of s.tools) assert.equal(typeof JSON.parse(t.input), 'object');
      assert.equal(s.stopReason, 'tool_use');
      const starts = s.events
        .filter((e) => e.contentBlockStart)
        .map((e) => e.contentBlockStart!.contentBlockIndex);
      assert.deepEqual(starts, [0, 1]);
      const stops = s.events
        .filter((e) => e.contentBlockStop)
        .map((e) => e.contentBlockStop!.contentBlockIndex);
      assert.deepEqual(stops, [0, 1]);
    });

    it('a forced tool (toolChoice.tool)', async () => {
      const r = await converse({
        messages: [user('alpha')],
        toolConfig: { tools: [WEATHER, TIME], toolChoice: { tool: { name: 'get_time' } } },
      });
      assert.deepEqual(
        r.output?.message?.content?.map((b: ContentBlock) => b.toolUse?.name),
        ['get_time'],
      );
    });
  });

  describe('ConverseStream', () => {
    it('the event grammar: messageStart, deltas, stops, messageStop, metadata', async () => {
      const s = await converseStream({
        messages: [user('alpha bravo charlie [[sim tokens=4]]')],
        additionalModelRequestFields: { thinking: { type: 'enabled', budget_tokens: 1024 } },
        inferenceConfig: { maxTokens: 2048 },
      });
      assert.equal(s.error, undefined);
      assert.equal(s.response.$metadata.httpStatusCode, 200);
      const kinds = s.events.map((e) => Object.keys(e).find((k) => k !== '$unknown'));
      assert.equal(kinds[0], 'messageStart');
      assert.deepEqual(kinds.slice(-2), ['messageStop', 'metadata']);
      assert.equal(s.reasoning, REASONING_WORDS.join(' '));
      assert.equal(s.signatures.length, 1);
      assert.equal(s.text, expectedContent('alpha bravo charlie', 4));
      assert.equal(s.stopReason, 'end_turn');
      assert.equal(s.usage?.['outputTokens'], REASONING_WORDS.length + 4);
      const stops = s.events
        .filter((e) => e.contentBlockStop)
        .map((e) => e.contentBlockStop!.contentBlockIndex);
      assert.deepEqual(stops, [0, 1], 'the reasoning block, then the text block');
    });

    it('stream_error: an exception frame the SDK throws as ModelStreamErrorException', async () => {
      const s = await converseStream({
        messages: [user('alpha bravo [[sim tokens=10 stream_error=after_first]]')],
      });
      assert.ok(s.error instanceof ModelStreamErrorException, String(s.error));
      assert.equal(s.text, 'alpha', 'the first token came before it');
    });

    it('cut: the stream breaks off and the SDK fails', async () => {
      const s = await converseStream({
        messages: [user('alpha bravo [[sim tokens=10 cut=after_first]]')],
      });
      assert.ok(s.error, 'an error ends the iteration');
      assert.equal(s.stopReason, undefined);
      const rec = await sim.waitForRequest((r) => r.outcome !== 'in_progress');
      assert.equal(rec.outcome, 'cut');
    });

    it('stall: a pause after the first tokens', async () => {
      const t0 = Date.now();
      const s = await converseStream({
        messages: [user('alpha bravo [[sim tokens=4 stall_ms=300 stall_after=1]]')],
      });
      assert.equal(s.error, undefined);
      assert.ok(Date.now() - t0 >= 280, `${Date.now() - t0} ms`);
    });
  });

  describe('errors as the SDK types them', () => {
    const table: [
      number,
      abstract new (...a: never[]) => BedrockRuntimeServiceException,
      string,
    ][] = [
      [400, ValidationException, 'ValidationException'],
      [403, AccessDeniedException, 'AccessDeniedException'],
      [404, ResourceNotFoundException, 'ResourceNotFoundException'],
      [408, ModelTimeoutException, 'ModelTimeoutException'],
      [424, ModelErrorException, 'ModelErrorException'],
      [429, ThrottlingException, 'ThrottlingException'],
      [500, InternalServerException, 'InternalServerException'],
      [503, ServiceUnavailableException, 'ServiceUnavailableException'],
    ];
    for (const [status, Cls, name] of table) {
      it(`status=${status} → ${name}`, async () => {
        for (const stream of [false, true]) {
          const input = { messages: [user(`x [[sim status=${status} retry_after=2]]`)] };
          await assert.rejects(stream ? converseStream(input) : converse(input), (e: unknown) => {
            assert.ok(e instanceof Cls, `${String(e)}`);
            assert.equal(e.name, name);
            assert.equal(e.$metadata.httpStatusCode, status);
            assert.match(e.$metadata.requestId ?? '', /^[0-9a-f-]{36}$/);
            return true;
          });
        }
      });
    }

    it('status=401: the exception of an unknown key', async () => {
      await assert.rejects(converse({ messages: [user('x [[sim status=401]]')] }), (e: unknown) => {
        assert.ok(e instanceof BedrockRuntimeServiceException);
        assert.equal(e.name, 'UnrecognizedClientException');
        assert.equal(e.$metadata.httpStatusCode, 401);
        return true;
      });
    });

    it('retry_after on a 429 and a 503 (raw)', async () => {
      const r = await rawConverse(sim, {
        messages: [{ role: 'user', content: [{ text: 'x [[sim status=429 retry_after=7]]' }] }],
      });
      assert.equal(r.status, 429);
      assert.equal(r.headers.get('retry-after'), '7');
      assert.match(r.headers.get('x-amzn-errortype') ?? '', /^ThrottlingException:http:\/\//);
      assert.deepEqual(await r.json(), {
        message: 'Too many requests, please wait before trying again.',
      });
    });

    it('reset: the connection is dropped', async () => {
      await assert.rejects(converse({ messages: [user('x [[sim reset]]')] }));
      const rec = await sim.waitForRequest((r) => r.outcome === 'reset');
      assert.equal(rec.status, null);
    });
  });

  describe('SigV4: the simulator verifies what the SDK signs', () => {
    it('a wrong secret: InvalidSignatureException 403, quoting the canonical request', async () => {
      const c = clientWith({
        accessKeyId: SIM_AWS_ACCESS_KEY_ID,
        secretAccessKey: 'not-the-secret',
      });
      await assert.rejects(
        c.send(new ConverseCommand({ modelId: CLAUDE, messages: [user('x')] })),
        (e: unknown) => {
          assert.ok(e instanceof BedrockRuntimeServiceException);
          assert.equal(e.name, 'InvalidSignatureException');
          assert.equal(e.$metadata.httpStatusCode, 403);
          assert.match(e.message, /The request signature we calculated does not match/);
          assert.match(
            e.message,
            /%253A0\/converse/,
            'the model id is double-encoded in the canonical URI',
          );
          return true;
        },
      );
      c.destroy();
      assert.equal(sim.requests()[0]?.outcome, 'error');
    });

    it('an unknown access key: UnrecognizedClientException 403', async () => {
      const c = clientWith({ accessKeyId: 'AKIAUNKNOWNKEY000000', secretAccessKey: SECRET });
      await assert.rejects(
        c.send(new ConverseCommand({ modelId: CLAUDE, messages: [user('x')] })),
        (e: unknown) => {
          assert.ok(e instanceof BedrockRuntimeServiceException);
          assert.equal(e.name, 'UnrecognizedClientException');
          assert.equal(e.message, 'The security token included in the request is invalid.');
          assert.equal(e.$metadata.httpStatusCode, 403);
          return true;
        },
      );
      c.destroy();
    });

    it('a clock ten minutes off: Signature expired', async () => {
      const c = clientWith(undefined, { systemClockOffset: -10 * 60_000 });
      await assert.rejects(
        c.send(new ConverseCommand({ modelId: CLAUDE, messages: [user('x')] })),
        (e: unknown) => {
          assert.ok(e instanceof BedrockRuntimeServiceException);
          assert.equal(e.name, 'InvalidSignatureException');
          assert.match(e.message, /^Signature expired: \d{8}T\d{6}Z is now earlier than/);
          return true;
        },
      );
      c.destroy();
    });

    it('temporary credentials (session token) are signed and accepted', async () => {
      const c = clientWith({
        accessKeyId: SIM_AWS_ACCESS_KEY_ID,
        secretAccessKey: SECRET,
        sessionToken: 'IQoJb3JpZ2luX2VjEXAMPLE',
      } as never);
      const r = await c.send(
        new ConverseCommand({ modelId: CLAUDE, messages: [user('alpha [[sim tokens=1]]')] }),
      );
      assert.equal(r.stopReason, 'end_turn');
      const rec = sim.requests()[0];
      assert.equal(rec?.headers['x-amz-security-token'], undefined, 'the token is not recorded');
      assert.ok(rec?.headers['x-amz-date'], 'other headers are');
      c.destroy();
    });
  });

  describe('the raw wire over HTTP/1.1 (what the connector speaks)', () => {
    it('ConverseStream frames: the event-stream content type, the three headers, padding', async () => {
      const res = await rawConverse(
        sim,
        { messages: [{ role: 'user', content: [{ text: 'alpha bravo [[sim tokens=2]]' }] }] },
        true,
      );
      assert.equal(res.status, 200);
      assert.equal(res.headers.get('content-type'), 'application/vnd.amazon.eventstream');
      assert.match(res.headers.get('x-amzn-requestid') ?? '', /^[0-9a-f-]{36}$/);
      const frames = new EventStreamDecoder().push(new Uint8Array(await res.arrayBuffer()));
      const types = frames.map((f) => f.headers[':event-type']);
      assert.deepEqual(types, [
        'messageStart',
        'contentBlockDelta',
        'contentBlockDelta',
        'contentBlockStop',
        'messageStop',
        'metadata',
      ]);
      for (const f of frames) {
        assert.equal(f.headers[':message-type'], 'event');
        assert.equal(f.headers[':content-type'], 'application/json');
        const body = JSON.parse(new TextDecoder().decode(f.payload)) as Record<string, unknown>;
        assert.match(String(body['p']), /^[A-Za-z0-9]+$/, 'padding');
      }
    });

    it('a body changed after signing is refused', async () => {
      const res = await rawConverse(
        sim,
        { messages: [{ role: 'user', content: [{ text: 'x' }] }] },
        false,
        '{"messages":[]}',
      );
      assert.equal(res.status, 400);
      assert.match(res.headers.get('x-amzn-errortype') ?? '', /^XAmzContentSHA256Mismatch/);
    });

    it('no credentials, and unknown routes', async () => {
      const res = await fetch(`${sim.origin}/model/${uriEncode(CLAUDE)}/converse`, {
        method: 'POST',
        body: '{}',
      });
      assert.equal(res.status, 403);
      assert.match(
        res.headers.get('x-amzn-errortype') ?? '',
        /^MissingAuthenticationTokenException/,
      );
      const unknown = await fetch(`${sim.origin}/model/${uriEncode(CLAUDE)}/invoke-nothing`, {
        method: 'POST',
        body: '{}',
      });
      assert.equal(unknown.status, 404);
      assert.match(unknown.headers.get('x-amzn-errortype') ?? '', /^UnknownOperationException/);
    });
  });

  afterEach(() => {});
});

/** A Converse call signed by `@turnpike/providers` and sent with fetch (HTTP/1.1). */
async function rawConverse(sim: Simulator, body: unknown, stream = false, sendInstead?: string) {
  const url = new URL(
    `${sim.origin}/model/${uriEncode(CLAUDE)}/${stream ? 'converse-stream' : 'converse'}`,
  );
  const text = JSON.stringify(body);
  const signed = signRequest(
    {
      method: 'POST',
      path: url.pathname,
      headers: { host: url.host, 'content-type': 'application/json' },
      body: text,
    },
    { accessKeyId: SIM_AWS_ACCESS_KEY_ID, secretAccessKey: SECRET },
    { region: 'us-east-1', service: 'bedrock', now: new Date(), signBody: true },
  );
  return fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...signed.headers },
    body: sendInstead ?? text,
  });
}
