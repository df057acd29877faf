import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { ReplyError } from '@turnpike/contracts';
import { OPENAI_ERROR_DIALECT, readCommonErrorBody, type ErrorDialect } from './dialect.js';
import {
  connectorError,
  deadlineError,
  kindOfStatus,
  protocolError,
  providerNotConfigured,
  upstreamHttpError,
  upstreamStreamError,
  type UpstreamError,
} from './policy.js';
import { parseRetryAfter, retryAfterFrom } from './retry-after.js';
import { REDACTED } from './scrub.js';

const openai = (
  message: string,
  code: string | null = null,
  param: string | null = null,
  type = 'invalid_request_error',
) => JSON.stringify({ error: { message, type, param, code } });

/** An upstream text that must never reach a tenant outside the 400/413/422 pass-through. */
const LEAKY =
  'Incorrect API key provided: sk-abc1*************wxyz. You can find your API key at https://platform.openai.com/account/api-keys. (upstream 10.0.3.7:8443)';

/** Everything the client would receive, as one string. */
const seen = (e: UpstreamError): string => JSON.stringify(e.reply);

/** No credential, key fragment or address; and, unless `passed`, none of the upstream's words. */
function assertNoLeak(e: UpstreamError, passed = false): void {
  const s = seen(e);
  const pieces = ['sk-', '***', 'wxyz', 'openai.com', '10.0.3.7', '8443'];
  for (const piece of passed ? pieces : [...pieces, 'Incorrect API key'])
    assert.ok(!s.includes(piece), `${piece} in ${s}`);
}

describe('status → what the client gets', () => {
  // [upstream status, client status, code, retryable]
  const table: [number, number, string, boolean][] = [
    [401, 502, 'upstream_auth_failed', true],
    [403, 502, 'upstream_auth_failed', true],
    [402, 502, 'upstream_payment_required', true],
    [404, 502, 'upstream_model_not_found', true],
    [410, 502, 'upstream_model_not_found', true],
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
    [301, 502, 'upstream_error', true],
  ];
  for (const [upstream, status, code, retryable] of table) {
    test(`${upstream} → ${status} ${code}, our own words only`, () => {
      const e = upstreamHttpError(upstream, openai(LEAKY, 'invalid_api_key'));
      assert.equal(e.reply.status, status);
      assert.equal(e.reply.type, 'server_error');
      assert.equal(e.reply.code, code);
      assert.equal(e.reply.retryable, retryable);
      assert.equal(e.reply.upstreamStatus, upstream);
      assert.equal(e.reply.param, null);
      assert.equal(e.reply.providerCode, undefined, 'the provider code is for operators here');
      assert.ok(e.reply.message.includes(`HTTP ${upstream}`), e.reply.message);
      assertNoLeak(e);
      // Operators keep what the upstream said.
      assert.equal(e.detail.providerCode, 'invalid_api_key');
      assert.equal(e.detail.providerMessage, LEAKY);
      assert.equal(e.detail.upstreamStatus, upstream);
    });
  }

  test('401 from the upstream is not blamed on the tenant', () => {
    const e = upstreamHttpError(401, openai(LEAKY, 'invalid_api_key'));
    assert.notEqual(e.reply.code, 'invalid_api_key');
    assert.match(e.reply.message, /not a problem with your API key/);
  });

  test('every reply is a valid ReplyError of llm.replies.v1', () => {
    for (const s of [400, 401, 402, 403, 404, 408, 413, 422, 429, 500, 502, 503, 504, 524, 529])
      for (const body of [openai('x', 'y', 'z'), '<html>x</html>', '', '{}'])
        assert.deepEqual(
          ReplyError.parse(upstreamHttpError(s, body).reply),
          upstreamHttpError(s, body).reply,
        );
  });

  test('kindOfStatus covers the documented statuses', () => {
    assert.equal(kindOfStatus(422), 'invalid_request');
    assert.equal(kindOfStatus(413), 'too_large');
    assert.equal(kindOfStatus(418), 'server');
  });
});

describe("the request's own faults: the upstream message passes, scrubbed", () => {
  test('400: message, param and code pass through', () => {
    const e = upstreamHttpError(
      400,
      openai(
        "Invalid value: 'robot'. Supported values are: 'system' and 'user'.",
        'invalid_value',
        'messages[0].role',
      ),
    );
    assert.deepEqual(e.reply, {
      status: 400,
      type: 'invalid_request_error',
      code: 'invalid_value',
      param: 'messages[0].role',
      message: "Invalid value: 'robot'. Supported values are: 'system' and 'user'.",
      retryable: false,
      upstreamStatus: 400,
      retryAfterSec: null,
      providerCode: 'invalid_value',
    });
  });

  test('400: credentials, key fragments and addresses are scrubbed from the message', () => {
    const e = upstreamHttpError(400, openai(`Bad request. ${LEAKY}`));
    assert.equal(e.reply.status, 400);
    assert.match(e.reply.message, /^Bad request\./);
    assert.ok(e.reply.message.includes(REDACTED));
    for (const piece of ['sk-', '***', 'wxyz', 'openai.com', '10.0.3.7', '8443'])
      assert.ok(!e.reply.message.includes(piece), e.reply.message);
  });

  test('a code or param that is not a plain identifier is dropped', () => {
    const e = upstreamHttpError(
      400,
      openai('bad', 'sk-live-0123456789abcdef', 'see https://x.example/doc'),
    );
    assert.equal(e.reply.code, null);
    assert.equal(e.reply.param, null);
    assert.equal(e.reply.providerCode, null);
    assert.equal(e.detail.providerCode, 'sk-live-0123456789abcdef', 'operators see it');
  });

  test('422 is a 400; 413 stays a 413', () => {
    const unprocessable = upstreamHttpError(422, JSON.stringify({ detail: 'bad field' }));
    assert.equal(unprocessable.reply.status, 400);
    assert.equal(unprocessable.reply.message, 'bad field');
    assert.equal(unprocessable.reply.upstreamStatus, 422);
    const big = upstreamHttpError(413, 'Request Entity Too Large');
    assert.equal(big.reply.status, 413);
    assert.equal(big.reply.code, 'request_too_large');
    assert.equal(big.reply.retryable, false);
    assert.match(big.reply.message, /too large \(HTTP 413\)/);
  });

  test('a body that is not JSON is never echoed: a message naming the status', () => {
    const html =
      '<html><head><title>400 Bad Request</title></head><body><center>nginx/1.25.3 at 10.0.3.7</center></body></html>';
    for (const [status, body] of [
      [400, html],
      [400, 'Bad Request: upstream sk-live-0123456789abcdef'],
      [400, ''],
      [422, '   '],
      [413, html],
    ] as const) {
      const e = upstreamHttpError(status, body);
      assert.match(e.reply.message, new RegExp(`\\(HTTP ${status}\\)\\.$`), e.reply.message);
      assert.ok(!seen(e).includes('nginx') && !seen(e).includes('sk-live'), seen(e));
    }
    // Operators get the text.
    assert.ok(upstreamHttpError(400, html).detail.providerMessage!.includes('nginx/1.25.3'));
  });

  test('markup inside a JSON message is not echoed either', () => {
    const e = upstreamHttpError(400, openai('<html><body>Bad Request</body></html>'));
    assert.equal(
      e.reply.message,
      'The upstream provider rejected the request as invalid (HTTP 400).',
    );
  });

  test('a huge body: read, capped, never echoed whole', () => {
    const long = 'x '.repeat(40_000);
    const e = upstreamHttpError(400, openai(long));
    assert.ok(e.reply.message.length <= 512, `${e.reply.message.length}`);
    assert.ok(e.detail.providerMessage!.length <= 2001);
    const html = upstreamHttpError(502, `<html>${'<p>x</p>'.repeat(10_000)}</html>`);
    assert.equal(html.reply.message, 'The upstream provider returned an error (HTTP 502).');
    // A body cut at the read limit is not JSON any more: the generic message.
    const cut = upstreamHttpError(400, openai('y'.repeat(70_000)).slice(0, 65_536));
    assert.equal(
      cut.reply.message,
      'The upstream provider rejected the request as invalid (HTTP 400).',
    );
  });
});

describe('body shapes', () => {
  const shapes: [string, string, string][] = [
    ['OpenAI', openai('the message'), 'the message'],
    ['{error: "text"}', JSON.stringify({ error: 'the message' }), 'the message'],
    [
      'flat {message}',
      JSON.stringify({ object: 'error', message: 'the message', code: 400 }),
      'the message',
    ],
    ['{detail: "text"}', JSON.stringify({ detail: 'the message' }), 'the message'],
    [
      "FastAPI's validation {detail: [...]}",
      JSON.stringify({ detail: [{ loc: ['body', 'messages'], msg: 'field required', type: 'x' }] }),
      'body.messages: field required',
    ],
    ['{errors: [...]}', JSON.stringify({ errors: [{ message: 'the message' }] }), 'the message'],
    ['an array', JSON.stringify([{ error: { message: 'the message', code: 400 } }]), 'the message'],
    [
      'Anthropic',
      JSON.stringify({
        type: 'error',
        error: { type: 'invalid_request_error', message: 'the message' },
      }),
      'the message',
    ],
  ];
  for (const [name, body, message] of shapes) {
    test(`${name}: its message passes on a 400`, () => {
      assert.equal(upstreamHttpError(400, body).reply.message, message);
    });
  }

  test('readCommonErrorBody: fields, a numeric code as the status, nothing readable', () => {
    assert.deepEqual(
      readCommonErrorBody({ error: { message: 'm', type: 't', code: 'c', param: 'p' } }),
      {
        message: 'm',
        type: 't',
        code: 'c',
        param: 'p',
        status: null,
      },
    );
    assert.deepEqual(readCommonErrorBody({ error: { message: 'm', code: 429 } }), {
      message: 'm',
      type: null,
      code: null,
      param: null,
      status: 429,
    });
    assert.equal(readCommonErrorBody({ error: { code: 12 } })?.code, '12');
    for (const nothing of [null, 'text', 42, [], {}, { foo: 1 }, { error: {} }])
      assert.equal(readCommonErrorBody(nothing), null, JSON.stringify(nothing));
  });
});

describe('context length', () => {
  const wordings = [
    "This model's maximum context length is 8192 tokens. However, your messages resulted in 9000 tokens.",
    'prompt is too long: 210000 tokens > 200000 maximum',
    'Input is too long for requested model.',
    'too many tokens in the request',
    'The input token count (1200000) exceeds the maximum number of tokens allowed (1048576).',
    'Prompt contains 40000 tokens, too large for model with 32768 maximum context length',
  ];
  for (const message of wordings) {
    test(`recognised from the message: ${message.slice(0, 40)}`, () => {
      const e = upstreamHttpError(400, JSON.stringify({ message }));
      assert.equal(e.reply.status, 400);
      assert.equal(e.reply.code, 'context_length_exceeded');
      assert.equal(e.reply.retryable, true, 'a larger window may serve it');
      assert.equal(e.reply.message, message);
    });
  }

  test('recognised from the code, on 400, 413 and 422', () => {
    for (const s of [400, 413, 422]) {
      const e = upstreamHttpError(s, openai('too big', 'context_length_exceeded', 'messages'));
      assert.equal(e.reply.status, 400);
      assert.equal(e.reply.code, 'context_length_exceeded');
      assert.equal(e.reply.param, 'messages');
      assert.equal(e.reply.upstreamStatus, s);
      assert.equal(e.reply.retryable, true);
    }
  });

  test('other 400s are not retryable, and a 5xx is never a context-length error', () => {
    assert.equal(upstreamHttpError(400, openai('temperature must be <= 1')).reply.retryable, false);
    const e = upstreamHttpError(500, openai('maximum context length exceeded'));
    assert.equal(e.reply.code, 'upstream_error');
  });

  test('a dialect adds its own detector', () => {
    const dialect: ErrorDialect = {
      read: readCommonErrorBody,
      isContextLength: (d) => d.type === 'request_too_large',
    };
    const e = upstreamHttpError(400, openai('nope', null, null, 'request_too_large'), {}, dialect);
    assert.equal(e.reply.code, 'context_length_exceeded');
  });
});

describe('Retry-After', () => {
  const now = Date.UTC(2026, 0, 1, 12, 0, 0);

  test('seconds, an HTTP date, retry-after-ms; kept on rate limits, overload and 5xx', () => {
    assert.equal(upstreamHttpError(429, '', { 'retry-after': '7' }).reply.retryAfterSec, 7);
    assert.equal(
      upstreamHttpError(
        503,
        '',
        { 'retry-after': new Date(now + 30_000).toUTCString() },
        OPENAI_ERROR_DIALECT,
        now,
      ).reply.retryAfterSec,
      30,
    );
    assert.equal(
      upstreamHttpError(529, '', { 'retry-after': '2', 'retry-after-ms': '1500' }).reply
        .retryAfterSec,
      1.5,
    );
    assert.equal(upstreamHttpError(500, '', { 'Retry-After': '3' }).reply.retryAfterSec, 3);
    assert.equal(upstreamHttpError(429, '').reply.retryAfterSec, null);
  });

  test('not on a request the upstream refused', () => {
    assert.equal(
      upstreamHttpError(400, openai('bad'), { 'retry-after': '7' }).reply.retryAfterSec,
      null,
    );
  });

  test('parseRetryAfter', () => {
    assert.equal(parseRetryAfter('12', now), 12);
    assert.equal(parseRetryAfter(' 1.5 ', now), 1.5);
    assert.equal(parseRetryAfter(['4', '9'], now), 4);
    assert.equal(parseRetryAfter('-3', now), 0);
    assert.equal(parseRetryAfter('Wed, 01 Jan 2026 12:00:10 GMT', now), 10);
    assert.equal(parseRetryAfter('Wed, 01 Jan 2025 12:00:10 GMT', now), 0, 'a date in the past');
    assert.equal(parseRetryAfter('soon', now), null);
    assert.equal(parseRetryAfter('', now), null);
    assert.equal(parseRetryAfter(undefined, now), null);
    assert.equal(retryAfterFrom({ 'retry-after-ms': 'x', 'retry-after': '5' }, now), 5);
  });
});

describe('a provider composes the base through its dialect', () => {
  test("OpenAI's quota error comes as a 429 but is our account's billing, not a rate limit", () => {
    const e = upstreamHttpError(
      429,
      openai('You exceeded your current quota', 'insufficient_quota'),
    );
    assert.equal(e.reply.status, 502);
    assert.equal(e.reply.code, 'upstream_payment_required');
    assert.equal(e.reply.upstreamStatus, 429);
  });

  test('a dialect reads its own shape and names its own meanings', () => {
    // An Anthropic-like dialect: `{type: 'error', error: {type, message}}`; `overloaded_error`
    // means overloaded whatever the status.
    const dialect: ErrorDialect = {
      read: readCommonErrorBody,
      kindOf: (_s, d) => (d?.type === 'overloaded_error' ? 'overloaded' : undefined),
    };
    const body = JSON.stringify({
      type: 'error',
      error: { type: 'overloaded_error', message: 'Overloaded' },
    });
    const e = upstreamHttpError(500, body, { 'retry-after': '4' }, dialect);
    assert.equal(e.reply.status, 503);
    assert.equal(e.reply.code, 'upstream_overloaded');
    assert.equal(e.reply.retryAfterSec, 4);
    const inStream = upstreamStreamError(JSON.parse(body), dialect);
    assert.equal(inStream.reply.status, 503);
    assert.equal(inStream.reply.upstreamStatus, 503);
  });
});

describe('errors inside a stream', () => {
  test('a stated status decides, like an HTTP one', () => {
    const e = upstreamStreamError({ error: { message: LEAKY, code: 401 } });
    assert.equal(e.reply.status, 502);
    assert.equal(e.reply.code, 'upstream_auth_failed');
    assert.equal(e.reply.upstreamStatus, 401);
    assertNoLeak(e);
    const limited = upstreamStreamError({ error: { message: 'slow down', code: 429 } });
    assert.equal(limited.reply.status, 503);
  });

  test('no status: a 502 in our words', () => {
    const e = upstreamStreamError({ error: { message: LEAKY, type: 'server_error' } });
    assert.equal(e.reply.status, 502);
    assert.equal(e.reply.code, 'upstream_error');
    assert.equal(e.reply.upstreamStatus, 502);
    assert.equal(e.reply.message, 'The upstream provider reported an error during the response.');
    assertNoLeak(e);
    assert.equal(e.detail.providerMessage, LEAKY);
    assert.equal(upstreamStreamError({ error: LEAKY }).reply.code, 'upstream_error');
    assert.equal(upstreamStreamError('garbage').reply.status, 502);
  });

  test('a context-length error in a stream is a 400, retryable', () => {
    const e = upstreamStreamError({
      error: { message: "This model's maximum context length is 4096 tokens." },
    });
    assert.equal(e.reply.status, 400);
    assert.equal(e.reply.code, 'context_length_exceeded');
    assert.equal(e.reply.upstreamStatus, 400);
    assert.equal(e.reply.retryable, true);
  });

  test('a stated 400 passes its scrubbed message', () => {
    const e = upstreamStreamError({ error: { message: `bad tool call ${LEAKY}`, code: 400 } });
    assert.equal(e.reply.status, 400);
    assert.match(e.reply.message, /^bad tool call/);
    assertNoLeak(e, true);
  });
});

describe('failures of our own making', () => {
  test('fixed messages, no internals', () => {
    const cases: [UpstreamError, number, string][] = [
      [protocolError('stream_cut'), 502, 'upstream_stream_cut'],
      [protocolError('bad_response', 200), 502, 'upstream_bad_response'],
      [protocolError('bad_stream'), 502, 'upstream_bad_stream'],
      [deadlineError(), 504, 'timeout'],
      [deadlineError(true), 504, 'timeout'],
      [providerNotConfigured('acme-secret-account'), 502, 'provider_not_configured'],
      [
        connectorError(new TypeError('Cannot read properties of undefined (reading "x")')),
        502,
        'connector_error',
      ],
    ];
    for (const [e, status, code] of cases) {
      assert.equal(e.reply.status, status);
      assert.equal(e.reply.code, code);
      assert.equal(e.reply.retryable, true);
      assert.deepEqual(ReplyError.parse(e.reply), e.reply);
      assert.ok(!/acme|Cannot read|undefined/.test(e.reply.message), e.reply.message);
    }
    assert.match(providerNotConfigured('acme').detail.providerMessage!, /acme/);
    assert.match(connectorError(new TypeError('boom')).detail.providerMessage!, /TypeError: boom/);
  });
});

describe('without(secret)', () => {
  test("removes the call's provider key from both views", () => {
    const key = 'zz-custom-key-0123456789';
    const e = upstreamHttpError(400, openai(`key ${key.slice(3, 14)} rejected`)).without(key);
    assert.ok(!e.reply.message.includes(key.slice(3, 14)), e.reply.message);
    const op = upstreamHttpError(401, openai(`bad key ${key}`)).without(key);
    assert.ok(!op.detail.providerMessage!.includes(key), op.detail.providerMessage!);
  });
});
