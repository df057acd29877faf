/**
 * Installs the peers `bench:peers` measures, once, under `$TURNPIKE_CACHE_DIR/peers/<name>-<version>`
 * (as scripts/turnpike caches Node): a stamp file marks a finished install, so a second run
 * installs nothing.
 */
import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);
const STAMP = '.turnpike-installed';

/** litellm's last release whose proxy starts here; never 1.107.0 (a compromised release). */
export const LITELLM_VERSION = '1.108.14';
/** Newest first: the first that streams through is measured (1.15.2 answers streams with a 500). */
export const PORTKEY_VERSIONS = ['1.15.2', '1.9.8'];
export const BIFROST_VERSION = '1.6.3';

async function sh(
  cmd: string,
  args: string[],
  log: (l: string) => void,
  cwd?: string,
  env?: NodeJS.ProcessEnv,
) {
  log(`$ ${cmd} ${args.join(' ')}`);
  try {
    return (await run(cmd, args, { cwd, env: env ?? process.env, maxBuffer: 64 * 2 ** 20 })).stdout;
  } catch (e) {
    const err = e as Error & { stderr?: string };
    throw new Error(`${cmd} ${args.join(' ')} failed: ${(err.stderr ?? err.message).slice(-2000)}`);
  }
}

async function once(dir: string, install: () => Promise<void>): Promise<string> {
  if (existsSync(path.join(dir, STAMP))) return dir;
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  await install();
  writeFileSync(path.join(dir, STAMP), `${new Date().toISOString()}\n`);
  return dir;
}

/**
 * LiteLLM's proxy in a venv: `litellm==1.108.14`, then its `[proxy]` extra's requirements with the
 * two pins that name releases PyPI does not have (litellm-proxy-extras==0.4.110.post1,
 * litellm-enterprise==0.1.79.post3) relaxed to their series (bench/peers/litellm-proxy-requirements.py).
 * Returns the `litellm` executable.
 */
export async function ensureLiteLLM(
  cacheDir: string,
  rootDir: string,
  log: (l: string) => void,
): Promise<string> {
  const dir = path.join(cacheDir, 'peers', `litellm-${LITELLM_VERSION}`);
  await once(dir, async () => {
    await sh('python3', ['-m', 'venv', dir], log);
    const pip = path.join(dir, 'bin/pip');
    await sh(pip, ['install', '-q', `litellm==${LITELLM_VERSION}`], log);
    const reqs = await sh(
      path.join(dir, 'bin/python'),
      [path.join(rootDir, 'bench/peers/litellm-proxy-requirements.py')],
      log,
    );
    const reqFile = path.join(dir, 'proxy-requirements.txt');
    writeFileSync(reqFile, reqs);
    await sh(pip, ['install', '-q', '-r', reqFile], log);
  });
  return path.join(dir, 'bin/litellm');
}

/**
 * An npm package installed alone under the cache (`<cacheDir>/<subdir>/`, `peers` by default);
 * returns its package directory. `allowScripts` lets npm run the package's own install script (a
 * native build), which `env` and `npmArgs` reach.
 */
export async function ensureNpmPeer(
  cacheDir: string,
  pkg: string,
  version: string,
  log: (l: string) => void,
  opts: {
    subdir?: string;
    allowScripts?: boolean;
    env?: NodeJS.ProcessEnv;
    npmArgs?: string[];
  } = {},
): Promise<string> {
  const dir = path.join(
    cacheDir,
    opts.subdir ?? 'peers',
    `${pkg.replace(/^@/, '').replace('/', '+')}-${version}`,
  );
  await once(dir, async () => {
    if (opts.allowScripts === true) {
      writeFileSync(
        path.join(dir, 'package.json'),
        JSON.stringify({ private: true, allowScripts: { [pkg]: true } }) + '\n',
      );
    }
    await sh(
      'npm',
      [
        'install',
        '--no-save',
        '--no-package-lock',
        '--no-fund',
        '--no-audit',
        '--prefix',
        dir,
        ...(opts.npmArgs ?? []),
        `${pkg}@${version}`,
      ],
      log,
      undefined,
      opts.env,
    );
  });
  return path.join(dir, 'node_modules', pkg);
}
