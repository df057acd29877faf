import { z } from 'zod';
import { baseServiceEnv, env, readEnv, type Env } from '@turnpike/config';
import { BaseServiceConfig } from '@turnpike/service-kit';

const schema = z.object({
  ...baseServiceEnv,
  DATABASE_URL: z.string().min(1),
  /** Consumer group of the ledger (usage events and credit movements). */
  BILLING_GROUP_ID: env.str('billing-ledger'),
  /** Postgres schema of the ledger. */
  BILLING_SCHEMA: z
    .string()
    .regex(/^[a-z_][a-z0-9_]{0,62}$/, 'a lowercase Postgres identifier')
    .default('billing'),
  /**
   * `primary`: the ledger, its balances topic and its request/reply methods.
   * `replay`: only builds a ledger from the topics (from offset 0 with a fresh group and an
   * empty schema), publishing and answering nothing: to check that a replay reproduces every
   * balance, or to rebuild a ledger.
   */
  BILLING_MODE: z.enum(['primary', 'replay']).default('primary'),
  /** How long a credit command waits for its movement to be in the ledger. */
  BILLING_CREDIT_WAIT_MS: env.int(8_000, 100),
  /**
   * Ledger consumers in this process (one group): their batches are booked together in one
   * database transaction, so more consumers mean fewer, larger transactions.
   */
  BILLING_LEDGER_CONSUMERS: env.int(3, 1),
});

/** The billing service's configuration, read and validated once at boot. */
export class BillingConfig extends BaseServiceConfig {
  readonly databaseUrl: string;
  readonly groupId: string;
  readonly schema: string;
  readonly mode: 'primary' | 'replay';
  readonly creditWaitMs: number;
  readonly ledgerConsumers: number;

  private constructor(e: z.infer<typeof schema>) {
    super('billing', e);
    this.databaseUrl = e.DATABASE_URL;
    this.groupId = e.BILLING_GROUP_ID;
    this.schema = e.BILLING_SCHEMA;
    this.mode = e.BILLING_MODE;
    this.creditWaitMs = e.BILLING_CREDIT_WAIT_MS;
    this.ledgerConsumers = e.BILLING_LEDGER_CONSUMERS;
  }

  static load(source: Env = process.env): BillingConfig {
    return new BillingConfig(readEnv('billing', schema, source));
  }
}

/** The variables the billing reads (for the generated configuration reference). */
export const ENV_SCHEMA = schema;
