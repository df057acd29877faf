import type { MigrationInterface, QueryRunner } from 'typeorm';
import {
  FEEDBACK_CATEGORIES,
  FEEDBACK_COMMENT_MAX,
  MODERATION_REASON_MAX,
  REVIEW_TEXT_MAX,
} from '@turnpike/contracts';

/**
 * The community's tables, in analytics' schema:
 *
 * - `community_settings`: each tenant's opt-in (no row: not opted in).
 * - `generation_feedback`: one feedback per generation (its tenant's; submitting again replaces
 *   it), with the generation's model and endpoint as billing recorded them.
 * - `model_reviews`: one review per tenant and model; operators hide and unhide them.
 * - `community_write_windows`: writes (feedback, reviews) per tenant and UTC minute, for the
 *   per-tenant rate limit, shared by every analytics instance.
 */
export function communityMigrations(schema: string): Array<new () => MigrationInterface> {
  const s = `"${schema}"`;
  const categories = FEEDBACK_CATEGORIES.map((c) => `'${c}'`).join(',');

  class CreateCommunity1767225600300 implements MigrationInterface {
    name = 'CreateCommunity1767225600300';

    async up(q: QueryRunner): Promise<void> {
      await q.query(`CREATE TABLE ${s}.community_settings (
        tenant_id text PRIMARY KEY,
        opted_in boolean NOT NULL,
        updated_at timestamptz NOT NULL DEFAULT now())`);
      await q.query(
        `CREATE INDEX community_settings_opted_in_idx ON ${s}.community_settings (tenant_id) WHERE opted_in`,
      );

      await q.query(`CREATE TABLE ${s}.generation_feedback (
        generation_id text PRIMARY KEY,
        tenant_id text NOT NULL,
        key_id text NOT NULL,
        model text NOT NULL,
        provider text,
        endpoint_id text,
        category text NOT NULL CHECK (category IN (${categories})),
        comment text CHECK (char_length(comment) <= ${FEEDBACK_COMMENT_MAX}),
        thumbs text CHECK (thumbs IN ('up', 'down')),
        score smallint CHECK (score BETWEEN 1 AND 5),
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now())`);
      await q.query(
        `CREATE INDEX generation_feedback_model_idx ON ${s}.generation_feedback (model, tenant_id)`,
      );

      await q.query(`CREATE TABLE ${s}.model_reviews (
        id bigserial PRIMARY KEY,
        tenant_id text NOT NULL,
        model text NOT NULL,
        score smallint NOT NULL CHECK (score BETWEEN 1 AND 5),
        text text NOT NULL CHECK (char_length(text) <= ${REVIEW_TEXT_MAX}),
        hidden boolean NOT NULL DEFAULT false,
        hidden_at timestamptz,
        hidden_reason text CHECK (char_length(hidden_reason) <= ${MODERATION_REASON_MAX}),
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now(),
        UNIQUE (tenant_id, model))`);
      await q.query(`CREATE INDEX model_reviews_model_idx ON ${s}.model_reviews (model, id)`);

      await q.query(`CREATE TABLE ${s}.community_write_windows (
        tenant_id text NOT NULL,
        window_start timestamptz NOT NULL,
        writes integer NOT NULL,
        PRIMARY KEY (tenant_id, window_start))`);
    }

    async down(q: QueryRunner): Promise<void> {
      for (const t of [
        'community_write_windows',
        'model_reviews',
        'generation_feedback',
        'community_settings',
      ])
        await q.query(`DROP TABLE ${s}.${t}`);
    }
  }

  return [CreateCommunity1767225600300];
}
