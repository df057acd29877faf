import { Injectable } from '@nestjs/common';
import { adapterFor, type ProviderAdapter, type ProviderCredentials } from '@turnpike/providers';
import { ConnectorConfig } from '../connector.config.js';

export interface ResolvedProvider {
  adapter: ProviderAdapter;
  credentials: ProviderCredentials;
}

/** The connector owns provider credentials; this resolves a catalog provider id to them. */
@Injectable()
export class ProviderAccountsService {
  private readonly resolved = new Map<string, ResolvedProvider>();

  constructor(config: ConnectorConfig) {
    for (const [id, account] of Object.entries(config.providers)) {
      const adapter = adapterFor(account.kind);
      if (!adapter) throw new Error(`provider ${id}: unknown kind '${account.kind}'`);
      this.resolved.set(id, {
        adapter,
        credentials: {
          baseUrl: account.baseUrl,
          apiKey: account.apiKey,
          ...(account.headers ? { headers: account.headers } : {}),
        },
      });
    }
  }

  resolve(providerId: string): ResolvedProvider | undefined {
    return this.resolved.get(providerId);
  }

  get ids(): string[] {
    return [...this.resolved.keys()];
  }
}
