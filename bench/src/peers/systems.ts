/**
 * Starting the peers on free ports, each pointed at the same upstream simulator, and what a
 * started system is for the bench: a target, the processes whose CPU and memory are its own, and
 * what limited its figures.
 */
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { freePort, isAlive, spawnService, stopPid, waitForHttp } from '@turnpike/testing';
import { runLoad, type Target } from '../load.js';

export interface System {
  /** `direct`, `turnpike-split`, `turnpike-fused`, `litellm`, `portkey`, `bifrost`. */
  name: string;
  version: string;
  /** Absent: not measured (`unavailable` says why). */
  target?: Target;
  unavailable?: string;
  /** Measured streaming too (Portkey 1.15.2 is not: every stream is a 500). */
  streaming: boolean;
  /** Process trees whose CPU and RSS are this system's, by part (Turnpike: each service, the broker, Postgres). */
  groups: Record<string, number[]>;
  notes: string[];
  /** Its log (peers), for the reason of a failure. */
  logFile?: string;
  stop(): Promise<void>;
}

export interface Upstream {
  /** The simulator's origin (`http://127.0.0.1:<port>`); its OpenAI base is `<origin>/v1`. */
  url: string;
  apiKey: string;
  model: string;
}

interface Started {
  pid: number;
  url: string;
  logFile: string;
}

async function startProcess(
  name: string,
  command: string,
  args: string[],
  env: Record<string, string>,
  logDir: string,
  port: number,
  readyPath: string,
  timeoutMs: number,
): Promise<Started> {
  const logFile = path.join(logDir, `${name}.log`);
  const { pid } = spawnService({
    name,
    command,
    args,
    env: { PATH: process.env['PATH'] ?? '/usr/bin:/bin', HOME: process.env['HOME'] ?? '/', ...env },
    logFile,
    cwd: logDir,
    // Its own process group: stopping it stops its workers too.
    detached: true,
  });
  const url = `http://127.0.0.1:${port}`;
  try {
    await waitForHttp(`${url}${readyPath}`, { timeoutMs, isAlive: () => isAlive(pid) });
  } catch (e) {
    await stopPid(pid, 5_000).catch(() => undefined);
    throw new Error(`${name} did not start: ${(e as Error).message}\n${tail(logFile)}`);
  }
  return { pid, url, logFile };
}

/** `name version` of Python packages in the venv of `bin`, from its own metadata. */
function installedVersions(bin: string, names: string[]): string {
  const python = path.join(path.dirname(bin), 'python');
  try {
    return execFileSync(
      python,
      [
        '-c',
        `import importlib.metadata as m; print(', '.join(n + ' ' + m.version(n) for n in ${JSON.stringify(names)}))`,
      ],
      { encoding: 'utf8' },
    ).trim();
  } catch {
    return names.join(', ');
  }
}

/** The first error line a log shows (spinners and colours stripped), or undefined. */
export function firstError(file: string): string | undefined {
  const text = tail(file, 400).replace(/\r/g, '\n');
  return text
    .split('\n')
    .map((l) => l.replace(/.*Starting AI Gateway\.\.\./, '').trim())
    .find((l) => /\b(TypeError|Error)\b/.test(l));
}

export function tail(file: string, lines = 15): string {
  try {
    return readFileSync(file, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
  } catch {
    return '';
  }
}

/** One request, to see that a target answers (and, streaming, streams) before measuring it. */
export async function probe(target: Target, stream: boolean): Promise<string | undefined> {
  const run = await runLoad({ target, stream, concurrency: 1, requests: 1, prompt: 'probe' });
  return run.samples[0]?.ok ? undefined : (run.samples[0]?.error ?? 'no answer');
}

/**
 * LiteLLM's proxy under gunicorn with one worker (`--num_workers 2` respawns a worker in a loop
 * here), a master key (it refuses to start without one), the local model cost map (else it
 * fetches it from the internet at boot) and no database.
 */
export async function startLiteLLM(
  bin: string,
  version: string,
  upstream: Upstream,
  logDir: string,
): Promise<System> {
  const port = await freePort();
  const masterKey = `sk-bench-${randomBytes(12).toString('hex')}`;
  const config = path.join(logDir, 'litellm.config.yaml');
  writeFileSync(
    config,
    [
      'model_list:',
      `  - model_name: ${upstream.model}`,
      '    litellm_params:',
      `      model: openai/${upstream.model}`,
      `      api_base: ${upstream.url}/v1`,
      `      api_key: ${upstream.apiKey}`,
      'litellm_settings:',
      '  telemetry: false',
      'general_settings:',
      `  master_key: ${masterKey}`,
      '',
    ].join('\n'),
    { mode: 0o600 },
  );
  const args = ['--config', config, '--host', '127.0.0.1', '--port', String(port)];
  args.push('--run_gunicorn', '--num_workers', '1');
  const started = await startProcess(
    'litellm',
    bin,
    args,
    {
      LITELLM_MASTER_KEY: masterKey,
      LITELLM_LOCAL_MODEL_COST_MAP: 'True',
      LITELLM_LOG: 'ERROR',
      NO_DOCS: 'True',
    },
    logDir,
    port,
    '/health/liveliness',
    240_000,
  );
  return {
    name: 'litellm',
    version,
    target: { side: 'litellm', url: started.url, apiKey: masterKey, model: upstream.model },
    streaming: true,
    groups: { litellm: [started.pid] },
    notes: [
      'gunicorn, 1 worker (`--run_gunicorn --num_workers 1`), no database, no cache',
      `[proxy] extra with its two missing pins relaxed: ${installedVersions(bin, ['litellm-proxy-extras', 'litellm-enterprise'])}`,
    ],
    stop: async () => void (await stopPid(started.pid, 10_000)),
  };
}

/**
 * Portkey's gateway (`build/start-server.js --port=N --headless`), told per request which
 * provider and host to use (`x-portkey-provider: openai`, `x-portkey-custom-host`).
 */
export async function startPortkey(
  pkgDir: string,
  version: string,
  upstream: Upstream,
  logDir: string,
): Promise<System> {
  const port = await freePort();
  const started = await startProcess(
    `portkey-${version}`,
    process.execPath,
    [path.join(pkgDir, 'build/start-server.js'), `--port=${port}`, '--headless'],
    { NODE_ENV: 'production' },
    logDir,
    port,
    '/',
    60_000,
  );
  return {
    name: 'portkey',
    version,
    target: {
      side: 'portkey',
      url: started.url,
      apiKey: upstream.apiKey,
      model: upstream.model,
      headers: { 'x-portkey-provider': 'openai', 'x-portkey-custom-host': `${upstream.url}/v1` },
    },
    streaming: true,
    groups: { portkey: [started.pid] },
    notes: [`Node ${process.version}, one process`],
    logFile: started.logFile,
    stop: async () => void (await stopPid(started.pid, 10_000)),
  };
}

/**
 * Bifrost's npm launcher downloads the Go binary on every start (it asks getbifrost.ai for the
 * latest version first): started once; when it cannot run offline the reason is the result.
 */
export async function tryBifrost(
  pkgDir: string,
  version: string,
  logDir: string,
): Promise<{ pid: number; url: string } | { error: string }> {
  const port = await freePort();
  const appDir = path.join(logDir, 'bifrost-app');
  try {
    const started = await startProcess(
      'bifrost',
      process.execPath,
      [
        path.join(pkgDir, 'bin.js'),
        '-port',
        String(port),
        '-host',
        '127.0.0.1',
        '-app-dir',
        appDir,
      ],
      {},
      logDir,
      port,
      '/health',
      30_000,
    );
    return { pid: started.pid, url: started.url };
  } catch (e) {
    // The launcher's own words, from its log: e.g. `getaddrinfo ENOTFOUND getbifrost.ai`.
    const lines = [
      ...tail(path.join(logDir, 'bifrost.log'), 40).split('\n'),
      ...(e as Error).message.split('\n'),
    ];
    const line =
      lines.find((l) => /ENOTFOUND|EAI_AGAIN|ECONNREFUSED/.test(l)) ??
      lines.find((l) => /fetch failed|Error/.test(l)) ??
      lines[0]!;
    return {
      error: `its npm launcher downloads the Bifrost binary at start and cannot run offline: ${line.trim()}`,
    };
  }
}

/**
 * The hook for Turnpike fused (issue 12 item 1: the gateway runs the attempt code itself, one
 * setting). It is measured once the gateway's config class (`services/gateway/src/gateway.config.ts`,
 * built) declares every key of `env`: the bench then starts a second gateway on the same platform
 * with `env` added. Until then: why not.
 */
export function fusedAvailability(rootDir: string, env: Record<string, string>): string | null {
  const config = path.join(rootDir, 'services/gateway/dist/gateway.config.js');
  const keys = Object.keys(env);
  if (keys.length === 0) return 'no --fused-env setting given';
  if (!existsSync(config)) return 'services/gateway is not built';
  const text = readFileSync(config, 'utf8');
  // A declared key: `GATEWAY_TRANSPORT: env.…(…)` in the schema, not a mention in a comment.
  const missing = keys.filter((k) => !new RegExp(`\\b${k}\\s*:`).test(text));
  return missing.length === 0
    ? null
    : `not built yet: the gateway's config has no ${missing.join(', ')} setting (issue 12 item 1); ` +
        `the bench measures it with ${Object.entries(env)
          .map(([k, v]) => `${k}=${v}`)
          .join(' ')} once it has`;
}
