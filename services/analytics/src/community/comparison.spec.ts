/**
 * Model comparison over the fake rollup reader: per endpoint and per model (percentiles merged
 * across the model's endpoints by the reader, not averaged here), success and fallback rates
 * (a client's own fault and a cancel say nothing against the endpoint), the window's
 * granularity, and the ratings beside them.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { CompareModelsParams } from '@turnpike/contracts';
import { InMemoryCommunityDirectory } from './community-directory.js';
import { compareModels, granularityFor, measuredOf } from './comparison.js';
import { InMemoryRollupReader, percentiles } from './in-memory-rollups.js';
import { attempt, usage } from './spec-support.js';

const NOW = new Date('2026-03-18T12:00:00.000Z');
const HOUR = 3_600_000;
const at = (msAgo: number) => new Date(NOW.getTime() - msAgo).toISOString();

describe('comparison from attempts', () => {
  const events = [
    // x/one@sim: 8 successes (TTFT 100..800 ms), a rate limit (falls back), a provider's own
    // 400 code (the request's fault), a client that left.
    ...Array.from({ length: 8 }, (_, i) =>
      usage('a', 'x/one', at(HOUR), {
        attempts: [
          attempt('x/one@sim', 'success', {
            ttftMs: 100 * (i + 1),
            latencyMs: 100 * (i + 1) + 1000,
            completion: 100,
          }),
        ],
      }),
    ),
    usage('a', 'x/one', at(2 * HOUR), {
      attempts: [
        attempt('x/one@sim', 'error', { errorCode: 'upstream_rate_limited' }),
        attempt('x/one@sim-b', 'success', { n: 2, ttftMs: 900, latencyMs: 1900, completion: 200 }),
      ],
    }),
    usage('b', 'x/one', at(2 * HOUR), {
      attempts: [attempt('x/one@sim', 'error', { errorCode: 'invalid_prompt' })],
    }),
    usage('b', 'x/one', at(2 * HOUR), { attempts: [attempt('x/one@sim', 'cancelled')] }),
    // x/one@sim-b: two timeouts (one of them the gateway's own attempt budget) and one more success.
    usage('b', 'x/one', at(3 * HOUR), {
      attempts: [
        attempt('x/one@sim-b', 'timeout', { errorCode: 'attempt_timeout' }),
        attempt('x/one@sim-b', 'timeout', { n: 2, errorCode: 'timeout' }),
      ],
    }),
    usage('b', 'x/one', at(3 * HOUR), {
      attempts: [
        attempt('x/one@sim-b', 'success', { ttftMs: 1000, latencyMs: 2000, completion: 100 }),
      ],
    }),
    // Older than the window: not counted.
    usage('a', 'x/one', at(8 * 24 * HOUR), {
      attempts: [attempt('x/one@sim', 'error', { errorCode: 'upstream_error' })],
    }),
  ];
  const reader = new InMemoryRollupReader(events);
  const dir = new InMemoryCommunityDirectory();
  dir.optedIn.add('b');
  dir.reviews.push({ tenantId: 'b', model: 'x/one', score: 4, hidden: false });
  dir.reviews.push({ tenantId: 'c', model: 'x/one', score: 1, hidden: false });
  dir.feedback.push({ tenantId: 'a', model: 'x/one', thumbs: 'down', score: 2 });

  const ask = () =>
    compareModels(
      reader,
      dir,
      CompareModelsParams.parse({
        tenantId: 'a',
        windowMs: 7 * 24 * HOUR,
        models: [
          { id: 'x/one', endpointIds: ['x/one@sim', 'x/one@sim-b'] },
          { id: 'y/quiet', endpointIds: ['y/quiet@sim'] },
        ],
      }),
      NOW,
    );

  test('per endpoint: success and fallback rates, percentiles of successful attempts', async () => {
    const r = await ask();
    const [sim, simB] = r.models[0]!.endpoints;
    assert.equal(sim!.id, 'x/one@sim');
    assert.deepEqual(
      [
        sim!.measured.attempts,
        sim!.measured.successes,
        sim!.measured.failures,
        sim!.measured.cancelled,
      ],
      [11, 8, 2, 1],
    );
    assert.equal(sim!.measured.successRate, 0.8); // 8 of the 10 not cancelled
    assert.equal(sim!.measured.fallbackRate, 0.1); // the rate limit; not the client's 400
    assert.deepEqual(sim!.measured.ttftMs, { p50: 400, p90: 800, p99: 800 });
    assert.deepEqual(sim!.measured.latencyMs, { p50: 1400, p90: 1800, p99: 1800 });
    // 100 tokens over the 1000 ms after the first token: 100 tokens per second.
    assert.deepEqual(sim!.measured.tokensPerSecond, { p50: 100, p90: 100, p99: 100 });

    assert.equal(simB!.id, 'x/one@sim-b');
    assert.deepEqual([simB!.measured.attempts, simB!.measured.successes], [4, 2]);
    assert.equal(simB!.measured.successRate, 0.5);
    assert.equal(simB!.measured.fallbackRate, 0.5); // both timeouts
  });

  test('per model: the attempts of all its endpoints, percentiles merged over all of them', async () => {
    const { measured } = (await ask()).models[0]!;
    assert.deepEqual(
      [measured.attempts, measured.successes, measured.failures, measured.cancelled],
      [15, 10, 4, 1],
    );
    assert.equal(measured.successRate, Math.round((10 / 14) * 10_000) / 10_000);
    assert.equal(measured.fallbackRate, Math.round((3 / 14) * 10_000) / 10_000);
    assert.deepEqual(
      measured.ttftMs,
      percentiles([100, 200, 300, 400, 500, 600, 700, 800, 900, 1000]),
    );
    assert.deepEqual(measured.ttftMs, { p50: 500, p90: 900, p99: 1000 });
  });

  test('a model without traffic: zeros and nulls, not a failure', async () => {
    const quiet = (await ask()).models[1]!;
    assert.deepEqual(quiet.measured, measuredOf(undefined));
    assert.equal(quiet.measured.successRate, null);
    assert.equal(quiet.endpoints[0]!.measured.attempts, 0);
    assert.equal(quiet.rating.reviews, 0);
  });

  test('ratings: opted-in tenants and the caller; the window in hours for a week', async () => {
    const r = await ask();
    assert.deepEqual(r.models[0]!.rating, {
      model: 'x/one',
      reviews: 1,
      averageScore: 4,
      thumbsUp: 0,
      thumbsDown: 1,
      feedbackScored: 1,
      averageFeedbackScore: 2,
    });
    assert.deepEqual(r.window, {
      from: '2026-03-11T12:00:00.000Z',
      to: NOW.toISOString(),
      granularity: 'hour',
    });
  });

  test('granularity by window length', () => {
    assert.equal(granularityFor(60 * 60_000), 'minute');
    assert.equal(granularityFor(6 * HOUR), 'minute');
    assert.equal(granularityFor(6 * HOUR + 1), 'hour');
    assert.equal(granularityFor(7 * 24 * HOUR), 'hour');
    assert.equal(granularityFor(30 * 24 * HOUR), 'day');
  });
});
