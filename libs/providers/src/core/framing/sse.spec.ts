import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SseParser } from './sse.js';

test('parses events split across arbitrary byte boundaries', () => {
  const input = 'data: {"a":1}\n\ndata: {"b":2}\n\ndata: [DONE]\n\n';
  for (let cut = 1; cut < input.length; cut++) {
    const p = new SseParser();
    const events = [...p.push(input.slice(0, cut)), ...p.push(input.slice(cut))];
    assert.deepEqual(
      events.map((e) => e.data),
      ['{"a":1}', '{"b":2}', '[DONE]'],
      `cut at ${cut}`,
    );
  }
});

test('ignores comment lines such as keep-alives', () => {
  const p = new SseParser();
  const events = p.push(': keep-alive\n\n:OPENROUTER PROCESSING\n\ndata: x\n\n');
  assert.deepEqual(
    events.map((e) => e.data),
    ['x'],
  );
});

test('handles CRLF and CR line endings, multi-line data and event names', () => {
  const p = new SseParser();
  const events = p.push('event: error\r\ndata: line1\r\ndata: line2\r\n\r\ndata:nospace\r\r');
  assert.deepEqual(events, [
    { event: 'error', data: 'line1\nline2' },
    { event: 'message', data: 'nospace' },
  ]);
});

test('a CR at the end of one push and LF at the start of the next is one line break', () => {
  const p = new SseParser();
  const events = [...p.push('data: a\r'), ...p.push('\n\r'), ...p.push('\ndata: b\n\n')];
  assert.deepEqual(
    events.map((e) => e.data),
    ['a', 'b'],
  );
});

test('reports a partial event when the stream is cut', () => {
  const p = new SseParser();
  p.push('data: {"a":');
  assert.equal(p.hasPartial, true);
});

test('lines that name no SSE field reach onOtherLine (a bare JSON error in an event stream)', () => {
  const input =
    'data: {"a":1}\r\n\r\n{\n  "error": {\n    "code": 500\n  }\n}\nretry: 10\n\ndata: {"b":2}\n\n';
  for (let cut = 1; cut < input.length; cut++) {
    const other: string[] = [];
    const p = new SseParser({ onOtherLine: (l) => other.push(l) });
    const events = [...p.push(input.slice(0, cut)), ...p.push(input.slice(cut))];
    const order: string[] = [];
    const q = new SseParser({ onOtherLine: (l, before) => order.push(`${before}:${l}`) });
    q.push(input);
    assert.deepEqual(order[0], '1:{', 'after the first event');
    assert.deepEqual(
      events.map((e) => e.data),
      ['{"a":1}', '{"b":2}'],
    );
    assert.deepEqual(other, ['{', '  "error": {', '    "code": 500', '  }', '}'], `cut at ${cut}`);
  }
});
