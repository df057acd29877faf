import os from 'node:os';
import path from 'node:path';

/**
 * Where the project's downloaded tools live (Node, Kafka's jars, Postgres' binaries, the Python
 * venv, the bench's peers): `TURNPIKE_CACHE_DIR`, which `scripts/turnpike` exports, else
 * `~/.cache/turnpike`. The one place test harnesses and benches read it.
 */
export function turnpikeCacheDir(): string {
  return process.env['TURNPIKE_CACHE_DIR'] ?? path.join(os.homedir(), '.cache', 'turnpike');
}
