import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The ledger's tables, in the service's schema (`billing`, or another one for a replay).
 *
 * - `accounts`, `transactions`, `entries`: the double-entry ledger. Entries are append-only,
 *   and the entries every insert statement adds to a transaction must sum to zero (a statement
 *   trigger over the inserted rows): so every transaction sums to zero.
 * - `balances`: the balance of every account, maintained in the same database transaction as
 *   the entries; derived data, rebuildable from `entries` (and checked equal by `ledger.verify`).
 * - `key_usage`: the per-key sub-ledger of usage by UTC day, week and month (and in all), for
 *   key limits; derived from the usage transactions.
 * - `usage_events`: one record per generation (the usage event as received, what was booked),
 *   keyed by generation id: ingestion is idempotent on it.
 * - `key_limits`, `markup_rules`: operator settings.
 * - `parked_records`: records of the input topics that passed their contract but that the ledger
 *   refuses deterministically, kept with the reason until an operator retries them.
 */
export function ledgerMigrations(schema: string): Array<new () => MigrationInterface> {
  const s = `"${schema}"`;

  class CreateLedger1732406400200 implements MigrationInterface {
    name = 'CreateLedger1732406400200';

    async up(q: QueryRunner): Promise<void> {
      // The store before the ledger kept usage events in a table of this name: keep it aside.
      await q.query(`DO $$ BEGIN
        IF EXISTS (SELECT 1 FROM information_schema.tables WHERE table_schema = '${schema}' AND table_name = 'usage_events')
           AND NOT EXISTS (SELECT 1 FROM information_schema.columns WHERE table_schema = '${schema}' AND table_name = 'usage_events' AND column_name = 'charged_micros')
        THEN ALTER TABLE ${s}.usage_events RENAME TO usage_events_v0; END IF; END $$`);

      await q.query(`CREATE TABLE ${s}.accounts (
        code text PRIMARY KEY,
        kind text NOT NULL CHECK (kind IN ('tenant_credit','tenant_usage','funding','adjustments','refunds','revenue_markup','provider_cost')),
        tenant_id text,
        provider text,
        created_at timestamptz NOT NULL DEFAULT now())`);
      await q.query(
        `CREATE INDEX accounts_tenant_idx ON ${s}.accounts (tenant_id) WHERE tenant_id IS NOT NULL`,
      );

      await q.query(`CREATE TABLE ${s}.transactions (
        id bigserial PRIMARY KEY,
        ref text NOT NULL UNIQUE,
        kind text NOT NULL CHECK (kind IN ('usage','credit_grant','adjustment','refund')),
        tenant_id text NOT NULL,
        key_id text,
        generation_id text,
        occurred_at timestamptz NOT NULL,
        amount bigint NOT NULL,
        note text,
        source text NOT NULL,
        recorded_at timestamptz NOT NULL DEFAULT now())`);
      await q.query(
        `CREATE INDEX transactions_tenant_idx ON ${s}.transactions (tenant_id, occurred_at)`,
      );

      await q.query(`CREATE TABLE ${s}.entries (
        id bigserial PRIMARY KEY,
        txn_id bigint NOT NULL REFERENCES ${s}.transactions(id),
        account text NOT NULL REFERENCES ${s}.accounts(code),
        kind text NOT NULL CHECK (kind IN ('credit_grant','usage_charge','markup_revenue','provider_cost','refund','adjustment')),
        amount bigint NOT NULL CHECK (amount <> 0))`);
      await q.query(`CREATE INDEX entries_txn_idx ON ${s}.entries (txn_id)`);
      await q.query(`CREATE INDEX entries_account_idx ON ${s}.entries (account)`);

      // The entries an insert adds to each transaction must sum to zero. Entries are append-only
      // (below), so every transaction, the sum of what each statement added to it, sums to zero.
      // Only the statement's own rows are read: the check costs O(rows inserted), whatever the
      // size of the ledger.
      await q.query(`CREATE FUNCTION ${s}.assert_balanced() RETURNS trigger LANGUAGE plpgsql AS $fn$
        DECLARE bad bigint;
        BEGIN
          SELECT n.txn_id INTO bad FROM new_entries n GROUP BY n.txn_id HAVING sum(n.amount) <> 0 LIMIT 1;
          IF bad IS NOT NULL THEN
            RAISE EXCEPTION 'ledger transaction % does not balance', bad USING ERRCODE = 'check_violation';
          END IF;
          RETURN NULL;
        END $fn$`);
      await q.query(`CREATE TRIGGER entries_balanced AFTER INSERT ON ${s}.entries
        REFERENCING NEW TABLE AS new_entries FOR EACH STATEMENT EXECUTE FUNCTION ${s}.assert_balanced()`);
      await q.query(`CREATE FUNCTION ${s}.append_only() RETURNS trigger LANGUAGE plpgsql AS $fn$
        BEGIN RAISE EXCEPTION 'the ledger is append-only (% on %)', TG_OP, TG_TABLE_NAME USING ERRCODE = 'check_violation'; END $fn$`);
      await q.query(`CREATE TRIGGER entries_append_only BEFORE UPDATE OR DELETE ON ${s}.entries
        FOR EACH ROW EXECUTE FUNCTION ${s}.append_only()`);
      await q.query(`CREATE TRIGGER transactions_append_only BEFORE UPDATE OR DELETE ON ${s}.transactions
        FOR EACH ROW EXECUTE FUNCTION ${s}.append_only()`);

      await q.query(`CREATE TABLE ${s}.balances (
        account text PRIMARY KEY REFERENCES ${s}.accounts(code),
        balance bigint NOT NULL,
        version bigint NOT NULL,
        updated_at timestamptz NOT NULL DEFAULT now())`);

      await q.query(`CREATE TABLE ${s}.key_usage (
        key_id text NOT NULL,
        period text NOT NULL CHECK (period IN ('all','day','week','month')),
        period_start date NOT NULL,
        tenant_id text NOT NULL,
        usage bigint NOT NULL,
        version bigint NOT NULL,
        PRIMARY KEY (key_id, period, period_start))`);

      await q.query(`CREATE TABLE ${s}.usage_events (
        generation_id text PRIMARY KEY,
        tenant_id text NOT NULL,
        key_id text NOT NULL,
        created_at timestamptz NOT NULL,
        status text NOT NULL,
        model text,
        provider text,
        endpoint_id text,
        prompt_tokens bigint NOT NULL,
        completion_tokens bigint NOT NULL,
        reasoning_tokens bigint NOT NULL,
        cached_tokens bigint NOT NULL,
        upstream_micros bigint NOT NULL,
        charged_micros bigint NOT NULL CHECK (charged_micros >= 0),
        event jsonb NOT NULL,
        kafka_partition integer NOT NULL,
        kafka_offset bigint NOT NULL,
        ingested_at timestamptz NOT NULL DEFAULT clock_timestamp())`);
      await q.query(
        `CREATE INDEX usage_events_tenant_created_idx ON ${s}.usage_events (tenant_id, created_at)`,
      );

      await q.query(`CREATE TABLE ${s}.key_limits (
        key_id text PRIMARY KEY,
        tenant_id text NOT NULL,
        limit_micros bigint CHECK (limit_micros >= 0),
        limit_reset text CHECK (limit_reset IN ('daily','weekly','monthly')),
        version bigint NOT NULL,
        updated_at timestamptz NOT NULL DEFAULT now())`);

      await q.query(`CREATE TABLE ${s}.markup_rules (
        rule_key text PRIMARY KEY,
        scope text NOT NULL CHECK (scope IN ('global','model','tenant','tenant_model')),
        tenant_id text,
        model text,
        percent_bps integer NOT NULL CHECK (percent_bps BETWEEN 0 AND 100000),
        fixed_micros bigint NOT NULL CHECK (fixed_micros >= 0),
        updated_at timestamptz NOT NULL DEFAULT now())`);
    }

    async down(q: QueryRunner): Promise<void> {
      for (const t of [
        'markup_rules',
        'key_limits',
        'usage_events',
        'key_usage',
        'balances',
        'entries',
        'transactions',
        'accounts',
      ]) {
        await q.query(`DROP TABLE IF EXISTS ${s}.${t}`);
      }
      await q.query(`DROP FUNCTION IF EXISTS ${s}.assert_balanced()`);
      await q.query(`DROP FUNCTION IF EXISTS ${s}.append_only()`);
    }
  }

  /**
   * The upstream cost of failed, superseded and timed-out attempts: an expense account kind
   * (`platform:expense:failed_attempts`) and an entry kind for its postings.
   */
  class FailedAttemptCosts1764669600000 implements MigrationInterface {
    name = 'FailedAttemptCosts1764669600000';

    async up(q: QueryRunner): Promise<void> {
      await q.query(`ALTER TABLE ${s}.accounts DROP CONSTRAINT IF EXISTS accounts_kind_check,
        ADD CONSTRAINT accounts_kind_check CHECK (kind IN ('tenant_credit','tenant_usage','funding','adjustments','refunds','revenue_markup','provider_cost','attempt_loss'))`);
      await q.query(`ALTER TABLE ${s}.entries DROP CONSTRAINT IF EXISTS entries_kind_check,
        ADD CONSTRAINT entries_kind_check CHECK (kind IN ('credit_grant','usage_charge','markup_revenue','provider_cost','attempt_cost','refund','adjustment'))`);
    }

    async down(q: QueryRunner): Promise<void> {
      await q.query(`ALTER TABLE ${s}.entries DROP CONSTRAINT IF EXISTS entries_kind_check,
        ADD CONSTRAINT entries_kind_check CHECK (kind IN ('credit_grant','usage_charge','markup_revenue','provider_cost','refund','adjustment'))`);
      await q.query(`ALTER TABLE ${s}.accounts DROP CONSTRAINT IF EXISTS accounts_kind_check,
        ADD CONSTRAINT accounts_kind_check CHECK (kind IN ('tenant_credit','tenant_usage','funding','adjustments','refunds','revenue_markup','provider_cost'))`);
    }
  }

  /**
   * Parked records (see `LedgerWriter`): one row per refused record, unique on where it was read
   * (topic, partition, offset), so a redelivery or a replay parks it once. The value is kept as
   * the JSON text it arrived as (`text`, not `jsonb`: `jsonb` refuses some valid JSON, such as
   * `\u0000`, which may be why the record was refused).
   *
   * And the sums the readers take as safe integers stay safe: a tenant's balances and a key's
   * usage. A record that would take one beyond ±(2^53 - 1) is refused by the database inside
   * its booking transaction (and parked) instead of being booked and then failing every balance
   * publication after it. NOT VALID: existing rows are not re-checked (they are within the
   * bound, or their balances could not be read today), new and updated rows are.
   */
  class ParkedRecords1796525140000 implements MigrationInterface {
    name = 'ParkedRecords1796525140000';

    async up(q: QueryRunner): Promise<void> {
      await q.query(`CREATE TABLE ${s}.parked_records (
        id bigserial PRIMARY KEY,
        topic text NOT NULL,
        kafka_partition integer NOT NULL,
        kafka_offset bigint NOT NULL,
        record_key text,
        tenant_id text,
        ref text,
        record text NOT NULL,
        sqlstate text,
        error text NOT NULL,
        parked_at timestamptz NOT NULL DEFAULT now(),
        retries integer NOT NULL DEFAULT 0,
        retried_at timestamptz,
        UNIQUE (topic, kafka_partition, kafka_offset))`);
      await q.query(`ALTER TABLE ${s}.balances ADD CONSTRAINT balances_tenant_safe_integer
        CHECK (account NOT LIKE 'tenant:%' OR balance BETWEEN -9007199254740991 AND 9007199254740991) NOT VALID`);
      await q.query(`ALTER TABLE ${s}.key_usage ADD CONSTRAINT key_usage_safe_integer
        CHECK (usage BETWEEN -9007199254740991 AND 9007199254740991) NOT VALID`);
    }

    async down(q: QueryRunner): Promise<void> {
      await q.query(`ALTER TABLE ${s}.key_usage DROP CONSTRAINT IF EXISTS key_usage_safe_integer`);
      await q.query(
        `ALTER TABLE ${s}.balances DROP CONSTRAINT IF EXISTS balances_tenant_safe_integer`,
      );
      await q.query(`DROP TABLE IF EXISTS ${s}.parked_records`);
    }
  }

  return [CreateLedger1732406400200, FailedAttemptCosts1764669600000, ParkedRecords1796525140000];
}
