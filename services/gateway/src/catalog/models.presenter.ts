import type { CatalogModel, EndpointPricing, RoutingEntryV1 } from '@turnpike/contracts';
import { perTokenDecimal } from '@turnpike/pricing';

/** OpenRouter's `pricing` object: decimal strings of currency per token (or per request). */
export function presentPricing(p: EndpointPricing): Record<string, string> {
  return {
    prompt: perTokenDecimal(p.promptPerM),
    completion: perTokenDecimal(p.completionPerM),
    request: perTokenDecimal(p.perRequest * 1_000_000),
    image: '0',
    web_search: '0',
    internal_reasoning: perTokenDecimal(p.reasoningPerM),
    input_cache_read: perTokenDecimal(p.cachedReadPerM),
    input_cache_write: perTokenDecimal(p.cacheWritePerM),
  };
}

const modality = (m: CatalogModel) =>
  `${m.inputModalities.join('+')}->${m.outputModalities.join('+')}`;

/**
 * One entry of `GET /v1/models`: OpenRouter's model shape, plus OpenAI's `object` and
 * `owned_by` so that OpenAI SDKs' `models.list()` reads it too.
 */
export function presentModel(entry: RoutingEntryV1): Record<string, unknown> {
  const m = entry.model;
  const top = [...entry.endpoints].sort((a, b) => b.contextLength - a.contextLength)[0];
  return {
    id: m.id,
    object: 'model',
    created: m.created,
    owned_by: m.id.split('/')[0],
    canonical_slug: m.id,
    name: m.name,
    description: m.description,
    context_length: m.contextLength,
    architecture: {
      modality: modality(m),
      input_modalities: m.inputModalities,
      output_modalities: m.outputModalities,
      tokenizer: 'Other',
      instruct_type: null,
    },
    pricing: presentPricing(m.pricing),
    top_provider: {
      context_length: top?.contextLength ?? m.contextLength,
      max_completion_tokens: top?.maxOutputTokens ?? null,
      is_moderated: false,
    },
    per_request_limits: null,
    supported_parameters: m.supportedParameters,
  };
}
