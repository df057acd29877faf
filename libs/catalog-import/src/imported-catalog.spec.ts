/**
 * The committed catalog against the pinned datasets: the file is exactly what
 * `npm run catalog:import` produces (regenerate it when a dataset or the importer changes),
 * and each dataset's every provider is in the mapping table or skipped with a reason.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { CatalogFile, PROVIDER_KINDS } from '@turnpike/contracts';
import { buildCatalog } from './build.js';
import {
  GENAI_PRICES_AS_OF,
  GENAI_PRICES_PACKAGE,
  MODELS_DEV_PACKAGE,
  loadPinnedDatasets,
} from './dataset.js';
import { isAccountedFor } from './providers.js';
import { renderCatalog } from './render.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '../../..');
const committedPath = join(root, 'services/router/catalog/imported.catalog.json');
const pkg = JSON.parse(readFileSync(join(root, 'libs/catalog-import/package.json'), 'utf8')) as {
  dependencies: Record<string, string>;
};
const pinned = loadPinnedDatasets();

test('the datasets are pinned to exact versions, and those versions are installed', async () => {
  const { sources } = await pinned;
  for (const [name, source] of [
    [MODELS_DEV_PACKAGE, sources.modelsDev],
    [GENAI_PRICES_PACKAGE, sources.genaiPrices],
  ] as const) {
    assert.match(pkg.dependencies[name] ?? '', /^\d+\.\d+\.\d+$/, name);
    assert.equal(source.version, pkg.dependencies[name], name);
  }
  // Dated prices are read on the pinned version's day, named beside it.
  assert.equal(GENAI_PRICES_AS_OF.version, pkg.dependencies[GENAI_PRICES_PACKAGE]);
  assert.equal(sources.genaiPrices.pricesOn, GENAI_PRICES_AS_OF.date);
});

test('the committed imported catalog is what `npm run catalog:import` makes of the pinned datasets', async () => {
  const { datasets, sources } = await pinned;
  const fresh = renderCatalog(buildCatalog(datasets, sources).catalog);
  const committed = readFileSync(committedPath, 'utf8');
  assert.ok(
    committed === fresh,
    'services/router/catalog/imported.catalog.json drifted: run `npm run catalog:import`',
  );
});

test('every provider of each dataset is mapped or skipped with a reason', async () => {
  const { datasets } = await pinned;
  for (const id of Object.keys(datasets.modelsDev))
    assert.ok(isAccountedFor('models.dev', id), `models.dev provider ${id}`);
  for (const p of datasets.genaiPrices)
    assert.ok(isAccountedFor('genai-prices', p.id), `genai-prices provider ${p.id}`);
  const { report } = buildCatalog(datasets, (await pinned).sources);
  assert.deepEqual(report.unmappedProviders, []);
});

test('the imported catalog: a valid document of hundreds of routable models from many providers', () => {
  const doc = CatalogFile.parse(JSON.parse(readFileSync(committedPath, 'utf8')));
  const kindOf = new Map(doc.providers.map((p) => [p.id, p.kind]));
  // The kinds with an adapter (`libs/providers` implements exactly these; its test checks it).
  const kinds: ReadonlySet<string> = new Set(PROVIDER_KINDS);
  const routable = (provider: string) => kinds.has(kindOf.get(provider) ?? '');
  const endpoints = doc.models.flatMap((m) => m.endpoints);
  const routed = doc.models.filter((m) => m.endpoints.some((e) => routable(e.provider)));
  assert.ok(routed.length >= 400, `${routed.length} routable models`);
  assert.ok(endpoints.length >= 700, `${endpoints.length} endpoints`);
  const routedProviders = new Set(
    routed.flatMap((m) => m.endpoints.map((e) => e.provider)).filter(routable),
  );
  assert.ok(routedProviders.size >= 15, `${routedProviders.size} providers routed to`);
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

test('models only genai-prices describes are text chat models that advertise no tools', () => {
  const doc = CatalogFile.parse(JSON.parse(readFileSync(committedPath, 'utf8')));
  const secondary = doc.models.filter((m) => m.description.includes('from genai-prices'));
  assert.ok(secondary.length >= 150, `${secondary.length} models from genai-prices`);
  for (const m of secondary) {
    assert.deepEqual([m.input_modalities, m.output_modalities], [['text'], ['text']], m.id);
    for (const e of m.endpoints)
      for (const p of ['tools', 'tool_choice', 'response_format', 'structured_outputs'])
        assert.ok(!e.supported_parameters?.includes(p), `${m.id}@${e.provider} ${p}`);
  }
});
