/**
 * `npm run up`, `npm run down`, `npm run status`: the whole platform on this machine.
 * `up` starts Kafka, Postgres, the upstream simulators and the five services in the background,
 * serving the whole imported catalog (`services/router/catalog/imported.catalog.json`) offline,
 * seeds a demo tenant, prints the gateway URL and a demo key, and writes them to
 * `.turnpike/local.env` (as `export` lines, owner-only). Running it again while the platform is
 * up changes nothing. `status` only reads the state file and probes the processes and ports.
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

const rootDir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
// TURNPIKE_STATE_DIR moves everything `up` writes (the end-to-end test of `up` itself uses it).
const stateDir = process.env['TURNPIKE_STATE_DIR'] ?? path.join(rootDir, '.turnpike');
const envFile = path.join(stateDir, 'local.env');
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

/** Reads what {@link renderEnvFile} wrote (and the older bare `KEY=value` lines). */
function parseEnvFile(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const raw of text.split('\n')) {
    const m = /^\s*(?:export\s+)?([A-Za-z_][A-Za-z0-9_]*)=(.*)$/.exec(raw);
    if (!m) continue;
    let v = m[2]!.trim();
    if (v.startsWith("'") && v.endsWith("'") && v.length >= 2)
      v = v.slice(1, -1).replace(/'\\''/g, "'");
    out[m[1]!] = v;
  }
  return out;
}

function readEnvFile(): Record<string, string> {
  if (!existsSync(envFile)) return {};
  return parseEnvFile(readFileSync(envFile, 'utf8'));
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
  say(
    `  provider accounts: $TURNPIKE_URL/admin/providers/{provider}/accounts, sealed under ${masterKeyFileOf(stateDir)} (keep it)`,
  );
}

async function up(): Promise<void> {
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
  const state = await startPlatform({
    rootDir,
    stateDir,
    cacheDir,
    detached: true,
    simulators: demo.simulators,
    catalogFile: demo.file,
    log: (l) => say(`  ${l}`),
  });
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

/** True when something accepts TCP connections on 127.0.0.1:`port` (within `timeoutMs`). */
function listening(port: number, timeoutMs = 1000): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ host: '127.0.0.1', port });
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
    rows.map(async (r) => r.pid > 0 && isAlive(r.pid) && r.port > 0 && (await listening(r.port))),
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
