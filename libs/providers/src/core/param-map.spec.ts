import assert from 'node:assert/strict';
import { test } from 'node:test';
import { applyParameters, parametersOf, RequestMappingError, type ParamMap } from './param-map.js';
import { readChatRequest } from './request-model.js';
import type { Json } from './json.js';

const MAP: ParamMap = [
  { name: 'temperature', to: 'sampling.temperature', range: { min: 0, max: 1 } },
  { name: 'top_p', to: 'top_p', range: { min: 0, max: 1, onOut: 'refuse' } },
  {
    name: 'max_tokens',
    also: ['max_completion_tokens'],
    to: 'max_tokens',
    read: (ctx) => ctx.request.maxTokens,
    required: true,
    default: (ctx) => ctx.maxOutputTokens ?? 4096,
  },
  { name: 'stop', to: 'stop_sequences', transform: (_v, ctx) => ctx.request.stop },
  {
    name: 'response_format',
    also: ['structured_outputs'],
    apply: (target, _v, ctx) => {
      if (ctx.request.responseFormat?.type === 'json_schema')
        target['schema'] = ctx.request.responseFormat.schema;
    },
  },
];

function run(body: Json, requireParameters = false, maxOutputTokens?: number) {
  const target: Json = {};
  const r = applyParameters(
    MAP,
    target,
    { body, request: readChatRequest(body), upstreamModel: 'm', stream: false, maxOutputTokens },
    { requireParameters, provider: 'p' },
  );
  return { target, dropped: r.dropped };
}

test('supported_parameters are the names and aliases of the map', () => {
  assert.deepEqual(parametersOf(MAP), [
    'max_completion_tokens',
    'max_tokens',
    'response_format',
    'stop',
    'structured_outputs',
    'temperature',
    'top_p',
  ]);
});

test('values are written to their paths, transformed, and clamped', () => {
  const { target } = run({
    temperature: 1.7,
    stop: 'END',
    max_completion_tokens: 77,
    messages: [],
  });
  assert.deepEqual(target, {
    sampling: { temperature: 1 },
    max_tokens: 77,
    stop_sequences: ['END'],
  });
});

test('a one-sided range clamps on its side', () => {
  const map: ParamMap = [
    { name: 'top_k', to: 'top_k', range: { min: 1 } },
    { name: 'temperature', to: 'temperature', range: { max: 1 } },
  ];
  const clamp = (body: Json) => {
    const target: Json = {};
    applyParameters(
      map,
      target,
      { body, request: readChatRequest(body), upstreamModel: 'm', stream: false },
      { requireParameters: false, provider: 'p' },
    );
    return target;
  };
  assert.deepEqual(clamp({ top_k: 0, temperature: 3 }), { top_k: 1, temperature: 1 });
  assert.deepEqual(clamp({ top_k: 9, temperature: -1 }), { top_k: 9, temperature: -1 });
});

test('a required parameter takes its default: the endpoint limit, else a constant', () => {
  assert.equal(run({ messages: [] }, false, 8192).target['max_tokens'], 8192);
  assert.equal(run({ messages: [] }).target['max_tokens'], 4096);
});

test('a refuse range answers 400 naming the parameter', () => {
  assert.throws(
    () => run({ top_p: 3, messages: [] }),
    (e: unknown) =>
      e instanceof RequestMappingError && e.reply.status === 400 && e.reply.param === 'top_p',
  );
});

test('unsupported parameters are dropped, or refused under require_parameters', () => {
  const body = { logit_bias: { '1': 2 }, seed: 3, temperature: 0.2, messages: [], foo: 1 };
  const { target, dropped } = run(body);
  assert.deepEqual(dropped.sort(), ['logit_bias', 'seed']);
  assert.equal('logit_bias' in target, false);
  assert.throws(
    () => run(body, true),
    (e: unknown) =>
      e instanceof RequestMappingError &&
      e.reply.code === 'unsupported_parameter' &&
      e.reply.retryable === true &&
      (e.reply.param === 'logit_bias' || e.reply.param === 'seed'),
  );
});

test('apply writes several fields itself', () => {
  const { target } = run({
    messages: [],
    response_format: {
      type: 'json_schema',
      json_schema: { name: 'x', schema: { type: 'object' } },
    },
  });
  assert.deepEqual(target['schema'], { type: 'object' });
});
