import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  crc32,
  encodeEventStreamMessage,
  EventStreamDecoder,
  EventStreamFramingError,
} from './aws-event-stream.js';

const enc = new TextEncoder();
const dec = new TextDecoder();

test('crc32 matches the IEEE check value', () => {
  assert.equal(crc32(enc.encode('123456789')), 0xcbf43926);
});

test('a known AWS frame decodes (the event-stream spec example with one string header)', () => {
  // Built by hand from the documented layout: total 0x2b, headers 0x10, header
  // "content-type" = "application/json" is too long; use a short one and check both CRCs.
  const frame = encodeEventStreamMessage(
    { ':event-type': 'messageStart' },
    enc.encode('{"role":"assistant"}'),
  );
  const view = new DataView(frame.buffer);
  assert.equal(view.getUint32(0), frame.length);
  assert.equal(view.getUint32(8), crc32(frame, 0, 8));
  assert.equal(view.getUint32(frame.length - 4), crc32(frame, 0, frame.length - 4));
  const [m] = new EventStreamDecoder().push(frame);
  assert.equal(m!.headers[':event-type'], 'messageStart');
  assert.deepEqual(JSON.parse(dec.decode(m!.payload)), { role: 'assistant' });
});

test('messages split across every byte boundary decode identically', () => {
  const a = encodeEventStreamMessage(
    {
      ':event-type': 'contentBlockDelta',
      ':content-type': 'application/json',
      ':message-type': 'event',
    },
    enc.encode('{"delta":{"text":"héllo"},"contentBlockIndex":0}'),
  );
  const b = encodeEventStreamMessage(
    { ':event-type': 'messageStop' },
    enc.encode('{"stopReason":"end_turn"}'),
  );
  const all = new Uint8Array([...a, ...b]);
  for (let cut = 0; cut <= all.length; cut++) {
    const d = new EventStreamDecoder();
    const got = [...d.push(all.subarray(0, cut)), ...d.push(all.subarray(cut))];
    assert.deepEqual(
      got.map((m) => m.headers[':event-type']),
      ['contentBlockDelta', 'messageStop'],
      `cut at ${cut}`,
    );
    assert.equal(d.hasPartial, false);
  }
  const d = new EventStreamDecoder();
  d.push(all.subarray(0, a.length + 5));
  assert.equal(d.hasPartial, true, 'a cut mid-frame leaves bytes pending');
});

test('a corrupted payload or prelude fails with a framing error', () => {
  const frame = encodeEventStreamMessage({ ':event-type': 'x' }, enc.encode('{"a":1}'));
  const badPayload = frame.slice();
  badPayload[frame.length - 6]! ^= 0xff;
  assert.throws(() => new EventStreamDecoder().push(badPayload), EventStreamFramingError);
  const badPrelude = frame.slice();
  badPrelude[2]! ^= 0x01;
  assert.throws(() => new EventStreamDecoder().push(badPrelude), /prelude CRC/);
});

test('typed headers (bool, int, bytes, timestamp, uuid) decode', () => {
  // Hand-built headers block: ":a" true, ":b" int32 7, ":c" bytes [1,2], ":d" timestamp 1000.
  const h = [
    2, 0x3a, 0x61, 0, 2, 0x3a, 0x62, 4, 0, 0, 0, 7, 2, 0x3a, 0x63, 6, 0, 2, 1, 2, 2, 0x3a, 0x64, 8,
    0, 0, 0, 0, 0, 0, 0x03, 0xe8,
  ];
  const payload = enc.encode('{}');
  const total = 12 + h.length + payload.length + 4;
  const f = new Uint8Array(total);
  const v = new DataView(f.buffer);
  v.setUint32(0, total);
  v.setUint32(4, h.length);
  v.setUint32(8, crc32(f, 0, 8));
  f.set(h, 12);
  f.set(payload, 12 + h.length);
  v.setUint32(total - 4, crc32(f, 0, total - 4));
  const [m] = new EventStreamDecoder().push(f);
  assert.equal(m!.headers[':a'], true);
  assert.equal(m!.headers[':b'], 7);
  assert.deepEqual([...(m!.headers[':c'] as Uint8Array)], [1, 2]);
  assert.equal((m!.headers[':d'] as Date).getTime(), 1000);
});
