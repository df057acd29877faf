import { Module, type DynamicModule } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import pg from 'pg';
import type { MixedList, EntitySchema } from 'typeorm';
import { Readiness } from './readiness.js';

export interface DatabaseOptions {
  url: string;
  /** The service's own Postgres schema: services never read each other's tables. */
  schema: string;
  // eslint-disable-next-line @typescript-eslint/no-unsafe-function-type
  entities: MixedList<Function | string | EntitySchema>;
  // eslint-disable-next-line @typescript-eslint/no-unsafe-function-type
  migrations: MixedList<Function | string>;
  poolSize?: number;
}

/** Creates the schema if needed (TypeORM keeps its migrations table inside it). */
export async function ensureSchema(url: string, schema: string): Promise<void> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    await client.query(`CREATE SCHEMA IF NOT EXISTS "${schema.replace(/"/g, '')}"`);
  } finally {
    await client.end();
  }
}

/** TypeORM over `pg`, in the service's schema, migrated at boot. */
@Module({})
export class DatabaseModule {
  static forRoot(opts: DatabaseOptions): DynamicModule {
    return {
      module: DatabaseModule,
      imports: [
        TypeOrmModule.forRootAsync({
          inject: [Readiness],
          useFactory: async (readiness: Readiness) => {
            await ensureSchema(opts.url, opts.schema);
            readiness.register('postgres', () => true);
            return {
              type: 'postgres' as const,
              url: opts.url,
              schema: opts.schema,
              entities: opts.entities,
              migrations: opts.migrations,
              migrationsRun: true,
              migrationsTableName: 'migrations',
              synchronize: false,
              logging: ['error' as const],
              extra: { max: opts.poolSize ?? 10 },
            };
          },
        }),
      ],
      exports: [TypeOrmModule],
    };
  }
}
