import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, test } from 'node:test';
import type { DecodedEvent } from '../core/decoder.js';
import { assertSkipsMalformed, sseEvents } from '../core/decoder-testing.js';
import { isObj, type Json } from '../core/json.js';
import { UpstreamError } from '../errors/index.js';
import { GeminiStreamDecoder } from './gemini.decoder.js';
import { geminiProvider } from './gemini.provider.js';

const FIXTURES = new URL('../../src/gemini/fixtures/', import.meta.url);
const fixture = (name: string): string => readFileSync(new URL(name, FIXTURES), 'utf8');
const fixtureJson = (name: string): Json => JSON.parse(fixture(name)) as Json;
/** The JSON objects of an `.sse` fixture's data events. */
const events = (name: string): Json[] =>
  fixture(name)
    .split('\r\n\r\n')
    .filter((e) => e.startsWith('data: '))
    .map((e) => JSON.parse(e.slice(6)) as Json);

const MODEL = 'gemini-2.5-flash';
const call = { body: { messages: [] }, upstreamModel: MODEL, stream: true };

/** Google's framing of one response object. */
const sse = (...objects: unknown[]): string =>
  objects.map((o) => `data: ${JSON.stringify(o)}\r\n\r\n`).join('');

interface Run {
  events: DecodedEvent[];
  summary: ReturnType<GeminiStreamDecoder['end']>;
}

function run(text: string, pieces: Uint8Array[] = [new TextEncoder().encode(text)]): Run {
  const d = new GeminiStreamDecoder(MODEL);
  const out: DecodedEvent[] = [];
  for (const p of pieces) out.push(...d.push(p));
  return { events: out, summary: d.end() };
}

/** What a run says, with the made-up parts (tool call ids, `created`) normalised. */
function normalised(r: Run): unknown {
  const ids = new Map<string, string>();
  const json = JSON.stringify(r, (k, v: unknown) => {
    if (k === 'created') return 0;
    if (typeof v === 'string' && /^(call_[A-Za-z0-9]{24}|gen-[0-9a-f]{24})$/.test(v)) {
      if (!ids.has(v)) ids.set(v, `call_${ids.size}`);
      return ids.get(v);
    }
    if (v instanceof UpstreamError) return { reply: v.reply, detail: v.detail };
    return v;
  });
  return JSON.parse(json) as unknown;
}

/** Decodes `text` whole, then split at every byte: the decoder must say the same each time. */
function atEverySplit(text: string): Run {
  const bytes = new TextEncoder().encode(text);
  const whole = run(text);
  const expected = normalised(whole);
  for (let i = 1; i < bytes.length; i++) {
    const split = run(text, [bytes.slice(0, i), bytes.slice(i)]);
    assert.deepEqual(normalised(split), expected, `split at byte ${i}`);
  }
  // And one byte at a time.
  const single = run(
    text,
    [...bytes].map((b) => Uint8Array.of(b)),
  );
  assert.deepEqual(normalised(single), expected, 'byte by byte');
  return whole;
}

interface Folded {
  text: string;
  reasoning: string;
  details: Json[];
  calls: { id: string; name: string; arguments: string }[];
  finish: (string | null)[];
  native: (string | null)[];
  choices: Set<number>;
  usage: Json | null;
}

function fold(evs: DecodedEvent[], choice = 0): Folded {
  const f: Folded = {
    text: '',
    reasoning: '',
    details: [],
    calls: [],
    finish: [],
    native: [],
    choices: new Set(),
    usage: null,
  };
  for (const e of evs) {
    if (e.type !== 'chunk') continue;
    if (isObj(e.chunk['usage'])) f.usage = e.chunk['usage'];
    for (const c of e.chunk['choices'] as Json[]) {
      f.choices.add(c['index'] as number);
      if (c['index'] !== choice) continue;
      const d = c['delta'] as Json;
      if (typeof d['content'] === 'string') f.text += d['content'];
      if (typeof d['reasoning'] === 'string') f.reasoning += d['reasoning'];
      if (Array.isArray(d['reasoning_details']))
        f.details.push(...(d['reasoning_details'] as Json[]));
      for (const t of (d['tool_calls'] as Json[] | undefined) ?? []) {
        const fn = t['function'] as Json;
        const i = t['index'] as number;
        f.calls[i] ??= { id: '', name: '', arguments: '' };
        if (typeof t['id'] === 'string') f.calls[i].id = t['id'];
        if (typeof fn['name'] === 'string') f.calls[i].name += fn['name'];
        if (typeof fn['arguments'] === 'string') f.calls[i].arguments += fn['arguments'];
      }
      if (c['finish_reason'] !== null) {
        f.finish.push(c['finish_reason'] as string);
        f.native.push((c['native_finish_reason'] as string | null) ?? null);
      }
    }
  }
  return f;
}

const lastUsage = (name: string): Json => {
  const all = events(name).filter((e) => isObj(e['usageMetadata']));
  return all[all.length - 1]!['usageMetadata'] as Json;
};

describe('stream decoder over recorded streams, at every byte split', () => {
  test('text: the parts in order, the LAST cumulative usage (never a sum), MAX_TOKENS → length', () => {
    const name = 'stream-text-thinking-budget.sse';
    const r = atEverySplit(fixture(name));
    const f = fold(r.events);
    const expectedText = events(name)
      .map((e) => ((e['candidates'] as Json[])[0]!['content'] as Json)['parts'] as Json[])
      .map((parts) => parts.map((p) => p['text']).join(''))
      .join('');
    assert.equal(f.text, expectedText);
    assert.deepEqual(f.finish, ['length']);
    assert.deepEqual(f.native, ['MAX_TOKENS']);
    const u = lastUsage(name);
    const candidates = u['candidatesTokenCount'] as number;
    assert.deepEqual(r.summary.tokens, {
      prompt: 7,
      completion: candidates + 45,
      cachedRead: 0,
      cacheWrite: 0,
      reasoning: 45,
    });
    const summed = events(name).reduce(
      (n, e) => n + (((e['usageMetadata'] as Json)['candidatesTokenCount'] as number) ?? 0),
      0,
    );
    assert.notEqual(r.summary.tokens!.completion, summed + 45, 'not summed');
    assert.equal(r.summary.finishReason, 'length');
    assert.equal(r.summary.nativeFinishReason, 'MAX_TOKENS');
    assert.equal(r.summary.complete, true);
    assert.equal(r.summary.malformedEvents, 0);
    // The usage chunk (OpenAI's shape) once the candidate finished.
    assert.equal((f.usage as Json)['prompt_tokens'], 7);
    // The first chunk is the role; chunks carrying text are output.
    const chunks = r.events.filter((e) => e.type === 'chunk');
    assert.equal(chunks[0]!.type === 'chunk' && chunks[0]!.hasOutput, false);
    assert.ok(chunks.some((c) => c.type === 'chunk' && c.hasOutput));
    const first = chunks[0]!.type === 'chunk' ? chunks[0]!.chunk : {};
    assert.equal(first['id'], 'qS77aMCqBu6mvr0PsJiykAw', "Gemini's responseId");
    assert.equal(first['model'], 'gemini-2.5-flash', 'modelVersion');
  });

  test('Vertex: usage events without counts do not erase the totals; createTime is `created`', () => {
    const name = 'vertex-stream-usage.sse';
    const r = atEverySplit(fixture(name));
    assert.deepEqual(r.summary.tokens, {
      prompt: 6,
      completion: 156 + 41,
      cachedRead: 0,
      cacheWrite: 0,
      reasoning: 41,
    });
    const first = r.events[0]!;
    assert.ok(first.type === 'chunk');
    assert.equal(
      first.chunk['created'],
      Math.floor(Date.parse('2025-10-24T07:45:43.133318Z') / 1000),
    );
    assert.equal(r.summary.complete, true);
  });

  test('a whole function call: one tool-call start with the full arguments; STOP → tool_calls', () => {
    const r = atEverySplit(fixture('stream-function-call.sse'));
    const f = fold(r.events);
    assert.equal(f.calls.length, 1);
    assert.equal(f.calls[0]!.name, 'customDivide');
    assert.deepEqual(JSON.parse(f.calls[0]!.arguments), { denominator: 2, numerator: 100 });
    assert.match(f.calls[0]!.id, /^call_[A-Za-z0-9]{24}$/, 'an id made up for it');
    assert.deepEqual(f.finish, ['tool_calls']);
    assert.deepEqual(f.native, ['STOP']);
    assert.equal(r.summary.finishReason, 'tool_calls');
    const toolChunks = r.events.filter(
      (e) => e.type === 'chunk' && JSON.stringify(e.chunk).includes('tool_calls":[{'),
    );
    assert.equal(toolChunks.length, 1, 'the call arrives whole, in one chunk');
  });

  test("a function call's thought signature: a reasoning.encrypted detail tied to the call's id", () => {
    const name = 'stream-function-call-signature.sse';
    const r = atEverySplit(fixture(name));
    const f = fold(r.events);
    const part = ((events(name)[0]!['candidates'] as Json[])[0]!['content'] as Json)[
      'parts'
    ] as Json[];
    const signature = part[0]!['thoughtSignature'] as string;
    assert.equal(f.calls.length, 1);
    assert.deepEqual(f.details, [
      {
        type: 'reasoning.encrypted',
        data: signature,
        format: 'google-gemini-v1',
        index: 0,
        id: f.calls[0]!.id,
      },
    ]);
    assert.equal(f.reasoning, '', 'a signature is no reasoning text');
    assert.deepEqual(r.summary.tokens, {
      prompt: 81,
      completion: 20 + 179,
      cachedRead: 0,
      cacheWrite: 0,
      reasoning: 179,
    });
  });

  test('a text part with a signature: the text, and an encrypted detail without id', () => {
    const r = atEverySplit(fixture('stream-text-signature.sse'));
    const f = fold(r.events);
    assert.equal(f.text, 'The result is 2.');
    assert.equal(f.details.length, 1);
    assert.equal(f.details[0]!['type'], 'reasoning.encrypted');
    assert.equal(f.details[0]!['id'], undefined);
    assert.deepEqual(f.finish, ['stop']);
  });

  test('an error written into the stream as bare JSON, without a final line break', () => {
    const r = atEverySplit(fixture('stream-error-mid.sse'));
    const f = fold(r.events);
    assert.equal(f.text, 'The', 'what came before the error is delivered');
    const errors = r.events.filter((e) => e.type === 'error');
    assert.equal(errors.length, 1);
    const e = errors[0]!.type === 'error' ? errors[0]!.error : null;
    assert.equal(e?.reply.status, 502);
    assert.equal(e?.reply.code, 'upstream_error');
    assert.equal(e?.reply.upstreamStatus, 500);
    assert.equal(e?.detail.providerMessage, 'Internal error');
    assert.equal(e?.detail.providerType, 'INTERNAL');
    assert.equal(r.summary.complete, false);
  });

  test('a pretty-printed bare error (how Google writes errors) and a data-event error', () => {
    const head = sse({
      candidates: [{ content: { parts: [{ text: 'Hi' }], role: 'model' }, index: 0 }],
    });
    const bare = atEverySplit(head + fixture('error-429-resource-exhausted.json'));
    const e1 = bare.events.find((e) => e.type === 'error');
    assert.ok(e1?.type === 'error');
    assert.equal(e1.error.reply.status, 503);
    assert.equal(e1.error.reply.code, 'upstream_rate_limited');
    assert.equal(fold(bare.events).text, 'Hi');
    const framed = atEverySplit(
      head +
        sse({ error: { code: 503, message: 'The model is overloaded.', status: 'UNAVAILABLE' } }),
    );
    const e2 = framed.events.find((e) => e.type === 'error');
    assert.ok(e2?.type === 'error');
    assert.equal(e2.error.reply.code, 'upstream_overloaded');
    // The status name alone is enough.
    const named = run(head + sse({ error: { message: 'quota', status: 'RESOURCE_EXHAUSTED' } }));
    const e3 = named.events.find((e) => e.type === 'error');
    assert.ok(e3?.type === 'error');
    assert.equal(e3.error.reply.status, 503);
    assert.equal(e3.error.reply.upstreamStatus, 429);
  });

  test('a cut stream is incomplete: no finish reason, or an event cut in half', () => {
    const text = fixture('stream-text-thinking-budget.sse');
    const lastEvent = text.lastIndexOf('data: ');
    assert.equal(run(text.slice(0, lastEvent)).summary.complete, false, 'no finish reason');
    assert.equal(run(text.slice(0, text.length - 10)).summary.complete, false, 'cut mid-event');
    const emptied = run('');
    assert.equal(emptied.summary.complete, false);
    assert.equal(emptied.summary.tokens, null);
  });

  test('malformed events (data that is not JSON, bare JSON that is no error): skipped and counted', () => {
    const r = run('data: {"candidates": [\r\n\r\ndata: not json\r\n\r\n');
    assert.deepEqual(r.events, [
      { type: 'malformed', event: 1 },
      { type: 'malformed', event: 2 },
    ]);
    assert.equal(r.summary.malformedEvents, 2);
    assert.equal(r.summary.complete, false);
    const bare = run('{"candidates": []}\n');
    assert.deepEqual(bare.events, [{ type: 'malformed', event: 1 }], 'bare JSON that is no error');
  });

  test('garbage amid recorded streams: skipped, counted, the answer whole', () => {
    for (const name of ['stream-text-thinking-budget.sse', 'vertex-stream-usage.sse'])
      assertSkipsMalformed(
        () => new GeminiStreamDecoder(MODEL),
        sseEvents(fixture(name)),
        new TextEncoder().encode('data: {"candidates": [{"content": {"par\r\n\r\n'),
        { every: 1 },
      );
  });
});

// Shapes no recording covers, written from the API reference's GenerateContentResponse.
describe('stream decoder over documented shapes', () => {
  test('parallel function calls: tool indexes 0 and 1, distinct ids, Gemini ids kept', () => {
    const text = sse({
      candidates: [
        {
          content: {
            role: 'model',
            parts: [
              { functionCall: { name: 'get_weather', args: { city: 'Paris' } } },
              { functionCall: { id: 'fc-2', name: 'get_time', args: { zone: 'CET' } } },
            ],
          },
          finishReason: 'STOP',
          index: 0,
        },
      ],
      usageMetadata: { promptTokenCount: 30, candidatesTokenCount: 12, totalTokenCount: 42 },
    });
    const r = atEverySplit(text);
    const f = fold(r.events);
    assert.deepEqual(
      f.calls.map((c) => [c.name, JSON.parse(c.arguments)]),
      [
        ['get_weather', { city: 'Paris' }],
        ['get_time', { zone: 'CET' }],
      ],
    );
    assert.notEqual(f.calls[0]!.id, f.calls[1]!.id);
    assert.equal(f.calls[1]!.id, 'fc-2');
    assert.deepEqual(f.finish, ['tool_calls']);
  });

  test('several candidates: one choice each, each with its finish', () => {
    const text = sse(
      {
        candidates: [
          { content: { role: 'model', parts: [{ text: 'a' }] }, index: 0 },
          { content: { role: 'model', parts: [{ text: 'b' }] }, index: 1 },
        ],
      },
      {
        candidates: [
          { content: { role: 'model', parts: [{ text: 'c' }] }, finishReason: 'STOP', index: 0 },
          {
            content: { role: 'model', parts: [{ text: 'd' }] },
            finishReason: 'MAX_TOKENS',
            index: 1,
          },
        ],
        usageMetadata: { promptTokenCount: 5, candidatesTokenCount: 4, totalTokenCount: 9 },
      },
    );
    const r = atEverySplit(text);
    assert.deepEqual([...fold(r.events).choices].sort(), [0, 1]);
    assert.equal(fold(r.events, 0).text, 'ac');
    assert.equal(fold(r.events, 1).text, 'bd');
    assert.deepEqual(fold(r.events, 1).finish, ['length']);
    assert.equal(r.summary.complete, true);
    // One candidate finished, the other not: cut.
    const half = run(
      sse({
        candidates: [
          { content: { role: 'model', parts: [{ text: 'a' }] }, finishReason: 'STOP', index: 0 },
          { content: { role: 'model', parts: [{ text: 'b' }] }, index: 1 },
        ],
      }),
    );
    assert.equal(half.summary.complete, false);
  });

  test('streamed thoughts: delta.reasoning, one detail block, then the signature and the text', () => {
    const text = sse(
      {
        candidates: [
          { content: { role: 'model', parts: [{ text: 'Let me ', thought: true }] }, index: 0 },
        ],
      },
      {
        candidates: [
          { content: { role: 'model', parts: [{ text: 'think.', thought: true }] }, index: 0 },
        ],
      },
      {
        candidates: [
          {
            content: { role: 'model', parts: [{ text: 'Answer', thoughtSignature: 'c2lnLTE=' }] },
            finishReason: 'STOP',
            index: 0,
          },
        ],
        usageMetadata: {
          promptTokenCount: 10,
          candidatesTokenCount: 1,
          thoughtsTokenCount: 3,
          cachedContentTokenCount: 4,
          totalTokenCount: 14,
        },
      },
    );
    const r = atEverySplit(text);
    const f = fold(r.events);
    assert.equal(f.reasoning, 'Let me think.');
    assert.equal(f.text, 'Answer');
    assert.deepEqual(
      f.details.map((d) => [d['type'], d['index'], d['text'] ?? d['data']]),
      [
        ['reasoning.text', 0, 'Let me '],
        ['reasoning.text', 0, 'think.'],
        ['reasoning.encrypted', 1, 'c2lnLTE='],
      ],
    );
    assert.deepEqual(r.summary.tokens, {
      prompt: 10,
      completion: 4,
      cachedRead: 4,
      cacheWrite: 0,
      reasoning: 3,
    });
  });

  test('a blocked prompt: an empty answer, content_filter, the block reason kept', () => {
    const r = atEverySplit(
      sse({
        promptFeedback: { blockReason: 'SAFETY' },
        usageMetadata: { promptTokenCount: 8, totalTokenCount: 8 },
      }),
    );
    const f = fold(r.events);
    assert.equal(f.text, '');
    assert.deepEqual(f.finish, ['content_filter']);
    assert.deepEqual(f.native, ['SAFETY']);
    assert.equal(r.summary.complete, true);
    assert.equal(r.summary.finishReason, 'content_filter');
    assert.equal(r.summary.nativeFinishReason, 'SAFETY');
  });

  test('finish reasons: the safety family is content_filter; a malformed call is error', () => {
    const table: [string, string][] = [
      ['SAFETY', 'content_filter'],
      ['RECITATION', 'content_filter'],
      ['BLOCKLIST', 'content_filter'],
      ['PROHIBITED_CONTENT', 'content_filter'],
      ['SPII', 'content_filter'],
      ['MALFORMED_FUNCTION_CALL', 'error'],
      ['OTHER', 'stop'],
      ['SOMETHING_NEW', 'stop'],
    ];
    for (const [native, ours] of table) {
      const r = run(
        sse({
          candidates: [{ content: { role: 'model', parts: [] }, finishReason: native, index: 0 }],
        }),
      );
      assert.deepEqual(fold(r.events).finish, [ours], native);
      assert.deepEqual(fold(r.events).native, [native]);
      assert.equal(r.summary.nativeFinishReason, native);
    }
  });
});

describe('generateContent answers (parseCompletion)', () => {
  const parse = (json: unknown) => geminiProvider.parseCompletion(json, { ...call, stream: false });
  const message = (c: Json): Json => (c['choices'] as Json[])[0]!['message'] as Json;

  test('thoughts: message.reasoning and a reasoning.text detail; usage with thinking', () => {
    const p = parse(fixtureJson('thought.json'));
    const m = message(p.completion);
    const thought = (
      ((fixtureJson('thought.json')['candidates'] as Json[])[0]!['content'] as Json)[
        'parts'
      ] as Json[]
    )[0]!['text'];
    assert.equal(m['reasoning'], thought);
    assert.equal(m['content'], '');
    assert.deepEqual(m['reasoning_details'], [
      {
        type: 'reasoning.text',
        text: thought,
        signature: null,
        format: 'google-gemini-v1',
        index: 0,
      },
    ]);
    assert.equal(p.finishReason, 'length');
    assert.equal(p.nativeFinishReason, 'MAX_TOKENS');
    assert.deepEqual(p.tokens, {
      prompt: 17,
      completion: 19,
      cachedRead: 0,
      cacheWrite: 0,
      reasoning: 19,
    });
    assert.equal(p.usageReported, true);
    const usage = p.completion['usage'] as Json;
    assert.equal(usage['completion_tokens'], 19);
    assert.deepEqual(usage['completion_tokens_details'], { reasoning_tokens: 19 });
  });

  test('a function call: tool_calls, null content, finish tool_calls (native STOP)', () => {
    const p = parse(fixtureJson('function-call.json'));
    const m = message(p.completion);
    assert.equal(m['content'], null);
    const calls = m['tool_calls'] as Json[];
    assert.equal(calls.length, 1);
    assert.deepEqual((calls[0]!['function'] as Json)['name'], 'customDivide');
    assert.deepEqual(JSON.parse((calls[0]!['function'] as Json)['arguments'] as string), {
      denominator: 2,
      numerator: 10,
    });
    const choice = (p.completion['choices'] as Json[])[0]!;
    assert.equal(choice['finish_reason'], 'tool_calls');
    assert.equal(choice['native_finish_reason'], 'STOP');
    assert.deepEqual(p.tokens, {
      prompt: 17,
      completion: 6,
      cachedRead: 0,
      cacheWrite: 0,
      reasoning: 0,
    });
  });

  test('a JSON answer with an implicit cache read', () => {
    const p = parse(fixtureJson('json-schema.json'));
    const value = JSON.parse(message(p.completion)['content'] as string) as Json;
    assert.equal(value['stringWithEnum'], 'enumvalue1');
    assert.deepEqual(p.tokens, {
      prompt: 5,
      completion: 238 + 41,
      cachedRead: 3,
      cacheWrite: 0,
      reasoning: 41,
    });
    assert.equal((p.completion['usage'] as Json)['prompt_tokens_details'] instanceof Object, true);
  });

  test('several candidates are several choices', () => {
    const p = parse({
      candidates: [
        { content: { role: 'model', parts: [{ text: 'one' }] }, finishReason: 'STOP', index: 0 },
        {
          content: { role: 'model', parts: [{ text: 'two' }] },
          finishReason: 'MAX_TOKENS',
          index: 1,
        },
      ],
      usageMetadata: { promptTokenCount: 3, candidatesTokenCount: 2, totalTokenCount: 5 },
    });
    const choices = p.completion['choices'] as Json[];
    assert.deepEqual(
      choices.map((c) => [c['index'], (c['message'] as Json)['content'], c['finish_reason']]),
      [
        [0, 'one', 'stop'],
        [1, 'two', 'length'],
      ],
    );
  });

  test('a blocked prompt, an answer without usage, and a malformed body', () => {
    const blocked = parse({ promptFeedback: { blockReason: 'PROHIBITED_CONTENT' } });
    assert.equal(blocked.finishReason, 'content_filter');
    assert.equal(blocked.nativeFinishReason, 'PROHIBITED_CONTENT');
    assert.equal(blocked.usageReported, false);
    for (const bad of [null, [], 'text', { error: { code: 500 } }]) {
      assert.throws(
        () => parse(bad),
        (e: unknown) => e instanceof UpstreamError && e.reply.code === 'upstream_bad_response',
      );
    }
  });
});
