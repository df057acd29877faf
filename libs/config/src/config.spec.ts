import { test } from 'node:test';
import assert from 'node:assert/strict';
import { z } from 'zod';
import { ConfigError, env, readEnv } from './index.js';

const schema = z.object({ PORT: env.port(8080), BROKERS: env.list(), DEBUG: env.bool(false) });

test('readEnv applies defaults and coerces values', () => {
  const c = readEnv('svc', schema, { BROKERS: 'a:1, b:2' });
  assert.deepEqual(c, { PORT: 8080, BROKERS: ['a:1', 'b:2'], DEBUG: false });
});

test('readEnv reports every problem with the variable name', () => {
  assert.throws(
    () => readEnv('svc', schema, { PORT: 'x', DEBUG: 'maybe' }),
    (e: unknown) =>
      e instanceof ConfigError &&
      e.problems.length === 3 &&
      e.message.includes('PORT') &&
      e.message.includes('BROKERS') &&
      e.message.includes('DEBUG'),
  );
});

test('env.duration reads a number and a unit as milliseconds, and names a bad value', () => {
  const schema = z.object({ A: env.duration('48h'), B: env.duration('1s') });
  assert.deepEqual(readEnv('x', schema, {}), { A: 172_800_000, B: 1_000 });
  assert.deepEqual(readEnv('x', schema, { A: '90m', B: '250ms' }), { A: 5_400_000, B: 250 });
  assert.deepEqual(readEnv('x', schema, { A: '1.5d', B: '2s' }), { A: 129_600_000, B: 2_000 });
  assert.throws(() => readEnv('x', schema, { A: '48' }), /A: '48' is not a duration/);
  assert.throws(() => readEnv('x', schema, { B: '-1s' }), /B: /);
});
