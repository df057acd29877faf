import type { MigrationInterface, QueryRunner } from 'typeorm';

export class CreateCatalog1732406400001 implements MigrationInterface {
  name = 'CreateCatalog1732406400001';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`CREATE TABLE IF NOT EXISTS catalog.providers (
      id text PRIMARY KEY, name text NOT NULL, kind text NOT NULL)`);
    await q.query(`CREATE TABLE IF NOT EXISTS catalog.models (
      id text PRIMARY KEY, name text NOT NULL, description text NOT NULL, created bigint NOT NULL,
      context_length integer NOT NULL, input_modalities text[] NOT NULL, output_modalities text[] NOT NULL)`);
    await q.query(`CREATE TABLE IF NOT EXISTS catalog.endpoints (
      id text PRIMARY KEY,
      model_id text NOT NULL REFERENCES catalog.models(id) ON DELETE CASCADE,
      provider_id text NOT NULL REFERENCES catalog.providers(id),
      upstream_model text NOT NULL, pricing jsonb NOT NULL, context_length integer NOT NULL,
      max_output_tokens integer, quantization text, region text, data_collection text NOT NULL,
      supported_parameters text[] NOT NULL)`);
    await q.query(`CREATE INDEX IF NOT EXISTS endpoints_model_idx ON catalog.endpoints (model_id)`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query('DROP TABLE catalog.endpoints');
    await q.query('DROP TABLE catalog.models');
    await q.query('DROP TABLE catalog.providers');
  }
}

/**
 * Operator changes through the admin API: endpoints can be disabled, and the catalog file is
 * applied only when its content changed (so a restart does not undo operator changes).
 */
export class CatalogAdmin1732406400002 implements MigrationInterface {
  name = 'CatalogAdmin1732406400002';

  async up(q: QueryRunner): Promise<void> {
    await q.query(
      `ALTER TABLE catalog.endpoints ADD COLUMN IF NOT EXISTS disabled boolean NOT NULL DEFAULT false`,
    );
    await q.query(
      `ALTER TABLE catalog.endpoints ADD COLUMN IF NOT EXISTS updated_at timestamptz NOT NULL DEFAULT now()`,
    );
    await q.query(
      `ALTER TABLE catalog.models ADD COLUMN IF NOT EXISTS updated_at timestamptz NOT NULL DEFAULT now()`,
    );
    await q.query(`CREATE TABLE IF NOT EXISTS catalog.seeds (
      file_hash text PRIMARY KEY, file_path text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query('DROP TABLE catalog.seeds');
    await q.query('ALTER TABLE catalog.models DROP COLUMN updated_at');
    await q.query('ALTER TABLE catalog.endpoints DROP COLUMN updated_at');
    await q.query('ALTER TABLE catalog.endpoints DROP COLUMN disabled');
  }
}

/**
 * Imports and operator overrides: each row records the values of the last import that brought it
 * and the fields the operator overrode; deleted models and endpoints are remembered so that an
 * import does not bring them back. Rows from before are taken as imported (nothing overridden).
 */
export class CatalogOverrides1733011200003 implements MigrationInterface {
  name = 'CatalogOverrides1733011200003';

  async up(q: QueryRunner): Promise<void> {
    for (const t of ['providers', 'models', 'endpoints']) {
      await q.query(
        `ALTER TABLE catalog.${t} ADD COLUMN IF NOT EXISTS overrides text[] NOT NULL DEFAULT '{}'`,
      );
      await q.query(`ALTER TABLE catalog.${t} ADD COLUMN IF NOT EXISTS imported jsonb`);
    }
    await q.query(`CREATE TABLE IF NOT EXISTS catalog.deletions (
      kind text NOT NULL, id text NOT NULL, deleted_at timestamptz NOT NULL DEFAULT now(),
      PRIMARY KEY (kind, id))`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query('DROP TABLE catalog.deletions');
    for (const t of ['providers', 'models', 'endpoints']) {
      await q.query(`ALTER TABLE catalog.${t} DROP COLUMN imported`);
      await q.query(`ALTER TABLE catalog.${t} DROP COLUMN overrides`);
    }
  }
}

export const CATALOG_MIGRATIONS = [
  CreateCatalog1732406400001,
  CatalogAdmin1732406400002,
  CatalogOverrides1733011200003,
];
