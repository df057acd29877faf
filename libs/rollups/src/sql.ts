/**
 * The little of a database client the store and the reader need, so that the service (TypeORM)
 * and the tools (node-postgres) hand in what they have.
 */
export interface Sql {
  /** Runs one statement; resolves to its rows. */
  query<T = Record<string, unknown>>(text: string, params?: unknown[]): Promise<T[]>;
}

export interface TransactionOptions {
  isolation?: 'READ COMMITTED' | 'REPEATABLE READ';
  readOnly?: boolean;
}

export interface Db extends Sql {
  /** Runs `fn` in one transaction on one connection: committed if it resolves, else rolled back. */
  transaction<T>(fn: (tx: Sql) => Promise<T>, opts?: TransactionOptions): Promise<T>;
}

/** A quoted schema name; names are checked where they are configured (lowercase identifiers). */
export const quoteSchema = (schema: string): string => `"${schema.replace(/"/g, '')}"`;
