import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { ConfigError } from '@turnpike/config';
import { GatewayConfig } from './gateway.config.js';

const base = {
  DATABASE_URL: 'postgres://x@127.0.0.1/db',
  GATEWAY_ADMIN_TOKEN: 'adm-0123456789abcdef',
};
const key = randomBytes(32).toString('base64');

function refused(env: Record<string, string>): string {
  try {
    GatewayConfig.load(env);
  } catch (e) {
    assert.ok(e instanceof ConfigError, String(e));
    return e.message;
  }
  assert.fail('expected the configuration to be refused');
}

describe('GatewayConfig: the generation transport', () => {
  test('split by default; a master key given to a split gateway is not even read', () => {
    const c = GatewayConfig.load({ ...base, GATEWAY_MASTER_KEY_FILE: '/nonexistent/key' });
    assert.equal(c.transport, 'kafka');
    assert.equal(c.masterKeys, null);
  });

  test('fused without the master key: refused, saying what to set', () => {
    const msg = refused({ ...base, GATEWAY_TRANSPORT: 'inprocess' });
    assert.match(msg, /GATEWAY_TRANSPORT=inprocess/);
    assert.match(msg, /GATEWAY_MASTER_KEY or GATEWAY_MASTER_KEY_FILE/);
  });

  test('fused with the key, from the variable or a file; both at once, or a bad key, refused', () => {
    const fromVar = GatewayConfig.load({
      ...base,
      GATEWAY_TRANSPORT: 'inprocess',
      GATEWAY_MASTER_KEY: key,
    });
    assert.equal(fromVar.transport, 'inprocess');
    assert.ok(fromVar.masterKeys);
    const file = join(mkdtempSync(join(tmpdir(), 'gw-config-')), 'master.key');
    writeFileSync(file, `k1:${key}\n`);
    const fromFile = GatewayConfig.load({
      ...base,
      GATEWAY_TRANSPORT: 'inprocess',
      GATEWAY_MASTER_KEY_FILE: file,
    });
    assert.ok(fromFile.masterKeys);
    assert.match(
      refused({
        ...base,
        GATEWAY_TRANSPORT: 'inprocess',
        GATEWAY_MASTER_KEY: key,
        GATEWAY_MASTER_KEY_FILE: file,
      }),
      /not both/,
    );
    const bad = refused({ ...base, GATEWAY_TRANSPORT: 'inprocess', GATEWAY_MASTER_KEY: 'short' });
    assert.match(bad, /GATEWAY_MASTER_KEY:/);
    assert.ok(!bad.includes(key));
    assert.match(refused({ ...base, GATEWAY_TRANSPORT: 'fused' }), /GATEWAY_TRANSPORT/);
  });
});
