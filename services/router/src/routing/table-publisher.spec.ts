import 'reflect-metadata';
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { describe, test } from 'node:test';
import { RoutingEntryV1, unknownHealth, type EndpointPricing } from '@turnpike/contracts';
import { adapterFor } from '@turnpike/providers';
import type { ProducerService, Readiness } from '@turnpike/service-kit';
import type { DataSource } from 'typeorm';
import { CatalogService } from '../catalog/catalog.service.js';
import {
  EndpointEntity,
  ModelEntity,
  ProviderEntity,
  SeedEntity,
} from '../catalog/catalog.entities.js';
import type { RouterConfig } from '../router.config.js';
import type { HealthMonitor } from './health-monitor.service.js';
import { TablePublisher } from './table-publisher.service.js';

const PRICING: EndpointPricing = {
  promptPerM: 1,
  completionPerM: 1,
  cachedReadPerM: 0,
  cacheWritePerM: 0,
  reasoningPerM: 0,
  perRequest: 0,
};

const provider = (id: string, kind: string): ProviderEntity =>
  Object.assign(new ProviderEntity(), { id, name: id, kind, overrides: [], imported: null });

const endpoint = (modelId: string, providerId: string): EndpointEntity =>
  Object.assign(new EndpointEntity(), {
    id: `${modelId}@${providerId}`,
    modelId,
    providerId,
    upstreamModel: 'up',
    pricing: PRICING,
    contextLength: 8192,
    maxOutputTokens: null,
    quantization: null,
    region: null,
    dataCollection: 'deny',
    supportedParameters: [],
    disabled: false,
    overrides: [],
    imported: null,
  });

/** A catalog loaded from these rows (the database is a stand-in: reads only). */
async function catalogOf(
  providers: ProviderEntity[],
  models: ModelEntity[],
  endpoints: EndpointEntity[],
): Promise<CatalogService> {
  const rows = new Map<unknown, unknown[]>([
    [ProviderEntity, providers],
    [ModelEntity, models],
    [EndpointEntity, endpoints],
  ]);
  const db = {
    getRepository: (entity: unknown) => ({
      find: async () => rows.get(entity) ?? [],
      // The catalog file counts as applied: the rows above are the catalog.
      findOneBy: async () => (entity === SeedEntity ? { fileHash: 'x' } : null),
    }),
  } as unknown as DataSource;
  const catalogFile = fileURLToPath(new URL('../../catalog/default.catalog.json', import.meta.url));
  const catalog = new CatalogService(db, { catalogFile } as RouterConfig);
  await catalog.load();
  return catalog;
}

describe('the routing table: which endpoints can continue a cut answer', () => {
  test("supportsPrefill is the endpoint's adapter's prefill capability, in the table and the admin view", async () => {
    const model = Object.assign(new ModelEntity(), {
      id: 't/m',
      name: 'M',
      description: '',
      created: 0,
      contextLength: 8192,
      inputModalities: ['text'],
      outputModalities: ['text'],
      overrides: [],
      imported: null,
    });
    const catalog = await catalogOf(
      [
        provider('claude-host', 'anthropic'),
        provider('oai', 'openai'),
        provider('gem', 'gemini'),
        provider('nowhere', 'no-such-kind'),
      ],
      [model],
      ['claude-host', 'oai', 'gem', 'nowhere'].map((p) => endpoint('t/m', p)),
    );
    // The capability as the adapters declare it (so the test means something).
    assert.equal(adapterFor('anthropic')?.capabilities.prefill, true);
    assert.equal(adapterFor('openai')?.capabilities.prefill, false);
    assert.equal(adapterFor('gemini')?.capabilities.prefill, false);

    const health = {
      onChange: () => undefined,
      health: () => unknownHealth(),
    } as unknown as HealthMonitor;
    const publisher = new TablePublisher(
      catalog,
      health,
      {} as ProducerService,
      { publishIntervalMs: 30_000 } as RouterConfig,
      { register: () => undefined } as unknown as Readiness,
    );
    const entry = RoutingEntryV1.parse(publisher.entry('t/m'));
    assert.deepEqual(
      Object.fromEntries(entry.endpoints.map((e) => [e.provider, e.supportsPrefill])),
      { 'claude-host': true, oai: false, gem: false },
      'only routable endpoints are published',
    );

    const view = catalog.view('t/m', () => null)!;
    assert.deepEqual(
      Object.fromEntries(view.endpoints.map((e) => [e.provider, [e.routable, e.supports_prefill]])),
      {
        'claude-host': [true, true],
        oai: [true, false],
        gem: [true, false],
        nowhere: [false, false],
      },
    );
  });

  test('an entry published before the field existed reads as not prefill-capable', () => {
    const entry = RoutingEntryV1.parse({
      v: 1,
      model: {
        id: 't/m',
        name: 'M',
        description: '',
        created: 0,
        contextLength: 1,
        inputModalities: [],
        outputModalities: [],
        supportedParameters: [],
        pricing: PRICING,
      },
      endpoints: [
        {
          id: 't/m@p',
          provider: 'p',
          upstreamModel: 'u',
          pricing: PRICING,
          contextLength: 1,
          maxOutputTokens: null,
          quantization: null,
          region: null,
          supportedParameters: [],
          dataCollection: 'deny',
          health: unknownHealth(),
        },
      ],
      updatedAt: 1,
    });
    assert.equal(entry.endpoints[0]!.supportsPrefill, false);
  });
});
