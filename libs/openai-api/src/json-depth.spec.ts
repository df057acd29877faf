import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { JsonDepthMeter, jsonDepthExceeds } from './json-depth.js';

/** The nesting depth of a parsed JSON value (arrays and objects count one level each). */
function depthOf(v: unknown): number {
  if (Array.isArray(v)) return 1 + Math.max(0, ...v.map(depthOf));
  if (typeof v === 'object' && v !== null) return 1 + Math.max(0, ...Object.values(v).map(depthOf));
  return 0;
}

describe('JSON depth check', () => {
  test('counts arrays and objects, ignores brackets and escapes inside strings', () => {
    assert.equal(jsonDepthExceeds('[[[]]]', 3), false);
    assert.equal(jsonDepthExceeds('[[[[]]]]', 3), true);
    assert.equal(jsonDepthExceeds('{"a":{"b":{"c":1}}}', 3), false);
    assert.equal(jsonDepthExceeds('{"a":{"b":{"c":{}}}}', 3), true);
    assert.equal(jsonDepthExceeds('["[[[[[[[[", "\\"[[[[[[", "\\\\"]', 1), false);
    assert.equal(jsonDepthExceeds('["\\\\", [[]]]', 2), true);
  });

  test('10,000 nested arrays are caught at once', () => {
    const meter = new JsonDepthMeter(64);
    assert.equal(meter.push(Buffer.from('['.repeat(10_000))), false);
    assert.equal(meter.maxSeen, 65);
  });

  test('agrees with JSON.parse for any value, however the bytes are split', () => {
    fc.assert(
      fc.property(
        fc.jsonValue({ maxDepth: 8 }),
        fc.integer({ min: 1, max: 7 }),
        fc.nat(),
        (v, max, cut) => {
          const text = Buffer.from(JSON.stringify(v));
          const meter = new JsonDepthMeter(max);
          const at = text.length === 0 ? 0 : cut % text.length;
          // Split anywhere, also between a backslash and the character it escapes.
          meter.push(text.subarray(0, at));
          meter.push(text.subarray(at));
          assert.equal(meter.exceeded, depthOf(v) > max, text.toString());
        },
      ),
      { seed: 7, numRuns: 500 },
    );
  });
});
