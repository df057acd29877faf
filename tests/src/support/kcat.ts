import { run, type Run } from './python.js';

/**
 * `kcat` (Debian package `kcat`, formerly `kafkacat`), the Kafka command line client the docs
 * show for reading topics: found on PATH, or installed with apt-get the first time (as root, or
 * with passwordless sudo). When it cannot be had, the test FAILS saying so, unless
 * TURNPIKE_SKIP_KCAT=1 is set.
 */
export class KcatUnavailable extends Error {
  constructor(message: string) {
    super(`${message}\n(set TURNPIKE_SKIP_KCAT=1 to skip the kcat checks)`);
    this.name = 'KcatUnavailable';
  }
}

const tail = (s: string, lines = 15) => s.trimEnd().split('\n').slice(-lines).join('\n');

async function works(bin: string): Promise<boolean> {
  const r = await run(bin, ['-V'], { timeoutMs: 10_000 });
  return r.code === 0 && /kcat|kafkacat/i.test(r.stdout + r.stderr);
}

let found: Promise<string> | null = null;

/** The kcat binary, installing the Debian package first if it is missing. */
export function ensureKcat(): Promise<string> {
  found ??= locate();
  return found;
}

async function locate(): Promise<string> {
  for (const bin of ['kcat', 'kafkacat']) if (await works(bin)) return bin;
  const apt = await run('apt-get', ['--version'], { timeoutMs: 10_000 });
  if (apt.code !== 0)
    throw new KcatUnavailable(
      'kcat is not installed, and apt-get is not available to install it: install kcat (Debian and Ubuntu: `apt-get install kcat`; macOS: `brew install kcat`).',
    );
  const root = process.getuid?.() === 0;
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  const apt_ = (args: string[]): Promise<Run> =>
    root
      ? run('apt-get', args, { timeoutMs: 300_000, env })
      : run('sudo', ['-n', 'apt-get', ...args], { timeoutMs: 300_000, env });
  let r = await apt_(['install', '-y', '--no-install-recommends', 'kcat']);
  // A fresh machine has no package lists yet.
  if (r.code !== 0 && /Unable to locate package|has no installation candidate/.test(r.stderr)) {
    const u = await apt_(['update']);
    if (u.code !== 0) throw new KcatUnavailable(`apt-get update failed:\n${tail(u.stderr)}`);
    r = await apt_(['install', '-y', '--no-install-recommends', 'kcat']);
  }
  if (r.code !== 0)
    throw new KcatUnavailable(
      `kcat is not installed and \`${root ? '' : 'sudo -n '}apt-get install kcat\` failed:\n${tail(r.stderr || r.stdout)}`,
    );
  if (!(await works('kcat'))) throw new KcatUnavailable('kcat was installed but does not run.');
  return 'kcat';
}

/** One message as `kcat -J` prints it. */
export interface KcatMessage {
  topic: string;
  partition: number;
  offset: number;
  key: string | null;
  payload: string | null;
}

/** Every message of a topic, from the beginning to its current end (`kcat -C -o beginning -e -J`). */
export async function kcatRead(
  bin: string,
  brokers: string,
  topic: string,
): Promise<KcatMessage[]> {
  const r = await run(
    bin,
    ['-b', brokers, '-C', '-t', topic, '-o', 'beginning', '-e', '-J', '-q'],
    {
      timeoutMs: 120_000,
    },
  );
  if (r.code !== 0) throw new Error(`kcat -C -t ${topic} failed (${r.code}):\n${tail(r.stderr)}`);
  return r.stdout
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => JSON.parse(l) as KcatMessage);
}
