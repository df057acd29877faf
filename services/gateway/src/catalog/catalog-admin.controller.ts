import {
  Body,
  Controller,
  Delete,
  Get,
  HttpCode,
  Param,
  Post,
  Put,
  UseGuards,
} from '@nestjs/common';
import { z } from 'zod';
import {
  CATALOG_RPC,
  CatalogEndpointInput,
  CatalogFile,
  CatalogModelInput,
  CatalogProviderInput,
  type CatalogImportReport,
  type CatalogModelView,
  type CatalogProviderView,
} from '@turnpike/contracts';
import { nonObjectBodyError, parseWithSchema } from '@turnpike/openai-api';
import { AdminGuard } from '../auth/admin.guard.js';
import { RpcClientService } from '../transport/rpc-client.service.js';

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
  constructor(private readonly rpc: RpcClientService) {}

  @Get('providers')
  listProviders(): Promise<{ data: CatalogProviderView[] }> {
    return this.rpc.ask('router', CATALOG_RPC.listProviders, {});
  }

  /** Creates or replaces a provider (`kind` names the connector adapter, e.g. `openai`). */
  @Put('providers/:id')
  upsertProvider(@Param('id') id: string, @Body() body: unknown): Promise<CatalogProviderView> {
    return this.rpc.ask(
      'router',
      CATALOG_RPC.upsertProvider,
      parseBody(CatalogProviderInput, body, { id }),
    );
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

  @Get('models')
  listModels(): Promise<{ data: CatalogModelView[] }> {
    return this.rpc.ask('router', CATALOG_RPC.listModels, {});
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
  upsertEndpoint(
    @Param('author') author: string,
    @Param('slug') slug: string,
    @Param('provider') provider: string,
    @Body() body: unknown,
  ): Promise<unknown> {
    const endpoint = parseBody(CatalogEndpointInput, body, { provider });
    return this.rpc.ask('router', CATALOG_RPC.upsertEndpoint, {
      model: `${author}/${slug}`,
      endpoint,
    });
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
  enableEndpoint(
    @Param('author') author: string,
    @Param('slug') slug: string,
    @Param('provider') provider: string,
  ): Promise<unknown> {
    return this.rpc.ask('router', CATALOG_RPC.setEndpointDisabled, {
      model: `${author}/${slug}`,
      provider,
      disabled: false,
    });
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
