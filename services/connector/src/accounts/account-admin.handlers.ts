import { Injectable, Logger } from '@nestjs/common';
import { z } from 'zod';
import {
  AccountHeaders,
  AccountRefParams,
  CONNECTOR_RPC,
  CreateAccountParams,
  ListAccountsParams,
  PresenceParams,
  ProviderCredentials,
  RotateAccountParams,
  SetAccountStatusParams,
  TRANSPORT_PURPOSE,
  transportAad,
  UpdateAccountParams,
  type ProviderAccountView,
  type TransportSealed,
} from '@turnpike/contracts';
import { RpcFailure, rpcParams as parse } from '@turnpike/kafka';
import { SecretError, TransportKeys } from '@turnpike/secrets';
import { RpcServerService } from '@turnpike/service-kit';
import { ConnectorConfig } from '../connector.config.js';
import { accountNotFound, masterKeyMissing } from './account-manager.js';
import { parseSecretJson, SealedPayload } from '@turnpike/generation';
import { AccountsService } from './accounts.service.js';

const RotatePayload = z.object({ credentials: ProviderCredentials });
const HeadersPayload = z.object({ headers: AccountHeaders });

/**
 * The operator's provider-account commands and queries over `rpc.connector.v1` (the gateway's
 * `/admin/providers/{provider}/accounts`). One connector instance answers each call: it writes
 * Postgres and publishes the sealed record on `connector.accounts.v1` (every instance follows
 * it), then waits until its own view holds the change before it answers. Secrets arrive sealed
 * to the connectors' transport key and are never answered, logged or traced.
 */
@Injectable()
export class AccountAdminHandlers {
  private readonly log = new Logger(AccountAdminHandlers.name);
  private readonly transport: TransportKeys | null;

  constructor(
    rpc: RpcServerService,
    private readonly accounts: AccountsService,
    config: ConnectorConfig,
  ) {
    this.transport = config.masterKeys ? new TransportKeys(config.masterKeys) : null;
    const on = (method: string, fn: (params: unknown) => Promise<unknown>) =>
      rpc.handle(method, async (params) => {
        await this.accounts.ready();
        return fn(params);
      });
    const { manager, store, view } = accounts;

    on(CONNECTOR_RPC.transportKey, async () => this.keys().current());

    on(CONNECTOR_RPC.create, async (params) => {
      const p = parse(CreateAccountParams, params);
      const payload = this.open(
        p.sealed,
        transportAad(TRANSPORT_PURPOSE.create, p.provider.id),
        SealedPayload,
      );
      const row = await manager.create({
        provider: p.provider,
        owner: p.owner,
        label: p.label,
        baseUrl: p.baseUrl,
        weight: p.weight,
        status: p.status,
        payload,
      });
      await view.applied(row.id, row.revision);
      this.log.log(`account ${row.id} created for ${row.providerId} (${row.hint})`);
      return this.accounts.present(row);
    });

    on(CONNECTOR_RPC.list, async (params): Promise<{ data: ProviderAccountView[] }> => {
      const { providerId } = parse(ListAccountsParams, params);
      return { data: (await store.list(providerId)).map((r) => this.accounts.present(r)) };
    });

    on(CONNECTOR_RPC.get, async (params) => {
      const { providerId, accountId } = parse(AccountRefParams, params);
      const row = await store.get(accountId);
      if (!row || row.providerId !== providerId) throw accountNotFound(providerId, accountId);
      return this.accounts.present(row);
    });

    on(CONNECTOR_RPC.rotate, async (params) => {
      const p = parse(RotateAccountParams, params);
      const { credentials } = this.open(
        p.sealed,
        transportAad(TRANSPORT_PURPOSE.rotate, p.providerId, p.accountId),
        RotatePayload,
      );
      const row = await manager.rotate(p.providerId, p.accountId, credentials);
      await view.applied(row.id, row.revision);
      this.log.log(
        `account ${row.id} of ${row.providerId} rotated to secret v${row.secretVersion} (${row.hint})`,
      );
      return this.accounts.present(row);
    });

    on(CONNECTOR_RPC.update, async (params) => {
      const p = parse(UpdateAccountParams, params);
      const headers = p.sealedHeaders
        ? this.open(
            p.sealedHeaders,
            transportAad(TRANSPORT_PURPOSE.headers, p.providerId, p.accountId),
            HeadersPayload,
          ).headers
        : undefined;
      const row = await manager.update(p.providerId, p.accountId, {
        label: p.label,
        weight: p.weight,
        baseUrl: p.baseUrl,
        headers,
      });
      await view.applied(row.id, row.revision);
      this.log.log(`account ${row.id} of ${row.providerId} updated`);
      return this.accounts.present(row);
    });

    on(CONNECTOR_RPC.setStatus, async (params) => {
      const p = parse(SetAccountStatusParams, params);
      const row = await manager.setStatus(p.providerId, p.accountId, p.status);
      await view.applied(row.id, row.revision);
      this.log.log(`account ${row.id} of ${row.providerId} ${row.status}`);
      return this.accounts.present(row);
    });

    on(CONNECTOR_RPC.delete, async (params) => {
      const { providerId, accountId } = parse(AccountRefParams, params);
      await manager.delete(providerId, accountId);
      await view.applied(accountId, null);
      this.log.log(`account ${accountId} of ${providerId} deleted`);
      return { id: accountId, provider: providerId, deleted: true };
    });

    on(CONNECTOR_RPC.presence, async (params) => {
      const { providers } = parse(PresenceParams, params);
      return { providers: providers.map((p) => view.book.presence(p)) };
    });
  }

  private keys(): TransportKeys {
    if (!this.transport) throw masterKeyMissing();
    return this.transport;
  }

  /** Opens an admin payload sealed to our transport key; a 400 (naming no secret) if it does not. */
  private open<T>(sealed: TransportSealed, aad: string, schema: z.ZodType<T>): T {
    try {
      return parseSecretJson(this.keys().open(sealed, aad), schema, 'sealed payload');
    } catch (e) {
      if (!(e instanceof SecretError)) throw e;
      throw RpcFailure.of(
        400,
        `The sealed credentials could not be opened: ${e.message}. Seal them again to the current transport key.`,
        'invalid_sealed_payload',
      );
    }
  }
}
