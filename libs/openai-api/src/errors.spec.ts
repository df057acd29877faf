import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  ApiError,
  fromUpstreamStatus,
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
  parseUpstreamErrorBody,
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

describe('parseUpstreamErrorBody', () => {
  test('OpenAI shape, as object, JSON string and bytes', () => {
    const body = {
      error: {
        message: 'This model has a maximum context length of 8192 tokens.',
        type: 'invalid_request_error',
        param: 'messages',
        code: 'context_length_exceeded',
      },
    };
    const expected = {
      message: 'This model has a maximum context length of 8192 tokens.',
      type: 'invalid_request_error',
      param: 'messages',
      code: 'context_length_exceeded',
    };
    assert.deepEqual(parseUpstreamErrorBody(body), expected);
    assert.deepEqual(parseUpstreamErrorBody(JSON.stringify(body)), expected);
    assert.deepEqual(
      parseUpstreamErrorBody(new TextEncoder().encode(JSON.stringify(body))),
      expected,
    );
  });

  test('other shapes', () => {
    assert.deepEqual(parseUpstreamErrorBody({ error: 'quota exceeded' }), {
      message: 'quota exceeded',
    });
    assert.deepEqual(
      parseUpstreamErrorBody({
        object: 'error',
        message: 'bad',
        type: 'BadRequestError',
        param: null,
        code: 400,
      }),
      {
        message: 'bad',
        type: 'BadRequestError',
        code: '400',
      },
    );
    assert.deepEqual(parseUpstreamErrorBody({ detail: 'Not Found' }), { message: 'Not Found' });
    assert.equal(parseUpstreamErrorBody('<html>502 Bad Gateway</html>'), undefined);
    assert.equal(parseUpstreamErrorBody('{not json'), undefined);
    assert.equal(parseUpstreamErrorBody(undefined), undefined);
    assert.equal(parseUpstreamErrorBody({}), undefined);
    assert.equal(parseUpstreamErrorBody([1, 2]), undefined);
  });
});

describe('fromUpstreamStatus', () => {
  const openaiBody = (
    message: string,
    code: string | null = null,
    param: string | null = null,
  ) => ({
    error: { message, type: 'invalid_request_error', param, code },
  });

  test('400 passes the upstream message, param and code through', () => {
    const err = fromUpstreamStatus(
      400,
      openaiBody(
        "This model's maximum context length is 8192 tokens.",
        'context_length_exceeded',
        'messages',
      ),
    );
    assert.equal(err.status, 400);
    assert.equal(err.type, 'invalid_request_error');
    assert.equal(err.code, 'context_length_exceeded');
    assert.equal(err.param, 'messages');
    assert.equal(err.message, "This model's maximum context length is 8192 tokens.");
    assert.equal(err.retryable, false);
    assert.equal(err.upstreamStatus, 400);
    assert.deepEqual(err.toBody().error.metadata, { upstream_status: 400 });
  });

  test('400 without a code: context-length errors are recognised from the message', () => {
    const err = fromUpstreamStatus(
      400,
      JSON.stringify({ message: 'prompt is too long: 210000 tokens > 200000 maximum' }),
    );
    assert.equal(err.status, 400);
    assert.equal(err.code, 'context_length_exceeded');
    const other = fromUpstreamStatus(400, { error: { message: 'temperature must be <= 1' } });
    assert.equal(other.code, null);
    assert.equal(other.message, 'temperature must be <= 1');
  });

  test('400 with an unreadable body still gets a message', () => {
    const err = fromUpstreamStatus(400, '<html>Bad Request</html>');
    assert.equal(err.status, 400);
    assert.match(err.message, /HTTP 400/);
    assert.ok(!err.message.includes('<html>'));
  });

  test('422 is a 400, 413 stays a 413', () => {
    assert.equal(fromUpstreamStatus(422, { detail: 'bad field' }).status, 400);
    const big = fromUpstreamStatus(413, 'Request Entity Too Large');
    assert.equal(big.status, 413);
    assert.equal(big.code, 'request_too_large');
    assert.equal(big.retryable, false);
  });

  const table: [number, number, string, boolean][] = [
    [401, 502, 'upstream_auth_failed', true],
    [403, 502, 'upstream_auth_failed', true],
    [402, 502, 'upstream_payment_required', true],
    [404, 502, 'upstream_model_not_found', true],
    [405, 502, 'upstream_error', true],
    [409, 502, 'upstream_error', true],
    [408, 504, 'upstream_timeout', true],
    [504, 504, 'upstream_timeout', true],
    [524, 504, 'upstream_timeout', true],
    [429, 503, 'upstream_rate_limited', true],
    [503, 503, 'upstream_overloaded', true],
    [529, 503, 'upstream_overloaded', true],
    [500, 502, 'upstream_error', true],
    [502, 502, 'upstream_error', true],
    [599, 502, 'upstream_error', true],
    [200, 502, 'upstream_error', true],
  ];
  for (const [upstream, status, code, retryable] of table) {
    test(`${upstream} → ${status} ${code}`, () => {
      const err = fromUpstreamStatus(upstream, openaiBody('secret upstream detail sk-live-abcdef'));
      assert.equal(err.status, status);
      assert.equal(err.type, 'server_error');
      assert.equal(err.code, code);
      assert.equal(err.retryable, retryable);
      assert.equal(err.upstreamStatus, upstream);
      assert.equal(err.toBody().error.metadata?.['upstream_status'], upstream);
      // Upstream text never reaches the tenant for these.
      assert.ok(!err.message.includes('sk-live'), err.message);
    });
  }

  test('401 from upstream is not blamed on the tenant', () => {
    const err = fromUpstreamStatus(
      401,
      openaiBody('Incorrect API key provided: sk-abc***xyz.', 'invalid_api_key'),
    );
    assert.equal(err.status, 502);
    assert.notEqual(err.code, 'invalid_api_key');
    assert.match(err.message, /not a problem with your API key/);
  });

  test('Retry-After and provider name are carried', () => {
    const err = fromUpstreamStatus(429, undefined, { retryAfterSec: 12, provider: 'openai' });
    assert.deepEqual(err.headers(), { 'retry-after': '12' });
    assert.deepEqual(err.metadata, { upstream_status: 429, provider_name: 'openai' });
    assert.deepEqual(fromUpstreamStatus(500, undefined, { retryAfterSec: 3 }).headers(), {
      'retry-after': '3',
    });
  });
});

describe('error bodies match the OpenAI spec (ErrorResponse)', () => {
  const spec = loadSpec('openai-openapi.yaml');
  const all: [string, ApiError][] = [
    ...factories.map(([name, err]): [string, ApiError] => [name, err]),
    ...[400, 401, 402, 403, 404, 408, 413, 422, 429, 500, 502, 503, 504, 529].map(
      (s): [string, ApiError] => [
        `fromUpstreamStatus(${s})`,
        fromUpstreamStatus(
          s,
          { error: { message: 'x', type: 'y', code: 'z', param: null } },
          { provider: 'p' },
        ),
      ],
    ),
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
