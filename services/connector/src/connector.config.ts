import { readFileSync } from 'node:fs';
import { z } from 'zod';
import {
  AccountBaseUrl,
  AccountHeaders,
  ProviderCredentials,
  ProviderId,
} from '@turnpike/contracts';
import { baseServiceEnv, ConfigError, env, readEnv, type Env } from '@turnpike/config';
import { DEFAULT_STALL_TIMEOUT_MS } from '@turnpike/providers';
import { loadMasterKeyRing, type MasterKeyRing } from '@turnpike/secrets';
import { BaseServiceConfig } from '@turnpike/service-kit';
import { DEFAULT_POOL_POLICY, type PoolPolicy } from '@turnpike/generation';

/**
 * One bootstrap account of `CONNECTOR_PROVIDERS`: which protocol it speaks, where, and how it
 * authenticates. Either `credentials` (the typed union: api_key, azure, aws, vertex) or, the short
 * form, `apiKey`.
 */
const BootstrapAccountInput = z
  .object({
    kind: z.string().min(1),
    baseUrl: AccountBaseUrl,
    apiKey: z.string().min(1).optional(),
    credentials: ProviderCredentials.optional(),
    headers: AccountHeaders.optional(),
  })
  .refine((a) => (a.apiKey === undefined) !== (a.credentials === undefined), {
    message: 'give either apiKey or credentials',
  })
  .transform((a): BootstrapAccount => ({
    kind: a.kind,
    baseUrl: a.baseUrl,
    credentials: a.credentials ?? { type: 'api_key', apiKey: a.apiKey! },
    headers: a.headers ?? {},
  }));
export interface BootstrapAccount {
  kind: string;
  baseUrl: string;
  credentials: ProviderCredentials;
  headers: Record<string, string>;
}
const BootstrapAccounts = z.record(ProviderId, BootstrapAccountInput);

const schema = z.object({
  ...baseServiceEnv,
  /** The connector's own schema (`connector`) holds the provider accounts, sealed. */
  DATABASE_URL: z.string().min(1),
  /**
   * The operator's master key(s): one base64 key of 32 bytes, or `id:base64` entries separated
   * by commas or white space, the current one first (see `MasterKeyRing.parse`).
   */
  CONNECTOR_MASTER_KEY: z.string().optional(),
  /** Path of a file with the same content (a mounted secret). */
  CONNECTOR_MASTER_KEY_FILE: z.string().optional(),
  /**
   * Bootstrap accounts, JSON: provider id -> account. Each is imported once as an account
   * (owner `platform`, label `bootstrap`) unless the provider already has one with that secret;
   * accounts are then managed through the admin API.
   */
  CONNECTOR_PROVIDERS: z.string().optional(),
  /** Path of a JSON file with the same content (e.g. a mounted Kubernetes secret). */
  CONNECTOR_PROVIDERS_FILE: z.string().optional(),
  /** Generations held at once before the consumer pauses. */
  CONNECTOR_MAX_IN_FLIGHT: env.int(2000, 1),
  CONNECTOR_GROUP_ID: env.str('connector'),
  /**
   * The stall limit: the longest silence allowed between two events of an upstream stream (from
   * its headers on), unless the request sets its own (`provider.stall_timeout_ms`); a stream
   * silent for longer fails with `upstream_stalled`, which the gateway treats like a cut.
   */
  CONNECTOR_STALL_MS: env.int(DEFAULT_STALL_TIMEOUT_MS, 100),
  /**
   * The flush window of a stream's replies: the chunks an attempt produces within it travel to
   * the gateway as one message (the first chunk always goes at once). 0 (the default): one turn
   * of the event loop, chunks that arrive together share a message at no added latency.
   */
  CONNECTOR_REPLY_FLUSH_MS: env.int(0, 0),
  /** Cool-down of an account that got a 429 without a Retry-After. */
  CONNECTOR_ACCOUNT_COOLDOWN_MS: env.int(DEFAULT_POOL_POLICY.defaultCooldownMs, 10),
  /** Refused credentials in a row that open an account's circuit. */
  CONNECTOR_ACCOUNT_CIRCUIT_FAILURES: env.int(DEFAULT_POOL_POLICY.failuresToOpen, 1),
  /** First cool-down of an account's open circuit; doubles on a failed probe, up to the max. */
  CONNECTOR_ACCOUNT_CIRCUIT_COOLDOWN_MS: env.int(DEFAULT_POOL_POLICY.circuitCooldownMs, 10),
  CONNECTOR_ACCOUNT_CIRCUIT_MAX_COOLDOWN_MS: env.int(DEFAULT_POOL_POLICY.maxCircuitCooldownMs, 10),
});

/** The connector's configuration, read and validated once at boot. */
export class ConnectorConfig extends BaseServiceConfig {
  readonly databaseUrl: string;
  /** Null when no master key is configured: then no account may exist. */
  readonly masterKeys: MasterKeyRing | null;
  readonly bootstrap: Readonly<Record<string, BootstrapAccount>>;
  readonly maxInFlight: number;
  readonly groupId: string;
  readonly stallMs: number;
  readonly replyFlushMs: number;
  readonly poolPolicy: PoolPolicy;

  private constructor(
    e: z.infer<typeof schema>,
    masterKeys: MasterKeyRing | null,
    bootstrap: Record<string, BootstrapAccount>,
  ) {
    super('connector', e);
    this.databaseUrl = e.DATABASE_URL;
    this.masterKeys = masterKeys;
    this.bootstrap = bootstrap;
    this.maxInFlight = e.CONNECTOR_MAX_IN_FLIGHT;
    this.groupId = e.CONNECTOR_GROUP_ID;
    this.stallMs = e.CONNECTOR_STALL_MS;
    this.replyFlushMs = e.CONNECTOR_REPLY_FLUSH_MS;
    this.poolPolicy = {
      defaultCooldownMs: e.CONNECTOR_ACCOUNT_COOLDOWN_MS,
      failuresToOpen: e.CONNECTOR_ACCOUNT_CIRCUIT_FAILURES,
      circuitCooldownMs: e.CONNECTOR_ACCOUNT_CIRCUIT_COOLDOWN_MS,
      maxCircuitCooldownMs: Math.max(
        e.CONNECTOR_ACCOUNT_CIRCUIT_COOLDOWN_MS,
        e.CONNECTOR_ACCOUNT_CIRCUIT_MAX_COOLDOWN_MS,
      ),
      maxRetryAfterMs: DEFAULT_POOL_POLICY.maxRetryAfterMs,
    };
  }

  static load(source: Env = process.env): ConnectorConfig {
    const e = readEnv('connector', schema, source);
    const problems: string[] = [];
    const fail = (p: string) => {
      problems.push(p);
      return null;
    };

    // The master key: read once here, from the variable or the mounted file.
    const keys = loadMasterKeyRing(
      e.CONNECTOR_MASTER_KEY,
      e.CONNECTOR_MASTER_KEY_FILE,
      { value: 'CONNECTOR_MASTER_KEY', file: 'CONNECTOR_MASTER_KEY_FILE' },
      (f) => readFileSync(f, 'utf8'),
    );
    if (keys.problem !== null) fail(keys.problem);
    const masterKeys = keys.ring;

    // The bootstrap accounts. Their text holds secrets: a parse error names where, never what.
    let bootstrap: Record<string, BootstrapAccount> = {};
    let raw: string | null = e.CONNECTOR_PROVIDERS ?? '{}';
    if (e.CONNECTOR_PROVIDERS_FILE !== undefined) {
      try {
        raw = readFileSync(e.CONNECTOR_PROVIDERS_FILE, 'utf8');
      } catch (err) {
        raw = fail(
          `CONNECTOR_PROVIDERS_FILE: cannot read ${e.CONNECTOR_PROVIDERS_FILE} (${(err as NodeJS.ErrnoException).code ?? 'error'})`,
        );
      }
    }
    if (raw !== null) {
      let json: unknown;
      try {
        json = JSON.parse(raw);
      } catch {
        fail('CONNECTOR_PROVIDERS: not valid JSON');
      }
      if (json !== undefined) {
        const parsed = BootstrapAccounts.safeParse(json);
        if (parsed.success) bootstrap = parsed.data;
        else
          for (const i of parsed.error.issues)
            fail(`CONNECTOR_PROVIDERS: ${i.path.join('.') || '(root)'}: ${i.message}`);
      }
    }
    if (masterKeys === null && Object.keys(bootstrap).length > 0)
      fail(
        'CONNECTOR_PROVIDERS names provider accounts, but no master key is configured to encrypt them: ' +
          'set CONNECTOR_MASTER_KEY (32 random bytes, base64: openssl rand -base64 32) or CONNECTOR_MASTER_KEY_FILE',
      );
    if (problems.length > 0) throw new ConfigError('connector', problems);
    return new ConnectorConfig(e, masterKeys, bootstrap);
  }
}

/** The variables the connector reads (for the generated configuration reference). */
export const ENV_SCHEMA = schema;
