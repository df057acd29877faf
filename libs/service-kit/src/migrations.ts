import { Logger } from '@nestjs/common';
import { DataSource } from 'typeorm';
import type { DatabaseOptions } from './database.module.js';
import { ensureSchema } from './database.module.js';

/**
 * Applies a service's pending migrations and exits: the `migrate` entry point of each service
 * that owns a schema (`node services/<s>/dist/migrate.js`), run by the Helm chart's migrations
 * job before an install or an upgrade. Services still migrate at boot (a no-op once the job ran),
 * so a deployment without the job (compose, `npm run up`) needs nothing else. Migrations are
 * written to be compatible with the release before them (expand, then contract a release later),
 * since old replicas keep serving while the job runs.
 */
export async function runMigrations(
  service: string,
  opts: Pick<DatabaseOptions, 'url' | 'schema' | 'migrations'>,
): Promise<string[]> {
  const log = new Logger(`${service}-migrate`);
  await ensureSchema(opts.url, opts.schema);
  const db = new DataSource({
    type: 'postgres',
    url: opts.url,
    schema: opts.schema,
    migrations: opts.migrations,
    migrationsTableName: 'migrations',
    logging: ['error'],
    extra: { max: 1 },
  });
  await db.initialize();
  try {
    const applied = await db.runMigrations();
    const names = applied.map((m) => m.name);
    log.log(
      names.length > 0
        ? `schema ${opts.schema}: applied ${names.join(', ')}`
        : `schema ${opts.schema}: up to date`,
    );
    return names;
  } finally {
    await db.destroy();
  }
}
