import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { turnpikeCacheDir } from '@turnpike/testing';

/**
 * A venv with the official Python clients pinned in tests/python/requirements.txt, under the
 * cache dir (`$TURNPIKE_CACHE_DIR`, else ~/.cache/turnpike, like Node 24 and the Kafka jars).
 * Its directory is named by a hash of the requirements and the interpreter, so it is built once
 * (~40 s from PyPI) and reused in a moment until either changes. It is built beside its final
 * name and renamed into place, so a half-built venv is never used and parallel runs (sibling
 * worktrees share the cache) do not trip over each other; `bin/python` works after the rename
 * (it finds `pyvenv.cfg` beside itself), only pip's own shebang scripts would not, and we call
 * pip as `python -m pip`.
 */

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
export const PYTHON_DIR = path.join(root, 'tests/python');
const REQUIREMENTS = path.join(PYTHON_DIR, 'requirements.txt');
const MIN_PYTHON: [number, number] = [3, 11];

export interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

export function run(
  cmd: string,
  args: string[],
  opts: { timeoutMs: number; env?: NodeJS.ProcessEnv },
): Promise<Run> {
  return new Promise((resolve) => {
    const child = spawn(cmd, args, {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: opts.env ?? process.env,
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (b: Buffer) => (stdout += b.toString()));
    child.stderr.on('data', (b: Buffer) => (stderr += b.toString()));
    const timer = setTimeout(() => {
      stderr += `\n[killed after ${opts.timeoutMs} ms]`;
      child.kill('SIGKILL');
    }, opts.timeoutMs);
    child.on('error', (e) => {
      clearTimeout(timer);
      resolve({ code: null, stdout, stderr: `${stderr}${String(e)}` });
    });
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

const tail = (s: string, lines = 25) => s.trimEnd().split('\n').slice(-lines).join('\n');

/** Why the Python client checks cannot run here, phrased for the person reading the failure. */
export class PythonUnavailable extends Error {
  constructor(message: string) {
    super(`${message}\n(set TURNPIKE_SKIP_PYTHON=1 to skip the Python client checks)`);
    this.name = 'PythonUnavailable';
  }
}

/**
 * The venv's interpreter, building the venv first if this requirements file has none yet.
 * `env` is the environment pip runs in (PIP_INDEX_URL and friends apply).
 */
export async function pythonClientsVenv(
  opts: { cacheDir?: string; python?: string; env?: NodeJS.ProcessEnv } = {},
): Promise<string> {
  const cacheDir = opts.cacheDir ?? turnpikeCacheDir();
  const python = opts.python ?? 'python3';
  const env = opts.env ?? process.env;
  const probe = await run(
    python,
    ['-c', 'import sys; print(sys.version_info[0], sys.version_info[1], sys.executable)'],
    { timeoutMs: 30_000 },
  );
  if (probe.code !== 0)
    throw new PythonUnavailable(`no usable ${python} on PATH: ${tail(probe.stderr, 5)}`);
  const [major, minor, executable] = probe.stdout.trim().split(' ') as [string, string, string];
  if (
    Number(major) < MIN_PYTHON[0] ||
    (Number(major) === MIN_PYTHON[0] && Number(minor) < MIN_PYTHON[1])
  )
    throw new PythonUnavailable(
      `${python} is ${major}.${minor}; the pinned clients need ${MIN_PYTHON.join('.')} or newer`,
    );

  const requirements = readFileSync(REQUIREMENTS);
  const id = createHash('sha256')
    .update(requirements)
    .update(`\0${major}.${minor}\0${executable}`)
    .digest('hex')
    .slice(0, 16);
  const base = path.join(cacheDir, 'python-clients');
  const venv = path.join(base, id);
  const bin = path.join(venv, 'bin/python');
  if (existsSync(bin)) return bin;

  mkdirSync(base, { recursive: true });
  const building = path.join(base, `${id}.building-${process.pid}`);
  rmSync(building, { recursive: true, force: true });
  try {
    const made = await run(python, ['-m', 'venv', building], { timeoutMs: 120_000, env });
    if (made.code !== 0)
      throw new PythonUnavailable(`${python} -m venv failed:\n${tail(made.stderr)}`);
    const pip = await run(
      path.join(building, 'bin/python'),
      [
        '-m',
        'pip',
        'install',
        '--no-input',
        '--disable-pip-version-check',
        '--only-binary=:all:',
        '--timeout',
        '30',
        '--retries',
        '2',
        '-r',
        REQUIREMENTS,
      ],
      { timeoutMs: 600_000, env },
    );
    if (pip.code !== 0)
      throw new PythonUnavailable(
        `pip could not install tests/python/requirements.txt: is PyPI reachable from here?\n` +
          `pip said:\n${tail(pip.stderr || pip.stdout)}`,
      );
    try {
      renameSync(building, venv);
    } catch (e) {
      // Another run finished the same venv first: use it.
      if (!existsSync(bin)) throw e;
    }
    return bin;
  } finally {
    rmSync(building, { recursive: true, force: true });
  }
}
