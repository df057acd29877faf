import { readFileSync } from 'node:fs';
import { z } from 'zod';

const Decimal = z.string().regex(/^\d+(\.\d{1,6})?$/, 'a decimal price in currency per million tokens');

export const CatalogFileEndpoint = z.object({
  provider: z.string().min(1),
  upstream_model: z.string().min(1),
  pricing: z.object({
    prompt: Decimal,
    completion: Decimal,
    cached_read: Decimal.default('0'),
    cache_write: Decimal.default('0'),
    reasoning: Decimal.optional(),
    /** Currency per request, e.g. "0.0002". */
    request: Decimal.default('0'),
  }),
  context_length: z.number().int().positive(),
  max_output_tokens: z.number().int().positive().nullable().default(null),
  quantization: z.string().nullable().default(null),
  region: z.string().nullable().default(null),
  data_collection: z.enum(['allow', 'deny']).default('deny'),
  supported_parameters: z.array(z.string()).optional(),
});

export const CatalogFile = z.object({
  version: z.literal(1),
  description: z.string().optional(),
  providers: z.array(z.object({ id: z.string().min(1), name: z.string().min(1), kind: z.string().min(1) })),
  models: z.array(
    z.object({
      id: z.string().regex(/^[a-z0-9][a-z0-9._-]*\/[a-zA-Z0-9][a-zA-Z0-9._-]*$/),
      name: z.string().min(1),
      description: z.string().default(''),
      created: z.number().int().nonnegative(),
      context_length: z.number().int().positive(),
      input_modalities: z.array(z.string()).min(1),
      output_modalities: z.array(z.string()).min(1),
      endpoints: z.array(CatalogFileEndpoint).min(1),
    }),
  ),
});
export type CatalogFile = z.infer<typeof CatalogFile>;

/** Reads and validates a versioned catalog file; every endpoint's provider must be declared. */
export function readCatalogFile(path: string): CatalogFile {
  const parsed = CatalogFile.safeParse(JSON.parse(readFileSync(path, 'utf8')));
  if (!parsed.success) throw new Error(`invalid catalog ${path}: ${z.prettifyError(parsed.error)}`);
  const providers = new Set(parsed.data.providers.map((p) => p.id));
  for (const m of parsed.data.models) {
    for (const e of m.endpoints) {
      if (!providers.has(e.provider)) throw new Error(`catalog ${path}: ${m.id} names unknown provider ${e.provider}`);
    }
  }
  return parsed.data;
}
