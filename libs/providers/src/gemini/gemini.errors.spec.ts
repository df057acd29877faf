import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, test } from 'node:test';
import { ReplyError } from '@turnpike/contracts';
import { geminiStreamError, parseDuration, retryDelayOf } from './gemini.errors.js';
import { geminiProvider, vertexProvider } from './gemini.provider.js';

const FIXTURES = new URL('../../src/gemini/fixtures/', import.meta.url);
const fixture = (name: string): string => readFileSync(new URL(name, FIXTURES), 'utf8');

/** A Google error body, written as the service writes it. */
const google = (code: number, status: string, message: string, details?: unknown[]): string =>
  `${JSON.stringify({ error: { code, message, status, ...(details ? { details } : {}) } }, null, 2)}\n`;

const mapError = (status: number, body: string, headers = {}) =>
  geminiProvider.mapError(status, body, headers);

describe('HTTP errors of the Gemini API and Vertex AI', () => {
  test('an invalid API key (a 400 INVALID_ARGUMENT, reason API_KEY_INVALID) is our credentials', () => {
    const e = mapError(400, fixture('error-400-api-key-invalid.json'));
    assert.equal(e.reply.status, 502);
    assert.equal(e.reply.code, 'upstream_auth_failed');
    assert.equal(e.reply.retryable, true);
    assert.equal(e.reply.upstreamStatus, 400);
    assert.doesNotMatch(e.reply.message, /API key not valid/, 'never echoed');
    assert.match(e.reply.message, /not a problem with your API key/);
    assert.equal(e.detail.providerCode, 'API_KEY_INVALID');
    assert.equal(e.detail.providerType, 'INVALID_ARGUMENT');
    assert.equal(e.detail.providerMessage, 'API key not valid. Please pass a valid API key.');
  });

  test("a 429 RESOURCE_EXHAUSTED: rate limited, RetryInfo's delay as Retry-After", () => {
    const e = mapError(429, fixture('error-429-resource-exhausted.json'));
    assert.equal(e.reply.status, 503);
    assert.equal(e.reply.code, 'upstream_rate_limited');
    assert.equal(e.reply.retryAfterSec, 56);
    assert.doesNotMatch(JSON.stringify(e.reply), /quota|googleapis/i);
    // A Retry-After header, when there is one, wins.
    assert.equal(
      mapError(429, fixture('error-429-resource-exhausted.json'), { 'retry-after': '3' }).reply
        .retryAfterSec,
      3,
    );
    assert.equal(
      mapError(429, google(429, 'RESOURCE_EXHAUSTED', 'slow')).reply.retryAfterSec,
      null,
    );
  });

  test('a 404 NOT_FOUND (as answered to a streamed request): the model is not served', () => {
    const e = mapError(404, fixture('error-404-not-found.json'), {
      'content-type': 'text/event-stream',
    });
    assert.equal(e.reply.status, 502);
    assert.equal(e.reply.code, 'upstream_model_not_found');
    assert.equal(e.detail.providerType, 'NOT_FOUND');
  });

  test('each status, with its canonical name', () => {
    const table: [number, string, number, string, boolean][] = [
      [400, 'INVALID_ARGUMENT', 400, 'INVALID_ARGUMENT', false],
      [400, 'FAILED_PRECONDITION', 502, 'upstream_payment_required', true],
      [401, 'UNAUTHENTICATED', 502, 'upstream_auth_failed', true],
      [403, 'PERMISSION_DENIED', 502, 'upstream_auth_failed', true],
      [404, 'NOT_FOUND', 502, 'upstream_model_not_found', true],
      [429, 'RESOURCE_EXHAUSTED', 503, 'upstream_rate_limited', true],
      [500, 'INTERNAL', 502, 'upstream_error', true],
      [503, 'UNAVAILABLE', 503, 'upstream_overloaded', true],
      [504, 'DEADLINE_EXCEEDED', 504, 'upstream_timeout', true],
    ];
    for (const [status, name, want, code, retryable] of table) {
      const e = mapError(status, google(status, name, 'Request contains an invalid argument.'));
      assert.equal(e.reply.status, want, `${status} ${name}`);
      assert.equal(e.reply.code, code, `${status} ${name}`);
      assert.equal(e.reply.retryable, retryable, `${status} ${name}`);
      assert.equal(e.reply.upstreamStatus, status);
      assert.deepEqual(ReplyError.parse(e.reply), e.reply);
    }
    // The tenant's own mistake passes, scrubbed.
    const bad = mapError(
      400,
      google(400, 'INVALID_ARGUMENT', 'Invalid value at "generation_config.temperature"'),
    );
    assert.equal(bad.reply.message, 'Invalid value at "generation_config.temperature"');
    assert.equal(bad.reply.type, 'invalid_request_error');
  });

  test('a 403 quoting our key is never echoed', () => {
    const key = 'AIzaSyD-0123456789abcdefghijklmnopqrstu';
    const e = vertexProvider.mapError(
      403,
      google(
        403,
        'PERMISSION_DENIED',
        `Permission denied: Consumer 'api_key:${key}' has been suspended.`,
        [{ '@type': 'type.googleapis.com/google.rpc.ErrorInfo', reason: 'CONSUMER_SUSPENDED' }],
      ),
      {},
    );
    assert.equal(e.reply.status, 502);
    assert.ok(!JSON.stringify(e.reply).includes(key.slice(0, 10)));
    assert.ok(!JSON.stringify(e.reply).includes('Consumer'));
  });

  test('the context window: "exceeds the maximum number of tokens" is context_length_exceeded', () => {
    const e = mapError(
      400,
      google(
        400,
        'INVALID_ARGUMENT',
        'The input token count (1200000) exceeds the maximum number of tokens allowed (1048576).',
      ),
    );
    assert.equal(e.reply.status, 400);
    assert.equal(e.reply.code, 'context_length_exceeded');
    assert.equal(e.reply.retryable, true);
  });

  test('body shapes: a JSON array (the non-SSE stream), HTML, empty', () => {
    const array = mapError(503, `[${google(503, 'UNAVAILABLE', 'The model is overloaded.')}]`);
    assert.equal(array.reply.code, 'upstream_overloaded');
    assert.equal(array.detail.providerMessage, 'The model is overloaded.');
    const html = mapError(
      502,
      '<!DOCTYPE html><html lang=en><title>Error 502 (Server Error)!!1</title><p>That’s an error.</html>',
    );
    assert.equal(html.reply.message, 'The upstream provider returned an error (HTTP 502).');
    assert.equal(mapError(400, '').reply.status, 400);
  });

  test('in-stream errors: the code, or the status name alone', () => {
    const coded = geminiStreamError({
      error: { code: 500, message: 'Internal error', status: 'INTERNAL' },
    });
    assert.equal(coded.reply.status, 502);
    assert.equal(coded.reply.upstreamStatus, 500);
    const named = geminiStreamError({ error: { message: 'x', status: 'UNAVAILABLE' } });
    assert.equal(named.reply.code, 'upstream_overloaded');
    assert.equal(named.reply.upstreamStatus, 503);
    const auth = geminiStreamError({
      error: {
        code: 400,
        message: 'API key expired. Please renew the API key.',
        status: 'INVALID_ARGUMENT',
        details: [
          { '@type': 'type.googleapis.com/google.rpc.ErrorInfo', reason: 'API_KEY_EXPIRED' },
        ],
      },
    });
    assert.equal(auth.reply.code, 'upstream_auth_failed');
    assert.doesNotMatch(auth.reply.message, /expired/);
  });

  test('RetryInfo durations', () => {
    assert.equal(parseDuration('7s'), 7);
    assert.equal(parseDuration('56.185908122s'), 56.185908122);
    assert.equal(parseDuration('0s'), 0);
    assert.equal(parseDuration('7'), null);
    assert.equal(parseDuration(7), null);
    assert.equal(retryDelayOf(JSON.parse(fixture('error-429-resource-exhausted.json'))), 56);
    assert.equal(retryDelayOf({ error: { details: [{ '@type': 'x.RetryInfo' }] } }), null);
    assert.equal(retryDelayOf('nope'), null);
  });
});
