import { Injectable, Logger, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { DataSource } from 'typeorm';
import { TOPICS, type RoutingEntryV1 } from '@turnpike/contracts';
import { encode } from '@turnpike/kafka';
import { perMillionFromDecimal } from '@turnpike/pricing';
import { adapterFor } from '@turnpike/providers';
import { ProducerService, Readiness } from '@turnpike/service-kit';
import { RouterConfig } from '../router.config.js';
import { readCatalogFile, type CatalogFile } from './catalog-file.js';
import { EndpointEntity, ModelEntity, ProviderEntity } from './catalog.entities.js';

/**
 * Owns the catalog (schema `catalog`): seeds it from the versioned catalog file at boot, and
 * publishes every model with its endpoints and their health on the compacted
 * `routing.table.v1` topic, which the gateways route from.
 */
@Injectable()
export class CatalogService implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly log = new Logger(CatalogService.name);
  private timer: NodeJS.Timeout | null = null;
  private published = false;

  constructor(
    @InjectDataSource() private readonly db: DataSource,
    private readonly producer: ProducerService,
    private readonly config: RouterConfig,
    readiness: Readiness,
  ) {
    readiness.register('routing-table', () => this.published || 'publishing');
  }

  async onApplicationBootstrap(): Promise<void> {
    const file = readCatalogFile(this.config.catalogFile);
    await this.seed(file);
    await this.publish();
    this.published = true;
    this.timer = setInterval(() => {
      this.publish().catch((e: unknown) => this.log.error(`publish failed: ${(e as Error).message}`));
    }, this.config.publishIntervalMs);
    this.timer.unref();
  }

  onApplicationShutdown(): void {
    if (this.timer) clearInterval(this.timer);
  }

  /** Upserts the file's providers, models and endpoints in one transaction. */
  async seed(file: CatalogFile): Promise<void> {
    await this.db.transaction(async (tx) => {
      await tx.getRepository(ProviderEntity).save(file.providers.map((p) => ({ ...p })));
      const kinds = new Map(file.providers.map((p) => [p.id, p.kind]));
      for (const m of file.models) {
        await tx.getRepository(ModelEntity).save({
          id: m.id,
          name: m.name,
          description: m.description,
          created: m.created,
          contextLength: m.context_length,
          inputModalities: m.input_modalities,
          outputModalities: m.output_modalities,
        });
        await tx.getRepository(EndpointEntity).save(
          m.endpoints.map((e) => ({
            id: `${m.id}@${e.provider}`,
            modelId: m.id,
            providerId: e.provider,
            upstreamModel: e.upstream_model,
            pricing: {
              promptPerM: perMillionFromDecimal(e.pricing.prompt),
              completionPerM: perMillionFromDecimal(e.pricing.completion),
              cachedReadPerM: perMillionFromDecimal(e.pricing.cached_read),
              cacheWritePerM: perMillionFromDecimal(e.pricing.cache_write),
              reasoningPerM: perMillionFromDecimal(e.pricing.reasoning ?? e.pricing.completion),
              // Per request: currency -> micro-units.
              perRequest: perMillionFromDecimal(e.pricing.request),
            },
            contextLength: e.context_length,
            maxOutputTokens: e.max_output_tokens,
            quantization: e.quantization,
            region: e.region,
            dataCollection: e.data_collection,
            supportedParameters: e.supported_parameters ?? [...(adapterFor(kinds.get(e.provider) ?? '')?.capabilities.parameters ?? [])],
          })),
        );
      }
    });
    this.log.log(`catalog seeded from ${this.config.catalogFile}: ${file.models.length} models`);
  }

  /** The routing table, built from the catalog tables. */
  async entries(): Promise<RoutingEntryV1[]> {
    const models = await this.db.getRepository(ModelEntity).find({ order: { id: 'ASC' } });
    const endpoints = await this.db.getRepository(EndpointEntity).find({ order: { id: 'ASC' } });
    const now = Date.now();
    return models.map((m) => {
      const eps = endpoints.filter((e) => e.modelId === m.id);
      const cheapest = [...eps].sort((a, b) => a.pricing.promptPerM + a.pricing.completionPerM - (b.pricing.promptPerM + b.pricing.completionPerM))[0];
      return {
        v: 1 as const,
        model: {
          id: m.id,
          name: m.name,
          description: m.description,
          created: m.created,
          contextLength: m.contextLength,
          inputModalities: m.inputModalities,
          outputModalities: m.outputModalities,
          supportedParameters: [...new Set(eps.flatMap((e) => e.supportedParameters))].sort(),
          pricing: cheapest?.pricing ?? { promptPerM: 0, completionPerM: 0, cachedReadPerM: 0, cacheWritePerM: 0, reasoningPerM: 0, perRequest: 0 },
        },
        endpoints: eps.map((e) => ({
          id: e.id,
          provider: e.providerId,
          upstreamModel: e.upstreamModel,
          pricing: e.pricing,
          contextLength: e.contextLength,
          maxOutputTokens: e.maxOutputTokens,
          quantization: e.quantization,
          region: e.region,
          supportedParameters: e.supportedParameters,
          dataCollection: e.dataCollection,
          health: { circuit: 'closed' as const, errorRate: 0, latencyMsEwma: null, ttftMsEwma: null, tokensPerSecondEwma: null },
        })),
        updatedAt: now,
      };
    });
  }

  async publish(): Promise<void> {
    const entries = await this.entries();
    await Promise.all(
      entries.map((e) => this.producer.send(TOPICS.routingTable, encode(TOPICS.routingTable, e.model.id, e))),
    );
  }
}
