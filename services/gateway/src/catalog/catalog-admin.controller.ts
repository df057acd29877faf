import {
  Body,
  Controller,
  Delete,
  Get,
  HttpCode,
  Param,
  Post,
  Put,
  Query,
  UseGuards,
} from '@nestjs/common';
import { z } from 'zod';
import {
  ADMIN_MODELS_DEFAULT_LIMIT,
  ADMIN_MODELS_MAX_LIMIT,
  CATALOG_RPC,
  CatalogBulkParams,
  CatalogEndpointInput,
  CatalogFile,
  CatalogModelInput,
  CatalogProviderInput,
  type AdminWarning,
  type CatalogBulkResult,
  type CatalogImportReport,
  type CatalogModelPage,
  type CatalogModelView,
  type CatalogProviderView,
} from '@turnpike/contracts';
import { ApiError, nonObjectBodyError, parseWithSchema } from '@turnpike/openai-api';
import { AdminGuard } from '../auth/admin.guard.js';
import { ConnectorAdmin } from '../providers/connector-admin.service.js';
import { RpcClientService } from '../transport/rpc-client.service.js';
import { queryReader } from './models.controller.js';

/** Per-item errors of a refused bulk document answered in `error.metadata.errors`. */
const MAX_REPORTED_ERRORS = 100;

/**
 * The body, validated, with the fields the path gives (which win over the body's): a 400 in
 * OpenAI's shape naming the first problem (unknown fields included: the schemas are strict).
 */
function parseBody<T>(schema: z.ZodType<T>, body: unknown, fromPath: Record<string, string>): T {
  let input: Record<string, unknown> = fromPath;
  if (body !== undefined && body !== null) {
    const notObject = nonObjectBodyError(body);
    if (notObject) throw notObject;
    input = { ...(body as Record<string, unknown>), ...fromPath };
  }
  const r = parseWithSchema(schema, input);
  if (!r.ok) throw r.error;
  return r.value;
}

/**
 * Operator API for the catalog: providers, models and endpoints, changed without a restart.
 * The router owns the catalog: every call is a request to it over Kafka (`rpc.router.v1`), and
 * a change is republished on `routing.table.v1` before the router answers, so every gateway
 * routes by it within moments.
 */
@Controller('admin/catalog')
@UseGuards(AdminGuard)
export class CatalogAdminController {
  constructor(
    private readonly rpc: RpcClientService,
    private readonly connector: ConnectorAdmin,
  ) {}

  /**
   * `view` with `warnings`: the providers of the change that no connector has a usable account
   * for (their endpoints would answer `provider_not_configured`), a configuration error the
   * operator should hear about now rather than from tenants.
   */
  private async warned<T extends object>(
    view: T,
    providers: readonly string[],
  ): Promise<T & { warnings: AdminWarning[] }> {
    return { ...view, warnings: await this.connector.warningsFor(providers) };
  }

  @Get('providers')
  listProviders(): Promise<{ data: CatalogProviderView[] }> {
    return this.rpc.ask('router', CATALOG_RPC.listProviders, {});
  }

  /** Creates or replaces a provider (`kind` names the connector adapter, e.g. `openai`). */
  @Put('providers/:id')
  async upsertProvider(
    @Param('id') id: string,
    @Body() body: unknown,
  ): Promise<CatalogProviderView & { warnings: AdminWarning[] }> {
    const view = await this.rpc.ask<CatalogProviderView>(
      'router',
      CATALOG_RPC.upsertProvider,
      parseBody(CatalogProviderInput, body, { id }),
    );
    return this.warned(view, [view.id]);
  }

  /**
   * Many providers, models and endpoints upserted (and models and endpoints deleted) in one
   * call: validated as a whole (every error answered at once, with its path, and then nothing is
   * changed), applied in one router transaction, and every changed model republished once.
   * `dry_run: true` validates and counts only.
   */
  @Post('bulk')
  @HttpCode(200)
  async bulk(@Body() body: unknown): Promise<CatalogBulkResult & { warnings: AdminWarning[] }> {
    const doc = parseBody(CatalogBulkParams, body, {});
    const r = await this.rpc.ask<CatalogBulkResult>('router', CATALOG_RPC.bulk, doc, 30_000);
    if (r.errors.length > 0) {
      const first = r.errors[0]!;
      throw new ApiError({
        status: 400,
        type: 'invalid_request_error',
        code: 'invalid_catalog_document',
        param: first.path || null,
        message: `The document has ${r.errors.length} error(s); nothing was changed. First: ${first.path ? `${first.path}: ` : ''}${first.message}`,
        metadata: { errors: r.errors.slice(0, MAX_REPORTED_ERRORS), error_count: r.errors.length },
      });
    }
    return this.warned(r, r.providers);
  }

  /**
   * Applies a whole catalog document (the shape of the catalog files, e.g. a newer
   * `imported.catalog.json`) as an import: prices and limits are refreshed where the operator
   * has not overridden them, endpoints the operator disabled stay disabled, models and
   * endpoints the operator deleted are not brought back. Answers what it did.
   */
  @Post('import')
  @HttpCode(200)
  importCatalog(@Body() body: unknown): Promise<CatalogImportReport> {
    return this.rpc.ask(
      'router',
      CATALOG_RPC.importCatalog,
      parseBody(CatalogFile, body, {}),
      60_000,
    );
  }

  /**
   * One page of the catalog's models with their endpoints, overrides and health, as
   * `GET /v1/models` pages (`offset`, `limit`: 100 by default, 500 at most; `links.next`,
   * `total_count`). A page also stops before its views reach the RPC reply limit, so follow
   * `links.next` rather than counting on `limit` models a page.
   */
  @Get('models')
  async listModels(@Query() query: Record<string, unknown>): Promise<{
    data: CatalogModelView[];
    links: { next: string | null };
    total_count: number;
  }> {
    const { integer } = queryReader(query);
    const offset = integer('offset', 0, 1_000_000_000) ?? 0;
    const limit = integer('limit', 1, ADMIN_MODELS_MAX_LIMIT) ?? ADMIN_MODELS_DEFAULT_LIMIT;
    const page = await this.rpc.ask<CatalogModelPage>('router', CATALOG_RPC.listModels, {
      offset,
      limit,
    });
    const next =
      page.next_offset === null
        ? null
        : `/admin/catalog/models?offset=${page.next_offset}&limit=${limit}`;
    return { data: page.data, links: { next }, total_count: page.total_count };
  }

  @Get('models/:author/:slug')
  getModel(
    @Param('author') author: string,
    @Param('slug') slug: string,
  ): Promise<CatalogModelView> {
    return this.rpc.ask('router', CATALOG_RPC.getModel, { model: `${author}/${slug}` });
  }

  /** Creates or replaces a model (its endpoints are kept). */
  @Put('models/:author/:slug')
  upsertModel(
    @Param('author') author: string,
    @Param('slug') slug: string,
    @Body() body: unknown,
  ): Promise<CatalogModelView> {
    return this.rpc.ask(
      'router',
      CATALOG_RPC.upsertModel,
      parseBody(CatalogModelInput, body, { id: `${author}/${slug}` }),
    );
  }

  @Delete('models/:author/:slug')
  @HttpCode(200)
  deleteModel(
    @Param('author') author: string,
    @Param('slug') slug: string,
  ): Promise<{ id: string; deleted: boolean }> {
    return this.rpc.ask('router', CATALOG_RPC.deleteModel, { model: `${author}/${slug}` });
  }

  /** Creates or replaces the model's endpoint at this provider (prices in currency per million tokens). */
  @Put('models/:author/:slug/endpoints/:provider')
  async upsertEndpoint(
    @Param('author') author: string,
    @Param('slug') slug: string,
    @Param('provider') provider: string,
    @Body() body: unknown,
  ): Promise<object> {
    const endpoint = parseBody(CatalogEndpointInput, body, { provider });
    const view = await this.rpc.ask<object>('router', CATALOG_RPC.upsertEndpoint, {
      model: `${author}/${slug}`,
      endpoint,
    });
    return this.warned(view, endpoint.disabled ? [] : [provider]);
  }

  @Post('models/:author/:slug/endpoints/:provider/disable')
  @HttpCode(200)
  disableEndpoint(
    @Param('author') author: string,
    @Param('slug') slug: string,
    @Param('provider') provider: string,
  ): Promise<unknown> {
    return this.rpc.ask('router', CATALOG_RPC.setEndpointDisabled, {
      model: `${author}/${slug}`,
      provider,
      disabled: true,
    });
  }

  @Post('models/:author/:slug/endpoints/:provider/enable')
  @HttpCode(200)
  async enableEndpoint(
    @Param('author') author: string,
    @Param('slug') slug: string,
    @Param('provider') provider: string,
  ): Promise<object> {
    const view = await this.rpc.ask<object>('router', CATALOG_RPC.setEndpointDisabled, {
      model: `${author}/${slug}`,
      provider,
      disabled: false,
    });
    return this.warned(view, [provider]);
  }

  @Delete('models/:author/:slug/endpoints/:provider')
  @HttpCode(200)
  deleteEndpoint(
    @Param('author') author: string,
    @Param('slug') slug: string,
    @Param('provider') provider: string,
  ): Promise<unknown> {
    return this.rpc.ask('router', CATALOG_RPC.deleteEndpoint, {
      model: `${author}/${slug}`,
      provider,
    });
  }
}
