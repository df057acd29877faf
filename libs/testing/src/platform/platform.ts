import { existsSync, mkdirSync, readFileSync, writeFileSync, chmodSync } from 'node:fs';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { TOPIC_SPECS } from '@turnpike/contracts';
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
  /** Provider id in the catalog and the connector's accounts. */
  id: string;
  /** Extra CLI flags for the simulator (e.g. ['--ttft-ms', '50']). */
  args?: string[];
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
  /** Extra environment for every service (e.g. OTEL_* for tests). */
  env?: Record<string, string>;
  /** Extra environment per service. */
  serviceEnv?: Partial<Record<ServiceName, Record<string, string>>>;
  /** Catalog file for the router; default: its bundled catalog of simulator models. */
  catalogFile?: string;
  log?: (line: string) => void;
}

export interface ServiceProcess {
  name: string;
  pid: number;
  port: number;
  url: string;
  logFile: string;
}

/** What a running platform is: persisted as `<stateDir>/state.json`. */
export interface PlatformState {
  version: 1;
  startedAt: string;
  kafka: { brokers: string; pid: number; dataDir: string };
  postgres: { url: string; pid: number; dataDir: string };
  simulators: Array<ServiceProcess & { id: string; apiKey: string }>;
  services: ServiceProcess[];
  gatewayUrls: string[];
  adminToken: string;
}

const stateFile = (stateDir: string) => path.join(stateDir, 'state.json');

export function readState(stateDir: string): PlatformState | null {
  try {
    return JSON.parse(readFileSync(stateFile(stateDir), 'utf8')) as PlatformState;
  } catch {
    return null;
  }
}

/** True when every process of the state is alive. */
export function isRunning(state: PlatformState): boolean {
  return [state.kafka.pid, state.postgres.pid, ...state.simulators.map((s) => s.pid), ...state.services.map((s) => s.pid)].every(
    (pid) => pid > 0 && isAlive(pid),
  );
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
  // Postgres runs as an unprivileged user when we are root: it must be able to reach its files.
  for (const d of [opts.stateDir, logs, data]) chmodSync(d, 0o755);

  const sims = opts.simulators ?? [{ id: 'sim' }];
  const gateways = opts.gatewayReplicas ?? 1;
  const ports = await freePorts(3 + sims.length + SERVICES.length + gateways);
  const take = () => ports.shift()!;

  log('starting Kafka and Postgres');
  const kafkaDir = path.join(data, 'kafka');
  const pgDir = path.join(data, 'postgres');
  const [kafka, postgres] = await Promise.all([
    startKafka({
      cacheDir: opts.cacheDir,
      dataDir: kafkaDir,
      logFile: path.join(logs, 'kafka.log'),
      port: take(),
      controllerPort: take(),
      detached: opts.detached,
    }),
    startPostgres({ dataDir: pgDir, port: take(), logFile: path.join(logs, 'postgres.log'), database: 'turnpike' }),
  ]);

  const state: PlatformState = {
    version: 1,
    startedAt: new Date().toISOString(),
    kafka: { brokers: kafka.brokers, pid: kafka.pid, dataDir: kafkaDir },
    postgres: { url: postgres.url, pid: postgres.pid, dataDir: pgDir },
    simulators: [],
    services: [],
    gatewayUrls: [],
    adminToken: `adm-${randomBytes(24).toString('hex')}`,
  };
  const save = () => writeFileSync(stateFile(opts.stateDir), JSON.stringify(state, null, 2));
  save();

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

    for (const sim of sims) {
      const port = take();
      const apiKey = `sk-sim-${randomBytes(8).toString('hex')}`;
      const logFile = path.join(logs, `simulator-${sim.id}.log`);
      const { pid } = spawnService({
        name: `simulator-${sim.id}`,
        command: node,
        args: [
          path.join(opts.rootDir, 'libs/testing/dist/simulators/openai/main.js'),
          '--port',
          String(port),
          '--api-key',
          apiKey,
          '--name',
          sim.id,
          ...(sim.args ?? []),
        ],
        env: baseEnv,
        logFile,
        cwd: opts.rootDir,
        detached: opts.detached,
      });
      const url = `http://127.0.0.1:${port}`;
      state.simulators.push({ id: sim.id, name: `simulator-${sim.id}`, pid, port, url, logFile, apiKey });
      save();
      await waitForHttp(`${url}/__sim/health`, { timeoutMs: 30_000, isAlive: () => isAlive(pid) });
    }

    const providers = Object.fromEntries(
      state.simulators.map((s) => [s.id, { kind: 'openai', baseUrl: `${s.url}/v1`, apiKey: s.apiKey }]),
    );
    const envFor: Record<ServiceName, Record<string, string>> = {
      router: {
        DATABASE_URL: postgres.url,
        ...(opts.catalogFile ? { ROUTER_CATALOG_FILE: opts.catalogFile } : {}),
      },
      connector: { CONNECTOR_PROVIDERS: JSON.stringify(providers) },
      billing: { DATABASE_URL: postgres.url },
      analytics: { DATABASE_URL: postgres.url },
      gateway: { DATABASE_URL: postgres.url, GATEWAY_ADMIN_TOKEN: state.adminToken },
    };

    const launch = async (name: ServiceName, instance: string, extra: Record<string, string> = {}) => {
      const port = take();
      const logFile = path.join(logs, `${instance}.log`);
      const { pid } = spawnService({
        name: instance,
        command: node,
        args: ['--enable-source-maps', path.join(opts.rootDir, `services/${name}/dist/main.js`)],
        env: {
          ...baseEnv,
          ...envFor[name],
          ...opts.serviceEnv?.[name],
          ...extra,
          HTTP_PORT: String(port),
          INSTANCE_ID: instance,
        },
        logFile,
        cwd: opts.rootDir,
        detached: opts.detached,
      });
      const url = `http://127.0.0.1:${port}`;
      state.services.push({ name: instance, pid, port, url, logFile });
      save();
      try {
        await waitForHttp(`${url}/health/ready`, { timeoutMs: 90_000, isAlive: () => isAlive(pid) });
      } catch (e) {
        throw new Error(`${instance} did not become ready (log: ${logFile}): ${(e as Error).message}\n${tail(logFile)}`);
      }
      log(`${instance} ready on ${url}`);
      return url;
    };

    // The router first: the gateway loads the routing table it publishes.
    await launch('router', 'router-1');
    await Promise.all([launch('connector', 'connector-1'), launch('billing', 'billing-1'), launch('analytics', 'analytics-1')]);
    for (let i = 0; i < gateways; i++) {
      state.gatewayUrls.push(await launch('gateway', `gateway-${i + 1}`, { GATEWAY_REPLY_PARTITION: String(i) }));
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
  await Promise.all([stopKafkaDataDir(state.kafka.dataDir), stopPostgresDataDir(state.postgres.dataDir)]);
  if (existsSync(stateFile(stateDir))) writeFileSync(stateFile(stateDir), JSON.stringify({ ...state, stoppedAt: new Date().toISOString() }, null, 2));
  return true;
}

/** Creates a tenant and an API key through the admin API; returns the key. */
export async function seedTenant(
  gatewayUrl: string,
  adminToken: string,
  tenant: { id: string; name: string },
  keyName = 'default',
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
