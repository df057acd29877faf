/**
 * The frame of the hop probes (hop-cpu, connector-memory): a platform of their own in a temporary
 * directory, a seeded tenant, the probe, one JSON object on stdout, the platform stopped, exit
 * 0 (1 on failure, logs kept).
 */
import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  seedTenant,
  startPlatform,
  stopPlatform,
  turnpikeCacheDir,
  type PlatformOptions,
  type PlatformState,
} from '@turnpike/testing';

const rootDir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

export interface Probe {
  state: PlatformState;
  stateDir: string;
  /** The seeded tenant's API key. */
  key: string;
  progress: (line: string) => void;
}

export function runProbe(
  name: string,
  opts: Pick<PlatformOptions, 'serviceEnv'>,
  probe: (p: Probe) => Promise<unknown>,
): void {
  const progress = (l: string) => process.stderr.write(`[${name}] ${l}\n`);
  const run = async () => {
    const stateDir = mkdtempSync(path.join(os.tmpdir(), `turnpike-${name}-`));
    chmodSync(stateDir, 0o755); // Postgres runs as an unprivileged user when we are root
    let ok = false;
    try {
      const state = await startPlatform({
        rootDir,
        stateDir,
        cacheDir: turnpikeCacheDir(),
        detached: false,
        ...opts,
        log: progress,
      });
      const { key } = await seedTenant(state.gatewayUrls[0]!, state.adminToken, {
        id: name,
        name: `${name} tenant`,
      });
      const result = await probe({ state, stateDir, key, progress });
      process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
      ok = true;
    } finally {
      await stopPlatform(stateDir);
      if (ok && !process.env['KEEP_PROBE_STATE'])
        rmSync(stateDir, { recursive: true, force: true });
      else progress(`kept ${stateDir}`);
    }
  };
  run().then(
    () => process.exit(0),
    (e: unknown) => {
      progress(`failed: ${(e as Error).stack ?? String(e)}`);
      process.exit(1);
    },
  );
}
