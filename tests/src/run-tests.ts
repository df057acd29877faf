/**
 * `npm test`: the whole suite.
 *  1. unit specs beside the code (`libs/*`, `services/*` and `bench`, `*.spec.js`), no infrastructure;
 *  2. integration and end-to-end suites against ONE platform started for this run: a real Kafka
 *     broker (KRaft) and a real Postgres on free ports, the upstream simulators and the five
 *     services as separate processes, with spans exported to an OTLP collector of this runner.
 * Prints node's test summaries and a final "N passed, N failed" line; exits non-zero on failure.
 */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  seedTenant,
  startPlatform,
  stopPlatform,
  writeSecretFile,
  turnpikeCacheDir,
} from '@turnpike/testing';
import { startOtlpCollector } from './support/otlp-collector.js';
import { DOWN_PROVIDER, type TestContext } from './support/context.js';
import { testCatalog } from './support/native-models.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const cacheDir = turnpikeCacheDir();
const REQUEST_TIMEOUT_MS = 10_000;
// The connector's stall limit (10 s in production): well under the request timeout, so a stalled
// stream is seen ending at the stall limit, not at the deadline.
const CONNECTOR_STALL_MS = 4_000;
// The gateway's production default (4 MiB): large requests travel the real path in the tests.
const MAX_BODY_BYTES = 4 * 1024 * 1024;

/**
 * The suites about serving generations, run a second time against a fused gateway
 * (GATEWAY_TRANSPORT=inprocess) of the same platform: both transports must pass them. The rest
 * (billing, analytics, topics, restarts, the Kafka hop itself) do not depend on the transport.
 */
const TRANSPORT_SUITES = [
  'chat',
  'conformance',
  'errors',
  'failover',
  'stream-faults',
  'settlement',
  'routing',
  'openrouter-sdk',
  'native-usage',
  'models-only',
  'bad-input',
  'large-request',
  'slow-client',
  'provider-accounts',
];

interface RunResult {
  code: number;
  pass: number;
  fail: number;
}

function runNodeTest(args: string[], env: NodeJS.ProcessEnv = process.env): Promise<RunResult> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--test', '--test-reporter=spec', ...args], {
      cwd: root,
      env,
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let out = '';
    child.stdout.on('data', (b: Buffer) => {
      process.stdout.write(b);
      out += b.toString();
    });
    child.on('close', (code) => {
      const num = (label: string) => Number(new RegExp(`ℹ ${label} (\\d+)`).exec(out)?.[1] ?? 0);
      resolve({ code: code ?? 1, pass: num('pass'), fail: num('fail') + num('cancelled') });
    });
  });
}

async function integration(filter?: string): Promise<RunResult> {
  const stateDir = mkdtempSync(path.join(os.tmpdir(), 'turnpike-test-'));
  chmodSync(stateDir, 0o711); // traversable for Postgres' user; not listable: it holds secrets
  const spansFile = path.join(stateDir, 'spans.jsonl');
  writeFileSync(spansFile, '');
  const collector = await startOtlpCollector(spansFile);
  const started = Date.now();
  // Port 1 (tcpmux): privileged and unused, so no test platform's free port can take it, and a
  // connection is refused at once.
  const downUrl = 'http://127.0.0.1:1/v1';
  // One model per native protocol whose simulator and adapter exist (see support/native-models).
  const catalog = testCatalog(path.join(root, 'tests/fixtures/test.catalog.json'), stateDir);
  if (catalog.models.length > 0)
    console.log(`[platform] native test models: ${catalog.models.join(', ')}`);
  const downKey = `sk-down-${randomBytes(8).toString('hex')}`;
  try {
    const state = await startPlatform({
      rootDir: root,
      stateDir,
      cacheDir,
      detached: false,
      simulators: [{ id: 'sim' }, { id: 'sim-b' }, { id: 'sim-c' }, ...catalog.simulators],
      // An account whose upstream refuses every connection: errors.e2e.
      providers: {
        [DOWN_PROVIDER]: {
          kind: 'openai',
          baseUrl: downUrl,
          apiKey: downKey,
        },
      },
      gatewayReplicas: 2,
      fusedGateways: 1,
      catalogFile: catalog.file,
      env: {
        OTEL_TRACES_EXPORTER: 'otlp',
        OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json',
        OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: `${collector.endpoint}/v1/traces`,
        OTEL_BSP_SCHEDULE_DELAY: '200',
      },
      serviceEnv: {
        connector: { CONNECTOR_STALL_MS: String(CONNECTOR_STALL_MS) },
        gateway: {
          // The same stall limit as the connector's (a fused gateway enforces it itself).
          GATEWAY_STALL_TIMEOUT_MS: String(CONNECTOR_STALL_MS),
          GATEWAY_REQUEST_TIMEOUT_MS: String(REQUEST_TIMEOUT_MS),
          GATEWAY_MAX_BODY_BYTES: String(MAX_BODY_BYTES),
        },
        // Closed buckets reach usage.rollups.v1 within seconds (topics.e2e reads them).
        analytics: { ANALYTICS_CLOSE_DELAY: '1s', ANALYTICS_PUBLISH_INTERVAL: '1s' },
      },
      log: (l) => console.log(`[platform] ${l}`),
    });
    console.log(`[platform] up in ${((Date.now() - started) / 1000).toFixed(1)} s (${stateDir})`);
    const gatewayUrl = state.gatewayUrls[0]!;
    const gatewayUrls = state.gatewayUrls;
    const tenants = [
      await seedTenant(gatewayUrl, state.adminToken, { id: 'tenant-a', name: 'Tenant A' }),
      await seedTenant(gatewayUrl, state.adminToken, { id: 'tenant-b', name: 'Tenant B' }),
    ];
    const context: TestContext = {
      transport: 'kafka',
      attemptRunner: 'connector-1',
      gatewayUrl,
      gatewayUrls,
      adminToken: state.adminToken,
      tenants,
      simulators: state.simulators.map((s) => ({ id: s.id, url: s.url, apiKey: s.apiKey })),
      downUpstream: { provider: DOWN_PROVIDER, url: downUrl, apiKey: downKey },
      services: state.services.map((s) => ({ name: s.name, url: s.url, pid: s.pid })),
      kafkaBrokers: state.kafka.brokers,
      databaseUrl: state.postgres.url,
      spansFile,
      requestTimeoutMs: REQUEST_TIMEOUT_MS,
      connectorStallMs: CONNECTOR_STALL_MS,
      maxBodyBytes: MAX_BODY_BYTES,
    };
    const contextFile = path.join(stateDir, 'context.json');
    writeSecretFile(contextFile, JSON.stringify(context, null, 2));
    const split = await runNodeTest(
      [
        '--test-concurrency=1',
        '--test-timeout=300000',
        ...(filter
          ? [`tests/dist/e2e/**/${filter}*.e2e.js`]
          : [
              'tests/dist/e2e/**/*.e2e.js',
              'libs/*/dist/**/*.int-spec.js',
              'services/*/dist/**/*.int-spec.js',
            ]),
      ],
      { ...process.env, TURNPIKE_TEST_CONTEXT: contextFile },
    );
    // The same suites through the fused gateway (the filter, when given, picks among them).
    const fusedUrl = state.fusedGatewayUrls?.[0];
    // A filter is a file prefix, or several as a glob's `{a,b}`.
    const prefixes = filter?.replace(/[{}*]/g, '').split(',') ?? [''];
    const suites = TRANSPORT_SUITES.filter((s) => prefixes.some((p) => s.startsWith(p)));
    if (!fusedUrl || suites.length === 0 || process.env['TURNPIKE_SKIP_FUSED'] === '1')
      return split;
    console.log(`== the transport suites again, through the fused gateway ${fusedUrl} ==`);
    const fusedFile = path.join(stateDir, 'context-fused.json');
    writeSecretFile(
      fusedFile,
      JSON.stringify(
        {
          ...context,
          transport: 'inprocess',
          attemptRunner: 'gateway-fused-1',
          gatewayUrl: fusedUrl,
          gatewayUrls: [fusedUrl],
        },
        null,
        2,
      ),
    );
    const fused = await runNodeTest(
      [
        '--test-concurrency=1',
        '--test-timeout=300000',
        ...suites.map((s) => `tests/dist/e2e/${s}.e2e.js`),
      ],
      { ...process.env, TURNPIKE_TEST_CONTEXT: fusedFile },
    );
    return {
      code: split.code !== 0 ? split.code : fused.code,
      pass: split.pass + fused.pass,
      fail: split.fail + fused.fail,
    };
  } finally {
    await stopPlatform(stateDir).catch((e: unknown) =>
      console.error(`stopping the platform failed: ${String(e)}`),
    );
    await collector.close();
    if (process.env['TURNPIKE_KEEP_TEST_STATE'] !== '1')
      rmSync(stateDir, { recursive: true, force: true });
    else console.log(`[platform] state kept in ${stateDir}`);
  }
}

async function main(): Promise<number> {
  // `run-tests.js [unit|integration] [file prefix]`: a tier alone, or some e2e suites alone.
  const only = process.argv[2];
  const filter = process.argv[3];
  const results: RunResult[] = [];
  if (only !== 'integration') {
    console.log('== unit specs ==');
    // deploy/local's drift tests too (compose's demo files, docs/configuration.md); its chart
    // tests need helm and run in CI's deploy step (scripts/deploy-check.sh).
    results.push(
      await runNodeTest([
        'libs/*/dist/**/*.spec.js',
        'services/*/dist/**/*.spec.js',
        'bench/dist/**/*.spec.js',
        'deploy/local/dist/compose/*.spec.js',
        'deploy/local/dist/config/*.spec.js',
      ]),
    );
  }
  if (only !== 'unit') {
    console.log('== integration and end-to-end suites (real Kafka, Postgres, services) ==');
    results.push(await integration(filter));
  }
  const pass = results.reduce((n, r) => n + r.pass, 0);
  const fail = results.reduce((n, r) => n + r.fail, 0);
  const failed = results.some((r) => r.code !== 0) || fail > 0;
  console.log(`\n${pass} passed, ${fail} failed`);
  return failed ? 1 : 0;
}

main().then(
  (code) => process.exit(code),
  (e: unknown) => {
    console.error(e);
    process.exit(1);
  },
);
