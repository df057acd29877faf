import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { ProviderCredentials, ProviderKind, type ProviderConnection } from '@turnpike/contracts';
import { baseServiceEnv, env, readEnv, type Env } from '@turnpike/config';
import { BaseServiceConfig } from '@turnpike/service-kit';

/**
 * One provider account: which protocol it speaks, where, and how it authenticates. Either
 * `credentials` (the typed union: api_key, azure, aws, vertex) or, the short form, `apiKey`.
 */
const ProviderAccountInput = z
  .object({
    kind: ProviderKind,
    baseUrl: z.url(),
    apiKey: z.string().min(1).optional(),
    credentials: ProviderCredentials.optional(),
    headers: z.record(z.string(), z.string()).optional(),
  })
  .refine((a) => (a.apiKey === undefined) !== (a.credentials === undefined), {
    message: 'give either apiKey or credentials',
  })
  .transform((a): ProviderAccount => ({
    kind: a.kind,
    connection: {
      baseUrl: a.baseUrl,
      credentials: a.credentials ?? { type: 'api_key', apiKey: a.apiKey! },
      ...(a.headers ? { headers: a.headers } : {}),
    },
  }));
export interface ProviderAccount {
  kind: string;
  connection: ProviderConnection;
}
const ProviderAccounts = z.record(z.string().min(1), ProviderAccountInput);

const schema = z.object({
  ...baseServiceEnv,
  /** JSON object: provider id -> account. Provider ids match the catalog's endpoints. */
  CONNECTOR_PROVIDERS: z.string().optional(),
  /** Path of a JSON file with the same content (e.g. a mounted Kubernetes secret). */
  CONNECTOR_PROVIDERS_FILE: z.string().optional(),
  /** Generations held at once before the consumer pauses. */
  CONNECTOR_MAX_IN_FLIGHT: env.int(2000, 1),
  CONNECTOR_GROUP_ID: env.str('connector'),
  /** Longest silence allowed between two events of an upstream stream. */
  CONNECTOR_UPSTREAM_IDLE_MS: env.int(60_000, 100),
});

/** The connector's configuration, read and validated once at boot. */
export class ConnectorConfig extends BaseServiceConfig {
  readonly providers: Readonly<Record<string, ProviderAccount>>;
  readonly maxInFlight: number;
  readonly groupId: string;
  readonly upstreamIdleMs: number;

  private constructor(e: z.infer<typeof schema>, providers: Record<string, ProviderAccount>) {
    super('connector', e);
    this.providers = providers;
    this.maxInFlight = e.CONNECTOR_MAX_IN_FLIGHT;
    this.groupId = e.CONNECTOR_GROUP_ID;
    this.upstreamIdleMs = e.CONNECTOR_UPSTREAM_IDLE_MS;
  }

  static load(source: Env = process.env): ConnectorConfig {
    const e = readEnv('connector', schema, source);
    const raw = e.CONNECTOR_PROVIDERS_FILE
      ? readFileSync(e.CONNECTOR_PROVIDERS_FILE, 'utf8')
      : (e.CONNECTOR_PROVIDERS ?? '{}');
    const providers = ProviderAccounts.safeParse(JSON.parse(raw));
    if (!providers.success) {
      throw new Error(`invalid connector providers: ${z.prettifyError(providers.error)}`);
    }
    return new ConnectorConfig(e, providers.data);
  }
}
