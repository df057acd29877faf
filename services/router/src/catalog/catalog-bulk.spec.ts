import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { CATALOG_BULK_MAX_ITEMS, CatalogBulkParams } from '@turnpike/contracts';
import { planBulk, providersNamed, upsertedEndpointCount } from './catalog-bulk.js';

const catalog = {
  providers: new Set(['sim']),
  models: new Set(['a/old', 'a/keep']),
  endpoints: new Set(['a/old@sim', 'a/keep@sim']),
};
const endpoint = (provider: string, extra: Record<string, unknown> = {}) => ({
  provider,
  upstream_model: 'u',
  pricing: { prompt: '1', completion: '2' },
  context_length: 1000,
  ...extra,
});
const doc = (d: Record<string, unknown>) => CatalogBulkParams.parse(d);

describe('planBulk', () => {
  test('a valid document: providers, models with endpoints, deletions; defaults applied', () => {
    const r = planBulk(
      doc({
        providers: [{ id: 'groq', name: 'Groq', kind: 'openai' }],
        models: [
          {
            id: 'meta/llama',
            name: 'Llama',
            context_length: 8000,
            endpoints: [endpoint('groq'), endpoint('sim')],
          },
          { id: 'a/two', name: 'Two', context_length: 100 },
        ],
        delete: {
          models: ['a/old', 'a/never-existed'],
          endpoints: [{ model: 'a/keep', provider: 'sim' }],
        },
      }),
      catalog,
    );
    assert.ok(r.ok);
    assert.equal(r.plan.models[0]!.endpoints![0]!.data_collection, 'deny');
    assert.deepEqual(r.plan.deleteModels, ['a/old'], 'deleting what does not exist is a no-op');
    assert.equal(upsertedEndpointCount(r.plan), 2);
    assert.deepEqual(providersNamed(r.plan), ['groq', 'sim']);
  });

  test('every error of the document at once, each with its path; nothing planned', () => {
    const r = planBulk(
      doc({
        providers: [
          { id: 'Bad Id', name: 'x', kind: 'openai' },
          { id: 'p2', name: 'P2', kind: 'openai' },
          { id: 'p2', name: 'again', kind: 'openai' },
        ],
        models: [
          {
            id: 'm/one',
            name: 'One',
            context_length: 10,
            endpoints: [endpoint('nowhere'), endpoint('p2')],
          },
          { id: 'm/one', name: 'Twice', context_length: 10 },
          { id: 'a/old', name: 'Also deleted', context_length: 10 },
          {
            id: 'm/dup',
            name: 'Dup',
            context_length: 10,
            endpoints: [endpoint('sim'), endpoint('sim')],
          },
          {
            id: 'm/price',
            name: 'Price',
            context_length: 10,
            endpoints: [endpoint('sim', { pricing: { prompt: 'free', completion: '1' } })],
          },
        ],
        delete: {
          models: ['a/old', 'not a model id'],
          endpoints: [{ model: 'm/dup', provider: 'sim' }],
        },
      }),
      catalog,
    );
    assert.ok(!r.ok);
    const paths = r.errors.map((e) => e.path).sort();
    assert.deepEqual(paths, [
      'delete.endpoints[0]',
      'delete.models[1]',
      'models[0].endpoints[0].provider',
      'models[1]',
      'models[2]',
      'models[3].endpoints[1]',
      'models[4].endpoints[0].pricing.prompt',
      'providers[0].id',
      'providers[2]',
    ]);
    assert.match(
      r.errors.find((e) => e.path === 'models[0].endpoints[0].provider')!.message,
      /neither in the catalog/,
    );
  });

  test('a provider of the same document may serve its endpoints', () => {
    const r = planBulk(
      doc({
        providers: [{ id: 'new-p', name: 'New', kind: 'openai' }],
        models: [{ id: 'm/x', name: 'X', context_length: 10, endpoints: [endpoint('new-p')] }],
      }),
      catalog,
    );
    assert.ok(r.ok);
  });

  test('size bounded: the shape refuses more than the maximum per list, and in all', () => {
    const many = Array.from({ length: CATALOG_BULK_MAX_ITEMS + 1 }, (_, i) => `a/m${i}`);
    assert.equal(CatalogBulkParams.safeParse({ delete: { models: many } }).success, false);
    const half = Math.ceil((CATALOG_BULK_MAX_ITEMS + 2) / 2);
    const r = planBulk(
      doc({
        delete: {
          models: many.slice(0, half),
          endpoints: many.slice(0, half).map((m) => ({ model: m, provider: 'sim' })),
        },
      }),
      catalog,
    );
    assert.ok(!r.ok);
    assert.match(r.errors[0]!.message, /at most/);
    assert.equal(
      CatalogBulkParams.safeParse({ nope: [] }).success,
      false,
      'unknown top-level keys',
    );
  });
});
