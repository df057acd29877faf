import type { MigrationInterface, QueryRunner } from 'typeorm';

export class CreateAccounts1732406400000 implements MigrationInterface {
  name = 'CreateAccounts1732406400000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`CREATE TABLE IF NOT EXISTS accounts.tenants (
      id text PRIMARY KEY,
      name text NOT NULL,
      created_at timestamptz NOT NULL DEFAULT now()
    )`);
    await q.query(`CREATE TABLE IF NOT EXISTS accounts.api_keys (
      id text PRIMARY KEY,
      key_hash char(64) NOT NULL UNIQUE,
      key_prefix text NOT NULL,
      tenant_id text NOT NULL REFERENCES accounts.tenants(id),
      name text NOT NULL,
      disabled boolean NOT NULL DEFAULT false,
      created_at timestamptz NOT NULL DEFAULT now()
    )`);
    await q.query(
      `CREATE INDEX IF NOT EXISTS api_keys_tenant_idx ON accounts.api_keys (tenant_id)`,
    );
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query('DROP TABLE accounts.api_keys');
    await q.query('DROP TABLE accounts.tenants');
  }
}

export const ACCOUNTS_MIGRATIONS = [CreateAccounts1732406400000];
