/**
 * `POST /v1/compare`'s validation (before any model is called: all start, or none) and the
 * folding of one model's chat completion stream into its result (output, usage and cost, first
 * output and total times, errors before and within the stream).
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { isApiError } from '@turnpike/openai-api';
import { MAX_COMPARE_MODELS, parseCompareRequest } from './compare-request.js';
import { CompareRun } from './compare-run.js';

const known = (m: string) => m.startsWith('x/');
const messages = [{ role: 'user', content: 'Hi' }];

function refusal(body: unknown): { status: number; param: string | null; code: string | null } {
  try {
    parseCompareRequest(body, known);
  } catch (e) {
    assert.ok(isApiError(e), String(e));
    return { status: e.status, param: e.param, code: e.code };
  }
  assert.fail('the request was accepted');
}

describe('compare request', () => {
  test('one chat completion body per model: streamed with its usage, sampling kept', () => {
    const r = parseCompareRequest(
      { models: ['x/a', 'x/b'], messages, temperature: 0.2, max_tokens: 30, stream: false },
      known,
    );
    assert.equal(r.stream, false);
    assert.deepEqual(r.models, ['x/a', 'x/b']);
    assert.deepEqual(r.bodies[1], {
      model: 'x/b',
      messages,
      temperature: 0.2,
      max_tokens: 30,
      stream: true,
      stream_options: { include_usage: true },
    });
    assert.equal(parseCompareRequest({ models: ['x/a'], messages }, known).stream, true);
  });

  test('refused up front, naming the field', () => {
    assert.deepEqual(refusal({ messages }), { status: 400, param: 'models', code: null });
    assert.deepEqual(refusal({ models: [], messages }), {
      status: 400,
      param: 'models',
      code: null,
    });
    const nine = Array.from({ length: MAX_COMPARE_MODELS + 1 }, (_, i) => `x/m${i}`);
    assert.deepEqual(refusal({ models: nine, messages }), {
      status: 400,
      param: 'models',
      code: null,
    });
    assert.deepEqual(refusal({ models: ['x/a', 'x/a'], messages }).param, 'models[1]');
    assert.deepEqual(refusal({ models: ['x/a', 7], messages }).param, 'models[1]');
    assert.deepEqual(refusal({ models: ['x/a'], model: 'x/a', messages }).param, 'model');
    assert.deepEqual(
      refusal({ models: ['x/a'], messages, stream_options: {} }).param,
      'stream_options',
    );
    assert.deepEqual(refusal({ models: ['x/a'], messages, stream: 'yes' }).param, 'stream');
    assert.deepEqual(refusal({ models: ['x/a'] }).param, 'messages');
    assert.deepEqual(refusal({ models: ['x/a'], messages, temperature: 9 }).param, 'temperature');
    assert.deepEqual(refusal({ models: ['x/a', 'y/unknown'], messages }), {
      status: 404,
      param: 'models[1]',
      code: 'model_not_found',
    });
    assert.equal(refusal([1, 2]).status, 400);
  });
});

describe('compare run', () => {
  const chunk = (content: string, extra: Record<string, unknown> = {}) => ({
    id: 'gen-1',
    object: 'chat.completion.chunk',
    provider: 'sim',
    choices: [{ index: 0, delta: { content }, finish_reason: null }],
    ...extra,
  });

  test('output, finish, usage and cost, first output and total times', () => {
    const run = new CompareRun(1, 'x/a', 1000);
    run.generationId = 'gen-1';
    assert.equal(
      run.chunk({ ...chunk(''), choices: [{ index: 0, delta: { role: 'assistant' } }] }, 1100),
      false,
    );
    assert.equal(run.chunk(chunk('Hello'), 1250.04), true);
    run.chunk(chunk(' world'), 1300);
    run.chunk({ ...chunk(''), choices: [{ index: 0, delta: {}, finish_reason: 'stop' }] }, 1400);
    run.chunk(
      {
        id: 'gen-1',
        choices: [],
        usage: { prompt_tokens: 5, completion_tokens: 2, cost: 0.000123 },
      },
      1450,
    );
    assert.deepEqual(run.result(1500), {
      index: 1,
      model: 'x/a',
      generation_id: 'gen-1',
      provider: 'sim',
      status: 'success',
      output: { content: 'Hello world', reasoning: null },
      finish_reason: 'stop',
      usage: { prompt_tokens: 5, completion_tokens: 2, cost: 0.000123 },
      cost: 0.000123,
      cost_micros: 123,
      ttft_ms: 250,
      latency_ms: 500,
      error: null,
    });
  });

  test('an error status before the stream, in either dialect', () => {
    const run = new CompareRun(0, 'x/a', 0);
    run.failed(502, {
      error: { message: 'refused', type: 'server_error', code: 'upstream_connection_error' },
    });
    const r = run.result(40);
    assert.equal(r.status, 'error');
    assert.deepEqual(r.error, {
      status: 502,
      message: 'refused',
      type: 'server_error',
      code: 'upstream_connection_error',
    });
    assert.equal(r.cost, null);
    assert.equal(r.ttft_ms, null);
    const bare = new CompareRun(0, 'x/a', 0);
    bare.failed(503, null);
    assert.match(bare.result(1).error!.message, /HTTP 503/);
  });

  test('an error chunk within the stream keeps what came before it', () => {
    const run = new CompareRun(0, 'x/a', 0);
    run.chunk(chunk('partial'), 10);
    run.chunk(
      {
        ...chunk(''),
        error: {
          code: 502,
          message: 'cut',
          type: 'server_error',
          metadata: { error_type: 'upstream_stream_cut' },
        },
        choices: [{ index: 0, delta: { content: '' }, finish_reason: 'error' }],
      },
      20,
    );
    const r = run.result(30);
    assert.equal(r.status, 'error');
    assert.equal(r.output.content, 'partial');
    assert.equal(r.finish_reason, 'error');
    assert.deepEqual(r.error, {
      status: 502,
      message: 'cut',
      type: 'server_error',
      code: 'upstream_stream_cut',
    });
  });

  test('a broken stream is an error, not a silent success', () => {
    const run = new CompareRun(0, 'x/a', 0);
    run.chunk(chunk('half'), 5);
    run.broken('The stream ended before it finished.');
    assert.equal(run.result(9).status, 'error');
    assert.equal(run.result(9).error!.code, 'compare_stream_broken');
  });
});
