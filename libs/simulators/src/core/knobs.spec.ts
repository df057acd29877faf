import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  BASE_KNOBS,
  extractDirectives,
  KnobError,
  knobsFromHeaders,
  knobsFromObject,
  mergeKnobs,
  parseDirectiveBody,
} from './knobs.js';
import { parseModels } from './models.js';

describe('sim knobs', () => {
  it('parses every directive key', () => {
    assert.deepEqual(
      parseDirectiveBody(
        ' ttft_ms=50 tps=12.5 tokens=7 status=429 retry_after=2 cut=after_first reset stall_ms=300 stall_after=3 tool_call=get_weather',
      ),
      {
        ttftMs: 50,
        tokensPerSecond: 12.5,
        completionTokens: 7,
        status: 429,
        retryAfterSec: 2,
        cut: 'after_first',
        reset: true,
        stallMs: 300,
        stallAfterTokens: 3,
        toolCall: 'get_weather',
      },
    );
  });

  it('malformed=N: a count of garbage events, bounded; none clears it', () => {
    assert.deepEqual(parseDirectiveBody(' malformed=3'), { malformedEvents: 3 });
    assert.deepEqual(parseDirectiveBody(' malformed=none'), { malformedEvents: undefined });
    assert.deepEqual(knobsFromObject({ malformedEvents: 2 }), { malformedEvents: 2 });
    assert.throws(() => parseDirectiveBody(' malformed=1.5'), KnobError);
    assert.throws(() => parseDirectiveBody(' malformed=10001'), KnobError);
  });

  it('usage=none makes a silent upstream; include clears it; anything else is refused', () => {
    assert.deepEqual(parseDirectiveBody(' usage=none'), { usage: 'none' });
    assert.deepEqual(parseDirectiveBody(' usage=include'), { usage: undefined });
    assert.throws(() => parseDirectiveBody(' usage=some'), KnobError);
  });

  it('body=html|text|json and message=... shape the error body of a status', () => {
    assert.deepEqual(parseDirectiveBody(' status=502 body=html'), {
      status: 502,
      errorBody: 'html',
    });
    assert.deepEqual(parseDirectiveBody(' body=text message="key sk-1 leaked"'), {
      errorBody: 'text',
      errorMessage: 'key sk-1 leaked',
    });
    assert.deepEqual(parseDirectiveBody(' body=json message=none'), {
      errorBody: undefined,
      errorMessage: undefined,
    });
    assert.throws(() => parseDirectiveBody(' body=xml'), KnobError);
    assert.deepEqual(knobsFromObject({ errorBody: 'html' }), { errorBody: 'html' });
  });

  it('accepts quoted values, lists, booleans and none', () => {
    assert.deepEqual(parseDirectiveBody(' tool_call="a,b" reset=false cut=none status=none'), {
      toolCall: ['a', 'b'],
      reset: false,
      cut: undefined,
      status: undefined,
    });
  });

  it('finds directives anywhere in the text, later ones winning, and strips them', () => {
    const r = extractDirectives('hello [[sim tokens=3 ttft_ms=5]] big\nworld [[sim tokens=4]]');
    assert.equal(r.found, true);
    assert.deepEqual(r.knobs, { completionTokens: 4, ttftMs: 5 });
    assert.equal(r.stripped, 'hello big world');
    assert.deepEqual(extractDirectives('[[simple]] text'), {
      knobs: {},
      stripped: '[[simple]] text',
      found: false,
    });
  });

  it('rejects unknown keys and bad values', () => {
    assert.throws(() => parseDirectiveBody(' speed=3'), KnobError);
    assert.throws(() => parseDirectiveBody(' tokens=-1'), KnobError);
    assert.throws(() => parseDirectiveBody(' tokens=1.5'), KnobError);
    assert.throws(() => parseDirectiveBody(' status=200x'), KnobError);
    assert.throws(() => parseDirectiveBody(' status=302'), KnobError);
    assert.throws(() => parseDirectiveBody(' cut=middle'), KnobError);
    assert.throws(() => parseDirectiveBody(' ttft_ms'), KnobError);
    assert.throws(() => parseDirectiveBody(' tokens=3 ==='), KnobError);
  });

  it('reads x-sim-* headers with dashes or underscores', () => {
    assert.deepEqual(
      knobsFromHeaders({
        'x-sim-ttft-ms': '20',
        'x-sim-stall_after': '2',
        'x-sim-reset': '',
        'content-type': 'x',
      }),
      { ttftMs: 20, stallAfterTokens: 2, reset: true },
    );
  });

  it('reads config objects with camelCase or snake_case keys', () => {
    assert.deepEqual(
      knobsFromObject({ ttftMs: 10, tps: 5, toolCall: ['x', 'y'], status: null, reset: false }),
      {
        ttftMs: 10,
        tokensPerSecond: 5,
        toolCall: ['x', 'y'],
        status: undefined,
        reset: false,
      },
    );
    assert.throws(() => knobsFromObject([1]), KnobError);
  });

  it('merges with precedence and clears optional knobs', () => {
    const k = mergeKnobs(
      BASE_KNOBS,
      { status: 500, ttftMs: 5 },
      { status: undefined, completionTokens: 2 },
    );
    assert.deepEqual(k, { ttftMs: 5, tokensPerSecond: 0, completionTokens: 2 });
    assert.equal('status' in k, false);
  });
});

describe('--models', () => {
  it('reads id:ctx, id=ctx for ids with a colon, and ids alone', () => {
    assert.deepEqual(
      parseModels(
        'sim-gpt-small:8192, anthropic.claude-3-7-sonnet-20250219-v1:0=200000,meta.llama3-1-8b-instruct-v1:0:x:y,plain',
      ),
      [
        { id: 'sim-gpt-small', contextLength: 8192 },
        { id: 'anthropic.claude-3-7-sonnet-20250219-v1:0', contextLength: 200000 },
        { id: 'meta.llama3-1-8b-instruct-v1:0:x:y' },
        { id: 'plain' },
      ],
    );
    assert.throws(() => parseModels('a:0'), /invalid context length/);
    assert.throws(() => parseModels('b=x'), /invalid context length/);
  });
});
