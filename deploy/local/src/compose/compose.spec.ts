/**
 * docker-compose.yml against the code it runs: the demo files it mounts are what
 * `compose-demo.ts` makes from the catalogs today (drift), every simulator of the demo's plan is
 * a compose service of its protocol serving its models, and every variable compose gives a
 * service is a setting of that service's config class. The compose file's own validity (schema,
 * references, health checks, ordering) is scripts/compose-check.sh's.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parse } from 'yaml';
import { isForeignSetting, loadSettings, rootDir, type ConfiguredProcess } from '../settings.js';
import { COMPOSE_SIM_KEY, composeDemoFiles, demoDir } from './compose-demo.js';

type ComposeService = {
  command?: string[];
  environment?: Record<string, string | number>;
  volumes?: string[];
};
const compose = parse(readFileSync(path.join(rootDir, 'docker-compose.yml'), 'utf8'), {
  merge: true,
}) as { services: Record<string, ComposeService> };

test('the committed demo files are what the catalogs give today (npm run compose:demo)', () => {
  const want = composeDemoFiles();
  for (const [name, text] of Object.entries(want)) {
    const have = readFileSync(path.join(demoDir, name), 'utf8');
    assert.ok(have === text, `deploy/compose/demo/${name} is stale: run npm run compose:demo`);
  }
  assert.ok(Object.keys(want).length >= 4);
});

test('every simulator of the demo plan is a compose service of its protocol, with its models', () => {
  const sims = JSON.parse(composeDemoFiles()['simulators.json']!) as Array<{
    id: string;
    protocol: string;
  }>;
  assert.ok(sims.length >= 5, 'the demo serves several wire protocols');
  for (const s of [{ id: 'sim', protocol: 'openai' }, ...sims]) {
    const svc = compose.services[s.id];
    assert.ok(svc, `compose has no service ${s.id}`);
    const cmd = svc.command ?? [];
    const arg = (flag: string) => cmd[cmd.indexOf(flag) + 1];
    assert.equal(cmd[0], 'simulator');
    assert.equal(arg('--protocol'), s.protocol, s.id);
    assert.equal(arg('--api-key'), COMPOSE_SIM_KEY, s.id);
    assert.equal(arg('--port'), '9000', s.id);
    if (s.id !== 'sim') assert.equal(arg('--models-file'), `/demo/${s.id}.models.json`, s.id);
  }
  // And the connector reaches each through the providers file at its compose host name.
  const providers = JSON.parse(composeDemoFiles()['providers.json']!) as Record<
    string,
    { baseUrl?: string }
  >;
  const hosts = new Set(
    Object.values(providers)
      .map((p) => (p.baseUrl ? new URL(p.baseUrl).hostname : null))
      .filter((h): h is string => h !== null),
  );
  for (const h of hosts) assert.ok(compose.services[h], `providers.json names host ${h}`);
});

test('compose gives each service only settings its config class knows', async () => {
  const settings = await loadSettings();
  for (const name of ['gateway', 'router', 'connector', 'billing', 'analytics'] as const) {
    const svc = compose.services[name];
    assert.ok(svc, name);
    assert.deepEqual(svc.command, [name]);
    const known = settings[name as ConfiguredProcess];
    for (const variable of Object.keys(svc.environment ?? {})) {
      assert.ok(
        isForeignSetting(variable) || variable in known,
        `compose sets ${variable} on ${name}, which its config class does not read`,
      );
    }
  }
  // The checker itself can fail.
  assert.ok(!('NOT_A_SETTING' in settings.gateway));
});
