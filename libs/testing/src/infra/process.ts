import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, mkdirSync, openSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

export interface SpawnServiceOptions {
  /** Used in error messages only. */
  name: string;
  command: string;
  args: string[];
  /**
   * The complete environment of the child (nothing is inherited: pass PATH etc.
   * yourself). The command is looked up on `env.PATH` when it is not a path.
   */
  env: Record<string, string>;
  /** stdout and stderr are appended to this file (created, with its directory, if missing). */
  logFile: string;
  cwd: string;
  /**
   * true: the child gets its own session/process group (setsid) and is unref'ed,
   * so it keeps running after the calling Node process exits.
   */
  detached?: boolean;
}

/** Opens `file` for appending (creating its directory; a new file is 0600) and returns the fd. */
export function openLogFd(file: string): number {
  mkdirSync(path.dirname(file), { recursive: true });
  // Logs may quote a request or a configuration: owner only.
  return openSync(file, 'a', 0o600);
}

/** Starts a long-running service process with stdout+stderr appended to `logFile`. */
export function spawnService(opts: SpawnServiceOptions): { pid: number; child: ChildProcess } {
  const fd = openLogFd(opts.logFile);
  let child: ChildProcess;
  try {
    child = spawn(opts.command, opts.args, {
      cwd: opts.cwd,
      env: opts.env,
      stdio: ['ignore', fd, fd],
      detached: opts.detached === true,
    });
  } finally {
    // The child has its own copy of the descriptor.
    closeSync(fd);
  }
  if (child.pid === undefined) {
    // spawn failures (ENOENT, EACCES) are reported asynchronously through 'error'.
    child.on('error', () => undefined);
    throw new Error(
      `spawnService(${opts.name}): could not start ${opts.command} (not found or not executable?)`,
    );
  }
  // Without a listener an async 'error' would crash the host process.
  child.on('error', () => undefined);
  if (opts.detached === true) child.unref();
  return { pid: child.pid, child };
}

/**
 * Whether `pid` is a live process. Zombies (exited, not yet reaped by their
 * parent) count as dead: they hold no resources except the pid.
 */
export function isAlive(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
  } catch (err) {
    // EPERM: it exists but belongs to somebody else.
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
  const stat = readProcStat(pid);
  if (stat !== undefined && (stat.state === 'Z' || stat.state === 'X')) return false;
  return true;
}

function readProcStat(pid: number): { state: string; pgrp: number } | undefined {
  try {
    const text = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // "pid (comm) S ppid pgrp ..." — comm may contain spaces and parentheses.
    const rest = text.slice(text.lastIndexOf(')') + 2).split(' ');
    return { state: rest[0] ?? '', pgrp: Number(rest[2]) };
  } catch {
    return undefined;
  }
}

function signal(pid: number, sig: NodeJS.Signals, group: boolean): void {
  try {
    process.kill(group ? -pid : pid, sig);
  } catch {
    if (group) {
      try {
        process.kill(pid, sig);
      } catch {
        /* already gone */
      }
    }
  }
}

/** Polls until `pid` is gone or `timeoutMs` elapsed; resolves to "gone". */
export async function waitForExit(pid: number, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (isAlive(pid)) {
    if (Date.now() >= deadline) return false;
    await sleep(50);
  }
  return true;
}

/**
 * SIGTERM, wait up to `graceMs`, then SIGKILL; resolves once the process is gone.
 * If `pid` leads its own process group (services started with `detached: true`),
 * the whole group is signalled so that grandchildren do not leak.
 *
 * Resolves to `true` when the process was running (and has now been stopped),
 * `false` when there was nothing to stop. Rejects if even SIGKILL did not work
 * within 10 s (e.g. the process belongs to another user).
 */
export async function stopPid(pid: number, graceMs = 15_000): Promise<boolean> {
  if (!isAlive(pid)) return false;
  const group = readProcStat(pid)?.pgrp === pid;
  signal(pid, 'SIGTERM', group);
  if (await waitForExit(pid, graceMs)) return true;
  signal(pid, 'SIGKILL', group);
  if (await waitForExit(pid, 10_000)) return true;
  throw new Error(`stopPid: process ${pid} is still alive after SIGKILL`);
}

export interface WaitForHttpOptions {
  /** Default 60 s. */
  timeoutMs?: number;
  /** Polled between attempts; when it returns false the wait is aborted (the service died). */
  isAlive?: () => boolean;
  /** Delay between attempts, default 200 ms. */
  intervalMs?: number;
}

/** Polls `url` with GET until it answers 2xx. */
export async function waitForHttp(url: string, opts: WaitForHttpOptions = {}): Promise<void> {
  const timeoutMs = opts.timeoutMs ?? 60_000;
  const intervalMs = opts.intervalMs ?? 200;
  const deadline = Date.now() + timeoutMs;
  let last = 'no attempt yet';
  for (;;) {
    if (opts.isAlive !== undefined && !opts.isAlive()) {
      throw new Error(
        `waitForHttp(${url}): the process died before becoming ready (last: ${last})`,
      );
    }
    try {
      const res = await fetch(url, { signal: AbortSignal.timeout(Math.min(5_000, timeoutMs)) });
      await res.body?.cancel().catch(() => undefined);
      if (res.status >= 200 && res.status < 300) return;
      last = `HTTP ${res.status}`;
    } catch (err) {
      const cause = (err as { cause?: { code?: string } }).cause;
      last = cause?.code ?? (err as Error).message;
    }
    if (Date.now() + intervalMs > deadline) {
      throw new Error(`waitForHttp(${url}): not ready after ${timeoutMs} ms (last: ${last})`);
    }
    await sleep(intervalMs);
  }
}
