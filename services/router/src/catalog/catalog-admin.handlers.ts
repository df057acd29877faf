import { Injectable } from '@nestjs/common';
import {
  ADMIN_MODELS_PAGE_BYTES,
  CATALOG_RPC,
  CatalogFile,
  CatalogBulkParams,
  CatalogModelInput,
  CatalogProviderInput,
  EndpointRefParams,
  ListModelsParams,
  ModelRefParams,
  SetEndpointDisabledParams,
  UpsertEndpointParams,
  type CatalogImportReport,
  type CatalogBulkResult,
  type CatalogModelPage,
  type CatalogModelView,
  type CatalogProviderView,
  type ProviderPolicyView,
} from '@turnpike/contracts';
import { RpcFailure, rpcParams as parse } from '@turnpike/kafka';
import { RpcServerService } from '@turnpike/service-kit';
import { HealthMonitor } from '../routing/health-monitor.service.js';
import { TablePublisher } from '../routing/table-publisher.service.js';
import { planBulk, providersNamed, upsertedEndpointCount } from './catalog-bulk.js';
import { modelPage } from './catalog-page.js';
import { CatalogService, endpointIdOf } from './catalog.service.js';

/**
 * The operator's catalog commands and queries, answered over `rpc.router.v1` (the gateway's
 * `/admin/catalog/...`). Every change is written to the `catalog` schema, then the affected
 * models are republished on `routing.table.v1` before the command answers: when the operator
 * gets the reply, the change is already on its way to every gateway. Commands are idempotent
 * upserts and deletes, so a redelivered call is harmless.
 */
@Injectable()
export class CatalogAdminHandlers {
  constructor(
    rpc: RpcServerService,
    private readonly catalog: CatalogService,
    private readonly publisher: TablePublisher,
    private readonly health: HealthMonitor,
  ) {
    const on = (method: string, fn: (params: unknown) => Promise<unknown>) =>
      rpc.handle(method, async (params) => {
        await this.catalog.load();
        return fn(params);
      });

    on(CATALOG_RPC.listProviders, async (): Promise<{ data: CatalogProviderView[] }> => ({
      data: this.catalog.listProviders(),
    }));

    // Public (`GET /v1/providers`): the providers routed to, with their endpoints' policies.
    on(CATALOG_RPC.publicProviders, async (): Promise<{ data: ProviderPolicyView[] }> => ({
      data: this.catalog.providerPolicies(),
    }));

    on(CATALOG_RPC.upsertProvider, async (params) => {
      const p = parse(CatalogProviderInput, params);
      await this.publisher.publish(await this.catalog.upsertProvider(p));
      return this.catalog.listProviders().find((x) => x.id === p.id);
    });

    // A page: the whole list of a large catalog would not fit one reply.
    on(CATALOG_RPC.listModels, async (params): Promise<CatalogModelPage> =>
      modelPage(
        this.catalog.modelIds(),
        (id) => this.view(id),
        parse(ListModelsParams, params ?? {}),
        ADMIN_MODELS_PAGE_BYTES,
      ),
    );

    on(CATALOG_RPC.getModel, async (params) => {
      const { model } = parse(ModelRefParams, params);
      const v = this.view(model);
      if (!v) throw RpcFailure.of(404, `Model '${model}' not found.`, 'not_found');
      return v;
    });

    on(CATALOG_RPC.upsertModel, async (params) => {
      const m = parse(CatalogModelInput, params);
      await this.publisher.publish(await this.catalog.upsertModel(m));
      return this.view(m.id);
    });

    on(CATALOG_RPC.deleteModel, async (params) => {
      const { model } = parse(ModelRefParams, params);
      const endpoints = this.catalog.endpointsOf(model, true).map((e) => e.id);
      const existed = await this.catalog.deleteModel(model);
      if (!existed) throw RpcFailure.of(404, `Model '${model}' not found.`, 'not_found');
      for (const id of endpoints) this.health.forget(id);
      await this.publisher.publish([model]);
      return { id: model, deleted: true };
    });

    on(CATALOG_RPC.upsertEndpoint, async (params) => {
      const { model, endpoint } = parse(UpsertEndpointParams, params);
      await this.publisher.publish(await this.catalog.upsertEndpoint(model, endpoint));
      return this.view(model)?.endpoints.find((e) => e.provider === endpoint.provider);
    });

    on(CATALOG_RPC.setEndpointDisabled, async (params) => {
      const { model, provider, disabled } = parse(SetEndpointDisabledParams, params);
      await this.publisher.publish(
        await this.catalog.setEndpointDisabled(model, provider, disabled),
      );
      return this.view(model)?.endpoints.find((e) => e.provider === provider);
    });

    // A whole catalog document as an import: what the operator overrode or deleted stays so.
    on(CATALOG_RPC.importCatalog, async (params): Promise<CatalogImportReport> => {
      const file = parse(CatalogFile, params);
      const { report, models } = await this.catalog.importCatalog(file);
      await this.publisher.publish(models);
      return report;
    });

    on(CATALOG_RPC.bulk, async (params): Promise<CatalogBulkResult> => {
      const doc = parse(CatalogBulkParams, params);
      const planned = planBulk(doc, this.catalog.keys());
      const counts = {
        providers_upserted: 0,
        models_upserted: 0,
        endpoints_upserted: 0,
        models_deleted: 0,
        endpoints_deleted: 0,
      };
      if (!planned.ok)
        return {
          applied: false,
          dry_run: doc.dry_run,
          counts,
          errors: planned.errors,
          providers: [],
        };
      const { plan } = planned;
      const result: CatalogBulkResult = {
        applied: !doc.dry_run,
        dry_run: doc.dry_run,
        counts: {
          providers_upserted: plan.providers.length,
          models_upserted: plan.models.length,
          endpoints_upserted: upsertedEndpointCount(plan),
          models_deleted: plan.deleteModels.length,
          endpoints_deleted: plan.deleteEndpoints.length,
        },
        errors: [],
        providers: providersNamed(plan),
      };
      if (doc.dry_run) return result;
      // One transaction, then every changed model republished once.
      const { models, deletedEndpoints } = await this.catalog.applyBulk(plan);
      for (const id of deletedEndpoints) this.health.forget(id);
      await this.publisher.publish(models);
      return result;
    });

    on(CATALOG_RPC.deleteEndpoint, async (params) => {
      const { model, provider } = parse(EndpointRefParams, params);
      await this.publisher.publish(await this.catalog.deleteEndpoint(model, provider));
      this.health.forget(endpointIdOf(model, provider));
      return { id: endpointIdOf(model, provider), deleted: true };
    });
  }

  private view(modelId: string): CatalogModelView | undefined {
    const now = Date.now();
    return this.catalog.view(modelId, (id) => this.health.health(id, now));
  }
}
