import { createHash } from 'node:crypto';
import { Injectable, Logger } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { DataSource, EntityManager, ObjectLiteral, Repository } from 'typeorm';
import {
  type CatalogEndpointInput,
  type CatalogEndpointView,
  type CatalogFile,
  type CatalogImportReport,
  type CatalogModelInput,
  type CatalogModelView,
  type CatalogProviderInput,
  type CatalogProviderView,
  type ProviderPolicyView,
} from '@turnpike/contracts';
import { RpcFailure } from '@turnpike/kafka';
import { formatMicros } from '@turnpike/pricing';
import { adapterFor } from '@turnpike/providers';
import { RouterConfig } from '../router.config.js';
import type { BulkPlan, CatalogKeys } from './catalog-bulk.js';
import { readCatalogFile } from './catalog-file.js';
import {
  endpointRow,
  endpointValues,
  endpointValuesOf,
  modelRow,
  modelValues,
  modelValuesOf,
  providerValues,
  providerValuesOf,
} from './catalog-rows.js';
import {
  DeletionEntity,
  EndpointEntity,
  ModelEntity,
  ProviderEntity,
  SeedEntity,
} from './catalog.entities.js';
import {
  ENDPOINT_FIELDS,
  MODEL_FIELDS,
  PROVIDER_FIELDS,
  mergeImport,
  overridesAfterWrite,
  same,
  type FieldValues,
} from './overrides.js';

export const endpointIdOf = (modelId: string, providerId: string): string =>
  `${modelId}@${providerId}`;

/** Rows per INSERT ... ON CONFLICT statement of an import. */
const UPSERT_CHUNK = 500;

/**
 * Owns the catalog (schema `catalog`): providers, models and their endpoints. Imported from the
 * versioned catalog file when that file's content changes (and from `POST /admin/catalog/import`),
 * changed by operators through the admin API, and held in memory for the routing table publisher.
 * An import never undoes an operator's change: it rewrites only the fields the operator has not
 * overridden and never brings back what the operator deleted (`overrides.ts`).
 */
@Injectable()
export class CatalogService {
  private readonly log = new Logger(CatalogService.name);
  private providers = new Map<string, ProviderEntity>();
  private models = new Map<string, ModelEntity>();
  /** Every endpoint, disabled ones included, by id. */
  private endpoints = new Map<string, EndpointEntity>();
  /** The same endpoints by model, sorted by id. */
  private byModel = new Map<string, EndpointEntity[]>();
  private loading: Promise<void> | null = null;

  constructor(
    @InjectDataSource() private readonly db: DataSource,
    private readonly config: RouterConfig,
  ) {}

  /** Imports the catalog file (if it changed since it was last applied) and loads the catalog. */
  load(): Promise<void> {
    this.loading ??= (async () => {
      const { file, text } = readCatalogFile(this.config.catalogFile);
      const hash = createHash('sha256').update(text).digest('hex');
      const applied = await this.db.getRepository(SeedEntity).findOneBy({ fileHash: hash });
      if (applied) {
        this.log.log(
          `catalog file ${this.config.catalogFile} already applied (${hash.slice(0, 12)})`,
        );
        await this.reload();
      } else {
        const t0 = Date.now();
        const { report } = await this.importCatalog(file, { fileHash: hash });
        this.log.log(
          `catalog imported from ${this.config.catalogFile} in ${Date.now() - t0} ms: ` +
            `${file.models.length} models (${report.models.created} new, ${report.models.updated} changed), ` +
            `${report.overrides_kept} operator overrides kept` +
            (report.kinds_without_adapter.length > 0
              ? `; kinds without an adapter (not routed): ${report.kinds_without_adapter.join(', ')}`
              : ''),
        );
      }
    })();
    return this.loading;
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
    const byModel = new Map<string, EndpointEntity[]>();
    for (const e of [...endpoints].sort((a, b) => a.id.localeCompare(b.id))) {
      const list = byModel.get(e.modelId) ?? [];
      list.push(e);
      byModel.set(e.modelId, list);
    }
    this.byModel = byModel;
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
    const all = this.byModel.get(modelId) ?? [];
    return includeDisabled ? [...all] : all.filter((e) => !e.disabled);
  }

  /** An endpoint's provider kind has an adapter in this build (else it is imported, not routed). */
  routable(e: EndpointEntity): boolean {
    return adapterFor(this.providers.get(e.providerId)?.kind ?? '') !== undefined;
  }

  /**
   * The endpoint's provider kind's adapter continues a trailing assistant message (prefill), so
   * the gateway may carry on an answer cut mid-stream there. False without an adapter.
   */
  supportsPrefill(e: EndpointEntity): boolean {
    return adapterFor(this.providers.get(e.providerId)?.kind ?? '')?.capabilities.prefill === true;
  }

  /** What routing may use: enabled endpoints whose provider kind has an adapter. */
  routableEndpointsOf(modelId: string): EndpointEntity[] {
    return this.endpointsOf(modelId).filter((e) => this.routable(e));
  }

  /**
   * The parameters an endpoint takes: what it declares (the model's, for imported ones)
   * intersected with what its provider kind's adapter maps.
   */
  effectiveParameters(e: EndpointEntity): string[] {
    const adapter = adapterFor(this.providers.get(e.providerId)?.kind ?? '');
    if (!adapter) return [];
    const mapped = new Set(adapter.capabilities.parameters);
    return e.supportedParameters.filter((p) => mapped.has(p));
  }

  modelOfEndpoint(endpointId: string): string | undefined {
    return this.endpoints.get(endpointId)?.modelId;
  }

  listProviders(): CatalogProviderView[] {
    return [...this.providers.values()]
      .sort((a, b) => a.id.localeCompare(b.id))
      .map((p) => ({
        id: p.id,
        name: p.name,
        kind: p.kind,
        overrides: p.overrides,
        adapter: adapterFor(p.kind) !== undefined,
      }));
  }

  /**
   * The providers traffic can go to (at least one enabled endpoint whose kind has an adapter),
   * with what their endpoints declare. The catalog holds no policy links yet: they are null.
   */
  providerPolicies(): ProviderPolicyView[] {
    const by = new Map<string, EndpointEntity[]>();
    for (const e of this.endpoints.values()) {
      if (e.disabled || !this.models.has(e.modelId) || !this.routable(e)) continue;
      const list = by.get(e.providerId) ?? [];
      list.push(e);
      by.set(e.providerId, list);
    }
    const distinct = <T>(xs: Array<T | null>): T[] =>
      [...new Set(xs.filter((x): x is T => x !== null))].sort();
    return [...by.entries()]
      .map(([id, endpoints]): ProviderPolicyView | null => {
        const p = this.providers.get(id);
        if (!p) return null;
        return {
          id,
          name: p.name,
          kind: p.kind,
          endpoints: endpoints.length,
          models: new Set(endpoints.map((e) => e.modelId)).size,
          data_collection: distinct(endpoints.map((e) => e.dataCollection)),
          quantizations: distinct(endpoints.map((e) => e.quantization)),
          regions: distinct(endpoints.map((e) => e.region)),
          privacy_policy_url: null,
          terms_of_service_url: null,
          status_page_url: null,
        };
      })
      .filter((v): v is ProviderPolicyView => v !== null)
      .sort((a, b) => a.id.localeCompare(b.id));
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
      overrides: m.overrides,
      endpoints: this.endpointsOf(m.id, true).map((e) =>
        endpointView(e, this.routable(e), this.supportsPrefill(e), health(e.id)),
      ),
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

  /** Deletes a model and its endpoints (an import will not bring it back); true when it existed. */
  async deleteModel(id: string): Promise<boolean> {
    const affected = await this.db.transaction(async (tx) => {
      const r = await tx.getRepository(ModelEntity).delete({ id });
      if ((r.affected ?? 0) > 0) await tx.getRepository(DeletionEntity).save({ kind: 'model', id });
      return r.affected ?? 0;
    });
    await this.reload();
    return affected > 0;
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
    const cur = this.endpoints.get(id);
    if (!cur) throw RpcFailure.of(404, `Endpoint '${id}' not found.`, 'not_found');
    await this.db.getRepository(EndpointEntity).update(
      { id },
      {
        disabled,
        overrides: overridesAfterWrite(
          ENDPOINT_FIELDS,
          cur.overrides,
          ['disabled'],
          { disabled },
          cur.imported,
        ),
      },
    );
    await this.reload();
    return [modelId];
  }

  async deleteEndpoint(modelId: string, providerId: string): Promise<string[]> {
    const id = endpointIdOf(modelId, providerId);
    const affected = await this.db.transaction(async (tx) => {
      const r = await tx.getRepository(EndpointEntity).delete({ id });
      if ((r.affected ?? 0) > 0)
        await tx.getRepository(DeletionEntity).save({ kind: 'endpoint', id });
      return r.affected ?? 0;
    });
    if (affected === 0) throw RpcFailure.of(404, `Endpoint '${id}' not found.`, 'not_found');
    await this.reload();
    return [modelId];
  }

  // --- bulk changes ----------------------------------------------------------------------------

  /** What the catalog holds, for a bulk document's references. */
  keys(): CatalogKeys {
    return {
      providers: new Set(this.providers.keys()),
      models: new Set(this.models.keys()),
      endpoints: new Set(this.endpoints.keys()),
    };
  }

  /**
   * Applies a validated bulk plan in ONE transaction (all of it, or nothing), with the same
   * writes as the single-item commands (operator overrides recorded, deletions remembered so an
   * import does not bring them back); returns the models whose routing entry changed and the
   * endpoints that were deleted.
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
        for (const e of m.endpoints ?? []) await this.writeEndpoint(tx, m.id, e, plan.providers);
      }
      for (const e of plan.deleteEndpoints) {
        const id = endpointIdOf(e.model, e.provider);
        await tx.getRepository(EndpointEntity).delete({ id });
        await tx.getRepository(DeletionEntity).save({ kind: 'endpoint', id });
      }
      for (const id of plan.deleteModels) {
        await tx.getRepository(ModelEntity).delete({ id });
        await tx.getRepository(DeletionEntity).save({ kind: 'model', id });
      }
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

  // --- writes (inside a transaction; the operator's fields are recorded as overrides) -----------

  private async writeProvider(tx: EntityManager, p: CatalogProviderInput): Promise<void> {
    const cur = this.providers.get(p.id);
    const values = providerValues(p);
    await tx.getRepository(ProviderEntity).save({
      id: p.id,
      name: p.name,
      kind: p.kind,
      overrides: overridesAfterWrite(
        PROVIDER_FIELDS,
        cur?.overrides ?? [],
        PROVIDER_FIELDS,
        values,
        cur?.imported ?? null,
      ),
      imported: cur?.imported ?? null,
    });
  }

  private async writeModel(tx: EntityManager, m: CatalogModelInput): Promise<void> {
    const cur = this.models.get(m.id);
    const values = modelValues(m, m.created ?? cur?.created ?? Math.floor(Date.now() / 1000));
    await tx.getRepository(ModelEntity).save({
      ...modelRow(m.id, values),
      overrides: overridesAfterWrite(
        MODEL_FIELDS,
        cur?.overrides ?? [],
        MODEL_FIELDS,
        values,
        cur?.imported ?? null,
      ),
      imported: cur?.imported ?? null,
    });
    // Created again by the operator: an import may update it again.
    await tx.getRepository(DeletionEntity).delete({ kind: 'model', id: m.id });
  }

  private async writeEndpoint(
    tx: EntityManager,
    modelId: string,
    e: CatalogEndpointInput,
    /** Providers written in the same transaction (a bulk document), not yet in memory. */
    pending: readonly CatalogProviderInput[] = [],
  ): Promise<void> {
    const kind =
      pending.find((p) => p.id === e.provider)?.kind ?? this.providers.get(e.provider)?.kind;
    const id = endpointIdOf(modelId, e.provider);
    const cur = this.endpoints.get(id);
    const values = endpointValues(e, adapterFor(kind ?? '')?.capabilities.parameters ?? []);
    await tx.getRepository(EndpointEntity).save({
      ...endpointRow(id, modelId, e.provider, values),
      overrides: overridesAfterWrite(
        ENDPOINT_FIELDS,
        cur?.overrides ?? [],
        ENDPOINT_FIELDS,
        values,
        cur?.imported ?? null,
      ),
      imported: cur?.imported ?? null,
    });
    await tx.getRepository(DeletionEntity).delete({ kind: 'endpoint', id });
  }

  // --- imports ---------------------------------------------------------------------------------

  /**
   * Applies a catalog document as an import, in one transaction: new providers, models and
   * endpoints are created; existing ones get the document's values in every field the operator
   * has not overridden; what the operator deleted stays deleted. Nothing is removed. Returns
   * what it did and the models whose routing entry may have changed.
   */
  async importCatalog(
    file: CatalogFile,
    opts: { fileHash?: string } = {},
  ): Promise<{ report: CatalogImportReport; models: string[] }> {
    await this.reload();
    const deletions = await this.db.getRepository(DeletionEntity).find();
    const deleted = new Set(deletions.map((d) => `${d.kind}:${d.id}`));
    const counts = () => ({ created: 0, updated: 0, unchanged: 0 });
    const report: CatalogImportReport = {
      providers: counts(),
      models: { ...counts(), skipped_deleted: 0 },
      endpoints: { ...counts(), skipped_deleted: 0 },
      overrides_kept: 0,
      kinds_without_adapter: [
        ...new Set(file.providers.map((p) => p.kind).filter((k) => !adapterFor(k))),
      ].sort(),
    };
    const touched = new Set<string>();

    /** One row's import: its new values, or null when nothing about it changes. */
    const merge = <E extends { overrides: string[]; imported: Record<string, unknown> | null }>(
      fields: readonly string[],
      cur: E | undefined,
      curValues: FieldValues | null,
      incoming: FieldValues,
      tally: { created: number; updated: number; unchanged: number },
    ): Record<string, unknown> | null => {
      const r = mergeImport(fields, curValues, cur?.overrides ?? [], incoming);
      report.overrides_kept += r.kept.length;
      if (!cur) tally.created++;
      else if (r.changed.length > 0) tally.updated++;
      else tally.unchanged++;
      return !cur || r.changed.length > 0 || !same(cur.imported, incoming) ? r.values : null;
    };

    const providerRows: ProviderEntity[] = [];
    const kinds = new Map<string, string>();
    for (const p of file.providers) {
      const cur = this.providers.get(p.id);
      const incoming = providerValues(p);
      const values = merge(
        PROVIDER_FIELDS,
        cur,
        cur ? providerValuesOf(cur) : null,
        incoming,
        report.providers,
      );
      kinds.set(p.id, (values?.['kind'] as string | undefined) ?? cur?.kind ?? p.kind);
      if (values)
        providerRows.push({
          id: p.id,
          name: values['name'] as string,
          kind: values['kind'] as string,
          overrides: cur?.overrides ?? [],
          imported: { ...incoming },
        });
    }

    const modelRows: ModelEntity[] = [];
    const endpointRows: EndpointEntity[] = [];
    for (const m of file.models) {
      if (deleted.has(`model:${m.id}`)) {
        report.models.skipped_deleted++;
        report.endpoints.skipped_deleted += m.endpoints.length;
        continue;
      }
      const cur = this.models.get(m.id);
      const incoming = modelValues(m, m.created);
      const values = merge(
        MODEL_FIELDS,
        cur,
        cur ? modelValuesOf(cur) : null,
        incoming,
        report.models,
      );
      if (values) {
        modelRows.push({
          ...modelRow(m.id, values),
          overrides: cur?.overrides ?? [],
          imported: { ...incoming },
        });
        touched.add(m.id);
      }
      for (const e of m.endpoints) {
        const id = endpointIdOf(m.id, e.provider);
        if (deleted.has(`endpoint:${id}`)) {
          report.endpoints.skipped_deleted++;
          continue;
        }
        const curE = this.endpoints.get(id);
        const kind = kinds.get(e.provider) ?? this.providers.get(e.provider)?.kind ?? '';
        const incomingE = endpointValues(e, adapterFor(kind)?.capabilities.parameters ?? []);
        const valuesE = merge(
          ENDPOINT_FIELDS,
          curE,
          curE ? endpointValuesOf(curE) : null,
          incomingE,
          report.endpoints,
        );
        if (valuesE) {
          endpointRows.push({
            ...endpointRow(id, m.id, e.provider, valuesE),
            overrides: curE?.overrides ?? [],
            imported: { ...incomingE },
          });
          touched.add(m.id);
        }
      }
    }

    await this.db.transaction(async (tx) => {
      await upsertAll(tx.getRepository(ProviderEntity), providerRows);
      await upsertAll(tx.getRepository(ModelEntity), modelRows);
      await upsertAll(tx.getRepository(EndpointEntity), endpointRows);
      if (opts.fileHash)
        await tx
          .getRepository(SeedEntity)
          .save({ fileHash: opts.fileHash, filePath: this.config.catalogFile });
    });
    await this.reload();
    // A provider's new name or kind changes the entries of all its models.
    for (const p of providerRows)
      for (const e of this.endpoints.values()) if (e.providerId === p.id) touched.add(e.modelId);
    return { report, models: [...touched].sort() };
  }
}

async function upsertAll<E extends ObjectLiteral>(repo: Repository<E>, rows: E[]): Promise<void> {
  for (let i = 0; i < rows.length; i += UPSERT_CHUNK)
    await repo.upsert(rows.slice(i, i + UPSERT_CHUNK) as never, ['id']);
}

const decimal = (micros: number): string => formatMicros(micros).replace(/\.?0+$/, '') || '0';

function endpointView(
  e: EndpointEntity,
  routable: boolean,
  supportsPrefill: boolean,
  health: unknown,
): CatalogEndpointView {
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
    overrides: e.overrides,
    routable,
    supports_prefill: supportsPrefill,
    health,
  };
}
