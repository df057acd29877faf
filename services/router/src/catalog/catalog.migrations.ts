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

export const CATALOG_MIGRATIONS = [CreateCatalog1732406400001];
