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
