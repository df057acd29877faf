import { Injectable } from '@nestjs/common';
import type { ProviderConnection } from '@turnpike/contracts';
import { adapterFor, type ProviderAdapter } from '@turnpike/providers';
import { ConnectorConfig } from '../connector.config.js';

export interface ResolvedProvider {
  adapter: ProviderAdapter;
  connection: ProviderConnection;
}

/** The connector owns provider credentials; this resolves a catalog provider id to them. */
@Injectable()
export class ProviderAccountsService {
  private readonly resolved = new Map<string, ResolvedProvider>();

  constructor(config: ConnectorConfig) {
    for (const [id, account] of Object.entries(config.providers)) {
      const adapter = adapterFor(account.kind);
      if (!adapter) throw new Error(`provider ${id}: unknown kind '${account.kind}'`);
      if (!adapter.credentialTypes.includes(account.connection.credentials.type)) {
        throw new Error(
          `provider ${id}: kind '${account.kind}' takes ${adapter.credentialTypes.join(' or ')} credentials, not '${account.connection.credentials.type}'`,
        );
      }
      this.resolved.set(id, { adapter, connection: account.connection });
    }
  }

  resolve(providerId: string): ResolvedProvider | undefined {
    return this.resolved.get(providerId);
  }

  get ids(): string[] {
    return [...this.resolved.keys()];
  }
}
