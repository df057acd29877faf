/**
 * Catalog rows ↔ field values (`overrides.ts`): what the admin API and an import write, in the
 * form the rows hold (prices in micro-units, so "0.60" and "0.6" are one value).
 */
import type { CatalogEndpointInput, CatalogModelInput, EndpointPricing } from '@turnpike/contracts';
import { perMillionFromDecimal } from '@turnpike/pricing';
import type { EndpointEntity, ModelEntity, ProviderEntity } from './catalog.entities.js';
import type { FieldValues } from './overrides.js';

export function providerValues(p: { name: string; kind: string }): FieldValues {
  return { name: p.name, kind: p.kind };
}

export const providerValuesOf = (p: ProviderEntity): FieldValues => providerValues(p);

export function modelValues(m: CatalogModelInput, created: number): FieldValues {
  return {
    name: m.name,
    description: m.description,
    created,
    context_length: m.context_length,
    input_modalities: m.input_modalities,
    output_modalities: m.output_modalities,
  };
}

export function modelValuesOf(m: ModelEntity): FieldValues {
  return {
    name: m.name,
    description: m.description,
    created: m.created,
    context_length: m.contextLength,
    input_modalities: m.inputModalities,
    output_modalities: m.outputModalities,
  };
}

export function modelRow(id: string, v: FieldValues): Omit<ModelEntity, 'overrides' | 'imported'> {
  return {
    id,
    name: v['name'] as string,
    description: v['description'] as string,
    created: v['created'] as number,
    contextLength: v['context_length'] as number,
    inputModalities: v['input_modalities'] as string[],
    outputModalities: v['output_modalities'] as string[],
  };
}

/** `defaultParameters`: the adapter's, for an endpoint that declares none. */
export function endpointValues(e: CatalogEndpointInput, defaultParameters: readonly string[]) {
  const p = e.pricing;
  return {
    upstream_model: e.upstream_model,
    'pricing.prompt': perMillionFromDecimal(p.prompt),
    'pricing.completion': perMillionFromDecimal(p.completion),
    'pricing.cached_read': perMillionFromDecimal(p.cached_read),
    'pricing.cache_write': perMillionFromDecimal(p.cache_write),
    'pricing.reasoning': perMillionFromDecimal(p.reasoning ?? p.completion),
    // Per request: currency -> micro-units.
    'pricing.request': perMillionFromDecimal(p.request),
    context_length: e.context_length,
    max_output_tokens: e.max_output_tokens,
    quantization: e.quantization,
    region: e.region,
    data_collection: e.data_collection,
    supported_parameters: [...(e.supported_parameters ?? defaultParameters)].sort(),
    disabled: e.disabled,
  } satisfies FieldValues;
}

export function endpointValuesOf(e: EndpointEntity): FieldValues {
  return {
    upstream_model: e.upstreamModel,
    'pricing.prompt': e.pricing.promptPerM,
    'pricing.completion': e.pricing.completionPerM,
    'pricing.cached_read': e.pricing.cachedReadPerM,
    'pricing.cache_write': e.pricing.cacheWritePerM,
    'pricing.reasoning': e.pricing.reasoningPerM,
    'pricing.request': e.pricing.perRequest,
    context_length: e.contextLength,
    max_output_tokens: e.maxOutputTokens,
    quantization: e.quantization,
    region: e.region,
    data_collection: e.dataCollection,
    supported_parameters: e.supportedParameters,
    disabled: e.disabled,
  };
}

export function endpointRow(
  id: string,
  modelId: string,
  providerId: string,
  v: FieldValues,
): Omit<EndpointEntity, 'overrides' | 'imported'> {
  const pricing: EndpointPricing = {
    promptPerM: v['pricing.prompt'] as number,
    completionPerM: v['pricing.completion'] as number,
    cachedReadPerM: v['pricing.cached_read'] as number,
    cacheWritePerM: v['pricing.cache_write'] as number,
    reasoningPerM: v['pricing.reasoning'] as number,
    perRequest: v['pricing.request'] as number,
  };
  return {
    id,
    modelId,
    providerId,
    upstreamModel: v['upstream_model'] as string,
    pricing,
    contextLength: v['context_length'] as number,
    maxOutputTokens: v['max_output_tokens'] as number | null,
    quantization: v['quantization'] as string | null,
    region: v['region'] as string | null,
    dataCollection: v['data_collection'] as 'allow' | 'deny',
    supportedParameters: v['supported_parameters'] as string[],
    disabled: v['disabled'] as boolean,
  };
}
