import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { AnswerSplicer } from './answer-splicer.js';

type Json = Record<string, unknown>;

const chunk = (delta: Json, finish: string | null = null, index = 0): Json => ({
  id: 'up-1',
  object: 'chat.completion.chunk',
  choices: [{ index, delta, finish_reason: finish }],
});
const text = (content: string) => chunk({ content });
const call = (index: number, fn: Json, id?: string) =>
  chunk({ tool_calls: [{ index, ...(id ? { id, type: 'function' } : {}), function: fn }] });

/** What a client folds out of the chunks it was sent. */
function fold(chunks: Json[]): {
  text: string;
  role: unknown;
  calls: Array<{ id: unknown; name: string; args: string }>;
  finish: unknown;
  deltas: number;
} {
  let out = '';
  let role: unknown;
  let finish: unknown = null;
  let deltas = 0;
  const calls: Array<{ id: unknown; name: string; args: string }> = [];
  for (const c of chunks) {
    for (const ch of c['choices'] as Json[]) {
      const d = ch['delta'] as Json;
      deltas++;
      if (d['role'] !== undefined) role = d['role'];
      if (typeof d['content'] === 'string') out += d['content'];
      for (const t of (d['tool_calls'] as Json[] | undefined) ?? []) {
        const f = t['function'] as Json;
        const i = t['index'] as number;
        calls[i] ??= { id: undefined, name: '', args: '' };
        calls[i]!.id ??= t['id'];
        calls[i]!.name += (f['name'] as string) ?? '';
        calls[i]!.args += (f['arguments'] as string) ?? '';
      }
      if (ch['finish_reason'] != null) finish = ch['finish_reason'];
    }
  }
  return { text: out, role, calls, finish, deltas };
}

const feed = (s: AnswerSplicer, chunks: Json[]): Json[] => chunks.flatMap((c) => s.push(c));

describe('AnswerSplicer', () => {
  test('text passes through; the role goes out with the first output', () => {
    const s = new AnswerSplicer();
    s.beginAttempt('first');
    const sent = feed(s, [
      chunk({ role: 'assistant', content: '' }),
      text('Hello'),
      text(' world'),
      chunk({}, 'stop'),
    ]);
    assert.equal(sent.length, 3, 'the role-only chunk is merged into the first output');
    assert.deepEqual((sent[0]!['choices'] as Json[])[0]!['delta'], {
      role: 'assistant',
      content: 'Hello',
    });
    const f = fold(sent);
    assert.deepEqual([f.text, f.role, f.finish], ['Hello world', 'assistant', 'stop']);
    assert.equal(s.text, 'Hello world');
    assert.equal(s.recovery(), 'continue');
  });

  test('an empty answer still names its role', () => {
    const s = new AnswerSplicer();
    s.beginAttempt('first');
    const f = fold(feed(s, [chunk({ role: 'assistant', content: '' }), chunk({}, 'stop')]));
    assert.deepEqual([f.role, f.finish, f.text], ['assistant', 'stop', '']);
  });

  test('tool calls are held until complete (next sibling, finish) and sent whole', () => {
    const s = new AnswerSplicer();
    s.beginAttempt('first');
    const early = feed(s, [
      chunk({ role: 'assistant', content: null }),
      call(0, { name: 'get_weather', arguments: '' }, 'call_1'),
      call(0, { arguments: '{"city":' }),
      call(0, { arguments: '"Paris"}' }),
    ]);
    assert.deepEqual(early, [], 'nothing of a call in progress is sent');
    const second = feed(s, [call(1, { name: 'get_time', arguments: '{"zone"' }, 'call_2')]);
    assert.equal(second.length, 1, 'the first call goes out when its sibling starts');
    const whole = ((second[0]!['choices'] as Json[])[0]!['delta'] as Json)['tool_calls'];
    assert.deepEqual(whole, [
      {
        index: 0,
        id: 'call_1',
        type: 'function',
        function: { name: 'get_weather', arguments: '{"city":"Paris"}' },
      },
    ]);
    const rest = feed(s, [call(1, { arguments: ':"UTC"}' }), chunk({}, 'tool_calls')]);
    const f = fold([...second, ...rest]);
    assert.deepEqual(f.calls, [
      { id: 'call_1', name: 'get_weather', args: '{"city":"Paris"}' },
      { id: 'call_2', name: 'get_time', args: '{"zone":"UTC"}' },
    ]);
    assert.equal(f.finish, 'tool_calls');
    assert.equal(f.role, 'assistant');
    assert.equal(s.recovery(), 'impossible', 'a prefill cannot carry a tool call');
  });

  test('a cut mid-tool-call has sent nothing of it; the text before it can be continued', () => {
    const s = new AnswerSplicer();
    s.beginAttempt('first');
    const sent = feed(s, [
      text('Let me check.'),
      call(0, { name: 'get_weather', arguments: '{"ci' }, 'call_1'),
    ]);
    assert.deepEqual(fold(sent).calls, []);
    assert.equal(s.recovery(), 'continue');
    assert.equal(s.text, 'Let me check.');
    // The continuation generates the call again, whole.
    s.beginAttempt('continuation');
    const again = feed(s, [
      chunk({ role: 'assistant', content: '' }),
      call(0, { name: 'get_weather', arguments: '{"city":"Paris"}' }, 'call_9'),
      chunk({}, 'tool_calls'),
    ]);
    const f = fold(again);
    assert.deepEqual(f.calls, [{ id: 'call_9', name: 'get_weather', args: '{"city":"Paris"}' }]);
    assert.equal(f.role, undefined, "a continuation's role is not sent again");
  });

  test('a continuation is spliced on: nothing repeated, nothing lost', () => {
    const s = new AnswerSplicer();
    s.beginAttempt('first');
    feed(s, [text('alpha'), text(' bravo'), text(' charlie')]);
    s.beginAttempt('continuation');
    const sent = feed(s, [
      chunk({ role: 'assistant', content: '' }),
      text(' delta'),
      text(' echo'),
      chunk({}, 'stop'),
    ]);
    assert.equal(fold(sent).text, ' delta echo');
    assert.equal(s.text, 'alpha bravo charlie delta echo');
    assert.equal(s.dropped, '');
  });

  test('a continuation that repeats the tail of the prefill has the repeat dropped', () => {
    const s = new AnswerSplicer();
    s.beginAttempt('first');
    feed(s, [text('one two three four five')]);
    s.beginAttempt('continuation');
    const held = feed(s, [text(' three'), text(' four five')]);
    assert.equal(fold(held).text, '', 'held while it may still be a repeat');
    const sent = feed(s, [text(' six'), text(' seven'), chunk({}, 'stop')]);
    assert.equal(fold(sent).text, ' six seven');
    assert.equal(s.text, 'one two three four five six seven');
    assert.equal(s.dropped, ' three four five');
  });

  test('a repeat cut by the end of the stream is still dropped; a one-word echo is not', () => {
    const s = new AnswerSplicer();
    s.beginAttempt('first');
    feed(s, [text('the quick brown fox')]);
    s.beginAttempt('continuation');
    assert.equal(fold([...feed(s, [text(' brown fox')]), ...s.end()]).text, '');
    assert.equal(s.text, 'the quick brown fox');

    const t = new AnswerSplicer();
    t.beginAttempt('first');
    feed(t, [text('I said no')]);
    t.beginAttempt('continuation');
    const sent = feed(t, [text(' no'), text(' more'), chunk({}, 'stop')]);
    assert.equal(fold(sent).text, ' no more', 'one short word may well be meant');
    assert.equal(t.text, 'I said no no more');
  });

  test('a continuation that only looked like a repeat for a while is sent whole', () => {
    const s = new AnswerSplicer();
    s.beginAttempt('first');
    feed(s, [text('red green blue')]);
    s.beginAttempt('continuation');
    const sent = feed(s, [text(' green'), text('house gases'), chunk({}, 'stop')]);
    assert.equal(fold(sent).text, ' greenhouse gases');
    assert.equal(s.text, 'red green blue greenhouse gases');
  });

  test('recovery: only reasoning delivered is restarted; several choices cannot be resumed', () => {
    const s = new AnswerSplicer();
    s.beginAttempt('first');
    feed(s, [chunk({ role: 'assistant', reasoning: 'Let me think' })]);
    assert.equal(s.attemptDelivered, true);
    assert.equal(s.recovery(), 'restart');
    s.beginAttempt('continuation');
    assert.equal(s.attemptDelivered, false);
    const f = fold(feed(s, [chunk({ role: 'assistant', content: 'Hi' }), chunk({}, 'stop')]));
    assert.deepEqual([f.text, f.role], ['Hi', undefined]);

    const n = new AnswerSplicer();
    n.beginAttempt('first');
    feed(n, [text('a'), chunk({ content: 'b' }, null, 1)]);
    assert.equal(n.recovery(), 'impossible');
  });

  test('a chunk without choices (usage) passes through untouched', () => {
    const s = new AnswerSplicer();
    s.beginAttempt('first');
    const usage = { id: 'x', choices: [], usage: { prompt_tokens: 1 } };
    assert.deepEqual(s.push(usage), [usage]);
  });
});
