/**
 * `npm run up`, `npm run down`, `npm run status`: the whole platform on this machine.
 * `up` starts Kafka, Postgres, the upstream simulators and the five services in the background,
 * serving the whole imported catalog (`services/router/catalog/imported.catalog.json`) offline,
 * seeds a demo tenant, prints the gateway URL and a demo key, and writes them to
 * `.turnpike/local.env` (as `export` lines, owner-only). Running it again while the platform is
 * up changes nothing. `status` only reads the state file and probes the processes and ports.
 *
 * Configured by `.turnpike/config.env` and the environment (config/local-config.ts,
 * docs/configuration.md): the gateway on 8080 and the rest on fixed ports, a bind address, any
 * service setting, OTLP, real provider accounts. What `up` makes once is kept across
 * `down`/`up`: the data, the master key, the admin token, the ports, the demo key.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { TARGETS } from '@turnpike/conformance';
import { CatalogFile } from '@turnpike/contracts';
import {
  isAlive,
  isRunning,
  kafkaPortsOf,
  mergeCatalogs,
  planLocalCatalog,
  simulatorConnection,
  masterKeyFileOf,
  readState,
  seedTenant,
  startPlatform,
  stopPlatform,
  writeSecretFile,
  type PlatformState,
  type SimulatorSpec,
} from '@turnpike/testing';
import {
  configTemplate,
  parseEnvText,
  portPlan,
  readConfigFile,
  resolveLocalConfig,
  type LocalConfig,
} from './config/local-config.js';
import { loadSettings } from './settings.js';

const rootDir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
// TURNPIKE_STATE_DIR moves everything `up` writes (the end-to-end test of `up` itself uses it).
const stateDir = process.env['TURNPIKE_STATE_DIR'] ?? path.join(rootDir, '.turnpike');
const envFile = path.join(stateDir, 'local.env');
const configFile = process.env['TURNPIKE_CONFIG'] ?? path.join(stateDir, 'config.env');
/** What `up` chose once and keeps: the admin token, the ports. */
const tokenFile = path.join(stateDir, 'admin-token');
const portsFile = path.join(stateDir, 'ports.json');
// The bootstrap script (scripts/turnpike) exports the cache location; this is the CLI's entry.
const cacheDir =
  process.env['TURNPIKE_CACHE_DIR'] ?? path.join(process.env['HOME'] ?? '/root', '.cache/turnpike');

const say = (line: string) => process.stdout.write(`${line}\n`);

/**
 * The demo's upstream: the simulator paced like a hosted model (a few hundred ms to the first
 * token, tens of tokens a second) and answering with text that reads like a reply, so a new
 * user's streaming curl visibly streams. Requests can still override every knob
 * (`[[sim ttft_ms=0 tps=0 tokens=16 text=echo]]`); the test platform keeps the instant defaults.
 */
const DEMO_ARGS = ['--ttft-ms', '400', '--tps', '35', '--tokens', '97', '--text', 'prose'];

const catalogDir = path.join(rootDir, 'services/router/catalog');

/**
 * The demo's catalog and upstreams: the simulator models (`turnpike/sim-*`, served by `sim`)
 * and the whole imported catalog, each provider's endpoints served by the simulator of its wire
 * protocol with an account of its credential type (as the conformance targets build them). A
 * provider whose kind has no adapter, or whose protocol no simulator yet, is left out and said.
 */
function demoCatalog(): { file: string; simulators: SimulatorSpec[]; notes: string[] } {
  const read = (name: string) =>
    CatalogFile.parse(JSON.parse(readFileSync(path.join(catalogDir, name), 'utf8')));
  const plan = planLocalCatalog(read('imported.catalog.json'));
  const connection = (kind: string, sim: { url: string; origin: string; apiKey: string }) =>
    TARGETS.find((t) => t.kind === kind)?.connection(sim) ?? simulatorConnection(kind, sim);
  const simulators: SimulatorSpec[] = [
    { id: 'sim', args: DEMO_ARGS },
    ...plan.simulators.map((s) => ({
      id: s.id,
      protocol: s.protocol,
      args: DEMO_ARGS,
      models: s.models,
      accounts: s.accounts.map((a) => ({
        ...a,
        connection: (sim: { url: string; origin: string; apiKey: string }) =>
          connection(a.kind, sim),
      })),
    })),
  ];
  mkdirSync(stateDir, { recursive: true });
  const file = path.join(stateDir, 'catalog.json');
  writeFileSync(file, JSON.stringify(mergeCatalogs(read('default.catalog.json'), plan.catalog)));
  const providers = new Set(plan.catalog.models.flatMap((m) => m.endpoints.map((e) => e.provider)));
  const notes = [
    `imported catalog: ${plan.catalog.models.length} models from ${providers.size} providers, ` +
      `on ${plan.simulators.map((s) => `${s.protocol} (${s.accounts.length} providers)`).join(', ')} simulators`,
    ...plan.leftOut.map(
      (l) => `  left out: ${l.provider} (${l.kind}, ${l.endpoints} endpoints): ${l.reason}`,
    ),
  ];
  return { file, simulators, notes };
}

/** `export KEY='value'` lines: `source .turnpike/local.env` makes them visible to child processes. */
function renderEnvFile(vars: Record<string, string>): string {
  const quote = (v: string) => `'${v.replace(/'/g, `'\\''`)}'`;
  return Object.entries(vars)
    .map(([k, v]) => `export ${k}=${quote(v)}\n`)
    .join('');
}

function readEnvFile(): Record<string, string> {
  if (!existsSync(envFile)) return {};
  return parseEnvText(readFileSync(envFile, 'utf8'));
}

async function keyWorks(url: string, key: string): Promise<boolean> {
  const res = await fetch(`${url}/v1/chat/completions`, {
    method: 'POST',
    headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
    body: '{}',
  }).catch(() => null);
  // 400 (empty body) means the key was accepted; 401 means it was not.
  return res !== null && res.status !== 401;
}

function printSummary(state: PlatformState, key: string): void {
  const url = state.gatewayUrls[0]!;
  say('');
  say('Turnpike is up.');
  say(`  TURNPIKE_URL=${url}`);
  say(`  TURNPIKE_API_KEY=${key}`);
  say(`  TURNPIKE_ADMIN_TOKEN=${state.adminToken}`);
  say('');
  say(`  OpenAI base URL: ${url}/v1   models: GET ${url}/v1/models (e.g. openai/gpt-4o-mini)`);
  say(`  logs: ${path.join(stateDir, 'logs')}   env: ${envFile}   stop: npm run down`);
  say(`  settings: ${configFile} (docs/configuration.md)`);
  say(
    `  provider accounts: $TURNPIKE_URL/admin/providers/{provider}/accounts, sealed under ${masterKeyFileOf(stateDir)} (keep it)`,
  );
}

/** The surface read and checked; the problems end `up` before anything starts. */
async function localConfig(): Promise<LocalConfig> {
  mkdirSync(stateDir, { recursive: true });
  if (!process.env['TURNPIKE_CONFIG'] && !existsSync(configFile))
    writeFileSync(configFile, configTemplate(), { mode: 0o600 });
  const cfg = resolveLocalConfig(readConfigFile(configFile), process.env, await loadSettings());
  if (cfg.problems.length > 0)
    throw new Error(
      `configuration (${configFile} and the environment):\n  ${cfg.problems.join('\n  ')}`,
    );
  return cfg;
}

/** True when nothing listens on host:port (the port can be taken). */
function portFree(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = net.createServer();
    server.once('error', () => resolve(false));
    server.listen({ host, port, exclusive: true }, () => server.close(() => resolve(true)));
  });
}

const readJson = <T>(file: string, fallback: T): T => {
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as T;
  } catch {
    return fallback;
  }
};

async function up(): Promise<void> {
  const cfg = await localConfig();
  const existing = readState(stateDir);
  if (existing && !('stoppedAt' in existing) && isRunning(existing)) {
    const env = readEnvFile();
    const url = existing.gatewayUrls[0]!;
    if (env['TURNPIKE_API_KEY'] && (await keyWorks(url, env['TURNPIKE_API_KEY']))) {
      say('Turnpike is already running.');
      printSummary(existing, env['TURNPIKE_API_KEY']);
      return;
    }
  }
  if (existing) await stopPlatform(stateDir); // a half-running platform: start clean
  const demo = demoCatalog();
  for (const n of demo.notes) say(`  ${n}`);

  const explicit = (name: string) =>
    process.env[name] !== undefined || readConfigFile(configFile)[name] !== undefined;
  const ports = portPlan(
    cfg,
    { gateway: explicit('TURNPIKE_GATEWAY_PORT'), base: explicit('TURNPIKE_PORT_BASE') },
    demo.simulators.map((s) => s.id),
    readJson<Record<string, number>>(portsFile, {}),
  );
  const busy: string[] = [];
  for (const [role, port] of Object.entries(ports))
    if (!(await portFree(role === 'gateway-1' ? cfg.bind : '127.0.0.1', port)))
      busy.push(`${role} ${port}`);
  if (busy.length > 0)
    throw new Error(
      `ports in use: ${busy.join(', ')}; set TURNPIKE_GATEWAY_PORT / TURNPIKE_PORT_BASE (0: free ports) in ${configFile} or the environment`,
    );
  const adminToken =
    cfg.adminToken ?? (existsSync(tokenFile) ? readFileSync(tokenFile, 'utf8').trim() : undefined);

  const state = await startPlatform({
    rootDir,
    stateDir,
    cacheDir,
    detached: true,
    simulators: demo.simulators,
    catalogFile: cfg.perService.router?.['ROUTER_CATALOG_FILE'] ?? demo.file,
    ports,
    gatewayHost: cfg.bind,
    ...(adminToken ? { adminToken } : {}),
    env: cfg.shared,
    serviceEnv: cfg.perService,
    providers: cfg.providers,
    log: (l) => say(`  ${l}`),
  });
  // Kept for the next `up`: the same token, and the same ports (also the free ones chosen now).
  writeSecretFile(tokenFile, `${state.adminToken}\n`);
  writeSecretFile(
    portsFile,
    JSON.stringify(
      Object.fromEntries([
        ...Object.entries(await kafkaPortsOf(state.kafka.dataDir)).map(([k, v]) => [
          k === 'port' ? 'kafka' : 'kafka-controller',
          v,
        ]),
        ['postgres', Number(/:(\d+)\//.exec(state.postgres.url)?.[1])],
        ...state.simulators.map((s) => [s.name, s.port]),
        ...state.services.map((s) => [s.name, s.port]),
      ]),
      null,
      2,
    ),
  );
  const url = state.gatewayUrls[0]!;
  const previous = readEnvFile()['TURNPIKE_API_KEY'];
  const key =
    previous && (await keyWorks(url, previous))
      ? previous
      : (await seedTenant(url, state.adminToken, { id: 'demo', name: 'Demo tenant' }, 'demo')).key;
  writeSecretFile(
    envFile,
    renderEnvFile({
      TURNPIKE_URL: url,
      TURNPIKE_API_KEY: key,
      TURNPIKE_ADMIN_TOKEN: state.adminToken,
    }),
  );
  printSummary(state, key);
}

async function down(): Promise<void> {
  const stopped = await stopPlatform(stateDir);
  say(stopped ? 'Turnpike stopped.' : 'Turnpike was not running.');
}

/** True when something accepts TCP connections on `host`:`port` (within `timeoutMs`). */
function listening(port: number, host = '127.0.0.1', timeoutMs = 1000): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ host, port });
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(timeoutMs, () => done(false));
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
  });
}

const portOf = (address: string): number => Number(/:(\d+)(?:\/|$)/.exec(address)?.[1] ?? 0);

/** Every process of the platform: up (its pid lives and its port answers) or down. Never rebuilds. */
async function status(): Promise<void> {
  const state = readState(stateDir);
  if (!state || 'stoppedAt' in state) {
    say('Turnpike is not running.');
    process.exitCode = 1;
    return;
  }
  const rows = [
    // Only the port of the database URL: the URL holds its password.
    {
      name: 'kafka',
      pid: state.kafka.pid,
      port: portOf(state.kafka.brokers),
      where: state.kafka.brokers,
    },
    {
      name: 'postgres',
      pid: state.postgres.pid,
      port: portOf(state.postgres.url),
      where: `127.0.0.1:${portOf(state.postgres.url)}`,
    },
    ...state.simulators.map((s) => ({ name: s.name, pid: s.pid, port: s.port, where: s.url })),
    ...state.services.map((s) => ({ name: s.name, pid: s.pid, port: s.port, where: s.url })),
  ];
  const up = await Promise.all(
    rows.map(
      async (r) =>
        r.pid > 0 &&
        isAlive(r.pid) &&
        r.port > 0 &&
        // The gateway may listen on TURNPIKE_BIND only: probe where its URL says.
        (await listening(r.port, /^https?:\/\/([^:/]+)/.exec(r.where)?.[1] ?? '127.0.0.1')),
    ),
  );
  const all = up.every(Boolean);
  say(`${all ? 'running' : 'DEGRADED'}: gateway ${state.gatewayUrls.join(', ')}`);
  rows.forEach((r, i) =>
    say(
      `  ${r.name.padEnd(16)} ${(up[i] ? 'up' : 'DOWN').padEnd(5)} pid ${String(r.pid).padEnd(8)} port ${String(r.port).padEnd(6)} ${r.where}`,
    ),
  );
  say(`  state: ${path.join(stateDir, 'state.json')}   env: ${envFile}`);
  if (!all) process.exitCode = 1;
}

const cmd = process.argv[2];
const run = cmd === 'up' ? up : cmd === 'down' ? down : cmd === 'status' ? status : null;
if (!run) {
  console.error('usage: cli.js up|down|status');
  process.exit(2);
}
run().catch((e: unknown) => {
  console.error(`turnpike ${cmd} failed: ${(e as Error).stack ?? String(e)}`);
  process.exit(1);
});
