import type { DataSource } from 'typeorm';
import type { Db, Sql, TransactionOptions } from '@turnpike/rollups';

/**
 * The rollup store's and reader's database port over the service's TypeORM data source. Every
 * statement resolves to its rows (TypeORM's plain `query` gives `[rows, count]` for UPDATE and
 * DELETE; the structured result does not).
 */
export function typeormDb(ds: DataSource): Db {
  const run = async <T>(
    qr: ReturnType<DataSource['createQueryRunner']>,
    text: string,
    params?: unknown[],
  ): Promise<T[]> => ((await qr.query(text, params, true)) as { records: T[] }).records ?? [];
  return {
    async query<T>(text: string, params?: unknown[]): Promise<T[]> {
      const qr = ds.createQueryRunner();
      try {
        return await run<T>(qr, text, params);
      } finally {
        await qr.release();
      }
    },
    async transaction<T>(fn: (tx: Sql) => Promise<T>, opts: TransactionOptions = {}): Promise<T> {
      const qr = ds.createQueryRunner();
      await qr.connect();
      let open = false;
      try {
        await qr.query(
          `BEGIN ISOLATION LEVEL ${opts.isolation ?? 'READ COMMITTED'}${opts.readOnly ? ' READ ONLY' : ''}`,
        );
        open = true;
        const result = await fn({ query: <R>(t: string, p?: unknown[]) => run<R>(qr, t, p) });
        await qr.query('COMMIT');
        open = false;
        return result;
      } catch (e) {
        if (open) await qr.query('ROLLBACK').catch(() => undefined);
        throw e;
      } finally {
        await qr.release();
      }
    },
  };
}
