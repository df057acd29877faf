import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { z } from 'zod';
import { baseServiceEnv, ConfigError, env, kafkaSecurity, readEnv } from './index.js';

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

describe('Kafka security settings', () => {
  const base = z.object(baseServiceEnv);
  const files: Record<string, string> = {
    '/s/ca.pem': 'CA',
    '/s/cert.pem': 'CERT',
    '/s/key.pem': 'KEY',
    '/s/pw': 'pw-from-file\n',
  };
  const readFile = (p: string) => {
    const v = files[p];
    if (v === undefined) throw Object.assign(new Error('nope'), { code: 'ENOENT' });
    return v;
  };
  const security = (vars: Record<string, string>) =>
    kafkaSecurity('svc', readEnv('svc', base, vars), readFile);

  test('plaintext and no SASL by default', () => {
    assert.deepEqual(security({}), {});
  });

  test('KAFKA_SSL=true alone trusts the system CAs (no ca); the files give CA and client certificate', () => {
    assert.deepEqual(security({ KAFKA_SSL: 'true' }), { ssl: {} });
    assert.deepEqual(
      security({
        KAFKA_SSL_CA_FILE: '/s/ca.pem',
        KAFKA_SSL_CERT_FILE: '/s/cert.pem',
        KAFKA_SSL_KEY_FILE: '/s/key.pem',
        KAFKA_SSL_SERVERNAME: 'kafka.internal',
      }),
      { ssl: { ca: 'CA', cert: 'CERT', key: 'KEY', servername: 'kafka.internal' } },
    );
  });

  test('SCRAM with the password from a file (trimmed)', () => {
    assert.deepEqual(
      security({
        KAFKA_SSL: 'true',
        KAFKA_SASL_MECHANISM: 'scram-sha-512',
        KAFKA_SASL_USERNAME: 'gw',
        KAFKA_SASL_PASSWORD_FILE: '/s/pw',
      }),
      { ssl: {}, sasl: { mechanism: 'scram-sha-512', username: 'gw', password: 'pw-from-file' } },
    );
  });

  test('every inconsistency at once, naming the variables, never a secret', () => {
    assert.throws(
      () =>
        security({
          KAFKA_SSL_CERT_FILE: '/s/cert.pem',
          KAFKA_SSL_CA_FILE: '/s/missing.pem',
          KAFKA_SASL_MECHANISM: 'scram-sha-256',
          KAFKA_SASL_PASSWORD: 'hunter2-secret',
          KAFKA_SASL_PASSWORD_FILE: '/s/pw',
        }),
      (e: unknown) =>
        e instanceof ConfigError &&
        e.problems.length === 4 &&
        /KAFKA_SSL_CA_FILE: cannot read \/s\/missing.pem \(ENOENT\)/.test(e.message) &&
        e.message.includes('KAFKA_SSL_KEY_FILE') &&
        e.message.includes('KAFKA_SASL_USERNAME') &&
        e.message.includes('not both') &&
        !e.message.includes('hunter2'),
    );
    assert.throws(() => security({ KAFKA_SASL_USERNAME: 'u' }), /set KAFKA_SASL_MECHANISM/);
    assert.throws(
      () => readEnv('svc', base, { KAFKA_SASL_MECHANISM: 'gssapi' }),
      /KAFKA_SASL_MECHANISM/,
    );
  });

  test('KAFKA_TOPICS: per-topic overrides, JSON, strict', () => {
    const e = readEnv('svc', base, {
      KAFKA_TOPICS:
        '{"llm.requests.v1": {"partitions": 24, "config": {"min.insync.replicas": "2"}}}',
    });
    assert.deepEqual(e.KAFKA_TOPICS, {
      'llm.requests.v1': { partitions: 24, config: { 'min.insync.replicas': '2' } },
    });
    assert.throws(
      () => readEnv('svc', base, { KAFKA_TOPICS: '{' }),
      /KAFKA_TOPICS: not valid JSON/,
    );
    assert.throws(
      () => readEnv('svc', base, { KAFKA_TOPICS: '{"t": {"partitons": 3}}' }),
      /KAFKA_TOPICS: t: Unrecognized key/,
    );
    assert.throws(
      () =>
        readEnv('svc', base, { KAFKA_TOPICS: '{"t": {"config": {"cleanup.policy": "delete"}}}' }),
      /owned by Turnpike/,
    );
  });
});

test('env.duration reads a number and a unit as milliseconds, and names a bad value', () => {
  const schema = z.object({ A: env.duration('48h'), B: env.duration('1s') });
  assert.deepEqual(readEnv('x', schema, {}), { A: 172_800_000, B: 1_000 });
  assert.deepEqual(readEnv('x', schema, { A: '90m', B: '250ms' }), { A: 5_400_000, B: 250 });
  assert.deepEqual(readEnv('x', schema, { A: '1.5d', B: '2s' }), { A: 129_600_000, B: 2_000 });
  assert.throws(() => readEnv('x', schema, { A: '48' }), /A: '48' is not a duration/);
  assert.throws(() => readEnv('x', schema, { B: '-1s' }), /B: /);
});
