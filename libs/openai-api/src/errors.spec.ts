import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  ApiError,
  fromReplyError,
  forbidden,
  incorrectApiKeyMessage,
  insufficientCredits,
  internal,
  invalidJson,
  invalidRequest,
  isApiError,
  MISSING_API_KEY_MESSAGE,
  modelNotFound,
  notFound,
  payloadTooLarge,
  rateLimited,
  routeNotFound,
  serviceUnavailable,
  timeout,
  toApiError,
  unauthorized,
  upstreamError,
} from './errors.js';
import { loadSpec } from './spec-support.js';
import type { ReplyError } from '@turnpike/contracts';

interface Expect {
  status: number;
  type: string;
  code: string | null;
  param?: string | null;
  retryable: boolean;
  message?: string | RegExp;
}

const factories: [string, ApiError, Expect][] = [
  [
    'invalidJson()',
    invalidJson(),
    {
      status: 400,
      type: 'invalid_request_error',
      code: null,
      retryable: false,
      message: /^We could not parse the JSON body of your request\./,
    },
  ],
  [
    'invalidJson(detail)',
    invalidJson('Unexpected token } in JSON at position 12'),
    {
      status: 400,
      type: 'invalid_request_error',
      code: null,
      retryable: false,
      message: /Unexpected token \} in JSON at position 12/,
    },
  ],
  [
    'invalidRequest(message)',
    invalidRequest('Nope.'),
    {
      status: 400,
      type: 'invalid_request_error',
      code: null,
      param: null,
      retryable: false,
      message: 'Nope.',
    },
  ],
  [
    'invalidRequest(message, param, code)',
    invalidRequest('Too long.', 'messages', 'context_length_exceeded'),
    {
      status: 400,
      type: 'invalid_request_error',
      code: 'context_length_exceeded',
      param: 'messages',
      retryable: false,
    },
  ],
  [
    'unauthorized() (missing key)',
    unauthorized(),
    {
      status: 401,
      type: 'invalid_request_error',
      code: 'invalid_api_key',
      retryable: false,
      message: /^You didn't provide an API key\./,
    },
  ],
  [
    'unauthorized(message)',
    unauthorized(incorrectApiKeyMessage('sk-tp-0123456789abcdef')),
    {
      status: 401,
      type: 'invalid_request_error',
      code: 'invalid_api_key',
      retryable: false,
      message: 'Incorrect API key provided: sk-tp-***cdef.',
    },
  ],
  [
    'insufficientCredits',
    insufficientCredits('Insufficient credits.'),
    {
      status: 402,
      type: 'insufficient_quota',
      code: 'insufficient_quota',
      retryable: false,
      message: 'Insufficient credits.',
    },
  ],
  [
    'forbidden',
    forbidden('This key may not use this model.'),
    { status: 403, type: 'invalid_request_error', code: 'permission_denied', retryable: false },
  ],
  [
    'modelNotFound',
    modelNotFound('gpt-9'),
    {
      status: 404,
      type: 'invalid_request_error',
      code: 'model_not_found',
      param: 'model',
      retryable: false,
      message: 'The model `gpt-9` does not exist or you do not have access to it.',
    },
  ],
  [
    'notFound',
    notFound("Generation 'gen-1'"),
    {
      status: 404,
      type: 'invalid_request_error',
      code: 'not_found',
      retryable: false,
      message: "Generation 'gen-1' not found.",
    },
  ],
  [
    'routeNotFound',
    routeNotFound('post', '/v1/nope'),
    {
      status: 404,
      type: 'invalid_request_error',
      code: null,
      retryable: false,
      message: 'Invalid URL (POST /v1/nope)',
    },
  ],
  [
    'payloadTooLarge',
    payloadTooLarge(1048576),
    {
      status: 413,
      type: 'invalid_request_error',
      code: 'request_too_large',
      retryable: false,
      message: /1048576 bytes/,
    },
  ],
  [
    'rateLimited',
    rateLimited('Rate limit reached for requests.', 7),
    { status: 429, type: 'requests', code: 'rate_limit_exceeded', retryable: false },
  ],
  [
    'rateLimited(tokens)',
    rateLimited('Rate limit reached for tokens.', undefined, 'tokens'),
    { status: 429, type: 'tokens', code: 'rate_limit_exceeded', retryable: false },
  ],
  [
    'internal',
    internal(new Error('boom')),
    {
      status: 500,
      type: 'server_error',
      code: null,
      retryable: false,
      message: 'The server had an error while processing your request. Sorry about that!',
    },
  ],
  [
    'upstreamError',
    upstreamError('Provider returned error', 500),
    {
      status: 502,
      type: 'server_error',
      code: 'upstream_error',
      retryable: true,
      message: 'Provider returned error',
    },
  ],
  [
    'serviceUnavailable',
    serviceUnavailable('No provider available.', 30),
    { status: 503, type: 'server_error', code: 'service_unavailable', retryable: true },
  ],
  [
    'timeout',
    timeout('Took too long.'),
    {
      status: 504,
      type: 'server_error',
      code: 'timeout',
      retryable: true,
      message: 'Took too long.',
    },
  ],
];

describe('error factories', () => {
  for (const [name, err, exp] of factories) {
    test(name, () => {
      assert.ok(err instanceof ApiError);
      assert.ok(err instanceof Error);
      assert.equal(err.name, 'ApiError');
      assert.equal(err.status, exp.status);
      assert.equal(err.type, exp.type);
      assert.equal(err.code, exp.code);
      assert.equal(err.retryable, exp.retryable);
      if (exp.param !== undefined) assert.equal(err.param, exp.param);
      if (typeof exp.message === 'string') assert.equal(err.message, exp.message);
      else if (exp.message instanceof RegExp) assert.match(err.message, exp.message);

      const body = err.toBody();
      assert.deepEqual(Object.keys(body), ['error']);
      assert.equal(body.error.message, err.message);
      assert.equal(body.error.type, exp.type);
      assert.equal(body.error.code, exp.code);
      assert.equal(body.error.param, err.param);
      // Round-trips through JSON unchanged (no undefined members, no class instances).
      assert.deepEqual(JSON.parse(JSON.stringify(body)), body);
    });
  }

  test('the missing-key message is the one OpenAI sends', () => {
    assert.equal(unauthorized().message, MISSING_API_KEY_MESSAGE);
    assert.match(MISSING_API_KEY_MESSAGE, /Authorization: Bearer YOUR_KEY/);
  });

  test('incorrectApiKeyMessage never echoes the whole key', () => {
    assert.equal(incorrectApiKeyMessage('short'), 'Incorrect API key provided: ***.');
    assert.ok(!incorrectApiKeyMessage('sk-tp-0123456789abcdef').includes('0123456789'));
  });

  test('retry-after header', () => {
    assert.deepEqual(rateLimited('slow down', 7).headers(), { 'retry-after': '7' });
    assert.deepEqual(rateLimited('slow down', 0.2).headers(), { 'retry-after': '1' });
    assert.deepEqual(rateLimited('slow down').headers(), {});
    assert.deepEqual(serviceUnavailable('later', 30).headers(), { 'retry-after': '30' });
    assert.deepEqual(invalidRequest('x').headers(), {});
  });

  test('metadata is only in the body when set', () => {
    assert.equal('metadata' in invalidRequest('x').toBody().error, false);
    const err = upstreamError('Provider returned error', 500, {
      metadata: { provider_name: 'acme' },
    });
    assert.deepEqual(err.toBody().error.metadata, { upstream_status: 500, provider_name: 'acme' });
    assert.equal(err.upstreamStatus, 500);
  });

  test('internal keeps the cause for logs but not in the body', () => {
    const cause = new Error('db down');
    const err = internal(cause);
    assert.equal(err.cause, cause);
    assert.ok(!JSON.stringify(err.toBody()).includes('db down'));
  });

  test('isApiError / toApiError', () => {
    assert.equal(isApiError(invalidRequest('x')), true);
    assert.equal(isApiError(new Error('x')), false);
    assert.equal(isApiError({ status: 400, type: 'x', toBody() {} }), false);
    assert.equal(isApiError(null), false);
    assert.equal(isApiError('x'), false);
    const e = invalidRequest('x');
    assert.equal(toApiError(e), e);
    const wrapped = toApiError(new TypeError('oops'));
    assert.equal(wrapped.status, 500);
    assert.ok(!wrapped.message.includes('oops'));
  });
});

/** A `ReplyError` as the connector's error policy makes them (libs/providers/src/errors). */
const reply = (over: Partial<ReplyError> = {}): ReplyError => ({
  status: 502,
  type: 'server_error',
  message: 'The upstream provider returned an error (HTTP 500).',
  code: 'upstream_error',
  param: null,
  retryable: true,
  upstreamStatus: 500,
  retryAfterSec: null,
  ...over,
});

/** One of each kind of failure the policy reports. */
const replies: [string, ReplyError][] = [
  ['5xx', reply()],
  [
    'auth',
    reply({
      code: 'upstream_auth_failed',
      upstreamStatus: 401,
      message: "The upstream provider rejected the gateway's credentials (HTTP 401).",
    }),
  ],
  [
    'rate limited',
    reply({ status: 503, code: 'upstream_rate_limited', upstreamStatus: 429, retryAfterSec: 7 }),
  ],
  ['timeout', reply({ status: 504, code: 'timeout', upstreamStatus: null })],
  [
    'invalid request',
    reply({
      status: 400,
      type: 'invalid_request_error',
      code: 'invalid_value',
      param: 'messages[0].role',
      retryable: false,
      upstreamStatus: 400,
      providerCode: 'invalid_value',
      message: "Invalid value: 'robot'.",
    }),
  ],
  [
    'context length',
    reply({
      status: 400,
      type: 'invalid_request_error',
      code: 'context_length_exceeded',
      upstreamStatus: 400,
      providerCode: null,
    }),
  ],
  ['connection', reply({ code: 'upstream_connection_error', upstreamStatus: null })],
];

describe('fromReplyError', () => {
  test('keeps every field the policy chose and adds the upstream status as metadata', () => {
    const e = fromReplyError(replies[2]![1]);
    assert.equal(e.status, 503);
    assert.equal(e.code, 'upstream_rate_limited');
    assert.equal(e.retryable, true);
    assert.equal(e.upstreamStatus, 429);
    assert.deepEqual(e.headers(), { 'retry-after': '7' });
    assert.deepEqual(e.toBody(), {
      error: {
        message: replies[2]![1].message,
        type: 'server_error',
        param: null,
        code: 'upstream_rate_limited',
        metadata: { upstream_status: 429 },
      },
    });
  });

  test("the provider's own code is metadata only when the policy let the client see it", () => {
    const invalid = fromReplyError(replies[4]![1]).toBody().error;
    assert.deepEqual(invalid.metadata, { upstream_status: 400, provider_code: 'invalid_value' });
    assert.equal(invalid.param, 'messages[0].role');
    assert.deepEqual(fromReplyError(replies[1]![1]).toBody().error.metadata, {
      upstream_status: 401,
    });
  });

  test('no upstream status, no metadata', () => {
    const e = fromReplyError(replies[6]![1]);
    assert.equal('metadata' in e.toBody().error, false);
    assert.equal(e.upstreamStatus, undefined);
    assert.deepEqual(e.headers(), {});
  });

  test('provider_not_configured tells clients not to retry; other codes leave it to them', () => {
    const notConfigured: ReplyError = {
      status: 502,
      type: 'server_error',
      code: 'provider_not_configured',
      param: null,
      message: 'not configured',
      retryable: true,
      upstreamStatus: null,
      retryAfterSec: null,
    };
    const e = fromReplyError(notConfigured);
    assert.equal(e.status, 502);
    assert.deepEqual(e.headers(), { 'x-should-retry': 'false' });
    assert.deepEqual(fromReplyError({ ...notConfigured, code: 'upstream_error' }).headers(), {});
  });
});

describe('error bodies match the OpenAI spec (ErrorResponse)', () => {
  const spec = loadSpec('openai-openapi.yaml');
  const all: [string, ApiError][] = [
    ...factories.map(([name, err]): [string, ApiError] => [name, err]),
    ...replies.map(([name, r]): [string, ApiError] => [
      `fromReplyError(${name})`,
      fromReplyError(r),
    ]),
  ];

  test('the spec requires what we think it requires', () => {
    const errorResponse = spec.schema('ErrorResponse');
    assert.deepEqual(errorResponse['required'], ['error']);
    const required = spec.schema('Error')['required'] as string[];
    assert.deepEqual([...required].sort(), ['code', 'message', 'param', 'type']);
  });

  for (const [name, err] of all) {
    test(name, () => {
      const body = JSON.parse(JSON.stringify(err.toBody())) as unknown;
      assert.deepEqual(spec.validate('ErrorResponse', body), []);
      const required = spec.schema('Error')['required'] as string[];
      for (const key of required) assert.ok(key in err.toBody().error, `missing ${key}`);
    });
  }

  test('the validator does reject a wrong body', () => {
    assert.notDeepEqual(
      spec.validate('ErrorResponse', { error: { message: 'x', type: 'y', code: null } }),
      [],
    );
    assert.notDeepEqual(
      spec.validate('ErrorResponse', {
        error: { message: 'x', type: 'y', code: 502, param: null },
      }),
      [],
    );
    assert.notDeepEqual(spec.validate('ErrorResponse', { message: 'x' }), []);
  });
});
