import type { CatalogEndpointInput } from '@turnpike/contracts';
import { bump, price, validId, type ImportReport, type Offer } from './common.js';
import {
  baseOf,
  concreteId,
  pricesOn,
  type GenaiPrices,
  type GenaiPricesDataset,
  type GenaiPricesModel,
} from './genai-prices.js';
import { canonicalId, idOf, quantizationOf } from './model-ids.js';
import { conservativeParameters } from './parameters.js';
import { SKIPPED_SOURCES, genaiPricesMappingsOf } from './providers.js';

/** One provider's genai-prices entry for a model, as an endpoint. */
export interface GenaiPricesOffer extends Offer {
  name: string | undefined;
  endpoint: CatalogEndpointInput;
  /** Where the next price tier starts (prompt tokens), when the prices are tiered. */
  tierAt: number | undefined;
  /** Prompt plus completion price: picks the cheapest of a provider's ids for one model. */
  blended: number;
}

/** Price units of models whose product is not text: audio, images, video, documents. */
const MEDIA_UNITS = [
  'output_audio_mtok',
  'output_image_mtok',
  'output_video_mtok',
  'audio_hours',
  'input_audio_hours',
  'input_document_kpages',
];

/** Ids of models that are not text chat models (embeddings, speech, OCR, images, ...). */
const NOT_CHAT =
  /embed|moderation|whisper|transcri|tts|realtime|ocr|rerank|image|audio|voice|sonic|live|lyria|computer-use/i;

/** Why a genai-prices entry is left out, or its upstream id and prices. */
function reading(
  provider: string,
  m: GenaiPricesModel,
  spelling: ((id: string) => string) | undefined,
  date: string,
): { why: string } | { upstream: string; prices: GenaiPrices } {
  if (m.deprecated) return { why: 'deprecated' };
  const upstream = concreteId(m, spelling);
  if (upstream === null) return { why: 'a rule for a family of ids, no id to call' };
  if (upstream.startsWith('~')) return { why: "openrouter's moving aliases (~author/...-latest)" };
  const bare = provider.startsWith('huggingface_') ? m.id : upstream;
  if (bare.includes(':') && provider !== 'aws') return { why: 'a variant (:free, ...)' };
  if (NOT_CHAT.test(m.id)) return { why: 'not a text chat model' };
  const resolved = pricesOn(m, date);
  if ('refused' in resolved) return { why: resolved.refused };
  const prices = resolved.prices;
  if (MEDIA_UNITS.some((u) => prices[u] !== undefined)) return { why: 'not a text chat model' };
  const input = baseOf(prices['input_mtok']).value ?? 0;
  const output = baseOf(prices['output_mtok']).value ?? 0;
  if (!(input > 0 && output > 0)) return { why: 'no list price' };
  if (!((m.context_window ?? 0) > 0)) return { why: 'no context window' };
  return { upstream, prices };
}

/**
 * The genai-prices entries of models the primary dataset does not describe (`known` holds its
 * model ids), as endpoint offers by canonical model id. Prices are the base tier of tiered ones
 * and, of a dated schedule, the one in force on `date`; entries whose prices depend on the time
 * of day, that have no context window, no token prices, or are not text chat models are left
 * out and counted in `report.skipped['genai-prices']`.
 */
export function genaiPricesOffers(
  dataset: GenaiPricesDataset,
  date: string,
  known: ReadonlySet<string>,
  report: ImportReport,
): Map<string, GenaiPricesOffer[]> {
  const skipped = report.skipped['genai-prices'];
  const byModel = new Map<string, GenaiPricesOffer[]>();
  for (const provider of [...dataset].sort((a, b) => a.id.localeCompare(b.id))) {
    const targets = genaiPricesMappingsOf(provider.id);
    if (targets.length === 0) {
      if (!Object.hasOwn(SKIPPED_SOURCES['genai-prices'], provider.id))
        report.unmappedProviders.push(`genai-prices: ${provider.id}`);
      continue;
    }
    for (const m of [...provider.models].sort((a, b) => a.id.localeCompare(b.id))) {
      const target = targets.find((t) => !t.source.only || t.source.only.test(m.id));
      if (!target) {
        bump(skipped, 'served by no catalog provider');
        continue;
      }
      const read = reading(provider.id, m, target.source.spelling, date);
      if ('why' in read) {
        bump(skipped, read.why);
        continue;
      }
      const { mapping } = target;
      const id = validId(canonicalId(mapping.id, read.upstream));
      if (!id) {
        bump(skipped, 'no model author');
        continue;
      }
      if (known.has(idOf(id))) {
        bump(skipped, 'described by models.dev (the primary dataset)');
        continue;
      }
      const p = read.prices;
      const input = baseOf(p['input_mtok']);
      const output = baseOf(p['output_mtok']);
      const tierAt = [input, output, baseOf(p['cache_read_mtok']), baseOf(p['cache_write_mtok'])]
        .flatMap((x) => (x.tierAt === undefined ? [] : [x.tierAt]))
        .sort((a, b) => a - b)[0];
      const reasoning = baseOf(p['output_reasoning_mtok']).value;
      const requestsPerThousand = baseOf(p['requests_kcount']).value;
      const offer: GenaiPricesOffer = {
        mapping,
        upstream: read.upstream,
        id,
        name: m.name,
        tierAt,
        blended: input.value! + output.value!,
        endpoint: {
          provider: mapping.id,
          upstream_model: read.upstream,
          pricing: {
            prompt: price(input.value),
            completion: price(output.value),
            cached_read: price(baseOf(p['cache_read_mtok']).value),
            cache_write: price(baseOf(p['cache_write_mtok']).value),
            ...(reasoning !== undefined ? { reasoning: price(reasoning) } : {}),
            request: price(
              requestsPerThousand === undefined ? undefined : requestsPerThousand / 1000,
            ),
          },
          context_length: m.context_window!,
          max_output_tokens: null,
          quantization: mapping.quantization?.(read.upstream) ?? quantizationOf(read.upstream),
          region: null,
          data_collection: 'deny',
          // A separate price for reasoning output is the dataset saying the model reasons.
          supported_parameters: conservativeParameters(mapping.kind, reasoning !== undefined),
          disabled: false,
        },
      };
      const list = byModel.get(idOf(id)) ?? [];
      list.push(offer);
      byModel.set(idOf(id), list);
    }
  }
  return new Map([...byModel].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}
