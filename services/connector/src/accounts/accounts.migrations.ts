import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The connector's tables (schema `connector`):
 * - `provider_accounts`: one row per provider account, its secret sealed (envelope encryption:
 *   `secret` holds the ciphertext and the wrapped data key, never clear text) and its fields
 *   authenticated (`mac`); the same record the connectors publish on `connector.accounts.v1`.
 * - `bootstrap_imports`: the `CONNECTOR_PROVIDERS` secrets already imported (by fingerprint), so
 *   a bootstrap account an operator deleted is not imported again at the next restart.
 */
export class CreateProviderAccounts1732406400300 implements MigrationInterface {
  name = 'CreateProviderAccounts1732406400300';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`CREATE TABLE connector.provider_accounts (
      id text PRIMARY KEY,
      provider_id text NOT NULL,
      kind text NOT NULL,
      owner text NOT NULL,
      label text NOT NULL,
      base_url text NOT NULL,
      credential_type text NOT NULL CHECK (credential_type IN ('api_key','azure','aws','vertex')),
      status text NOT NULL CHECK (status IN ('active','disabled')),
      weight integer NOT NULL CHECK (weight BETWEEN 1 AND 1000),
      secret_version integer NOT NULL CHECK (secret_version >= 1),
      revision bigint NOT NULL CHECK (revision >= 1),
      secret jsonb NOT NULL,
      hint text NOT NULL,
      fingerprint text NOT NULL,
      header_names text[] NOT NULL DEFAULT '{}',
      created_at timestamptz NOT NULL,
      updated_at timestamptz NOT NULL,
      rotated_at timestamptz NOT NULL,
      mac text NOT NULL)`);
    await q.query(
      `CREATE INDEX provider_accounts_provider_idx ON connector.provider_accounts (provider_id)`,
    );
    // The same secret twice for one provider is refused (fingerprints under the same master key).
    await q.query(
      `CREATE UNIQUE INDEX provider_accounts_fingerprint_idx ON connector.provider_accounts (provider_id, fingerprint)`,
    );
    await q.query(`CREATE TABLE connector.bootstrap_imports (
      provider_id text NOT NULL,
      fingerprint text NOT NULL,
      account_id text NOT NULL,
      imported_at timestamptz NOT NULL DEFAULT now(),
      PRIMARY KEY (provider_id, fingerprint))`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query('DROP TABLE connector.bootstrap_imports');
    await q.query('DROP TABLE connector.provider_accounts');
  }
}

export const CONNECTOR_MIGRATIONS = [CreateProviderAccounts1732406400300];
