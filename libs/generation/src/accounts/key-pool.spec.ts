import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { AccountState, DEFAULT_POOL_POLICY, KeyPool, type PoolMember } from './key-pool.js';

const T0 = 1_800_000_000_000;
const member = (id: string, weight = 1): PoolMember => ({ id, weight, state: new AccountState() });

function picks(pool: KeyPool, members: PoolMember[], n: number, now = T0): string[] {
  const out: string[] = [];
  for (let i = 0; i < n; i++) {
    const p = pool.pick(members, now);
    assert.ok(p.ok);
    out.push(p.member.id);
  }
  return out;
}

describe('KeyPool: smooth weighted round-robin', () => {
  test('equal weights alternate', () => {
    const pool = new KeyPool();
    assert.deepEqual(picks(pool, [member('a'), member('b')], 6), ['a', 'b', 'a', 'b', 'a', 'b']);
  });

  test('weights 5:1:1 give each its share, interleaved (no burst of five)', () => {
    const pool = new KeyPool();
    const got = picks(pool, [member('a', 5), member('b'), member('c')], 7);
    assert.deepEqual(got, ['a', 'a', 'b', 'a', 'c', 'a', 'a']);
    const many = picks(pool, [member('a', 5), member('b'), member('c')], 700);
    const count = (id: string) => many.filter((x) => x === id).length;
    assert.deepEqual([count('a'), count('b'), count('c')], [500, 100, 100]);
  });

  test('an excluded account (already tried by this request) is skipped; none left: empty', () => {
    const pool = new KeyPool();
    const ms = [member('a'), member('b')];
    const p = pool.pick(ms, T0, new Set(['a']));
    assert.ok(p.ok && p.member.id === 'b');
    assert.deepEqual(pool.pick(ms, T0, new Set(['a', 'b'])), { ok: false, reason: 'empty' });
    assert.deepEqual(pool.pick([], T0), { ok: false, reason: 'empty' });
  });

  test('an account that left the pool is forgotten; one that joins takes its share at once', () => {
    const pool = new KeyPool();
    const a = member('a');
    const b = member('b');
    picks(pool, [a, b], 3);
    const c = member('c');
    const got = picks(pool, [a, c], 4);
    assert.equal(got.filter((x) => x === 'c').length, 2);
  });
});

describe('KeyPool: per-account cool-down and circuit', () => {
  test('a 429 cools one account down for its Retry-After; the others take its traffic', () => {
    const pool = new KeyPool();
    const a = member('a');
    const b = member('b');
    a.state.begin(T0);
    a.state.end({ kind: 'rate_limited', retryAfterSec: 7, errorCode: 'upstream_rate_limited' }, T0);
    assert.equal(a.state.coolingUntil, T0 + 7000);
    assert.deepEqual(picks(pool, [a, b], 4, T0 + 6999), ['b', 'b', 'b', 'b']);
    // Back in the pool once the cool-down is over.
    assert.ok(picks(pool, [a, b], 2, T0 + 7000).includes('a'));
  });

  test('a 429 without Retry-After cools down for the default; a huge one is capped', () => {
    const s = new AccountState();
    s.end({ kind: 'rate_limited', retryAfterSec: null, errorCode: null }, T0);
    assert.equal(s.coolingUntil, T0 + DEFAULT_POOL_POLICY.defaultCooldownMs);
    const t = new AccountState();
    t.end({ kind: 'rate_limited', retryAfterSec: 86_400, errorCode: null }, T0);
    assert.equal(t.coolingUntil, T0 + DEFAULT_POOL_POLICY.maxRetryAfterMs);
  });

  test('every account cooling down: the one whose cool-down ends first, as a last resort', () => {
    const pool = new KeyPool();
    const a = member('a');
    const b = member('b');
    a.state.end({ kind: 'rate_limited', retryAfterSec: 9, errorCode: null }, T0);
    b.state.end({ kind: 'rate_limited', retryAfterSec: 3, errorCode: null }, T0);
    const pick = pool.pick([a, b], T0 + 1000);
    assert.ok(pick.ok);
    assert.equal(pick.member.id, 'b');
    assert.equal(pick.lastResort, true);
    // A lone account that was throttled once is still asked (the upstream decides).
    assert.ok(pool.pick([a], T0 + 1000).ok);
  });

  test('refused credentials open the circuit after N in a row; a probe after the cool-down', () => {
    const p = { ...DEFAULT_POOL_POLICY, failuresToOpen: 2, circuitCooldownMs: 1000 };
    const s = new AccountState(p);
    s.begin(T0);
    s.end({ kind: 'refused', errorCode: 'upstream_auth_failed' }, T0);
    assert.equal(s.circuit(T0), 'closed');
    s.begin(T0);
    s.end({ kind: 'refused', errorCode: 'upstream_auth_failed' }, T0);
    assert.equal(s.circuit(T0), 'open');
    assert.equal(s.ready(T0 + 999), false);
    assert.equal(s.circuit(T0 + 1000), 'half_open');
    assert.equal(s.ready(T0 + 1000), true);
    // One probe at a time.
    s.begin(T0 + 1000);
    assert.equal(s.ready(T0 + 1000), false);
    // A failed probe reopens it for twice as long.
    s.end({ kind: 'refused', errorCode: 'upstream_auth_failed' }, T0 + 1000);
    assert.equal(s.circuit(T0 + 2999), 'open');
    assert.equal(s.circuitOpenUntil, T0 + 3000);
    // A successful probe closes it.
    s.begin(T0 + 3000);
    s.end({ kind: 'success' }, T0 + 3000);
    assert.equal(s.circuit(T0 + 3000), 'closed');
    assert.equal(s.consecutiveRefusals, 0);
  });

  test("the endpoint's own failures (5xx, connection) are counted but leave the account usable", () => {
    const s = new AccountState();
    for (let i = 0; i < 20; i++) {
      s.begin(T0);
      s.end({ kind: 'other', errorCode: 'upstream_error' }, T0);
    }
    assert.equal(s.failures, 20);
    assert.equal(s.ready(T0), true);
    assert.equal(s.circuit(T0), 'closed');
    assert.equal(s.inFlight, 0);
  });

  test('every account refused: the one that reopens first is tried as a last resort', () => {
    const pool = new KeyPool();
    const a = member('a');
    const b = member('b');
    for (const [m, at] of [
      [a, T0 + 50],
      [b, T0],
    ] as const) {
      for (let i = 0; i < DEFAULT_POOL_POLICY.failuresToOpen; i++)
        m.state.end({ kind: 'refused', errorCode: 'upstream_auth_failed' }, at);
    }
    const p = pool.pick([a, b], T0 + 100);
    assert.ok(p.ok);
    assert.equal(p.member.id, 'b');
    assert.equal(p.lastResort, true);
  });

  test('in-flight and usage counters', () => {
    const s = new AccountState();
    s.begin(T0);
    s.begin(T0 + 5);
    assert.equal(s.inFlight, 2);
    s.end({ kind: 'success' }, T0 + 10);
    s.end({ kind: 'cancelled' }, T0 + 10);
    assert.deepEqual(
      { inFlight: s.inFlight, requests: s.requests, successes: s.successes, last: s.lastUsedAt },
      { inFlight: 0, requests: 2, successes: 1, last: T0 + 5 },
    );
  });
});
