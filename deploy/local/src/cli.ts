/**
 * `npm run up`, `npm run down`, `npm run status`: the whole platform on this machine.
 * `up` starts Kafka, Postgres, the upstream simulator and the five services in the background,
 * seeds a demo tenant, prints the gateway URL and a demo key, and writes them to
 * `.turnpike/local.env`. Running it again while the platform is up changes nothing.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  isRunning,
  readState,
  seedTenant,
  startPlatform,
  stopPlatform,
  type PlatformState,
} from '@turnpike/testing';

const rootDir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
// TURNPIKE_STATE_DIR moves everything `up` writes (the end-to-end test of `up` itself uses it).
const stateDir = process.env['TURNPIKE_STATE_DIR'] ?? path.join(rootDir, '.turnpike');
const envFile = path.join(stateDir, 'local.env');
// The bootstrap script (scripts/turnpike) exports the cache location; this is the CLI's entry.
const cacheDir =
  process.env['TURNPIKE_CACHE_DIR'] ?? path.join(process.env['HOME'] ?? '/root', '.cache/turnpike');

const say = (line: string) => process.stdout.write(`${line}\n`);

function readEnvFile(): Record<string, string> {
  if (!existsSync(envFile)) return {};
  return Object.fromEntries(
    readFileSync(envFile, 'utf8')
      .split('\n')
      .filter((l) => l.includes('='))
      .map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]),
  );
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
  say(`  OpenAI base URL: ${url}/v1   models: turnpike/sim-small, turnpike/sim-large`);
  say(`  logs: ${path.join(stateDir, 'logs')}   env: ${envFile}   stop: npm run down`);
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
  const state = await startPlatform({
    rootDir,
    stateDir,
    cacheDir,
    detached: true,
    log: (l) => say(`  ${l}`),
  });
  const url = state.gatewayUrls[0]!;
  const previous = readEnvFile()['TURNPIKE_API_KEY'];
  const key =
    previous && (await keyWorks(url, previous))
      ? previous
      : (await seedTenant(url, state.adminToken, { id: 'demo', name: 'Demo tenant' }, 'demo')).key;
  writeFileSync(
    envFile,
    [
      `TURNPIKE_URL=${url}`,
      `TURNPIKE_API_KEY=${key}`,
      `TURNPIKE_ADMIN_TOKEN=${state.adminToken}`,
      '',
    ].join('\n'),
    { mode: 0o600 },
  );
  printSummary(state, key);
}

async function down(): Promise<void> {
  const stopped = await stopPlatform(stateDir);
  say(stopped ? 'Turnpike stopped.' : 'Turnpike was not running.');
}

function status(): void {
  const state = readState(stateDir);
  if (!state || 'stoppedAt' in state) {
    say('Turnpike is not running.');
    process.exitCode = 1;
    return;
  }
  say(`${isRunning(state) ? 'running' : 'DEGRADED'}: gateway ${state.gatewayUrls.join(', ')}`);
  for (const s of [...state.services, ...state.simulators])
    say(`  ${s.name.padEnd(16)} pid ${s.pid}  ${s.url}`);
}

const cmd = process.argv[2];
const run =
  cmd === 'up' ? up : cmd === 'down' ? down : cmd === 'status' ? async () => status() : null;
if (!run) {
  console.error('usage: cli.js up|down|status');
  process.exit(2);
}
run().catch((e: unknown) => {
  console.error(`turnpike ${cmd} failed: ${(e as Error).stack ?? String(e)}`);
  process.exit(1);
});
