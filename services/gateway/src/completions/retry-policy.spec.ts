import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  RETRY_JITTER_MS,
  RetryBudget,
  sameEndpointRetry,
  type RetryQuestion,
} from './retry-policy.js';

const q = (over: Partial<RetryQuestion> = {}, error: Partial<RetryQuestion['error']> = {}) =>
  sameEndpointRetry({
    error: {
      code: 'upstream_error',
      retryable: true,
      retryAfterSec: null,
      upstreamStatus: 500,
      ...error,
    },
    chunksSent: 0,
    retriedAlready: false,
    timeLeftMs: 10_000,
    next: null,
    random: () => 0.5,
    ...over,
  });

describe('sameEndpointRetry', () => {
  test('one 5xx with no other endpoint: retried after a short jittered wait', () => {
    assert.deepEqual(q(), { retry: true, waitMs: 200 });
    const low = q({ random: () => 0 });
    const high = q({ random: () => 0.999999 });
    assert.deepEqual(
      [low.retry && low.waitMs, high.retry && high.waitMs],
      [RETRY_JITTER_MS.min, RETRY_JITTER_MS.max],
    );
  });

  test("a 429's Retry-After is the wait, when it fits the deadline", () => {
    const rl = { code: 'upstream_rate_limited', upstreamStatus: 429, retryAfterSec: 1 };
    assert.deepEqual(q({}, rl), { retry: true, waitMs: 1000 });
    assert.equal(q({ timeLeftMs: 1500 }, rl).retry, false, 'half of what is left at most');
    assert.equal(q({}, { ...rl, retryAfterSec: 30 }).retry, false);
  });

  test('resets, cuts before the first token and overloads are transient too', () => {
    for (const code of [
      'upstream_connection_error',
      'upstream_stream_cut',
      'upstream_overloaded',
      'upstream_timeout',
    ])
      assert.equal(q({}, { code, upstreamStatus: null }).retry, true, code);
  });

  test('never a client error, a configuration error, a second retry, or after output', () => {
    assert.equal(q({}, { code: 'context_length_exceeded', upstreamStatus: 400 }).retry, false);
    assert.equal(q({}, { code: 'invalid_request_error', retryable: false }).retry, false);
    assert.equal(q({}, { code: 'upstream_auth_failed', upstreamStatus: 401 }).retry, false);
    assert.equal(q({}, { code: 'provider_not_configured', upstreamStatus: null }).retry, false);
    assert.equal(q({}, { upstreamStatus: 418 }).retry, false, 'an odd 4xx is not a 5xx');
    assert.equal(q({ retriedAlready: true }).retry, false);
    assert.equal(q({ chunksSent: 2 }).retry, false);
  });

  test('another usable endpoint wins unless the wait is shorter than its expected TTFT', () => {
    assert.equal(q({ next: { usable: true, expectedTtftMs: null } }).retry, false);
    assert.equal(q({ next: { usable: true, expectedTtftMs: 150 } }).retry, false);
    assert.deepEqual(q({ next: { usable: true, expectedTtftMs: 800 } }), {
      retry: true,
      waitMs: 200,
    });
    // A next candidate that is itself unavailable (open circuit, Retry-After) is no alternative.
    assert.equal(q({ next: { usable: false, expectedTtftMs: null } }).retry, true);
  });
});

describe('RetryBudget', () => {
  test('10 % of the requests plus one a second, capped; a fresh endpoint has one retry', () => {
    let now = 0;
    const b = new RetryBudget(() => now);
    assert.equal(b.tryAcquire('e'), true);
    assert.equal(b.tryAcquire('e'), false, 'spent');
    // 10 requests earn one retry.
    for (let i = 0; i < 10; i++) b.noteRequest('e');
    assert.equal(b.tryAcquire('e'), true);
    assert.equal(b.tryAcquire('e'), false);
    // A second earns one; a long idle time no more than the cap.
    now += 1000;
    assert.equal(b.tryAcquire('e'), true);
    now += 3_600_000;
    let n = 0;
    while (b.tryAcquire('e')) n++;
    assert.equal(n, RetryBudget.capacity);
    // Endpoints have budgets of their own.
    assert.equal(b.tryAcquire('other'), true);
  });

  test('under an outage, retries stay near 10 % of the traffic plus one a second', () => {
    let now = 0;
    const b = new RetryBudget(() => now);
    let retries = 0;
    // 100 requests a second for 10 s, every one failing and asking for a retry.
    for (let t = 0; t < 10_000; t += 10) {
      now = t;
      b.noteRequest('e');
      if (b.tryAcquire('e')) retries++;
    }
    assert.ok(retries <= 1000 * 0.1 + 10 + 1, `${retries} retries for 1000 requests`);
    assert.ok(retries >= 100, `${retries}`);
  });
});
