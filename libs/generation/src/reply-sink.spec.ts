import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { LlmReplyV1 } from '@turnpike/contracts';
import { CoalescingReplySink, DirectReplySink, type ReplyBody } from './reply-sink.js';

const to = { generationId: 'gen-1732406400-sinktest', attempt: 2 };
const chunk = (i: number): ReplyBody => ({ type: 'chunk', chunk: { i } });
const end: ReplyBody = {
  type: 'end',
  tokens: { prompt: 1, completion: 2, reasoning: 0, cachedRead: 0, cacheWrite: 0 },
  usageReported: true,
  finishReason: 'stop',
  nativeFinishReason: 'stop',
  timing: { connectorQueueMs: 0, upstreamTtftMs: 1, upstreamMs: 2, connectorMs: 2 },
  accountId: null,
};
const tick = () => new Promise((r) => setImmediate(r));

function recorder() {
  const sent: Array<{ msg: LlmReplyV1; at: number }> = [];
  let n = 0;
  return {
    sent,
    send: async (msg: LlmReplyV1) => {
      // Every message is valid on the wire, as the gateway's inbox reads it.
      sent.push({ msg: LlmReplyV1.parse(JSON.parse(JSON.stringify(msg))), at: n++ });
    },
  };
}

describe('CoalescingReplySink', () => {
  test('the first chunk goes at once, the chunks of one turn share a message, the end follows in order', async () => {
    const r = recorder();
    const sink = new CoalescingReplySink(to, r.send);
    sink.reply(chunk(0), {});
    assert.equal(r.sent.length, 1, 'the first chunk is not held');
    assert.equal(r.sent[0]!.msg.type, 'chunk');
    for (let i = 1; i <= 5; i++) sink.reply(chunk(i), {});
    assert.equal(r.sent.length, 1, 'later chunks wait for the end of the turn');
    await tick();
    assert.equal(r.sent.length, 2);
    const second = r.sent[1]!.msg;
    assert.ok(second.type === 'chunks');
    assert.deepEqual(
      second.chunks.map((c) => c['i']),
      [1, 2, 3, 4, 5],
    );
    sink.reply(chunk(6), {});
    sink.reply(end, {});
    await sink.flush();
    assert.deepEqual(
      r.sent.map((s) => [s.msg.seq, s.msg.type]),
      [
        [0, 'chunk'],
        [1, 'chunks'],
        [2, 'chunk'],
        [3, 'end'],
      ],
    );
    assert.ok(r.sent.every((s) => s.msg.generationId === to.generationId && s.msg.attempt === 2));
    assert.deepEqual(sink.stats, { messages: 4, chunks: 7 });
  });

  test('a window holds chunks for its length; a message never carries more than maxChunks', async () => {
    const r = recorder();
    const sink = new CoalescingReplySink(to, r.send, 30, 4);
    sink.reply(chunk(0), {});
    for (let i = 1; i <= 6; i++) sink.reply(chunk(i), {});
    // The fifth held chunk filled a message at once; the last two wait for the window.
    assert.equal(r.sent.length, 2);
    await tick();
    assert.equal(r.sent.length, 2, 'not flushed at the end of the turn');
    await new Promise((res) => setTimeout(res, 60));
    assert.equal(r.sent.length, 3);
    const sizes = r.sent.map((s) =>
      s.msg.type === 'chunks' ? s.msg.chunks.length : s.msg.type === 'chunk' ? 1 : 0,
    );
    assert.deepEqual(sizes, [1, 4, 2]);
    await sink.flush();
  });

  test('a failed send is reported by flush, after every other send settled', async () => {
    let calls = 0;
    const sink = new CoalescingReplySink(to, async () => {
      calls++;
      if (calls === 2) throw new Error('broker gone');
    });
    sink.reply(chunk(0), {});
    sink.reply(chunk(1), {});
    sink.reply(end, {});
    await assert.rejects(sink.flush(), /broker gone/);
    assert.equal(calls, 3);
  });
});

test('CoalescingReplySink: a silent attempt says it is alive, and stops once it has ended', async () => {
  const sent: Array<{ type: string; seq: number; at: number }> = [];
  const sink = new CoalescingReplySink(
    to,
    async (m) => void sent.push({ type: m.type, seq: m.seq, at: performance.now() }),
    0,
    256,
    60,
  );
  const t0 = performance.now();
  await new Promise((res) => setTimeout(res, 330));
  const silent = sent.filter((s) => s.type === 'alive');
  assert.ok(silent.length >= 2, `${silent.length} keep-alives in 330 ms at 60 ms`);
  // A busy attempt's own replies say it is alive: a keep-alive only ever follows a silence.
  for (let i = 0; i < 20; i++) {
    sink.reply(chunk(i), {});
    await new Promise((res) => setTimeout(res, 10));
  }
  sink.reply(end, {});
  await sink.flush();
  const total = sent.length;
  await new Promise((res) => setTimeout(res, 200));
  assert.equal(sent.length, total, 'nothing after the end');
  let prev = t0;
  for (const s of sent) {
    if (s.type === 'alive')
      assert.ok(s.at - prev >= 30, `a keep-alive ${(s.at - prev).toFixed(0)} ms after a message`);
    prev = s.at;
  }
  // Every message is numbered in order, keep-alives included.
  assert.deepEqual(
    sent.map((s) => s.seq),
    sent.map((_, i) => i),
  );
});

describe('DirectReplySink', () => {
  test('numbers each reply and stops delivering once closed', async () => {
    const got: LlmReplyV1[] = [];
    const sink = new DirectReplySink(to, (r) => got.push(r));
    sink.reply(chunk(0), {});
    sink.reply(chunk(1), {});
    sink.close();
    sink.reply(end, {});
    await sink.flush();
    assert.deepEqual(
      got.map((r) => [r.seq, r.type]),
      [
        [0, 'chunk'],
        [1, 'chunk'],
      ],
    );
  });
});
