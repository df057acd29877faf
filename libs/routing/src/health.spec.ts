import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { zeroTokens, type LlmAttemptV1 } from '@turnpike/contracts';
import {
  classifyAttempt,
  DEFAULT_HEALTH_POLICY,
  EndpointHealthTracker,
  HealthBook,
  percentiles,
  throughput,
  type HealthPolicy,
} from './health.js';

const T0 = Date.UTC(2026, 10, 24, 12, 0, 0);

let n = 0;
function attempt(over: Partial<LlmAttemptV1> = {}): LlmAttemptV1 {
  n++;
  return {
    v: 1,
    generationId: `gen-1732406400-test${String(n).padStart(6, '0')}`,
    attempt: 1,
    endpointId: 'm/x@a',
    provider: 'a',
    upstreamModel: 'x',
    outcome: 'success',
    upstreamStatus: 200,
    errorCode: null,
    providerCode: null,
    retryAfterSec: null,
    accountId: null,
    accountFailures: [],
    ttftMs: 100,
    latencyMs: 1100,
    tokens: { ...zeroTokens(), prompt: 10, completion: 101 },
    endedAt: T0,
    ...over,
  };
}
const fail = (over: Partial<LlmAttemptV1> = {}) =>
  attempt({
    outcome: 'error',
    upstreamStatus: 500,
    errorCode: 'upstream_error',
    ttftMs: null,
    latencyMs: 20,
    tokens: zeroTokens(),
    ...over,
  });

describe('classifyAttempt', () => {
  test('failures are what the endpoint (or our access to it) is to blame for', () => {
    assert.equal(classifyAttempt({ outcome: 'success', upstreamStatus: 200 }), 'success');
    assert.equal(classifyAttempt({ outcome: 'error', upstreamStatus: 500 }), 'failure');
    assert.equal(classifyAttempt({ outcome: 'error', upstreamStatus: 529 }), 'failure');
    assert.equal(
      classifyAttempt({ outcome: 'error', upstreamStatus: null }),
      'failure',
      'connection error',
    );
    assert.equal(classifyAttempt({ outcome: 'timeout', upstreamStatus: null }), 'failure');
    assert.equal(classifyAttempt({ outcome: 'error', upstreamStatus: 408 }), 'failure');
    assert.equal(
      classifyAttempt({ outcome: 'error', upstreamStatus: 401 }),
      'failure',
      'our credentials',
    );
    assert.equal(classifyAttempt({ outcome: 'error', upstreamStatus: 429 }), 'rate_limited');
    // Every 4xx that is not the request's own fault is ours upstream: the policy answers 502.
    for (const s of [402, 405, 409, 410])
      assert.equal(classifyAttempt({ outcome: 'error', upstreamStatus: s }), 'failure', `${s}`);
  });
  test("the error policy's code wins over the bare status", () => {
    // OpenAI's quota error comes as a 429, but our account cannot pay: not a rate limit.
    assert.equal(
      classifyAttempt({
        outcome: 'error',
        upstreamStatus: 429,
        errorCode: 'upstream_payment_required',
      }),
      'failure',
    );
    // A throttle a provider sends as a 400 is a rate limit, not the request's fault.
    assert.equal(
      classifyAttempt({
        outcome: 'error',
        upstreamStatus: 400,
        errorCode: 'upstream_rate_limited',
      }),
      'rate_limited',
    );
    assert.equal(
      classifyAttempt({
        outcome: 'error',
        upstreamStatus: 502,
        errorCode: 'context_length_exceeded',
      }),
      'ignored',
    );
    // A provider's own code on a 400 (passed through) leaves the status to decide.
    assert.equal(
      classifyAttempt({ outcome: 'error', upstreamStatus: 400, errorCode: 'invalid_value' }),
      'ignored',
    );
  });
  test('the request’s own faults and cancellations say nothing about the endpoint', () => {
    assert.equal(classifyAttempt({ outcome: 'error', upstreamStatus: 400 }), 'ignored');
    assert.equal(classifyAttempt({ outcome: 'error', upstreamStatus: 413 }), 'ignored');
    assert.equal(classifyAttempt({ outcome: 'cancelled', upstreamStatus: null }), 'ignored');
  });
  test('no usable provider account is our configuration error, not an outage of the endpoint', () => {
    const notConfigured = {
      outcome: 'error' as const,
      upstreamStatus: null,
      errorCode: 'provider_not_configured',
    };
    assert.equal(classifyAttempt(notConfigured), 'ignored');
    // Without its code, the same record (no HTTP answer) would be a connection failure.
    assert.equal(classifyAttempt({ ...notConfigured, errorCode: null }), 'failure');
  });
});

describe('EndpointHealthTracker: circuit breaker', () => {
  test('opens after N consecutive failures, not before', () => {
    const t = new EndpointHealthTracker();
    for (let i = 0; i < DEFAULT_HEALTH_POLICY.consecutiveFailures - 1; i++) {
      t.observe(fail({ endedAt: T0 + i }), T0 + i);
      assert.equal(t.circuit(T0 + i), 'closed');
    }
    const change = t.observe(fail({ endedAt: T0 + 10 }), T0 + 10);
    assert.equal(change, 'state');
    assert.equal(t.circuit(T0 + 10), 'open');
    const h = t.snapshot(T0 + 10);
    assert.equal(h.circuit, 'open');
    assert.equal(h.circuitOpenUntil, T0 + 10 + DEFAULT_HEALTH_POLICY.cooldownMs);
    assert.equal(h.consecutiveFailures, 5);
  });

  test('a success resets the consecutive count', () => {
    const t = new EndpointHealthTracker({ ...DEFAULT_HEALTH_POLICY, minSamplesForRate: 1000 });
    for (let i = 0; i < 20; i++) {
      t.observe(i % 4 === 3 ? attempt({ endedAt: T0 + i }) : fail({ endedAt: T0 + i }), T0 + i);
    }
    assert.equal(t.circuit(T0 + 20), 'closed');
  });

  test('opens when the recent error rate reaches the threshold', () => {
    const policy: HealthPolicy = { ...DEFAULT_HEALTH_POLICY, consecutiveFailures: 100 };
    const t = new EndpointHealthTracker(policy);
    // Alternating success and failure: 50% over the window once it holds 10 attempts.
    for (let i = 0; i < 9; i++)
      t.observe(i % 2 === 0 ? fail({ endedAt: T0 + i }) : attempt({ endedAt: T0 + i }), T0 + i);
    assert.equal(t.circuit(T0 + 9), 'closed');
    t.observe(attempt({ endedAt: T0 + 9 }), T0 + 9);
    t.observe(fail({ endedAt: T0 + 10 }), T0 + 10);
    assert.equal(t.circuit(T0 + 10), 'open');
  });

  test('open → half-open after the cool-down; a successful probe closes it', () => {
    const t = new EndpointHealthTracker();
    for (let i = 0; i < 5; i++) t.observe(fail({ endedAt: T0 }), T0);
    const until = T0 + DEFAULT_HEALTH_POLICY.cooldownMs;
    assert.equal(t.nextTransitionAt(T0), until);
    assert.equal(t.circuit(until - 1), 'open');
    assert.equal(t.circuit(until), 'half_open');
    assert.equal(t.tick(until), true);
    assert.equal(t.tick(until + 1), false, 'ticks once');
    assert.equal(t.snapshot(until).circuit, 'half_open');
    assert.equal(t.observe(attempt({ endedAt: until + 50 }), until + 50), 'state');
    assert.equal(t.circuit(until + 50), 'closed');
    assert.equal(t.snapshot(until + 50).circuitOpenUntil, null);
  });

  test('a failed probe reopens with twice the cool-down, capped', () => {
    const policy: HealthPolicy = {
      ...DEFAULT_HEALTH_POLICY,
      cooldownMs: 1000,
      maxCooldownMs: 3000,
    };
    const t = new EndpointHealthTracker(policy);
    for (let i = 0; i < 5; i++) t.observe(fail(), T0);
    let now = T0 + 1000;
    const cooldowns: number[] = [];
    for (let i = 0; i < 3; i++) {
      assert.equal(t.circuit(now), 'half_open');
      t.observe(fail({ endedAt: now }), now);
      const until = t.snapshot(now).circuitOpenUntil!;
      cooldowns.push(until - now);
      now = until;
    }
    assert.deepEqual(cooldowns, [2000, 3000, 3000]);
    // Closing resets the cool-down.
    t.observe(attempt({ endedAt: now }), now);
    for (let i = 0; i < 5; i++) t.observe(fail({ endedAt: now }), now);
    assert.equal(t.snapshot(now).circuitOpenUntil, now + 1000);
  });

  test('a failure while open changes nothing; a success while open closes', () => {
    const t = new EndpointHealthTracker();
    for (let i = 0; i < 5; i++) t.observe(fail(), T0);
    const until = t.snapshot(T0).circuitOpenUntil;
    assert.equal(t.observe(fail({ endedAt: T0 + 1 }), T0 + 1), 'metrics');
    assert.equal(t.snapshot(T0 + 1).circuitOpenUntil, until);
    t.observe(attempt({ endedAt: T0 + 2 }), T0 + 2);
    assert.equal(t.circuit(T0 + 2), 'closed');
  });

  test('client errors and cancellations do not move the circuit', () => {
    const t = new EndpointHealthTracker();
    for (let i = 0; i < 20; i++) {
      assert.equal(
        t.observe(fail({ upstreamStatus: 400, errorCode: 'context_length_exceeded' }), T0),
        'none',
      );
      assert.equal(t.observe(attempt({ outcome: 'cancelled', upstreamStatus: null }), T0), 'none');
    }
    assert.equal(t.circuit(T0), 'closed');
    assert.equal(t.snapshot(T0).uptime.last5m, null);
  });
});

describe('EndpointHealthTracker: Retry-After', () => {
  test('a 429 with Retry-After sets retryAfterUntil from the attempt’s end', () => {
    const t = new EndpointHealthTracker();
    const change = t.observe(
      fail({
        upstreamStatus: 429,
        errorCode: 'upstream_rate_limited',
        retryAfterSec: 2,
        endedAt: T0,
      }),
      T0 + 5,
    );
    assert.equal(change, 'state');
    assert.equal(t.snapshot(T0 + 5).retryAfterUntil, T0 + 2000);
    assert.equal(t.snapshot(T0 + 2000).retryAfterUntil, null, 'expired');
  });
  test('an absurd Retry-After is capped', () => {
    const t = new EndpointHealthTracker();
    t.observe(
      fail({
        upstreamStatus: 429,
        errorCode: 'upstream_rate_limited',
        retryAfterSec: 86_400,
        endedAt: T0,
      }),
      T0,
    );
    assert.equal(t.snapshot(T0).retryAfterUntil, T0 + DEFAULT_HEALTH_POLICY.maxRetryAfterMs);
  });
  test('rate limits count for the circuit and error rate, not against uptime', () => {
    const t = new EndpointHealthTracker();
    t.observe(attempt(), T0);
    for (let i = 0; i < 5; i++)
      t.observe(fail({ upstreamStatus: 429, errorCode: 'upstream_rate_limited' }), T0);
    const h = t.snapshot(T0);
    assert.equal(h.circuit, 'open');
    assert.equal(h.uptime.last5m, 1);
    assert.ok(h.errorRate > 0.8);
  });
});

describe('EndpointHealthTracker: metrics', () => {
  test('EWMAs of latency, TTFT and throughput; p50s over 30 minutes', () => {
    const t = new EndpointHealthTracker({ ...DEFAULT_HEALTH_POLICY, ewmaAlpha: 0.5 });
    t.observe(attempt({ latencyMs: 1100, ttftMs: 100 }), T0);
    let h = t.snapshot(T0);
    assert.equal(h.latencyMsEwma, 1100);
    assert.equal(h.ttftMsEwma, 100);
    assert.equal(h.tokensPerSecondEwma, 100, '100 tokens after the first in 1 s');
    t.observe(attempt({ latencyMs: 2100, ttftMs: 300 }), T0);
    h = t.snapshot(T0);
    assert.equal(h.latencyMsEwma, 1600);
    assert.equal(h.ttftMsEwma, 200);
    assert.deepEqual(h.ttftMs, { p50: 100, p75: 300, p90: 300, p99: 300 });
    assert.equal(h.latencyMsP50, 1100);
    // Samples older than 30 minutes leave the percentiles (the EWMAs keep their memory).
    h = t.snapshot(T0 + 31 * 60_000);
    assert.equal(h.ttftMs, null);
    assert.equal(h.latencyMsP50, null);
    assert.equal(h.latencyMsEwma, 1600);
  });

  test('uptime over 5 minutes, 30 minutes and a day', () => {
    const t = new EndpointHealthTracker({
      ...DEFAULT_HEALTH_POLICY,
      consecutiveFailures: 1000,
      minSamplesForRate: 1000,
    });
    const min = 60_000;
    // 20 minutes ago: 3 failures, 1 success. 2 hours ago: 4 failures. Now: 4 successes.
    for (let i = 0; i < 4; i++) t.observe(fail({ endedAt: T0 - 120 * min }), T0);
    for (let i = 0; i < 3; i++) t.observe(fail({ endedAt: T0 - 20 * min }), T0);
    t.observe(attempt({ endedAt: T0 - 20 * min }), T0);
    for (let i = 0; i < 4; i++) t.observe(attempt({ endedAt: T0 }), T0);
    const h = t.snapshot(T0);
    assert.equal(h.uptime.last5m, 1);
    assert.equal(h.uptime.last30m, 5 / 8);
    assert.equal(h.uptime.last1d, 0.4167, 'rounded to 4 digits');
    assert.equal(h.attempts30m, 8);
    assert.equal(
      t.snapshot(T0 + 2 * 1440 * min).uptime.last1d,
      null,
      'a day later, nothing is left',
    );
  });

  test('throughput and percentiles helpers', () => {
    assert.equal(
      throughput({ latencyMs: 1000, ttftMs: 0, tokens: { ...zeroTokens(), completion: 0 } }),
      null,
    );
    assert.equal(
      throughput({ latencyMs: 1000, ttftMs: 1000, tokens: { ...zeroTokens(), completion: 50 } }),
      null,
      'non-streamed: unknown',
    );
    assert.equal(
      throughput({ latencyMs: 600, ttftMs: 100, tokens: { ...zeroTokens(), completion: 51 } }),
      100,
    );
    assert.equal(percentiles([]), null);
    assert.deepEqual(percentiles([5, 1, 4, 2, 3]), { p50: 3, p75: 4, p90: 5, p99: 5 });
  });
});

describe('HealthBook', () => {
  test('any number of provider_not_configured attempts leave the circuit closed and uptime unknown', () => {
    const book = new HealthBook();
    const before = book.health('m/x@a', T0);
    for (let i = 0; i < 50; i++) {
      const change = book.observe(
        fail({ upstreamStatus: null, errorCode: 'provider_not_configured', endedAt: T0 + i }),
        T0 + i,
      );
      assert.equal(change, 'none');
    }
    assert.deepEqual(book.health('m/x@a', T0 + 100), before);
    // The same number of connection errors would have opened it.
    for (let i = 0; i < 5; i++)
      book.observe(fail({ upstreamStatus: null, errorCode: 'upstream_connection_error' }), T0);
    assert.equal(book.health('m/x@a', T0).circuit, 'open');
  });

  test('keeps one tracker per endpoint and reports the next circuit transition', () => {
    const book = new HealthBook();
    for (let i = 0; i < 5; i++) book.observe(fail({ endpointId: 'm/x@a' }), T0);
    book.observe(attempt({ endpointId: 'm/x@b' }), T0);
    assert.equal(book.health('m/x@a', T0).circuit, 'open');
    assert.equal(book.health('m/x@b', T0).circuit, 'closed');
    assert.equal(book.health('m/x@zzz', T0).circuit, 'closed', 'unknown endpoints are healthy');
    const next = book.nextTransitionAt(T0)!;
    assert.equal(next, T0 + DEFAULT_HEALTH_POLICY.cooldownMs);
    assert.deepEqual(book.tick(next - 1), []);
    assert.deepEqual(book.tick(next), ['m/x@a']);
    assert.equal(book.nextTransitionAt(next), null);
  });
});
