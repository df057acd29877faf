import { existsSync, mkdirSync, readFileSync, writeFileSync, chmodSync } from 'node:fs';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { TOPIC_SPECS, type ProviderConnection } from '@turnpike/contracts';
import { simProtocol } from '@turnpike/simulators';
import { consoleLog, createKafka, ensureTopics } from '@turnpike/kafka';
import {
  freePorts,
  isAlive,
  spawnService,
  startKafka,
  startPostgres,
  stopKafkaDataDir,
  stopPid,
  stopPostgresDataDir,
  waitForHttp,
} from '../infra/index.js';

export const SERVICES = ['router', 'connector', 'billing', 'analytics', 'gateway'] as const;
export type ServiceName = (typeof SERVICES)[number];

export interface SimulatorSpec {
  /** Its name; also the provider id it serves when `accounts` is not given. */
  id: string;
  /** The wire protocol (`@turnpike/simulators` registry); default `openai`. */
  protocol?: string;
  /** Extra CLI flags for the simulator (e.g. ['--ttft-ms', '50']). */
  args?: string[];
  /** The upstream models it serves (passed as `--models-file`); default: its built-in ones. */
  models?: Array<{ id: string; contextLength?: number }>;
  /**
   * The catalog providers it serves, each an account of the connector reaching it; default: one
   * `openai` account named `id` with an API key.
   */
  accounts?: Array<{
    provider: string;
    kind: string;
    connection: (sim: { url: string; origin: string; apiKey: string }) => ProviderConnection;
  }>;
}

export interface PlatformOptions {
  /** Repository root (holds the built services). */
  rootDir: string;
  /** Where data, logs and the state file go (`.turnpike` for `npm run up`). */
  stateDir: string;
  /** Download cache (Kafka jars). */
  cacheDir: string;
  /** true: everything keeps running after this process exits (`npm run up`). */
  detached: boolean;
  simulators?: SimulatorSpec[];
  gatewayReplicas?: number;
  /**
   * Fused gateways started beside the others (`gateway-fused-N`, GATEWAY_TRANSPORT=inprocess:
   * each runs its attempts itself, with the master key), listed in `fusedGatewayUrls`.
   */
  fusedGateways?: number;
  /**
   * Replicas of each service (default 1; the gateway's is `gatewayReplicas` when given), as the
   * chart lays them out: instances `<service>-1..N`, the router's started first.
   */
  replicas?: Partial<Record<ServiceName, number>>;
  /** Extra environment for every service (e.g. OTEL_* for tests). */
  env?: Record<string, string>;
  /** Extra environment per service. */
  serviceEnv?: Partial<Record<ServiceName, Record<string, string>>>;
  /** Catalog file for the router; default: its bundled catalog of simulator models. */
  catalogFile?: string;
  /**
   * Provider accounts for the connector beside the simulators' (e.g. one whose upstream is down,
   * to see what a tenant gets when the connection is refused).
   */
  providers?: Record<string, { kind: string } & Record<string, unknown>>;
  /**
   * Fixed ports by role: `kafka`, `kafka-controller`, `postgres`, `simulator-<id>`, and a
   * service instance's name (`gateway-1`, `router-1`, ...). A role not named gets a free port.
   */
  ports?: Record<string, number>;
  /** Address the gateways bind (default 127.0.0.1); everything else stays on loopback. */
  gatewayHost?: string;
  /** The admin token (default: a new random one). */
  adminToken?: string;
  log?: (line: string) => void;
}

export interface ServiceProcess {
  name: string;
  pid: number;
  port: number;
  url: string;
  logFile: string;
  /** How it was started (services only): what `restartService` starts again. */
  spawn?: {
    command: string;
    args: string[];
    env: Record<string, string>;
    cwd: string;
    detached: boolean;
  };
}

/** What a running platform is: persisted as `<stateDir>/state.json`. */
export interface PlatformState {
  version: 1;
  startedAt: string;
  kafka: { brokers: string; pid: number; dataDir: string };
  postgres: { url: string; pid: number; dataDir: string };
  /** `url` is the simulator's origin (its control API is under `/__sim`). */
  simulators: Array<ServiceProcess & { id: string; apiKey: string; protocol?: string }>;
  services: ServiceProcess[];
  gatewayUrls: string[];
  /** Fused gateways (see PlatformOptions.fusedGateways); absent in older state files. */
  fusedGatewayUrls?: string[];
  adminToken: string;
}

const stateFile = (stateDir: string) => path.join(stateDir, 'state.json');

/**
 * Writes a file that holds a secret (the state file: admin token, database URL, provider keys;
 * `local.env`; a test run's context) readable and writable by its owner only (0600), whatever
 * mode an older copy had.
 */
export function writeSecretFile(file: string, text: string): void {
  writeFileSync(file, text, { mode: 0o600 });
  chmodSync(file, 0o600);
}

/** The connector's master key file of a state dir (`id:base64`, 0600). */
export const masterKeyFileOf = (stateDir: string): string =>
  path.join(stateDir, 'connector-master.key');

/**
 * The connector's master key: 32 random bytes made once per state directory, owner-only (0600),
 * and kept across `npm run up` restarts: the accounts sealed under it live in the database of
 * the same directory. Lose it and they cannot be opened again.
 */
export function ensureMasterKey(stateDir: string): string {
  const file = masterKeyFileOf(stateDir);
  if (existsSync(file)) chmodSync(file, 0o600);
  else writeSecretFile(file, `local-1:${randomBytes(32).toString('base64')}\n`);
  return file;
}

export function readState(stateDir: string): PlatformState | null {
  try {
    return JSON.parse(readFileSync(stateFile(stateDir), 'utf8')) as PlatformState;
  } catch {
    return null;
  }
}

/** True when every process of the state is alive. */
export function isRunning(state: PlatformState): boolean {
  return [
    state.kafka.pid,
    state.postgres.pid,
    ...state.simulators.map((s) => s.pid),
    ...state.services.map((s) => s.pid),
  ].every((pid) => pid > 0 && isAlive(pid));
}

/**
 * Starts the whole platform on free ports: Kafka (KRaft) and Postgres, the topics, the upstream
 * simulators, and the five services (each waited on until its readiness probe answers 200).
 * Used by `npm run up` (detached), the test suites and the benchmark (attached).
 */
export async function startPlatform(opts: PlatformOptions): Promise<PlatformState> {
  const log = opts.log ?? (() => undefined);
  const logs = path.join(opts.stateDir, 'logs');
  const data = path.join(opts.stateDir, 'data');
  mkdirSync(logs, { recursive: true });
  mkdirSync(data, { recursive: true });
  // The state directory holds secrets (state.json, local.env): nobody else may list or read it.
  // Postgres runs as an unprivileged user when we are root: it must be able to traverse to its
  // files, which the x bit alone allows (0711: search, no listing, no reading).
  for (const d of [opts.stateDir, logs, data]) chmodSync(d, 0o711);

  const sims = opts.simulators ?? [{ id: 'sim' }];
  const gateways = opts.gatewayReplicas ?? opts.replicas?.gateway ?? 1;
  const count = (name: ServiceName): number =>
    name === 'gateway' ? gateways : Math.max(1, opts.replicas?.[name] ?? 1);
  const fused = opts.fusedGateways ?? 0;
  const ports = await freePorts(
    3 + sims.length + fused + SERVICES.reduce((n, name) => n + count(name), 0),
  );
  const take = (role: string) => opts.ports?.[role] ?? ports.shift()!;

  log('starting Kafka and Postgres');
  const kafkaDir = path.join(data, 'kafka');
  const pgDir = path.join(data, 'postgres');
  // The broker's log segments hold prompts and keys' hashes: its own (root) eyes only.
  mkdirSync(kafkaDir, { recursive: true });
  chmodSync(kafkaDir, 0o700);
  const [kafka, postgres] = await Promise.all([
    startKafka({
      cacheDir: opts.cacheDir,
      dataDir: kafkaDir,
      logFile: path.join(logs, 'kafka.log'),
      port: take('kafka'),
      controllerPort: take('kafka-controller'),
      detached: opts.detached,
    }),
    startPostgres({
      dataDir: pgDir,
      port: take('postgres'),
      logFile: path.join(logs, 'postgres.log'),
      database: 'turnpike',
    }),
  ]);

  const state: PlatformState = {
    version: 1,
    startedAt: new Date().toISOString(),
    kafka: { brokers: kafka.brokers, pid: kafka.pid, dataDir: kafkaDir },
    postgres: { url: postgres.url, pid: postgres.pid, dataDir: pgDir },
    simulators: [],
    services: [],
    gatewayUrls: [],
    fusedGatewayUrls: [],
    adminToken: opts.adminToken ?? `adm-${randomBytes(24).toString('hex')}`,
  };
  const save = () => writeSecretFile(stateFile(opts.stateDir), JSON.stringify(state, null, 2));
  save();
  const masterKeyFile = ensureMasterKey(opts.stateDir);

  try {
    const admin = createKafka({ brokers: [kafka.brokers], clientId: 'turnpike-platform' }, quiet);
    await ensureTopics(admin, TOPIC_SPECS);

    const baseEnv: Record<string, string> = {
      PATH: process.env['PATH'] ?? '/usr/bin:/bin',
      HOME: process.env['HOME'] ?? '/root',
      NODE_ENV: 'production',
      KAFKA_BROKERS: kafka.brokers,
      HTTP_HOST: '127.0.0.1',
      LOG_LEVEL: 'info',
      OTEL_TRACES_EXPORTER: 'none',
      OTEL_METRICS_EXPORTER: 'none',
      OTEL_LOGS_EXPORTER: 'none',
      ...opts.env,
    };
    const node = process.execPath;

    const accounts: Record<string, unknown> = {};
    for (const sim of sims) {
      const port = take(`simulator-${sim.id}`);
      const apiKey = `sk-sim-${randomBytes(8).toString('hex')}`;
      const logFile = path.join(logs, `simulator-${sim.id}.log`);
      const protocol = sim.protocol ?? 'openai';
      const make = simProtocol(protocol);
      if (!make) throw new Error(`simulator ${sim.id}: unknown protocol '${protocol}'`);
      const extra: string[] = ['--protocol', protocol];
      if (sim.models) {
        const modelsFile = path.join(data, `simulator-${sim.id}.models.json`);
        writeFileSync(modelsFile, JSON.stringify(sim.models));
        extra.push('--models-file', modelsFile);
      }
      const { pid } = spawnService({
        name: `simulator-${sim.id}`,
        command: node,
        args: [
          path.join(opts.rootDir, 'libs/simulators/dist/main.js'),
          '--port',
          String(port),
          '--api-key',
          apiKey,
          '--name',
          sim.id,
          ...extra,
          ...(sim.args ?? []),
        ],
        env: baseEnv,
        logFile,
        cwd: opts.rootDir,
        detached: opts.detached,
      });
      const origin = `http://127.0.0.1:${port}`;
      state.simulators.push({
        id: sim.id,
        name: `simulator-${sim.id}`,
        protocol,
        pid,
        port,
        url: origin,
        logFile,
        apiKey,
      });
      save();
      await waitForHttp(`${origin}/__sim/health`, {
        timeoutMs: 30_000,
        isAlive: () => isAlive(pid),
      });
      const endpoint = { url: `${origin}${make(sim.id).basePath}`, origin, apiKey };
      for (const a of sim.accounts ?? [
        {
          provider: sim.id,
          kind: 'openai',
          connection: () => ({
            baseUrl: endpoint.url,
            credentials: { type: 'api_key' as const, apiKey },
          }),
        },
      ])
        accounts[a.provider] = { kind: a.kind, ...a.connection(endpoint) };
    }

    // Given accounts win over a simulator's of the same provider (real accounts for `up`).
    const providers = { ...accounts, ...opts.providers };
    const envFor: Record<ServiceName, Record<string, string>> = {
      router: {
        DATABASE_URL: postgres.url,
        ...(opts.catalogFile ? { ROUTER_CATALOG_FILE: opts.catalogFile } : {}),
      },
      // The connector's accounts live in its schema, sealed under the master key of the state
      // dir; CONNECTOR_PROVIDERS (the simulators' keys) is imported once, as bootstrap accounts.
      connector: {
        DATABASE_URL: postgres.url,
        CONNECTOR_MASTER_KEY_FILE: masterKeyFile,
        CONNECTOR_PROVIDERS: JSON.stringify(providers),
      },
      billing: { DATABASE_URL: postgres.url },
      analytics: { DATABASE_URL: postgres.url },
      // Each replica may hold 1/N of a tenant's balance in flight (the overspend bound).
      gateway: {
        DATABASE_URL: postgres.url,
        GATEWAY_ADMIN_TOKEN: state.adminToken,
        GATEWAY_REPLICAS: String(gateways),
        // Usage events wait here for the broker (a directory per replica), with the platform.
        GATEWAY_USAGE_SPOOL_DIR: path.join(opts.stateDir, 'spool'),
      },
    };

    const launch = async (
      name: ServiceName,
      instance: string,
      extra: Record<string, string> = {},
    ) => {
      const port = take(instance);
      const host = name === 'gateway' ? (opts.gatewayHost ?? '127.0.0.1') : '127.0.0.1';
      const logFile = path.join(logs, `${instance}.log`);
      const spec = {
        command: node,
        args: ['--enable-source-maps', path.join(opts.rootDir, `services/${name}/dist/main.js`)],
        env: {
          ...baseEnv,
          ...envFor[name],
          ...opts.serviceEnv?.[name],
          ...extra,
          HTTP_HOST: host,
          HTTP_PORT: String(port),
          INSTANCE_ID: instance,
        },
        cwd: opts.rootDir,
        detached: opts.detached,
      };
      const { pid } = spawnService({ name: instance, logFile, ...spec });
      // A wildcard bind is reached on loopback.
      const url = `http://${host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host}:${port}`;
      state.services.push({ name: instance, pid, port, url, logFile, spawn: spec });
      save();
      try {
        await waitForHttp(`${url}/health/ready`, {
          timeoutMs: 90_000,
          isAlive: () => isAlive(pid),
        });
      } catch (e) {
        throw new Error(
          `${instance} did not become ready (log: ${logFile}): ${(e as Error).message}\n${tail(logFile)}`,
        );
      }
      log(`${instance} ready on ${url}`);
      return url;
    };

    const instances = (name: ServiceName) =>
      Array.from({ length: count(name) }, (_, i) => `${name}-${i + 1}`);
    // The router first: the gateway loads the routing table it publishes.
    for (const instance of instances('router')) await launch('router', instance);
    await Promise.all(
      (['connector', 'billing', 'analytics'] as const).flatMap((name) =>
        instances(name).map((instance) => launch(name, instance)),
      ),
    );
    for (let i = 0; i < gateways; i++) {
      state.gatewayUrls.push(
        await launch('gateway', `gateway-${i + 1}`, { GATEWAY_REPLY_PARTITION: String(i) }),
      );
    }
    for (let i = 0; i < fused; i++) {
      state.fusedGatewayUrls!.push(
        await launch('gateway', `gateway-fused-${i + 1}`, {
          GATEWAY_TRANSPORT: 'inprocess',
          GATEWAY_MASTER_KEY_FILE: masterKeyFile,
          // Its own partition of the RPC replies, after the split gateways'.
          GATEWAY_REPLY_PARTITION: String(gateways + i),
        }),
      );
    }
    save();
    return state;
  } catch (e) {
    await stopPlatform(opts.stateDir).catch(() => undefined);
    throw e;
  }
}

/** Stops everything a state file names: services first (they drain), then simulators, then infra. */
export async function stopPlatform(stateDir: string): Promise<boolean> {
  const state = readState(stateDir);
  if (!state) return false;
  const gateways = state.services.filter((s) => s.name.startsWith('gateway'));
  const others = state.services.filter((s) => !s.name.startsWith('gateway'));
  await Promise.all(gateways.map((s) => stopPid(s.pid, 30_000)));
  await Promise.all(others.map((s) => stopPid(s.pid, 30_000)));
  await Promise.all(state.simulators.map((s) => stopPid(s.pid, 10_000)));
  await Promise.all([
    stopKafkaDataDir(state.kafka.dataDir),
    stopPostgresDataDir(state.postgres.dataDir),
  ]);
  if (existsSync(stateFile(stateDir)))
    writeSecretFile(
      stateFile(stateDir),
      JSON.stringify({ ...state, stoppedAt: new Date().toISOString() }, null, 2),
    );
  return true;
}

/**
 * Starts a service of a running platform again, as it was started (same command and
 * environment, same port): e.g. after a `kill -9`. With `as`, starts another instance like it
 * instead, on a free port, with `env` added (e.g. a billing replay). Waits until it is ready;
 * the state file is updated so that `stopPlatform` stops it.
 */
export async function restartService(
  stateDir: string,
  name: string,
  opts: { as?: string; env?: Record<string, string> } = {},
): Promise<ServiceProcess> {
  const state = readState(stateDir);
  const prev = state?.services.find((s) => s.name === name);
  if (!state || !prev?.spawn)
    throw new Error(`restartService: no service '${name}' in ${stateFile(stateDir)}`);
  const instance = opts.as ?? name;
  if (opts.as === undefined && isAlive(prev.pid)) await stopPid(prev.pid, 30_000);
  const port = opts.as === undefined ? prev.port : (await freePorts(1))[0]!;
  // Detached (its own process group): the caller, e.g. a test file, may exit before it.
  const spawn = {
    ...prev.spawn,
    env: { ...prev.spawn.env, ...opts.env, HTTP_PORT: String(port), INSTANCE_ID: instance },
    detached: true,
  };
  const logFile =
    opts.as === undefined ? prev.logFile : path.join(path.dirname(prev.logFile), `${instance}.log`);
  const { pid } = spawnService({ name: instance, logFile, ...spawn });
  const next: ServiceProcess = {
    name: instance,
    pid,
    port,
    url: `http://127.0.0.1:${port}`,
    logFile,
    spawn,
  };
  state.services = [...state.services.filter((s) => s.name !== instance), next];
  writeSecretFile(stateFile(stateDir), JSON.stringify(state, null, 2));
  try {
    await waitForHttp(`${next.url}/health/ready`, {
      timeoutMs: 90_000,
      isAlive: () => isAlive(pid),
    });
  } catch (e) {
    throw new Error(
      `${instance} did not become ready (log: ${logFile}): ${(e as Error).message}\n${tail(logFile)}`,
    );
  }
  return next;
}

/**
 * Creates a tenant and an API key through the admin API, and grants the tenant `credits`
 * dollars (default 100; 0 for none) once (idempotency key `seed-<tenant id>`).
 * Returns the key. Tenants start with no credit: without a grant, requests get 402.
 */
export async function seedTenant(
  gatewayUrl: string,
  adminToken: string,
  tenant: { id: string; name: string },
  keyName = 'default',
  credits = 100,
): Promise<{ tenantId: string; keyId: string; key: string }> {
  const post = async (p: string, body: unknown) => {
    const res = await fetch(`${gatewayUrl}${p}`, {
      method: 'POST',
      headers: { authorization: `Bearer ${adminToken}`, 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    if (!res.ok) throw new Error(`POST ${p}: ${res.status} ${await res.text()}`);
    return (await res.json()) as Record<string, string>;
  };
  const t = await post('/admin/tenants', tenant);
  const k = await post(`/admin/tenants/${t['id']}/keys`, { name: keyName });
  if (credits > 0) {
    const res = await fetch(`${gatewayUrl}/admin/tenants/${t['id']}/credits`, {
      method: 'POST',
      headers: {
        authorization: `Bearer ${adminToken}`,
        'content-type': 'application/json',
        'idempotency-key': `seed-${t['id']}`,
      },
      body: JSON.stringify({ kind: 'grant', amount: String(credits), note: 'seed' }),
    });
    if (!res.ok)
      throw new Error(`POST /admin/tenants/${t['id']}/credits: ${res.status} ${await res.text()}`);
    // The gateway admits from the balances it reads from billing's topic: wait until it has it.
    for (
      let until = Date.now() + 10_000;
      Date.now() < until;
      await new Promise((r) => setTimeout(r, 50))
    ) {
      const view = await fetch(`${gatewayUrl}/admin/tenants/${t['id']}/credits`, {
        headers: { authorization: `Bearer ${adminToken}` },
      });
      const body = (await view.json()) as { gateway_view?: { balance_micros?: number } };
      if ((body.gateway_view?.balance_micros ?? 0) > 0) break;
    }
  }
  return { tenantId: t['id']!, keyId: k['id']!, key: k['key']! };
}

function tail(file: string, lines = 30): string {
  try {
    return readFileSync(file, 'utf8').split('\n').slice(-lines).join('\n');
  } catch {
    return '';
  }
}

const quiet = { log: () => undefined, warn: () => undefined, error: consoleLog.error };
