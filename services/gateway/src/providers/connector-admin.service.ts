import { Injectable, Logger } from '@nestjs/common';
import {
  CATALOG_RPC,
  CONNECTOR_RPC,
  transportAad,
  type AdminWarning,
  type CatalogProviderView,
  type ProviderPresence,
  type TransportKeyView,
  type TransportPurpose,
  type TransportSealed,
} from '@turnpike/contracts';
import { ApiError } from '@turnpike/openai-api';
import { sealToTransport } from '@turnpike/secrets';
import { RpcClientService } from '../transport/rpc-client.service.js';

/** How long the catalog admin API waits for the connectors' answer about accounts. */
const PRESENCE_TIMEOUT_MS = 5_000;

/**
 * What the gateway's admin API needs from the connectors (who own provider accounts) and the
 * router (who owns the catalog) for accounts: the provider an account is for, the transport key
 * secrets are sealed to before they leave the gateway, and the warnings about providers that
 * have no usable account.
 *
 * Why ask the connectors (over `rpc.connector.v1`) rather than read a presence topic: the answer
 * is authoritative (a connector's view, caught up from `connector.accounts.v1`, says whether an
 * account is active, decrypts with the master key and fits the provider's kind), it costs nothing
 * on the hot path (only admin writes ask), and the gateway neither holds more state nor reads the
 * accounts topic (only connectors read account records, sealed as they are).
 */
@Injectable()
export class ConnectorAdmin {
  private readonly log = new Logger(ConnectorAdmin.name);

  constructor(private readonly rpc: RpcClientService) {}

  /** The catalog's provider `id`, or the 404 to answer. */
  async provider(id: string): Promise<CatalogProviderView> {
    const { data } = await this.rpc.ask<{ data: CatalogProviderView[] }>(
      'router',
      CATALOG_RPC.listProviders,
      {},
    );
    const p = data.find((x) => x.id === id);
    if (!p)
      throw new ApiError({
        status: 404,
        type: 'invalid_request_error',
        code: 'provider_not_found',
        param: 'provider',
        message: `Provider '${id}' is not in the catalog: create it first (PUT /admin/catalog/providers/${id}).`,
      });
    return p;
  }

  /**
   * Seals `payload` (credentials, headers) to the connectors' transport key, bound to what it is
   * for: no secret crosses Kafka in clear, and a seal made for one call opens for no other.
   */
  async seal(
    purpose: TransportPurpose,
    providerId: string,
    accountId: string,
    payload: unknown,
  ): Promise<TransportSealed> {
    const key = await this.rpc.ask<TransportKeyView>('connector', CONNECTOR_RPC.transportKey, {});
    const plaintext = Buffer.from(JSON.stringify(payload), 'utf8');
    try {
      return sealToTransport(plaintext, transportAad(purpose, providerId, accountId), key);
    } finally {
      plaintext.fill(0);
    }
  }

  /**
   * Warnings for the providers named (a configuration error to report beside a successful
   * catalog change): each one whose endpoints cannot be served because no connector has a
   * usable account for it.
   */
  async warningsFor(providerIds: readonly string[]): Promise<AdminWarning[]> {
    const ids = [...new Set(providerIds)];
    if (ids.length === 0) return [];
    try {
      const { data } = await this.rpc.ask<{ data: CatalogProviderView[] }>(
        'router',
        CATALOG_RPC.listProviders,
        {},
        PRESENCE_TIMEOUT_MS,
      );
      const providers = data
        .filter((p) => ids.includes(p.id))
        .map((p) => ({ id: p.id, kind: p.kind }));
      if (providers.length === 0) return [];
      const { providers: presence } = await this.rpc.ask<{ providers: ProviderPresence[] }>(
        'connector',
        CONNECTOR_RPC.presence,
        { providers },
        PRESENCE_TIMEOUT_MS,
      );
      return presence.filter((p) => p.usable === 0).map((p) => warningOf(p));
    } catch (e) {
      const why = e instanceof ApiError ? e.message : String(e);
      this.log.warn(`provider accounts not checked: ${why}`);
      return [
        {
          code: 'accounts_unverified',
          provider: null,
          message: `The change is applied, but whether its providers have a usable account could not be checked: ${why}`,
        },
      ];
    }
  }
}

function warningOf(p: ProviderPresence): AdminWarning {
  const why =
    p.accounts === 0
      ? 'it has no account'
      : p.active === 0
        ? `its ${p.accounts} account(s) are disabled`
        : p.kind_mismatch > 0 && p.kind_mismatch === p.active
          ? `its accounts were made for another kind than '${p.kind}'`
          : 'none of its active accounts can be used (see GET /admin/providers/{provider}/accounts)';
  return {
    code: 'provider_has_no_account',
    provider: p.id,
    message:
      `Provider '${p.id}' has no usable account (${why}): its endpoints answer 502 provider_not_configured ` +
      `until one is added: POST /admin/providers/${p.id}/accounts.`,
  };
}
