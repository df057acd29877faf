/**
 * The conformance suite, generated from a provider's capability list: every case names the
 * capabilities it needs, and `casesFor(capabilities)` keeps those a provider declares. The same
 * cases run in the unit tier (the adapter against its simulator, no Kafka) and in the e2e tier
 * (through the gateway with the official `openai` client); checks read only what both observe.
 */
import assert from 'node:assert/strict';
import type { CapabilityFlag, ProviderCapabilities } from '@turnpike/providers';
import { expectedContent, REASONING_WORDS, type SimRequestRecord } from '@turnpike/simulators';
import type { Json, Observed, ObservedAnswer, ObservedError } from './result.js';

export type Tier = 'direct' | 'gateway';

export interface CheckContext {
  tier: Tier;
  /** The simulator's record of the request (what reached the upstream, in neutral terms). */
  record: SimRequestRecord | undefined;
  /** The provider account's secret: it must never reach the client. */
  secret: string;
  /** Validation errors of an OpenAI object against OpenAI's schemas ([] = valid). */
  validateCompletion(o: unknown): string[];
  validateChunk(o: unknown): string[];
  /** JSON Schema validation of a value ([] = valid). */
  validateJson(schema: Json, value: unknown): string[];
}

export interface ConformanceCase {
  id: string;
  requires: readonly CapabilityFlag[];
  /** Request parameters the case needs the provider to map (its `supported_parameters`). */
  parameters?: readonly string[];
  stream: boolean;
  /** The OpenAI request without `model` (the runner sets it). */
  body: Json;
  /** Tiers the case means something in (default both). */
  tiers?: readonly Tier[];
  check(o: Observed, ctx: CheckContext): void;
}

const USER = 'alpha bravo charlie delta echo foxtrot golf hotel';
const tokens = 6;
const sim = (knobs: string) => `[[sim ${knobs}]]`;
const user = (text: string, knobs = `tokens=${tokens}`) => ({
  role: 'user',
  content: `${text} ${sim(knobs)}`,
});

/** A 1x1 PNG. */
export const TINY_PNG =
  'data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8DwHwAFBQIAX8jx0gAAAABJRU5ErkJggg==';

const WEATHER_TOOL = {
  type: 'function',
  function: {
    name: 'get_weather',
    description: 'The weather in a city',
    parameters: {
      type: 'object',
      properties: { city: { type: 'string' }, unit: { type: 'string', enum: ['c', 'f'] } },
      required: ['city', 'unit'],
    },
  },
};
const TIME_TOOL = {
  type: 'function',
  function: {
    name: 'get_time',
    description: 'The time in a time zone',
    parameters: {
      type: 'object',
      properties: { zone: { type: 'string' } },
      required: ['zone'],
    },
  },
};

const ANSWER_SCHEMA = {
  type: 'object',
  properties: {
    title: { type: 'string' },
    rating: { type: 'integer' },
    tags: { type: 'array', items: { type: 'string' } },
  },
  required: ['title', 'rating', 'tags'],
  additionalProperties: false,
};

function answer(o: Observed): ObservedAnswer {
  if (!o.ok) assert.fail(`expected an answer, got HTTP ${o.status} ${o.code}: ${o.message}`);
  return o;
}

function failure(o: Observed): ObservedError {
  if (o.ok) assert.fail(`expected an error, got an answer: ${JSON.stringify(o.text)}`);
  return o;
}

/** Every object received is valid against OpenAI's schemas. */
function shapes(a: ObservedAnswer, ctx: CheckContext): void {
  for (const obj of a.objects) {
    const errs = a.stream ? ctx.validateChunk(obj) : ctx.validateCompletion(obj);
    assert.deepEqual(errs, [], `${JSON.stringify(obj).slice(0, 400)}`);
  }
}

function usage(a: ObservedAnswer, ctx: CheckContext, completion?: number): void {
  assert.ok(a.usage, 'usage reported');
  assert.ok(a.usage.prompt > 0, 'prompt tokens counted');
  if (completion !== undefined) assert.equal(a.usage.completion, completion, 'completion tokens');
  if (ctx.record?.parsed) assert.ok(a.usage.prompt >= ctx.record.parsed.messages.length);
}

function both(
  id: string,
  requires: readonly CapabilityFlag[],
  body: Json,
  check: (o: Observed, ctx: CheckContext, stream: boolean) => void,
  tiers?: readonly Tier[],
  parameters?: readonly string[],
): ConformanceCase[] {
  return [false, true].map((stream) => ({
    id: `${id}.${stream ? 'stream' : 'unary'}`,
    requires: stream ? [...requires, 'streaming'] : requires,
    stream,
    body,
    ...(tiers ? { tiers } : {}),
    ...(parameters ? { parameters } : {}),
    check: (o, ctx) => check(o, ctx, stream),
  }));
}

function parseArgs(args: string): Json {
  const v = JSON.parse(args) as unknown;
  assert.ok(typeof v === 'object' && v !== null && !Array.isArray(v), 'arguments are an object');
  return v as Json;
}

export const CASES: readonly ConformanceCase[] = [
  ...both('chat.plain', [], { messages: [user(USER)] }, (o, ctx) => {
    const a = answer(o);
    shapes(a, ctx);
    assert.equal(a.text, expectedContent(USER, tokens));
    assert.equal(a.finishReason, 'stop');
    usage(a, ctx, tokens);
    assert.equal(ctx.record?.outcome, 'completed');
  }),
  ...both(
    'chat.system',
    ['systemPrompt'],
    {
      messages: [
        { role: 'system', content: 'You are terse.' },
        { role: 'developer', content: 'Answer in English.' },
        user(USER),
      ],
    },
    (o, ctx) => {
      const a = answer(o);
      assert.equal(a.text, expectedContent(USER, tokens));
      const system = ctx.record?.parsed?.system ?? '';
      assert.match(system, /You are terse\./);
      assert.match(system, /Answer in English\./);
    },
  ),
  ...both(
    'chat.multi_turn',
    [],
    {
      messages: [
        { role: 'user', content: 'first question' },
        { role: 'assistant', content: 'first answer' },
        user(USER),
      ],
    },
    (o, ctx) => {
      const a = answer(o);
      assert.equal(a.text, expectedContent(USER, tokens));
      const seen = (ctx.record?.parsed?.messages ?? []).join('\n');
      const order = ['first question', 'first answer', 'alpha bravo'].map((t) => seen.indexOf(t));
      assert.ok(
        order.every((i) => i >= 0),
        `every turn reached the upstream: ${seen}`,
      );
      assert.deepEqual(
        [...order].sort((x, y) => x - y),
        order,
        'turns in order',
      );
    },
  ),
  ...both('chat.max_tokens', [], { messages: [user(USER, 'tokens=20')], max_tokens: 3 }, (o) => {
    const a = answer(o);
    assert.equal(a.text, expectedContent(USER, 3));
    assert.equal(a.finishReason, 'length');
    assert.equal(a.usage?.completion, 3);
  }),
  ...both(
    'chat.stop',
    [],
    { messages: [user(USER)], stop: ['ZZZ'] },
    (o, ctx) => {
      answer(o);
      assert.deepEqual(ctx.record?.parsed?.stop, ['ZZZ']);
    },
    undefined,
    ['stop'],
  ),
  ...both(
    'chat.sampling',
    [],
    { messages: [user(USER)], temperature: 0.3, top_p: 0.9, seed: 7 },
    (o) => {
      const a = answer(o);
      assert.equal(a.text, expectedContent(USER, tokens));
    },
  ),
  ...both(
    'usage.cached',
    [],
    { messages: [user(USER, `tokens=${tokens} cached_tokens=8`)] },
    (o) => {
      const a = answer(o);
      assert.equal(a.usage?.cachedRead, 8, 'cache reads normalised');
      assert.ok((a.usage?.prompt ?? 0) >= 8, 'prompt tokens include the cached ones');
    },
  ),
  ...both(
    'usage.cache_write',
    ['promptCaching'],
    {
      messages: [
        {
          role: 'system',
          content: [{ type: 'text', text: 'A long policy.', cache_control: { type: 'ephemeral' } }],
        },
        user(USER, `tokens=${tokens} cache_write_tokens=5`),
      ],
    },
    (o) => {
      const a = answer(o);
      assert.equal(a.usage?.cacheWrite, 5, 'cache writes normalised');
      assert.ok((a.usage?.prompt ?? 0) >= 5, 'prompt tokens include the written ones');
    },
    ['direct'],
  ),
  ...both(
    'vision.image',
    ['vision'],
    {
      messages: [
        {
          role: 'user',
          content: [
            { type: 'text', text: `What is in this image? ${sim(`tokens=${tokens}`)}` },
            { type: 'image_url', image_url: { url: TINY_PNG } },
          ],
        },
      ],
    },
    (o, ctx) => {
      answer(o);
      assert.equal(ctx.record?.parsed?.imageCount, 1, 'the image reached the upstream');
    },
  ),
  ...both(
    'tools.call',
    ['tools'],
    { messages: [user(USER, 'tool_call=get_weather')], tools: [WEATHER_TOOL] },
    (o, ctx) => {
      const a = answer(o);
      shapes(a, ctx);
      assert.equal(a.finishReason, 'tool_calls');
      assert.equal(a.toolCalls.length, 1);
      const call = a.toolCalls[0]!;
      assert.equal(call.name, 'get_weather');
      assert.ok(call.id.length > 0, 'a tool call id');
      const args = parseArgs(call.arguments);
      assert.deepEqual(ctx.validateJson(WEATHER_TOOL.function.parameters, args), []);
      assert.deepEqual(ctx.record?.parsed?.tools, ['get_weather']);
    },
  ),
  ...both(
    'tools.parallel',
    ['tools', 'parallelToolCalls'],
    {
      messages: [user(USER, 'tool_call=get_weather,get_time')],
      tools: [WEATHER_TOOL, TIME_TOOL],
    },
    (o, ctx) => {
      const a = answer(o);
      assert.deepEqual(
        a.toolCalls.map((c) => c.name),
        ['get_weather', 'get_time'],
      );
      assert.equal(new Set(a.toolCalls.map((c) => c.id)).size, 2, 'distinct ids');
      assert.deepEqual(
        ctx.validateJson(WEATHER_TOOL.function.parameters, parseArgs(a.toolCalls[0]!.arguments)),
        [],
      );
      assert.deepEqual(
        ctx.validateJson(TIME_TOOL.function.parameters, parseArgs(a.toolCalls[1]!.arguments)),
        [],
      );
    },
  ),
  ...both(
    'tools.choice_named',
    ['tools', 'toolChoice'],
    {
      messages: [user(USER)],
      tools: [WEATHER_TOOL, TIME_TOOL],
      tool_choice: { type: 'function', function: { name: 'get_time' } },
    },
    (o) => {
      const a = answer(o);
      assert.deepEqual(
        a.toolCalls.map((c) => c.name),
        ['get_time'],
      );
    },
  ),
  ...both(
    'tools.choice_none',
    ['tools', 'toolChoice'],
    { messages: [user(USER)], tools: [WEATHER_TOOL], tool_choice: 'none' },
    (o) => {
      const a = answer(o);
      assert.equal(a.toolCalls.length, 0);
      assert.equal(a.text, expectedContent(USER, tokens));
    },
  ),
  ...both(
    'tools.result_round_trip',
    ['tools'],
    {
      messages: [
        { role: 'user', content: 'weather in Paris?' },
        {
          role: 'assistant',
          content: null,
          tool_calls: [
            {
              id: 'call_abc123',
              type: 'function',
              function: { name: 'get_weather', arguments: '{"city":"Paris","unit":"c"}' },
            },
          ],
        },
        { role: 'tool', tool_call_id: 'call_abc123', content: 'sunny, 21 degrees' },
        user(USER),
      ],
      tools: [WEATHER_TOOL],
    },
    (o, ctx) => {
      const a = answer(o);
      assert.equal(a.text, expectedContent(USER, tokens));
      const seen = (ctx.record?.parsed?.messages ?? []).join('\n');
      assert.match(seen, /sunny, 21 degrees/, 'the tool result reached the upstream');
      assert.match(seen, /Paris/, 'the earlier call reached the upstream');
    },
  ),
  ...both(
    'json.schema',
    ['jsonSchema'],
    {
      messages: [user(USER)],
      response_format: {
        type: 'json_schema',
        json_schema: { name: 'review', schema: ANSWER_SCHEMA, strict: true },
      },
    },
    (o, ctx) => {
      const a = answer(o);
      const value = JSON.parse(a.text) as unknown;
      assert.deepEqual(ctx.validateJson(ANSWER_SCHEMA, value), [], a.text);
      // The schema reached the upstream: as its response format, or, where the protocol has
      // no JSON mode (Bedrock Converse), as the one tool the request forces.
      const parsed = ctx.record?.parsed;
      if (parsed?.responseFormat !== 'json_schema') {
        assert.ok(parsed?.forcedTool, `the schema reached the upstream: ${JSON.stringify(parsed)}`);
        assert.deepEqual(parsed.tools, [parsed.forcedTool], 'the forced tool is the only tool');
      }
    },
  ),
  ...both(
    'json.object',
    ['jsonMode'],
    { messages: [user(`${USER} (answer in JSON)`)], response_format: { type: 'json_object' } },
    (o) => {
      const a = answer(o);
      const v = JSON.parse(a.text) as unknown;
      assert.ok(typeof v === 'object' && v !== null);
    },
  ),
  ...both(
    'reasoning.output',
    ['reasoning'],
    { messages: [user(USER)], reasoning: { max_tokens: 1024 } },
    (o, ctx) => {
      const a = answer(o);
      const thought = REASONING_WORDS.join(' ');
      assert.equal(a.reasoning, thought, 'message.reasoning carries the thinking');
      assert.ok(a.reasoningDetails.length > 0, 'reasoning_details');
      assert.equal(a.text, expectedContent(USER, tokens));
      assert.equal(ctx.record?.parsed?.reasoning, true);
    },
  ),
  ...both(
    'reasoning.excluded',
    ['reasoning'],
    { messages: [user(USER)], reasoning: { max_tokens: 1024, exclude: true } },
    (o) => {
      const a = answer(o);
      assert.equal(a.reasoning, '', 'excluded reasoning is not returned');
      assert.equal(a.text, expectedContent(USER, tokens));
    },
    ['gateway'],
  ),
  ...both(
    'prefill.continue',
    ['prefill'],
    {
      messages: [user(USER), { role: 'assistant', content: 'alpha bravo' }],
    },
    (o, ctx) => {
      answer(o);
      assert.equal(ctx.record?.parsed?.prefill, 'alpha bravo', 'the prefill reached the upstream');
    },
  ),
  ...both('choices.n', ['multipleChoices'], { messages: [user(USER)], n: 2 }, (o) => {
    const a = answer(o);
    assert.equal(a.choices, 2);
  }),
  // Errors: what reaches the client, and what the gateway may do next.
  ...errorCases(),
  {
    id: 'stream.cut_after_first',
    requires: ['streaming'],
    stream: true,
    body: { messages: [user(USER, 'tokens=20 tps=200 cut=after_first')] },
    check(o) {
      const e = failure(o);
      assert.ok(e.chunksBefore > 0, 'failed after output began');
      assert.ok(e.status >= 500);
    },
  },
  {
    id: 'stream.error_event',
    requires: ['streaming'],
    stream: true,
    body: { messages: [user(USER, 'tokens=20 tps=200 stream_error=after_first')] },
    check(o) {
      const e = failure(o);
      assert.ok(e.chunksBefore > 0, 'the in-stream error came after output');
      assert.ok(e.status >= 500);
    },
  },
  {
    // An unparsable event amid good ones (in the protocol's framing) is skipped: the answer
    // arrives whole.
    id: 'stream.malformed_event_skipped',
    requires: ['streaming'],
    stream: true,
    body: { messages: [user(USER, 'tokens=30 malformed=1')] },
    check(o, ctx) {
      const a = answer(o);
      shapes(a, ctx);
      assert.equal(a.text, expectedContent(USER, 30));
      assert.equal(a.finishReason, 'stop');
      assert.equal(ctx.record?.outcome, 'completed');
    },
  },
  {
    // A stream that keeps sending them is broken: four in a row fail the attempt.
    id: 'stream.malformed_past_tolerance',
    requires: ['streaming'],
    stream: true,
    body: { messages: [user(USER, 'tokens=2 malformed=8')] },
    tiers: ['direct'],
    check(o) {
      const e = failure(o);
      assert.equal(e.code, 'upstream_bad_stream');
      assert.equal(e.status, 502);
      assert.equal(e.retryable, true);
    },
  },
  ...both(
    'connection.reset',
    [],
    { messages: [user(USER, 'reset')] },
    (o) => {
      const e = failure(o);
      assert.equal(e.chunksBefore, 0);
      assert.equal(e.status, 502);
      if (e.retryable !== undefined) assert.equal(e.retryable, true);
      assert.doesNotMatch(e.raw, /127\.0\.0\.1|localhost|ECONN/i, 'no upstream address');
    },
    ['direct'],
  ),
];

/** Upstream error statuses: mapped status, retryability, Retry-After, and no leaked text. */
function errorCases(): ConformanceCase[] {
  const table: Array<{ status: number; want: number; retryable: boolean; retryAfter?: number }> = [
    { status: 400, want: 400, retryable: false },
    { status: 401, want: 502, retryable: true },
    { status: 403, want: 502, retryable: true },
    { status: 404, want: 502, retryable: true },
    { status: 429, want: 503, retryable: true, retryAfter: 7 },
    { status: 500, want: 502, retryable: true },
    { status: 503, want: 503, retryable: true, retryAfter: 3 },
  ];
  return table.flatMap((t) =>
    both(
      `error.${t.status}`,
      [],
      {
        messages: [
          user(USER, `status=${t.status}${t.retryAfter ? ` retry_after=${t.retryAfter}` : ''}`),
        ],
      },
      (o, ctx) => {
        const e = failure(o);
        assert.equal(e.chunksBefore, 0);
        if (ctx.tier === 'direct') {
          assert.equal(e.status, t.want, e.message);
          assert.equal(e.retryable, t.retryable);
          assert.equal(e.upstreamStatus, t.status);
          if (t.retryAfter !== undefined) assert.equal(e.retryAfterSec, t.retryAfter);
        }
        // Our provider key (or any fragment of it a provider quotes) never reaches the client.
        const secret = ctx.secret;
        for (let i = 0; i + 6 <= secret.length; i++)
          assert.ok(!e.raw.includes(secret.slice(i, i + 6)), 'no fragment of the provider key');
        // Providers quote a wrong key masked: `sk-ab************wxyz`.
        assert.doesNotMatch(e.raw, /\*{3,}/, 'no masked key fragment');
        assert.ok(!e.raw.includes(secret.slice(-4)), 'not even the last four characters');
        assert.doesNotMatch(e.raw, /<html|<!doctype/i, 'no raw HTML');
      },
      // Through the gateway these statuses fall back or answer per the routing policy; the
      // gateway's own error suites cover that.
      ['direct'],
    ),
  );
}

/** The cases a provider's capabilities call for. */
export function casesFor(capabilities: ProviderCapabilities, tier: Tier): ConformanceCase[] {
  return CASES.filter(
    (c) =>
      c.requires.every((f) => capabilities[f]) &&
      (c.parameters ?? []).every((p) => capabilities.parameters.includes(p)) &&
      (!c.tiers || c.tiers.includes(tier)),
  );
}
