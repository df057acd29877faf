import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { countTokens as bpe } from 'gpt-tokenizer/encoding/o200k_base';
import {
  countTokens,
  estimatePrompt,
  estimateText,
  estimateUsage,
  EXACT_CHARS,
  OutputTally,
} from './estimate.js';

const WORDS =
  'the of and to in is that for it as was with be by on not he this are or his from at which but have an they you were her she there been one all we their has would when if so no what up out who them some could more than then other into its time only new about'.split(
    ' ',
  );

/** Prose-like text of `n` words from a seeded generator. */
function prose(n: number, seed = 1): string {
  let x = seed;
  const out: string[] = [];
  for (let i = 0; i < n; i++) {
    x = (x * 1103515245 + 12345) % 2147483648;
    out.push(WORDS[x % WORDS.length]! + (x % 17 === 0 ? '.' : ''));
  }
  return out.join(' ');
}

test('countTokens is the o200k_base count for ordinary text, across segment cuts', () => {
  for (const text of ['', 'Hello, world!', prose(50), prose(3_000, 7)]) {
    assert.equal(countTokens(text), bpe(text), `${text.length} chars`);
  }
});

test('a long run without whitespace is counted in pieces: within 1% of the exact count', () => {
  let x = 3;
  let cjk = '';
  while (cjk.length < 3_000) {
    x = (x * 1103515245 + 12345) % 2147483648;
    cjk += String.fromCharCode(0x4e00 + (x % 3000));
  }
  const exact = bpe(cjk);
  const ours = countTokens(cjk);
  assert.ok(ours >= exact && ours <= exact * 1.01, `${ours} vs ${exact}`);
  // A surrogate pair is never split (emoji are two UTF-16 units).
  const emoji = '😀'.repeat(1_000);
  assert.ok(Math.abs(countTokens(emoji) - bpe(emoji)) <= bpe(emoji) * 0.01);
});

test('estimateText: exact up to EXACT_CHARS, extrapolated within 10% above', () => {
  const short = prose(2_000);
  assert.ok(short.length <= EXACT_CHARS);
  assert.deepEqual(estimateText(short), { tokens: bpe(short), exact: true });
  const long = prose(60_000, 11);
  assert.ok(long.length > EXACT_CHARS);
  const e = estimateText(long);
  const exact = bpe(long);
  assert.equal(e.exact, false);
  assert.ok(Math.abs(e.tokens - exact) <= exact * 0.1, `${e.tokens} vs ${exact}`);
});

test('estimatePrompt: text, names, tool calls, tools and images; low <= tokens <= high', () => {
  const body = {
    messages: [
      { role: 'system', content: 'You are terse.' },
      { role: 'user', name: 'ann', content: [{ type: 'text', text: prose(40) }] },
      {
        role: 'assistant',
        content: null,
        tool_calls: [
          {
            id: 'c1',
            type: 'function',
            function: { name: 'get_weather', arguments: '{"c":"Oslo"}' },
          },
        ],
      },
      { role: 'tool', tool_call_id: 'c1', content: '{"t":3}' },
      {
        role: 'user',
        content: [
          { type: 'text', text: 'and this?' },
          { type: 'image_url', image_url: { url: 'data:image/png;base64,AAAA' } },
        ],
      },
    ],
    tools: [
      { type: 'function', function: { name: 'get_weather', parameters: { type: 'object' } } },
    ],
  };
  const e = estimatePrompt(body);
  const text = bpe(
    ['You are terse.', prose(40), 'get_weather', '{"c":"Oslo"}', '{"t":3}', 'and this?'].join('\n'),
  );
  assert.equal(e.exact, true);
  assert.equal(e.low, text, 'low: the message text only');
  assert.ok(e.tokens > text + 765, 'formatting, tools and the image add to the estimate');
  assert.ok(e.high >= e.tokens);
  assert.equal(estimatePrompt(body), e, 'cached per body');
  assert.equal(estimatePrompt({}).tokens, 3, 'reply priming only');
});

test('estimatePrompt of a long prompt: extrapolated, bounds with margins', () => {
  const text = prose(80_000, 5);
  const e = estimatePrompt({ messages: [{ role: 'user', content: text }] });
  const exact = bpe(text);
  assert.equal(e.exact, false);
  assert.ok(e.low < exact && exact < e.high, `${e.low} < ${exact} < ${e.high}`);
});

test('property: low <= tokens <= high for any messages', () => {
  const part = fc.oneof(
    fc.string({ maxLength: 200 }),
    fc.string({ unit: 'grapheme', maxLength: 200 }),
    fc.string({ unit: 'binary', maxLength: 300 }),
  );
  fc.assert(
    fc.property(
      fc.array(fc.record({ role: fc.constantFrom('user', 'system', 'assistant'), content: part }), {
        maxLength: 6,
      }),
      (messages) => {
        const e = estimatePrompt({ messages });
        return 0 <= e.low && e.low <= e.tokens && e.tokens <= e.high;
      },
    ),
    { numRuns: 200 },
  );
});

test('OutputTally: content, refusal, reasoning and tool calls of chunks and completions', () => {
  const t = new OutputTally();
  t.addChunk({ choices: [{ index: 0, delta: { role: 'assistant', content: 'Hello there, ' } }] });
  t.addChunk({ choices: [{ index: 0, delta: { content: 'friend.' } }] });
  t.addChunk({ choices: [{ index: 0, delta: { reasoning: 'thinking hard' } }] });
  t.addChunk({
    choices: [
      {
        index: 0,
        delta: { tool_calls: [{ index: 0, function: { name: 'f', arguments: '{"a":1}' } }] },
      },
    ],
  });
  t.addChunk({ choices: [], usage: null });
  const out = t.tokens();
  assert.equal(out.reasoning, bpe('thinking hard'));
  assert.equal(out.completion, bpe('Hello there, friend.f{"a":1}') + bpe('thinking hard'));
  assert.equal(t.chars, 'Hello there, friend.thinking hardf{"a":1}'.length);

  const c = new OutputTally();
  c.addCompletion({
    choices: [
      { message: { role: 'assistant', content: 'one answer' } },
      { message: { role: 'assistant', content: null, refusal: 'no' } },
    ],
  });
  assert.equal(c.tokens().completion, bpe('one answerno'));
  assert.deepEqual(new OutputTally().tokens(), { completion: 0, reasoning: 0 });
});

test('estimateUsage: the prompt and the output, as native tokens', () => {
  const body = { messages: [{ role: 'user', content: 'Say hi' }] };
  const t = new OutputTally();
  t.addChunk({ choices: [{ delta: { content: 'Hi!' } }] });
  assert.deepEqual(estimateUsage(body, t), {
    prompt: estimatePrompt(body).tokens,
    completion: bpe('Hi!'),
    cachedRead: 0,
    cacheWrite: 0,
    reasoning: 0,
  });
  assert.equal(estimateUsage(body, null).completion, 0);
});
