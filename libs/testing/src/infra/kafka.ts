import { spawn, type ChildProcess } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { closeSync, existsSync, openSync, readFileSync, readSync, statSync } from 'node:fs';
import fs from 'node:fs/promises';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import kafkajs from 'kafkajs';
import { freePorts } from './ports.js';
import { isAlive, openLogFd, stopPid } from './process.js';

const { Kafka, logLevel } = kafkajs;

export const KAFKA_VERSION = '3.9.1';
const SCALA_VERSION = '2.13';
const LOG4J_VERSION = '2.24.3';
const DEPENDENCY_PLUGIN_VERSION = '3.8.1';
const MARKER = '.turnpike-complete';

export interface KafkaDistribution {
  /** `:`-separated list of every runtime jar, for `java -cp`. */
  classpath: string;
}

export interface StartKafkaOptions {
  /** Where the Maven-resolved jars are cached (see ensureKafkaDistribution). */
  cacheDir: string;
  /** Holds server.properties, log4j2.properties and the log dirs (`<dataDir>/logs`). Reusable across restarts. */
  dataDir: string;
  /** PLAINTEXT listener port; a free one is picked when omitted. */
  port?: number;
  /** CONTROLLER listener port; a free one is picked when omitted. */
  controllerPort?: number;
  /** Broker log (log4j output plus the JVM's stdout/stderr), appended to. */
  logFile: string;
  /** Max heap in MB, default 512. */
  heapMb?: number;
  /**
   * true: the broker gets its own session and outlives this Node process (`npm run up`).
   * false (default): the broker is killed when this process exits, even on a crash, and
   * the handle does not keep the event loop alive.
   */
  detached?: boolean;
  /** How long to wait for the broker to answer admin requests, default 60 s. */
  readyTimeoutMs?: number;
  /** The java executable, default `java` (looked up on PATH). */
  javaCommand?: string;
}

export interface KafkaHandle {
  /** "127.0.0.1:<port>" */
  brokers: string;
  /** pid of the JVM. */
  pid: number;
  /** SIGTERM, up to 15 s for a clean shutdown, then SIGKILL. Idempotent. */
  stop(): Promise<void>;
}

function pomXml(): string {
  return `<?xml version="1.0" encoding="UTF-8"?>
<project xmlns="http://maven.apache.org/POM/4.0.0">
  <modelVersion>4.0.0</modelVersion>
  <groupId>dev.turnpike.local</groupId>
  <artifactId>kafka-distribution</artifactId>
  <version>${KAFKA_VERSION}</version>
  <packaging>pom</packaging>
  <dependencies>
    <dependency>
      <groupId>org.apache.kafka</groupId>
      <artifactId>kafka_${SCALA_VERSION}</artifactId>
      <version>${KAFKA_VERSION}</version>
    </dependency>
    <!-- Kafka ${KAFKA_VERSION} logs through slf4j 1.7: bind it to log4j2. -->
    <dependency>
      <groupId>org.apache.logging.log4j</groupId>
      <artifactId>log4j-slf4j-impl</artifactId>
      <version>${LOG4J_VERSION}</version>
    </dependency>
  </dependencies>
  <build>
    <plugins>
      <plugin>
        <groupId>org.apache.maven.plugins</groupId>
        <artifactId>maven-dependency-plugin</artifactId>
        <version>${DEPENDENCY_PLUGIN_VERSION}</version>
      </plugin>
    </plugins>
  </build>
</project>
`;
}

function run(
  command: string,
  args: string[],
  opts: { cwd?: string } = {},
): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { cwd: opts.cwd, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    const collect = (chunk: Buffer): void => {
      output += chunk.toString('utf8');
      if (output.length > 200_000) output = output.slice(-100_000);
    };
    child.stdout.on('data', collect);
    child.stderr.on('data', collect);
    child.once('error', reject);
    child.once('close', (code) => resolve({ code, output }));
  });
}

async function readClasspath(distDir: string): Promise<string> {
  const libs = path.join(distDir, 'libs');
  const jars = (await fs.readdir(libs)).filter((f) => f.endsWith('.jar')).sort();
  if (!jars.some((j) => j.startsWith(`kafka_${SCALA_VERSION}-`))) {
    throw new Error(`ensureKafkaDistribution: ${libs} has no kafka_${SCALA_VERSION} jar`);
  }
  return jars.map((j) => path.join(libs, j)).join(path.delimiter);
}

async function isComplete(distDir: string, fingerprint: string): Promise<boolean> {
  try {
    return (await fs.readFile(path.join(distDir, MARKER), 'utf8')).trim() === fingerprint;
  } catch {
    return false;
  }
}

const inFlight = new Map<string, Promise<KafkaDistribution>>();

/**
 * Resolves Apache Kafka 3.9.1 (Scala 2.13) and a log4j2 slf4j binding from
 * Maven Central into `<cacheDir>/kafka-3.9.1/libs` with `mvn dependency:copy-dependencies`.
 * A marker file (fingerprint of the pom) makes later calls instant.
 *
 * Concurrency: each caller resolves into its own temp directory which is then
 * renamed into place; the loser of a rename race discards its copy. The artifacts
 * themselves are cached in the Maven local repository (~/.m2), so a second
 * resolution is cheap anyway.
 */
export function ensureKafkaDistribution(cacheDir: string): Promise<KafkaDistribution> {
  const key = path.resolve(cacheDir);
  let pending = inFlight.get(key);
  if (pending === undefined) {
    pending = resolveDistribution(key).finally(() => inFlight.delete(key));
    inFlight.set(key, pending);
  }
  return pending;
}

async function resolveDistribution(cacheDir: string): Promise<KafkaDistribution> {
  const pom = pomXml();
  const fingerprint = createHash('sha256').update(pom).digest('hex');
  const finalDir = path.join(cacheDir, `kafka-${KAFKA_VERSION}`);
  if (await isComplete(finalDir, fingerprint)) return { classpath: await readClasspath(finalDir) };

  await fs.mkdir(cacheDir, { recursive: true });
  const tmpDir = path.join(
    cacheDir,
    `.kafka-${KAFKA_VERSION}.tmp-${process.pid}-${randomBytes(4).toString('hex')}`,
  );
  await fs.mkdir(tmpDir, { recursive: true });
  try {
    await fs.writeFile(path.join(tmpDir, 'pom.xml'), pom);
    const args = [
      '-q',
      '-B',
      '-f',
      path.join(tmpDir, 'pom.xml'),
      `org.apache.maven.plugins:maven-dependency-plugin:${DEPENDENCY_PLUGIN_VERSION}:copy-dependencies`,
      `-DoutputDirectory=${path.join(tmpDir, 'libs')}`,
      '-DincludeScope=runtime',
    ];
    let result: { code: number | null; output: string };
    try {
      result = await run('mvn', args, { cwd: tmpDir });
    } catch (err) {
      throw new Error(
        `ensureKafkaDistribution: could not run mvn (is Maven on PATH?): ${(err as Error).message}`,
      );
    }
    if (result.code !== 0) {
      throw new Error(
        `ensureKafkaDistribution: mvn failed (exit ${result.code}) resolving kafka_${SCALA_VERSION}:${KAFKA_VERSION}:\n` +
          result.output.slice(-4000),
      );
    }
    await readClasspath(tmpDir); // sanity check before publishing
    await fs.writeFile(path.join(tmpDir, MARKER), fingerprint + '\n');

    for (let attempt = 0; ; attempt++) {
      try {
        await fs.rename(tmpDir, finalDir);
        break;
      } catch (err) {
        const code = (err as NodeJS.ErrnoException).code;
        if (code !== 'ENOTEMPTY' && code !== 'EEXIST') throw err;
        // Somebody else published first: use theirs if it is complete.
        if (await isComplete(finalDir, fingerprint)) break;
        if (attempt >= 3) throw err;
        // A stale or partial directory (older pom, interrupted run): move it aside.
        const trash = `${finalDir}.stale-${process.pid}-${randomBytes(4).toString('hex')}`;
        await fs.rename(finalDir, trash).catch(() => undefined);
        await fs.rm(trash, { recursive: true, force: true });
      }
    }
  } finally {
    await fs.rm(tmpDir, { recursive: true, force: true });
  }
  return { classpath: await readClasspath(finalDir) };
}

/**
 * A random KRaft cluster id: 16 random bytes, base64url without padding (22 chars). Like Kafka's
 * own `Uuid.randomUuid()`, never one that starts with '-': the storage tool's argument parser
 * would read it as an option (1 run in 64 failed with "--cluster-id: expected one argument").
 */
export function randomClusterId(): string {
  for (;;) {
    const id = randomBytes(16).toString('base64url');
    if (!id.startsWith('-')) return id;
  }
}

function serverProperties(o: { port: number; controllerPort: number; logDirs: string }): string {
  const props: Array<[string, string | number]> = [
    ['process.roles', 'broker,controller'],
    ['node.id', 1],
    ['controller.quorum.voters', `1@127.0.0.1:${o.controllerPort}`],
    ['listeners', `PLAINTEXT://127.0.0.1:${o.port},CONTROLLER://127.0.0.1:${o.controllerPort}`],
    ['advertised.listeners', `PLAINTEXT://127.0.0.1:${o.port}`],
    ['controller.listener.names', 'CONTROLLER'],
    ['inter.broker.listener.name', 'PLAINTEXT'],
    ['listener.security.protocol.map', 'CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT'],
    ['log.dirs', o.logDirs],
    ['auto.create.topics.enable', 'false'],
    ['num.partitions', 1],
    ['default.replication.factor', 1],
    ['min.insync.replicas', 1],
    ['group.initial.rebalance.delay.ms', 0],
    ['group.min.session.timeout.ms', 6000],
    ['offsets.topic.replication.factor', 1],
    ['offsets.topic.num.partitions', 10],
    ['transaction.state.log.replication.factor', 1],
    ['transaction.state.log.min.isr', 1],
    ['transaction.state.log.num.partitions', 10],
    // Small footprint for a local single node.
    ['num.network.threads', 2],
    ['num.io.threads', 4],
    ['num.recovery.threads.per.data.dir', 1],
    ['log.cleaner.dedupe.buffer.size', 16 * 1024 * 1024],
    ['log.cleaner.threads', 1],
    ['log.segment.bytes', 64 * 1024 * 1024],
    ['log.retention.hours', 24],
    ['log.retention.check.interval.ms', 60_000],
    // Local dev only: topics are disposable, make deletion quick.
    ['delete.topic.enable', 'true'],
    ['file.delete.delay.ms', 1000],
  ];
  return (
    '# Generated by @turnpike/testing startKafka(): single-node KRaft (broker+controller).\n' +
    props.map(([k, v]) => `${k}=${v}`).join('\n') +
    '\n'
  );
}

function escapeProperty(value: string): string {
  return value.replace(/\\/g, '\\\\');
}

function log4j2Properties(logFile: string): string {
  const quiet = [
    'org.apache.zookeeper',
    'io.netty',
    'state.change.logger',
    'kafka.request.logger',
    'kafka.authorizer.logger',
    'kafka.log.LogCleaner',
    'org.apache.kafka.clients',
    'org.apache.kafka.common.utils.AppInfoParser',
    'org.apache.kafka.common.metrics',
    'kafka.server.KafkaConfig',
    'org.apache.kafka.common.config.AbstractConfig',
  ];
  const lines = [
    'status = warn',
    'name = turnpike-kafka',
    // Kafka shuts down from its own shutdown hook; keep logging alive until the end.
    'shutdownHook = disable',
    'appender.file.type = File',
    'appender.file.name = FILE',
    `appender.file.fileName = ${escapeProperty(logFile)}`,
    'appender.file.append = true',
    'appender.file.layout.type = PatternLayout',
    'appender.file.layout.pattern = [%d] %p %m (%c)%n',
    'rootLogger.level = INFO',
    'rootLogger.appenderRef.file.ref = FILE',
    'logger.kafka.name = kafka',
    'logger.kafka.level = INFO',
    'logger.apachekafka.name = org.apache.kafka',
    'logger.apachekafka.level = INFO',
    ...quiet.flatMap((name, i) => [
      `logger.quiet${i}.name = ${name}`,
      `logger.quiet${i}.level = WARN`,
    ]),
  ];
  return lines.join('\n') + '\n';
}

function tailOf(file: string, fromByte: number, maxBytes = 8000): string {
  try {
    const size = statSync(file).size;
    const start = Math.max(fromByte, size - maxBytes);
    if (size <= start) return '(log is empty)';
    const fd = openSync(file, 'r');
    try {
      const buf = Buffer.alloc(size - start);
      readSync(fd, buf, 0, buf.length, start);
      return buf.toString('utf8');
    } finally {
      closeSync(fd);
    }
  } catch {
    return '(no log)';
  }
}

function fileSize(file: string): number {
  try {
    return statSync(file).size;
  } catch {
    return 0;
  }
}

/**
 * Kills `pid` when this Node process goes away, however it goes away (even SIGKILL):
 * a tiny detached shell blocks reading a pipe from us and gets EOF when we die.
 */
function spawnParentDeathWatchdog(pid: number): ChildProcess {
  const script =
    'read _ ; kill -TERM "$1" 2>/dev/null; i=0; ' +
    'while kill -0 "$1" 2>/dev/null && [ $i -lt 150 ]; do sleep 0.1; i=$((i+1)); done; ' +
    'kill -KILL "$1" 2>/dev/null';
  const watchdog = spawn('/bin/sh', ['-c', script, 'turnpike-kafka-watchdog', String(pid)], {
    stdio: ['pipe', 'ignore', 'ignore'],
    detached: true,
  });
  watchdog.on('error', () => undefined);
  watchdog.stdin?.on('error', () => undefined);
  watchdog.unref();
  (watchdog.stdin as unknown as { unref?: () => void } | null)?.unref?.();
  return watchdog;
}

async function probeBroker(brokers: string): Promise<void> {
  const kafka = new Kafka({
    clientId: 'turnpike-infra-probe',
    brokers: [brokers],
    logLevel: logLevel.NOTHING,
    connectionTimeout: 2000,
    requestTimeout: 5000,
    retry: { retries: 0 },
  });
  const admin = kafka.admin({ retry: { retries: 0 } });
  try {
    await admin.connect();
    const cluster = await admin.describeCluster();
    if (cluster.brokers.length === 0) throw new Error('no registered brokers yet');
    await admin.listTopics();
  } finally {
    await admin.disconnect().catch(() => undefined);
  }
}

const PID_FILE = 'kafka.pid';

interface PidFile {
  pid: number;
  port: number;
  controllerPort: number;
}

function cmdlineOf(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8');
  } catch {
    return '';
  }
}

/** The broker currently running on `dataDir` (per its pid file), if any. */
async function runningBroker(dataDir: string): Promise<PidFile | undefined> {
  let info: PidFile;
  try {
    info = JSON.parse(await fs.readFile(path.join(dataDir, PID_FILE), 'utf8')) as PidFile;
  } catch {
    return undefined;
  }
  // Guard against pid reuse: the process must be a broker started on this data dir.
  if (!isAlive(info.pid) || !cmdlineOf(info.pid).includes(path.join(dataDir, 'server.properties')))
    return undefined;
  return info;
}

/**
 * Stops the broker started by startKafka() on `dataDir` (found through `<dataDir>/kafka.pid`),
 * from any process (`npm run down`). Resolves to true if a broker was running.
 */
export async function stopKafkaDataDir(dataDir: string, graceMs = 15_000): Promise<boolean> {
  const dir = path.resolve(dataDir);
  const info = await runningBroker(dir);
  const stopped = info !== undefined ? await stopPid(info.pid, graceMs) : false;
  await fs.rm(path.join(dir, PID_FILE), { force: true });
  return stopped;
}

/** The ports the broker of `dataDir` was configured with (its generated server.properties). */
export async function kafkaPortsOf(
  dataDir: string,
): Promise<{ port: number; controllerPort: number }> {
  const props = await fs.readFile(path.join(path.resolve(dataDir), 'server.properties'), 'utf8');
  const listeners = /^listeners=(.*)$/m.exec(props)?.[1] ?? '';
  const port = Number(/PLAINTEXT:\/\/[^:,]+:(\d+)/.exec(listeners)?.[1]);
  const controllerPort = Number(/CONTROLLER:\/\/[^:,]+:(\d+)/.exec(listeners)?.[1]);
  if (!port || !controllerPort)
    throw new Error(`no listener ports in ${dataDir}/server.properties`);
  return { port, controllerPort };
}

/**
 * Starts the broker of an existing data dir again, on the ports it had, after it was stopped
 * (`stopKafkaDataDir`): what a broker restart looks like to the clients. Detached, so that it
 * outlives the caller (a test file); whoever stops the platform stops it through its pid file.
 */
export async function restartKafkaDataDir(
  dataDir: string,
  opts: { cacheDir: string; logFile: string; readyTimeoutMs?: number },
): Promise<KafkaHandle> {
  const ports = await kafkaPortsOf(dataDir);
  return startKafka({
    cacheDir: opts.cacheDir,
    dataDir,
    logFile: opts.logFile,
    ...ports,
    detached: true,
    ...(opts.readyTimeoutMs === undefined ? {} : { readyTimeoutMs: opts.readyTimeoutMs }),
  });
}

async function waitUntilReady(o: {
  brokers: string;
  timeoutMs: number;
  exitInfo: () => string | undefined;
  exitPromise: Promise<unknown>;
}): Promise<void> {
  const deadline = Date.now() + o.timeoutMs;
  let delay = 100;
  let lastError = '';
  for (;;) {
    const exit = o.exitInfo();
    if (exit !== undefined) throw new Error(`the broker exited during startup (${exit})`);
    try {
      await probeBroker(o.brokers);
      return;
    } catch (err) {
      lastError = (err as Error).message;
    }
    if (Date.now() >= deadline) {
      throw new Error(
        `broker on ${o.brokers} not ready after ${o.timeoutMs} ms (last error: ${lastError})`,
      );
    }
    await Promise.race([sleep(delay), o.exitPromise]);
    delay = Math.min(1000, Math.round(delay * 1.5));
  }
}

/** ERROR/FATAL lines (with the line after, usually the exception) plus the end of the log. */
function startupDiagnostics(logFile: string, fromByte: number): string {
  const text = tailOf(logFile, fromByte, 256_000);
  const lines = text.split('\n');
  const errors: string[] = [];
  lines.forEach((line, i) => {
    if (/\] (ERROR|FATAL) /.test(line) && errors.length < 20) errors.push(line, lines[i + 1] ?? '');
  });
  const tail = lines.slice(-40).join('\n');
  return (
    (errors.length > 0 ? `Errors:\n${errors.join('\n')}\n` : '') + `Log tail (${logFile}):\n${tail}`
  );
}

/**
 * Starts a single-node Kafka 3.9.1 in KRaft mode (combined broker+controller) on
 * 127.0.0.1 and resolves once an admin client can describe the cluster and list topics.
 * Needs `java` (17+) and, the first time, `mvn` with access to Maven Central.
 *
 * The data dir can be reused across restarts (storage is formatted only once). If a
 * broker started by this function is still running on `dataDir`, it is reused when the
 * requested ports match (or were left out) and an error is thrown otherwise: two
 * brokers must never share a data dir (Kafka's own lock does not protect the KRaft
 * metadata log early enough).
 */
export async function startKafka(opts: StartKafkaOptions): Promise<KafkaHandle> {
  const dataDir = path.resolve(opts.dataDir);
  const logFile = path.resolve(opts.logFile);
  const readyTimeoutMs = opts.readyTimeoutMs ?? 60_000;

  const existing = await runningBroker(dataDir);
  if (existing !== undefined) {
    if (
      (opts.port !== undefined && opts.port !== existing.port) ||
      (opts.controllerPort !== undefined && opts.controllerPort !== existing.controllerPort)
    ) {
      throw new Error(
        `startKafka: a broker (pid ${existing.pid}) is already running on ${dataDir} with ports ` +
          `${existing.port}/${existing.controllerPort}; stop it first (stopKafkaDataDir)`,
      );
    }
    const brokers = `127.0.0.1:${existing.port}`;
    await waitUntilReady({
      brokers,
      timeoutMs: readyTimeoutMs,
      exitInfo: () => (isAlive(existing.pid) ? undefined : 'pid gone'),
      exitPromise: new Promise(() => undefined),
    });
    let stopping: Promise<void> | undefined;
    const stop = (): Promise<void> =>
      (stopping ??= stopKafkaDataDir(dataDir).then(() => undefined));
    return { brokers, pid: existing.pid, stop };
  }

  const { classpath } = await ensureKafkaDistribution(opts.cacheDir);
  let { port, controllerPort } = opts;
  if (port === undefined || controllerPort === undefined) {
    const [a, b] = await freePorts(2);
    port ??= a!;
    controllerPort ??= b!;
  }
  const logDirs = path.join(dataDir, 'logs');
  const serverProps = path.join(dataDir, 'server.properties');
  const log4jProps = path.join(dataDir, 'log4j2.properties');
  const heapMb = opts.heapMb ?? 512;
  const java = opts.javaCommand ?? 'java';

  await fs.mkdir(logDirs, { recursive: true });
  await fs.mkdir(path.dirname(logFile), { recursive: true });
  await fs.writeFile(serverProps, serverProperties({ port, controllerPort, logDirs }));
  await fs.writeFile(log4jProps, log4j2Properties(logFile));
  // log4j creates its file with the JVM's umask (world-readable); the log can quote requests,
  // so create it owner-only first (log4j appends to it and keeps the mode).
  await fs.mkdir(path.dirname(logFile), { recursive: true });
  await fs.appendFile(logFile, '', { mode: 0o600 });
  await fs.chmod(logFile, 0o600);
  const logStart = fileSize(logFile);

  const jvmArgs = [
    `-Xms${Math.min(256, heapMb)}m`,
    `-Xmx${heapMb}m`,
    '-XX:+UseG1GC',
    '-XX:MaxGCPauseMillis=20',
    '-XX:InitiatingHeapOccupancyPercent=35',
    '-XX:+ExplicitGCInvokesConcurrent',
    '-XX:+ExitOnOutOfMemoryError',
    '-Djava.awt.headless=true',
    `-Dlog4j2.configurationFile=${log4jProps}`,
    `-Dkafka.logs.dir=${path.dirname(logFile)}`,
    '-cp',
    classpath,
  ];

  // Format the storage once; an already formatted data dir is simply restarted.
  if (!existsSync(path.join(logDirs, 'meta.properties'))) {
    const fmt = await run(java, [
      ...jvmArgs,
      'kafka.tools.StorageTool',
      'format',
      '-t',
      randomClusterId(),
      '-c',
      serverProps,
      '--ignore-formatted',
    ]);
    if (fmt.code !== 0) {
      throw new Error(
        `startKafka: kafka-storage format failed (exit ${fmt.code}):\n${fmt.output.slice(-4000)}`,
      );
    }
  }

  const detached = opts.detached === true;
  const fd = openLogFd(logFile);
  let child: ChildProcess;
  try {
    child = spawn(java, [...jvmArgs, 'kafka.Kafka', serverProps], {
      cwd: dataDir,
      stdio: ['ignore', fd, fd],
      detached,
    });
  } finally {
    closeSync(fd);
  }
  const spawnError = new Promise<Error>((resolve) => child.once('error', resolve));
  let exited: { code: number | null; signal: NodeJS.Signals | null } | undefined;
  const exitPromise = new Promise<void>((resolve) =>
    child.once('exit', (code, signal) => {
      exited = { code, signal };
      resolve();
    }),
  );
  // Never keep the event loop alive: detached brokers outlive us anyway, attached ones
  // are killed by the watchdog when we exit.
  child.unref();
  if (child.pid === undefined) {
    throw new Error(`startKafka: could not start ${java}: ${(await spawnError).message}`);
  }
  const pid = child.pid;
  const watchdog = detached ? undefined : spawnParentDeathWatchdog(pid);
  const pidFile: PidFile = { pid, port, controllerPort };
  await fs.writeFile(path.join(dataDir, PID_FILE), JSON.stringify(pidFile) + '\n');
  const brokers = `127.0.0.1:${port}`;

  let stopping: Promise<void> | undefined;
  const stop = (): Promise<void> => {
    stopping ??= (async () => {
      try {
        if (exited === undefined) await stopPid(pid, 15_000);
        // stopPid treats zombies as gone; give libuv a moment to reap our child.
        await Promise.race([exitPromise, sleep(2000)]);
        await fs.rm(path.join(dataDir, PID_FILE), { force: true });
      } finally {
        if (watchdog?.pid !== undefined && isAlive(watchdog.pid)) {
          try {
            process.kill(watchdog.pid, 'SIGKILL');
          } catch {
            /* gone */
          }
        }
      }
    })();
    return stopping;
  };

  try {
    await waitUntilReady({
      brokers,
      timeoutMs: readyTimeoutMs,
      exitInfo: () =>
        exited === undefined ? undefined : `exit code ${exited.code}, signal ${exited.signal}`,
      exitPromise,
    });
  } catch (err) {
    await stop().catch(() => undefined);
    throw new Error(
      `startKafka: ${(err as Error).message}.\n${startupDiagnostics(logFile, logStart)}`,
    );
  }
  return { brokers, pid, stop };
}
