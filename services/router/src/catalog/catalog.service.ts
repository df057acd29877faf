import { createHash } from 'node:crypto';
import { Injectable, Logger } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { DataSource, EntityManager } from 'typeorm';
import {
  type CatalogEndpointInput,
  type CatalogEndpointView,
  type CatalogModelInput,
  type CatalogModelView,
  type CatalogProviderInput,
  type CatalogProviderView,
  type EndpointPricing,
} from '@turnpike/contracts';
import { RpcFailure } from '@turnpike/kafka';
import { formatMicros, perMillionFromDecimal } from '@turnpike/pricing';
import { adapterFor } from '@turnpike/providers';
import { RouterConfig } from '../router.config.js';
import type { BulkPlan, CatalogKeys } from './catalog-bulk.js';
import { readCatalogFile, type CatalogFile } from './catalog-file.js';
import { EndpointEntity, ModelEntity, ProviderEntity, SeedEntity } from './catalog.entities.js';

export const endpointIdOf = (modelId: string, providerId: string): string =>
  `${modelId}@${providerId}`;

/**
 * Owns the catalog (schema `catalog`): providers, models and their endpoints. Seeded from the
 * versioned catalog file when that file's content changes, changed by operators through the
 * admin API, and held in memory (it is small) for the routing table publisher.
 */
@Injectable()
export class CatalogService {
  private readonly log = new Logger(CatalogService.name);
  private providers = new Map<string, ProviderEntity>();
  private models = new Map<string, ModelEntity>();
  /** Every endpoint, disabled ones included, by id. */
  private endpoints = new Map<string, EndpointEntity>();
  private loading: Promise<void> | null = null;

  constructor(
    @InjectDataSource() private readonly db: DataSource,
    private readonly config: RouterConfig,
  ) {}

  /** Applies the catalog file (if it changed since it was last applied) and loads the catalog. */
  load(): Promise<void> {
    this.loading ??= (async () => {
      const { file, text } = readCatalogFile(this.config.catalogFile);
      const hash = createHash('sha256').update(text).digest('hex');
      const applied = await this.db.getRepository(SeedEntity).findOneBy({ fileHash: hash });
      if (applied) {
        this.log.log(
          `catalog file ${this.config.catalogFile} already applied (${hash.slice(0, 12)})`,
        );
      } else {
        await this.seed(file, hash);
      }
      await this.reload();
    })();
    return this.loading;
  }

  /** Upserts the file's providers, models and endpoints in one transaction. */
  async seed(file: CatalogFile, hash: string): Promise<void> {
    await this.db.transaction(async (tx) => {
      for (const p of file.providers) await this.writeProvider(tx, p);
      for (const m of file.models) {
        await this.writeModel(tx, m);
        for (const e of m.endpoints) await this.writeEndpoint(tx, m.id, e);
      }
      await tx
        .getRepository(SeedEntity)
        .save({ fileHash: hash, filePath: this.config.catalogFile });
    });
    this.log.log(`catalog seeded from ${this.config.catalogFile}: ${file.models.length} models`);
  }

  private async reload(): Promise<void> {
    const [providers, models, endpoints] = await Promise.all([
      this.db.getRepository(ProviderEntity).find(),
      this.db.getRepository(ModelEntity).find(),
      this.db.getRepository(EndpointEntity).find(),
    ]);
    this.providers = new Map(providers.map((p) => [p.id, p]));
    this.models = new Map(models.map((m) => [m.id, m]));
    this.endpoints = new Map(endpoints.map((e) => [e.id, e]));
  }

  // --- reads (in memory) ---------------------------------------------------------------------

  modelIds(): string[] {
    return [...this.models.keys()].sort();
  }

  model(id: string): ModelEntity | undefined {
    return this.models.get(id);
  }

  provider(id: string): ProviderEntity | undefined {
    return this.providers.get(id);
  }

  /** The model's endpoints, by id; disabled ones only when asked. */
  endpointsOf(modelId: string, includeDisabled = false): EndpointEntity[] {
    return [...this.endpoints.values()]
      .filter((e) => e.modelId === modelId && (includeDisabled || !e.disabled))
      .sort((a, b) => a.id.localeCompare(b.id));
  }

  modelOfEndpoint(endpointId: string): string | undefined {
    return this.endpoints.get(endpointId)?.modelId;
  }

  listProviders(): CatalogProviderView[] {
    return [...this.providers.values()]
      .sort((a, b) => a.id.localeCompare(b.id))
      .map((p) => ({ id: p.id, name: p.name, kind: p.kind }));
  }

  view(modelId: string, health: (endpointId: string) => unknown): CatalogModelView | undefined {
    const m = this.models.get(modelId);
    if (!m) return undefined;
    return {
      id: m.id,
      name: m.name,
      description: m.description,
      created: m.created,
      context_length: m.contextLength,
      input_modalities: m.inputModalities,
      output_modalities: m.outputModalities,
      endpoints: this.endpointsOf(m.id, true).map((e) => endpointView(e, health(e.id))),
    };
  }

  // --- operator commands (each returns the models whose routing entry changed) ---------------

  async upsertProvider(p: CatalogProviderInput): Promise<string[]> {
    await this.db.transaction((tx) => this.writeProvider(tx, p));
    await this.reload();
    return [
      ...new Set(
        [...this.endpoints.values()].filter((e) => e.providerId === p.id).map((e) => e.modelId),
      ),
    ];
  }

  async upsertModel(m: CatalogModelInput): Promise<string[]> {
    await this.db.transaction((tx) => this.writeModel(tx, m));
    await this.reload();
    return [m.id];
  }

  /** Deletes a model and its endpoints; true when it existed. */
  async deleteModel(id: string): Promise<boolean> {
    const r = await this.db.getRepository(ModelEntity).delete({ id });
    await this.reload();
    return (r.affected ?? 0) > 0;
  }

  async upsertEndpoint(modelId: string, e: CatalogEndpointInput): Promise<string[]> {
    if (!this.models.has(modelId))
      throw RpcFailure.of(404, `Model '${modelId}' not found.`, 'not_found');
    if (!this.providers.has(e.provider))
      throw RpcFailure.of(404, `Provider '${e.provider}' not found: create it first.`, 'not_found');
    await this.db.transaction((tx) => this.writeEndpoint(tx, modelId, e));
    await this.reload();
    return [modelId];
  }

  async setEndpointDisabled(
    modelId: string,
    providerId: string,
    disabled: boolean,
  ): Promise<string[]> {
    const id = endpointIdOf(modelId, providerId);
    const r = await this.db.getRepository(EndpointEntity).update({ id }, { disabled });
    if ((r.affected ?? 0) === 0)
      throw RpcFailure.of(404, `Endpoint '${id}' not found.`, 'not_found');
    await this.reload();
    return [modelId];
  }

  async deleteEndpoint(modelId: string, providerId: string): Promise<string[]> {
    const id = endpointIdOf(modelId, providerId);
    const r = await this.db.getRepository(EndpointEntity).delete({ id });
    if ((r.affected ?? 0) === 0)
      throw RpcFailure.of(404, `Endpoint '${id}' not found.`, 'not_found');
    await this.reload();
    return [modelId];
  }

  /** What the catalog holds, for a bulk document's references. */
  keys(): CatalogKeys {
    return {
      providers: new Set(this.providers.keys()),
      models: new Set(this.models.keys()),
      endpoints: new Set(this.endpoints.keys()),
    };
  }

  /**
   * Applies a validated bulk plan in ONE transaction (all of it, or nothing); returns the models
   * whose routing entry changed (upserted and deleted ones, those whose endpoints changed, and
   * those served by an upserted provider) and the endpoints that were deleted.
   */
  async applyBulk(plan: BulkPlan): Promise<{ models: string[]; deletedEndpoints: string[] }> {
    const deletedEndpoints = [
      ...plan.deleteEndpoints.map((e) => endpointIdOf(e.model, e.provider)),
      ...plan.deleteModels.flatMap((m) => this.endpointsOf(m, true).map((e) => e.id)),
    ];
    await this.db.transaction(async (tx) => {
      for (const p of plan.providers) await this.writeProvider(tx, p);
      for (const m of plan.models) {
        await this.writeModel(tx, m);
        for (const e of m.endpoints ?? []) await this.writeEndpoint(tx, m.id, e);
      }
      for (const e of plan.deleteEndpoints)
        await tx.getRepository(EndpointEntity).delete({ id: endpointIdOf(e.model, e.provider) });
      for (const id of plan.deleteModels) await tx.getRepository(ModelEntity).delete({ id });
    });
    const providers = new Set(plan.providers.map((p) => p.id));
    const models = new Set([
      ...plan.models.map((m) => m.id),
      ...plan.deleteModels,
      ...plan.deleteEndpoints.map((e) => e.model),
      ...[...this.endpoints.values()]
        .filter((e) => providers.has(e.providerId))
        .map((e) => e.modelId),
    ]);
    await this.reload();
    return { models: [...models].sort(), deletedEndpoints };
  }

  // --- writes ----------------------------------------------------------------------------------

  private async writeProvider(tx: EntityManager, p: CatalogProviderInput): Promise<void> {
    await tx.getRepository(ProviderEntity).save({ id: p.id, name: p.name, kind: p.kind });
  }

  private async writeModel(tx: EntityManager, m: CatalogModelInput): Promise<void> {
    const existing = await tx.getRepository(ModelEntity).findOneBy({ id: m.id });
    await tx.getRepository(ModelEntity).save({
      id: m.id,
      name: m.name,
      description: m.description,
      created: m.created ?? existing?.created ?? Math.floor(Date.now() / 1000),
      contextLength: m.context_length,
      inputModalities: m.input_modalities,
      outputModalities: m.output_modalities,
    });
  }

  private async writeEndpoint(
    tx: EntityManager,
    modelId: string,
    e: CatalogEndpointInput,
  ): Promise<void> {
    const provider = await tx.getRepository(ProviderEntity).findOneBy({ id: e.provider });
    await tx.getRepository(EndpointEntity).save({
      id: endpointIdOf(modelId, e.provider),
      modelId,
      providerId: e.provider,
      upstreamModel: e.upstream_model,
      pricing: pricingOf(e.pricing),
      contextLength: e.context_length,
      maxOutputTokens: e.max_output_tokens,
      quantization: e.quantization,
      region: e.region,
      dataCollection: e.data_collection,
      supportedParameters: e.supported_parameters ?? [
        ...(adapterFor(provider?.kind ?? '')?.capabilities.parameters ?? []),
      ],
      disabled: e.disabled,
    });
  }
}

function pricingOf(p: CatalogEndpointInput['pricing']): EndpointPricing {
  return {
    promptPerM: perMillionFromDecimal(p.prompt),
    completionPerM: perMillionFromDecimal(p.completion),
    cachedReadPerM: perMillionFromDecimal(p.cached_read),
    cacheWritePerM: perMillionFromDecimal(p.cache_write),
    reasoningPerM: perMillionFromDecimal(p.reasoning ?? p.completion),
    // Per request: currency -> micro-units.
    perRequest: perMillionFromDecimal(p.request),
  };
}

const decimal = (micros: number): string => formatMicros(micros).replace(/\.?0+$/, '') || '0';

function endpointView(e: EndpointEntity, health: unknown): CatalogEndpointView {
  return {
    id: e.id,
    model_id: e.modelId,
    provider: e.providerId,
    upstream_model: e.upstreamModel,
    pricing: {
      prompt: decimal(e.pricing.promptPerM),
      completion: decimal(e.pricing.completionPerM),
      cached_read: decimal(e.pricing.cachedReadPerM),
      cache_write: decimal(e.pricing.cacheWritePerM),
      reasoning: decimal(e.pricing.reasoningPerM),
      request: decimal(e.pricing.perRequest),
    },
    context_length: e.contextLength,
    max_output_tokens: e.maxOutputTokens,
    quantization: e.quantization,
    region: e.region,
    data_collection: e.dataCollection,
    supported_parameters: e.supportedParameters,
    disabled: e.disabled,
    health,
  };
}
