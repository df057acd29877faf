import { z } from 'zod';
import { Count, EndpointPricing, Millis } from './common.js';

export const CircuitState = z.enum(['closed', 'open', 'half_open']);
export type CircuitState = z.infer<typeof CircuitState>;

/** Live health of one endpoint, as the router last computed it. */
export const EndpointHealth = z.object({
  circuit: CircuitState,
  errorRate: z.number().min(0).max(1),
  latencyMsEwma: Millis.nullable(),
  ttftMsEwma: Millis.nullable(),
  tokensPerSecondEwma: z.number().nonnegative().nullable(),
});
export type EndpointHealth = z.infer<typeof EndpointHealth>;

export const CatalogEndpoint = z.object({
  id: z.string().min(1),
  provider: z.string().min(1),
  upstreamModel: z.string().min(1),
  pricing: EndpointPricing,
  contextLength: Count,
  maxOutputTokens: Count.nullable(),
  quantization: z.string().nullable(),
  region: z.string().nullable(),
  supportedParameters: z.array(z.string()),
  dataCollection: z.enum(['allow', 'deny']),
  health: EndpointHealth,
});
export type CatalogEndpoint = z.infer<typeof CatalogEndpoint>;

export const CatalogModel = z.object({
  /** `author/slug` */
  id: z.string().regex(/^[a-z0-9][a-z0-9._-]*\/[a-zA-Z0-9][a-zA-Z0-9._:-]*$/),
  name: z.string().min(1),
  description: z.string(),
  created: z.number().int().nonnegative(),
  contextLength: Count,
  inputModalities: z.array(z.string()),
  outputModalities: z.array(z.string()),
  supportedParameters: z.array(z.string()),
  /** The model's default (cheapest endpoint) pricing. */
  pricing: EndpointPricing,
});
export type CatalogModel = z.infer<typeof CatalogModel>;

/**
 * `routing.table.v1` (compacted, key = model id): the model and its endpoints with their live
 * health. A null value (tombstone) removes the model. The gateway routes from this, in memory.
 */
export const RoutingEntryV1 = z.object({
  v: z.literal(1),
  model: CatalogModel,
  endpoints: z.array(CatalogEndpoint),
  updatedAt: z.number().int().positive(),
});
export type RoutingEntryV1 = z.infer<typeof RoutingEntryV1>;
