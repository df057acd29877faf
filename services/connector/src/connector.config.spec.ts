import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { ConfigError } from '@turnpike/config';
import { ConnectorConfig } from './connector.config.js';

const base = { DATABASE_URL: 'postgres://x@127.0.0.1/db' };
const master = randomBytes(32).toString('base64');
const providers = JSON.stringify({
  sim: { kind: 'openai', baseUrl: 'http://127.0.0.1:9/v1', apiKey: 'sk-config-0123456789abcdef' },
});

function refused(env: Record<string, string>): string {
  try {
    ConnectorConfig.load(env);
  } catch (e) {
    assert.ok(e instanceof ConfigError, String(e));
    return e.message;
  }
  assert.fail('expected the configuration to be refused');
}

describe('ConnectorConfig', () => {
  test('bootstrap accounts without a master key: refused, saying what to set', () => {
    const msg = refused({ ...base, CONNECTOR_PROVIDERS: providers });
    assert.match(msg, /no master key is configured/);
    assert.match(msg, /CONNECTOR_MASTER_KEY/);
    assert.ok(!msg.includes('sk-config'), 'the bootstrap key in the message');
  });

  test('no accounts and no master key: starts (accounts can be refused later)', () => {
    const c = ConnectorConfig.load(base);
    assert.equal(c.masterKeys, null);
    assert.deepEqual(c.bootstrap, {});
  });

  test('the master key from the variable or a mounted file, not both', () => {
    const dir = mkdtempSync(join(tmpdir(), 'connector-config-'));
    const file = join(dir, 'master.key');
    writeFileSync(file, `main:${master}\n`);
    const fromFile = ConnectorConfig.load({
      ...base,
      CONNECTOR_MASTER_KEY_FILE: file,
      CONNECTOR_PROVIDERS: providers,
    });
    assert.equal(fromFile.masterKeys!.current.id, 'main');
    assert.equal(fromFile.bootstrap['sim']!.credentials.type, 'api_key');
    const fromEnv = ConnectorConfig.load({ ...base, CONNECTOR_MASTER_KEY: master });
    assert.match(fromEnv.masterKeys!.current.id, /^k[0-9a-f]{8}$/);
    assert.match(
      refused({ ...base, CONNECTOR_MASTER_KEY: master, CONNECTOR_MASTER_KEY_FILE: file }),
      /not both/,
    );
    assert.match(
      refused({ ...base, CONNECTOR_MASTER_KEY_FILE: join(dir, 'missing') }),
      /cannot read .*ENOENT/,
    );
  });

  test('a bad master key or bad bootstrap JSON is named, never quoted', () => {
    const short = randomBytes(8).toString('base64');
    const msg = refused({ ...base, CONNECTOR_MASTER_KEY: short });
    assert.match(msg, /32 bytes/);
    assert.ok(!msg.includes(short));
    const bad = `{"sim": {"kind": "openai", "baseUrl": "x", "apiKey": "sk-leak-0123456789"`;
    const m2 = refused({ ...base, CONNECTOR_MASTER_KEY: master, CONNECTOR_PROVIDERS: bad });
    assert.match(m2, /not valid JSON/);
    assert.ok(!m2.includes('sk-leak'));
    const withCreds = JSON.stringify({
      sim: { kind: 'openai', baseUrl: 'http://user:pw@h/v1', apiKey: 'sk-leak-0123456789' },
    });
    const m3 = refused({ ...base, CONNECTOR_MASTER_KEY: master, CONNECTOR_PROVIDERS: withCreds });
    assert.match(m3, /sim\.baseUrl/);
    assert.ok(!m3.includes('pw@') && !m3.includes('sk-leak'));
  });

  test('the stall limit: 10 s unless CONNECTOR_STALL_MS says otherwise', () => {
    assert.equal(ConnectorConfig.load(base).stallMs, 10_000);
    assert.equal(ConnectorConfig.load({ ...base, CONNECTOR_STALL_MS: '4000' }).stallMs, 4_000);
    assert.match(refused({ ...base, CONNECTOR_STALL_MS: 'soon' }), /CONNECTOR_STALL_MS/);
  });
});
