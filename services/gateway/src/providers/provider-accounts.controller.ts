import {
  Body,
  Controller,
  Delete,
  Get,
  HttpCode,
  Param,
  Patch,
  Post,
  Put,
  UseGuards,
} from '@nestjs/common';
import { z } from 'zod';
import {
  AccountBaseUrl,
  AccountHeaders,
  AccountId,
  AccountStatus,
  AccountWeight,
  CONNECTOR_RPC,
  PLATFORM_OWNER,
  ProviderCredentials,
  ProviderId,
  TRANSPORT_PURPOSE,
  type ProviderAccountView,
} from '@turnpike/contracts';
import { invalidRequest } from '@turnpike/openai-api';
import { AdminGuard } from '../auth/admin.guard.js';
import { parseAdminBody } from '../http/admin-body.js';
import { RpcClientService } from '../transport/rpc-client.service.js';
import { ConnectorAdmin } from './connector-admin.service.js';

/** The credentials of a call: the short form `api_key`, or the typed `credentials`. */
const Secret = {
  api_key: z.string().min(1).max(4096).optional(),
  credentials: ProviderCredentials.optional(),
};
const oneSecret = (b: { api_key?: string | undefined; credentials?: unknown }) =>
  (b.api_key === undefined) !== (b.credentials === undefined);
const credentialsOf = (b: {
  api_key?: string | undefined;
  credentials?: ProviderCredentials | undefined;
}): ProviderCredentials => b.credentials ?? { type: 'api_key', apiKey: b.api_key! };

const CreateBody = z
  .object({
    label: z.string().max(200).optional(),
    base_url: AccountBaseUrl.optional(),
    weight: AccountWeight.optional(),
    status: AccountStatus.optional(),
    /** `platform` only for now; tenants' own keys (BYOK) will be `tenant:<id>`. */
    owner: z
      .literal(PLATFORM_OWNER, { message: "only 'platform' accounts can be created for now" })
      .optional(),
    headers: AccountHeaders.optional(),
    ...Secret,
  })
  .strict()
  .refine(oneSecret, { message: 'give either api_key or credentials', path: ['api_key'] });

const RotateBody = z
  .object(Secret)
  .strict()
  .refine(oneSecret, { message: 'give either api_key or credentials', path: ['api_key'] });

const PatchBody = z
  .object({
    label: z.string().max(200).optional(),
    weight: AccountWeight.optional(),
    base_url: AccountBaseUrl.optional(),
    /** Replaces the extra headers (values may be secrets: they are sealed like credentials). */
    headers: AccountHeaders.optional(),
  })
  .strict()
  .refine((b) => Object.keys(b).length > 0, { message: 'nothing to change' });

/** A refused body is answered with the field and the reason, never a value (it may be a secret). */
const parse = parseAdminBody;

function provider(id: string): string {
  if (!ProviderId.safeParse(id).success)
    throw invalidRequest(`Invalid provider id '${id.slice(0, 64)}'.`, 'provider');
  return id;
}

function account(id: string): string {
  if (!AccountId.safeParse(id).success)
    throw invalidRequest(`Invalid account id '${id.slice(0, 64)}' (acct_...).`, 'account');
  return id;
}

/**
 * Operator API for provider accounts, `/admin/providers/{provider}/accounts`: the credentials
 * the connectors call a catalog provider with, managed live. The connectors own them: every call
 * is a request over `rpc.connector.v1`, and a change reaches every connector from
 * `connector.accounts.v1` within moments, without a restart. Secrets are write-only: sealed here
 * to the connectors' transport key before they leave the gateway, never answered (a masked hint
 * and a fingerprint identify them).
 */
@Controller('admin/providers/:provider/accounts')
@UseGuards(AdminGuard)
export class ProviderAccountsController {
  constructor(
    private readonly rpc: RpcClientService,
    private readonly connector: ConnectorAdmin,
  ) {}

  @Post()
  @HttpCode(201)
  async create(
    @Param('provider') providerId: string,
    @Body() body: unknown,
  ): Promise<ProviderAccountView> {
    const b = parse(CreateBody, body);
    const p = await this.connector.provider(provider(providerId));
    const sealed = await this.connector.seal(TRANSPORT_PURPOSE.create, p.id, '', {
      credentials: credentialsOf(b),
      headers: b.headers ?? {},
    });
    return this.rpc.ask('connector', CONNECTOR_RPC.create, {
      provider: { id: p.id, kind: p.kind },
      owner: PLATFORM_OWNER,
      ...(b.label !== undefined ? { label: b.label } : {}),
      ...(b.base_url !== undefined ? { baseUrl: b.base_url } : {}),
      ...(b.weight !== undefined ? { weight: b.weight } : {}),
      ...(b.status !== undefined ? { status: b.status } : {}),
      sealed,
    });
  }

  @Get()
  list(@Param('provider') providerId: string): Promise<{ data: ProviderAccountView[] }> {
    return this.rpc.ask('connector', CONNECTOR_RPC.list, { providerId: provider(providerId) });
  }

  @Get(':account')
  get(
    @Param('provider') providerId: string,
    @Param('account') accountId: string,
  ): Promise<ProviderAccountView> {
    return this.rpc.ask('connector', CONNECTOR_RPC.get, {
      providerId: provider(providerId),
      accountId: account(accountId),
    });
  }

  /** A new secret: requests in flight finish on the old one, new ones use this one. */
  @Put(':account/credentials')
  async rotate(
    @Param('provider') providerId: string,
    @Param('account') accountId: string,
    @Body() body: unknown,
  ): Promise<ProviderAccountView> {
    const b = parse(RotateBody, body);
    const ref = { providerId: provider(providerId), accountId: account(accountId) };
    const sealed = await this.connector.seal(
      TRANSPORT_PURPOSE.rotate,
      ref.providerId,
      ref.accountId,
      {
        credentials: credentialsOf(b),
      },
    );
    return this.rpc.ask('connector', CONNECTOR_RPC.rotate, { ...ref, sealed });
  }

  @Patch(':account')
  async update(
    @Param('provider') providerId: string,
    @Param('account') accountId: string,
    @Body() body: unknown,
  ): Promise<ProviderAccountView> {
    const b = parse(PatchBody, body);
    const ref = { providerId: provider(providerId), accountId: account(accountId) };
    const sealedHeaders =
      b.headers === undefined
        ? undefined
        : await this.connector.seal(TRANSPORT_PURPOSE.headers, ref.providerId, ref.accountId, {
            headers: b.headers,
          });
    return this.rpc.ask('connector', CONNECTOR_RPC.update, {
      ...ref,
      ...(b.label !== undefined ? { label: b.label } : {}),
      ...(b.weight !== undefined ? { weight: b.weight } : {}),
      ...(b.base_url !== undefined ? { baseUrl: b.base_url } : {}),
      ...(sealedHeaders ? { sealedHeaders } : {}),
    });
  }

  @Post(':account/disable')
  @HttpCode(200)
  disable(
    @Param('provider') providerId: string,
    @Param('account') accountId: string,
  ): Promise<ProviderAccountView> {
    return this.setStatus(providerId, accountId, 'disabled');
  }

  @Post(':account/enable')
  @HttpCode(200)
  enable(
    @Param('provider') providerId: string,
    @Param('account') accountId: string,
  ): Promise<ProviderAccountView> {
    return this.setStatus(providerId, accountId, 'active');
  }

  @Delete(':account')
  @HttpCode(200)
  remove(
    @Param('provider') providerId: string,
    @Param('account') accountId: string,
  ): Promise<{ id: string; provider: string; deleted: boolean }> {
    return this.rpc.ask('connector', CONNECTOR_RPC.delete, {
      providerId: provider(providerId),
      accountId: account(accountId),
    });
  }

  private setStatus(
    providerId: string,
    accountId: string,
    status: 'active' | 'disabled',
  ): Promise<ProviderAccountView> {
    return this.rpc.ask('connector', CONNECTOR_RPC.setStatus, {
      providerId: provider(providerId),
      accountId: account(accountId),
      status,
    });
  }
}
