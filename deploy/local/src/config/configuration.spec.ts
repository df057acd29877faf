/**
 * docs/configuration.md is what the config classes give today, and `npm run up`'s configuration
 * surface resolves as documented (pure: no platform started; the new-user e2e test runs it).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { loadSettings } from '../settings.js';
import { commentsOf, configurationDoc, defaultOf, docFile } from './configuration-doc.js';
import { parseEnvText, portPlan, resolveLocalConfig } from './local-config.js';
import { z } from 'zod';

test('docs/configuration.md is current (npm run docs:configuration)', async () => {
  const want = await configurationDoc();
  assert.ok(
    readFileSync(docFile, 'utf8') === want,
    'docs/configuration.md is stale: run npm run docs:configuration',
  );
});

test('the reference names every variable of every service, with its default and comment', async () => {
  const doc = await configurationDoc();
  const settings = await loadSettings();
  for (const [p, shape] of Object.entries(settings))
    for (const name of Object.keys(shape))
      assert.ok(doc.includes(`| \`${name}\` |`), `${p}: ${name}`);
  assert.match(
    doc,
    /\| `GATEWAY_ADMIN_TOKEN` \| required \| Bearer token of the operator admin API/,
  );
  assert.match(doc, /\| `KAFKA_BROKERS` \| `127\.0\.0\.1:9092` \| Bootstrap brokers/);
  assert.match(doc, /\| `TURNPIKE_GATEWAY_PORT` \| `8080` \|/);
  const blank = doc
    .split('\n')
    .filter((l) => /^\| `[A-Z_]+` \| [^|]+ \|\s*(\(set by[^|]*)?\|$/.test(l));
  assert.deepEqual(blank, [], 'every variable has a meaning (a doc comment in its config class)');
});

test('comments and defaults are read as written', () => {
  const src = `const s = z.object({\n  /**\n   * Two\n   * lines.\n   */\n  A_B: x,\n  /** One. */\n  C: y,\n  D: z,\n});`;
  assert.deepEqual(
    [...commentsOf(src)],
    [
      ['A_B', 'Two lines.'],
      ['C', 'One.'],
    ],
  );
  assert.deepEqual(defaultOf(z.string()), { required: true, text: 'required' });
  assert.deepEqual(defaultOf(z.string().optional()), { required: false, text: '(unset)' });
  assert.deepEqual(defaultOf(z.coerce.number().default(5)), { required: false, text: '`5`' });
});

test('npm run up: file and environment reach the services that read them; typos are refused', async () => {
  const settings = await loadSettings();
  const file = parseEnvText(
    [
      '# a comment',
      'export LOG_LEVEL=debug',
      "CONNECTOR_STALL_MS='12345'",
      'OTEL_TRACES_EXPORTER=otlp',
      'TURNPIKE_BIND=0.0.0.0',
    ].join('\n'),
  );
  const cfg = resolveLocalConfig(
    file,
    {
      LOG_LEVEL: 'warn',
      GATEWAY_MAX_ATTEMPTS: '5',
      PATH: '/bin',
      HOME: '/root',
      TURNPIKE_GATEWAY_PORT: '9090',
    },
    settings,
  );
  assert.deepEqual(cfg.problems, []);
  assert.equal(cfg.bind, '0.0.0.0');
  assert.equal(cfg.gatewayPort, 9090);
  assert.equal(cfg.perService.gateway?.['LOG_LEVEL'], 'warn', 'the environment wins');
  assert.equal(cfg.perService.router?.['LOG_LEVEL'], 'warn');
  assert.equal(cfg.perService.connector?.['CONNECTOR_STALL_MS'], '12345');
  assert.equal(cfg.perService.gateway?.['CONNECTOR_STALL_MS'], undefined, 'only where it is read');
  assert.equal(cfg.perService.gateway?.['GATEWAY_MAX_ATTEMPTS'], '5');
  assert.deepEqual(cfg.shared, { OTEL_TRACES_EXPORTER: 'otlp' });
  assert.ok(!JSON.stringify(cfg).includes('/root'), 'the rest of the environment stays out');

  const bad = resolveLocalConfig(
    {
      LOG_LEVLE: 'debug',
      DATABASE_URL: 'postgres://x',
      TURNPIKE_ADMIN_TOKEN: 'short',
      CONNECTOR_PROVIDERS: '{"a": sk-x}',
    },
    { TURNPIKE_PORT_BASE: '70000' },
    settings,
  );
  assert.equal(bad.problems.length, 5, bad.problems.join('\n'));
  assert.match(bad.problems.join('\n'), /LOG_LEVLE: no such setting/);
  assert.match(bad.problems.join('\n'), /DATABASE_URL: set by npm run up itself/);
  assert.ok(!bad.problems.join('\n').includes('sk-x'), 'a provider key is never echoed');

  const accounts = resolveLocalConfig(
    { CONNECTOR_PROVIDERS_FILE: '/p.json' },
    {
      CONNECTOR_PROVIDERS:
        '{"mine":{"kind":"openai","baseUrl":"https://api.openai.com/v1","apiKey":"sk-1"}}',
    },
    settings,
    () => '{"anthropic":{"kind":"anthropic","apiKey":"sk-2"}}',
  );
  assert.deepEqual(Object.keys(accounts.providers).sort(), ['anthropic', 'mine']);
  assert.equal(accounts.perService.connector?.['CONNECTOR_PROVIDERS'], undefined);
});

test('ports: fixed by default, kept once chosen, an explicit setting wins', () => {
  const sims = ['sim', 'upstream-openai'];
  const defaults = portPlan(
    { gatewayPort: 8080, portBase: 18000 },
    { gateway: false, base: false },
    sims,
    {},
  );
  assert.deepEqual(defaults, {
    kafka: 18000,
    'kafka-controller': 18001,
    postgres: 18002,
    'router-1': 18010,
    'connector-1': 18011,
    'billing-1': 18012,
    'analytics-1': 18013,
    'simulator-sim': 18020,
    'simulator-upstream-openai': 18021,
    'gateway-1': 8080,
  });
  // `0`: free ports the first time (none fixed) ...
  assert.deepEqual(
    portPlan({ gatewayPort: null, portBase: null }, { gateway: true, base: true }, sims, {}),
    {},
  );
  // ... and the ones chosen then, after.
  const kept = { kafka: 40001, 'gateway-1': 40009, 'router-1': 40002 };
  assert.deepEqual(
    portPlan({ gatewayPort: null, portBase: null }, { gateway: true, base: true }, sims, kept),
    kept,
  );
  const moved = portPlan(
    { gatewayPort: 9090, portBase: 18000 },
    { gateway: true, base: false },
    sims,
    kept,
  );
  assert.equal(moved['gateway-1'], 9090);
  assert.equal(moved['kafka'], 40001);
  assert.equal(moved['postgres'], 18002);
});
