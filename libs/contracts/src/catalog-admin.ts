import { z } from 'zod';

/**
 * The catalog as operators write it: the versioned catalog file the router is seeded from, and
 * the admin API (`/admin/catalog/...` on the gateway, answered by `router` over `rpc.router.v1`).
 * Snake case, prices as decimal strings of currency per million tokens (per request for
 * `request`), like OpenRouter's catalog.
 *
 * Every input is bounded: objects are strict (an unknown field is refused, so a typo such as
 * `contxt_length` is not silently ignored), strings have a length and a shape, numbers a sane
 * range (and one that Postgres' `integer` columns and safe-integer micro-units hold).
 */

/**
 * The provider kinds (wire protocols) the connector implements: a catalog provider, and a
 * connector provider account, names one of them. `libs/providers`' registry implements exactly
 * these (its unit test checks it); a new adapter adds its kind here.
 */
export const PROVIDER_KINDS = [
  'openai',
  'openai-compatible',
  'anthropic',
  'gemini',
  'vertex',
  'bedrock',
  'azure',
  'mistral',
  'cohere',
  'groq',
  'together',
  'fireworks',
  'deepseek',
  'xai',
  'perplexity',
  'cerebras',
  'openrouter',
  'vllm',
  'ollama',
  'lmstudio',
] as const;
export type ProviderKind = (typeof PROVIDER_KINDS)[number];
export const ProviderKind = z.enum(PROVIDER_KINDS, {
  error: `expected one of the provider kinds the connector implements: ${PROVIDER_KINDS.join(', ')}`,
});

/** The largest context window (and output limit) an endpoint or model may declare, in tokens. */
export const MAX_CONTEXT_LENGTH = 100_000_000;

/** Prices up to 9,999,999.999999 (so micro-units per million tokens stay safe integers). */
const Decimal = z
  .string()
  .regex(
    /^\d{1,7}(\.\d{1,6})?$/,
    'a decimal price in currency per million tokens (at most 7 digits and 6 decimals)',
  );

const TokenCount = z.number().int().positive().max(MAX_CONTEXT_LENGTH);

/** A short lowercase name: a parameter, a modality, a quantization. */
const Slug = z
  .string()
  .regex(/^[a-z0-9][a-z0-9_.-]{0,63}$/, 'a short name (lowercase letters, digits, _ . -)');

export const ProviderId = z
  .string()
  .regex(/^[a-z0-9][a-z0-9._-]{0,63}$/, 'a provider slug (lowercase letters, digits, . _ -)');

/** `author/slug`; no `:` (model suffixes such as `:floor` and `:nitro` are routing variants). */
export const ModelId = z
  .string()
  .max(200)
  .regex(/^[a-z0-9][a-z0-9._-]*\/[a-zA-Z0-9][a-zA-Z0-9._-]*$/, 'a model id author/slug');

export const CatalogProviderInput = z.strictObject({
  id: ProviderId,
  name: z.string().min(1).max(200),
  /** The adapter the connector uses for it. */
  kind: ProviderKind,
});
export type CatalogProviderInput = z.infer<typeof CatalogProviderInput>;

export const CatalogEndpointInput = z.strictObject({
  provider: ProviderId,
  upstream_model: z.string().min(1).max(256),
  pricing: z.strictObject({
    prompt: Decimal,
    completion: Decimal,
    cached_read: Decimal.default('0'),
    cache_write: Decimal.default('0'),
    reasoning: Decimal.optional(),
    /** Currency per request, e.g. "0.0002". */
    request: Decimal.default('0'),
  }),
  context_length: TokenCount,
  max_output_tokens: TokenCount.nullable().default(null),
  quantization: Slug.nullable().default(null),
  region: z.string().min(1).max(64).nullable().default(null),
  data_collection: z.enum(['allow', 'deny']).default('deny'),
  supported_parameters: z.array(Slug).max(128).optional(),
  /** A disabled endpoint stays in the catalog but is not routed to. */
  disabled: z.boolean().default(false),
});
export type CatalogEndpointInput = z.infer<typeof CatalogEndpointInput>;

const Modalities = z.array(Slug).min(1).max(16);

export const CatalogModelInput = z.strictObject({
  id: ModelId,
  name: z.string().min(1).max(200),
  description: z.string().max(10_000).default(''),
  /** Unix seconds, up to the end of year 9999. */
  created: z.number().int().nonnegative().max(253_402_300_799).optional(),
  context_length: TokenCount,
  input_modalities: Modalities.default(['text']),
  output_modalities: Modalities.default(['text']),
});
export type CatalogModelInput = z.infer<typeof CatalogModelInput>;

/** RPC methods `router` answers on `rpc.router.v1`, with their params. */
export const CATALOG_RPC = {
  listProviders: 'catalog.providers.list',
  /** The providers routed to, with their endpoints' policies (`GET /v1/providers`). */
  publicProviders: 'catalog.providers.public',
  upsertProvider: 'catalog.providers.upsert',
  listModels: 'catalog.models.list',
  getModel: 'catalog.models.get',
  upsertModel: 'catalog.models.upsert',
  deleteModel: 'catalog.models.delete',
  upsertEndpoint: 'catalog.endpoints.upsert',
  setEndpointDisabled: 'catalog.endpoints.disable',
  deleteEndpoint: 'catalog.endpoints.delete',
  /** Applies a whole catalog document as an import (operator overrides survive it). */
  importCatalog: 'catalog.import',
  bulk: 'catalog.bulk',
} as const;

export const ModelRefParams = z.object({ model: ModelId });
export const UpsertEndpointParams = z.object({ model: ModelId, endpoint: CatalogEndpointInput });
export const EndpointRefParams = z.object({ model: ModelId, provider: ProviderId });
export const SetEndpointDisabledParams = EndpointRefParams.extend({ disabled: z.boolean() });

/**
 * `GET /admin/catalog/models` pages, as `GET /v1/models` does (`offset`, `limit`,
 * `links.next`, `total_count`): a page holds at most `limit` models (100 by default, 500 at
 * most) and, whatever the limit, stops before its models' views reach
 * {@link ADMIN_MODELS_PAGE_BYTES} of JSON, so a reply always fits its RPC topic (1 MiB): the next
 * page starts where it stopped.
 */
export const ADMIN_MODELS_DEFAULT_LIMIT = 100;
export const ADMIN_MODELS_MAX_LIMIT = 500;
export const ADMIN_MODELS_PAGE_BYTES = 512 * 1024;
export const ListModelsParams = z.object({
  offset: z.number().int().min(0).max(1_000_000_000).default(0),
  limit: z.number().int().min(1).max(ADMIN_MODELS_MAX_LIMIT).default(ADMIN_MODELS_DEFAULT_LIMIT),
});
export type ListModelsParams = z.infer<typeof ListModelsParams>;

/** One page of the admin model list, as `router` answers it. */
export interface CatalogModelPage {
  data: CatalogModelView[];
  /** Models in the catalog, all pages together. */
  total_count: number;
  /** Where the next page starts; null on the last. */
  next_offset: number | null;
}

/** What the admin API answers for one endpoint: its catalog row, and its live health. */
export interface CatalogEndpointView {
  id: string;
  model_id: string;
  provider: string;
  upstream_model: string;
  /** Decimal strings, as written. */
  pricing: Record<string, string>;
  context_length: number;
  max_output_tokens: number | null;
  quantization: string | null;
  region: string | null;
  data_collection: 'allow' | 'deny';
  supported_parameters: string[];
  disabled: boolean;
  /**
   * Fields the operator set through this API (`pricing.prompt`, `disabled`, ...): an import
   * leaves them as they are.
   */
  overrides: string[];
  /** False while the provider's kind has no adapter: imported, but not routed to. */
  routable: boolean;
  /**
   * The provider kind's adapter continues a trailing assistant message (prefill), so the
   * endpoint can carry on an answer cut mid-stream (false when not routable).
   */
  supports_prefill: boolean;
  health: unknown;
}

export interface CatalogModelView {
  id: string;
  name: string;
  description: string;
  created: number;
  context_length: number;
  input_modalities: string[];
  output_modalities: string[];
  overrides: string[];
  endpoints: CatalogEndpointView[];
}

/**
 * A provider that serves at least one enabled, routable endpoint, with what its endpoints
 * declare (`GET /v1/providers`): data collection, quantizations, regions, and the policy links
 * the catalog has (none today: null).
 */
export interface ProviderPolicyView {
  id: string;
  name: string;
  kind: string;
  /** Enabled, routable endpoints, and the models they serve. */
  endpoints: number;
  models: number;
  /** Distinct values over those endpoints, sorted. */
  data_collection: Array<'allow' | 'deny'>;
  quantizations: string[];
  regions: string[];
  privacy_policy_url: string | null;
  terms_of_service_url: string | null;
  status_page_url: string | null;
}

export interface CatalogProviderView {
  id: string;
  name: string;
  kind: string;
  overrides: string[];
  /** The kind has an adapter in this build (otherwise its endpoints are not routed to). */
  adapter: boolean;
}

// --- bulk changes (`POST /admin/catalog/bulk`) ------------------------------------------------

/** Most providers, models, endpoints and deletions one bulk call may carry, all together. */
export const CATALOG_BULK_MAX_ITEMS = 2000;

/** A model of a bulk document, with the endpoints to upsert for it. */
export const CatalogBulkModel = CatalogModelInput.extend({
  endpoints: z.array(CatalogEndpointInput).max(64).optional(),
});
export type CatalogBulkModel = z.infer<typeof CatalogBulkModel>;

/**
 * A bulk document: its shape only. Every item is validated by the router on its own, so that
 * all of the document's errors are answered at once, each with its path.
 */
export const CatalogBulkParams = z
  .object({
    providers: z.array(z.unknown()).max(CATALOG_BULK_MAX_ITEMS).default([]),
    models: z.array(z.unknown()).max(CATALOG_BULK_MAX_ITEMS).default([]),
    delete: z
      .object({
        models: z.array(z.unknown()).max(CATALOG_BULK_MAX_ITEMS).default([]),
        endpoints: z.array(z.unknown()).max(CATALOG_BULK_MAX_ITEMS).default([]),
      })
      .strict()
      .default({ models: [], endpoints: [] }),
    /** Validate and count, change nothing. */
    dry_run: z.boolean().default(false),
  })
  .strict();
export type CatalogBulkParams = z.infer<typeof CatalogBulkParams>;

export interface CatalogBulkItemError {
  /** Where in the document, e.g. `models[3].endpoints[0].pricing.prompt`. */
  path: string;
  message: string;
}

export interface CatalogBulkResult {
  /** False when the document had errors (then nothing was changed) or for a dry run. */
  applied: boolean;
  dry_run: boolean;
  counts: {
    providers_upserted: number;
    models_upserted: number;
    endpoints_upserted: number;
    models_deleted: number;
    endpoints_deleted: number;
  };
  errors: CatalogBulkItemError[];
  /** Every provider the document names (for the gateway's account check). */
  providers: string[];
}
