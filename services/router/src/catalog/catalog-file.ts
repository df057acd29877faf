import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { CatalogEndpointInput, CatalogModelInput, CatalogProviderInput } from '@turnpike/contracts';

export const CatalogFileEndpoint = CatalogEndpointInput;

export const CatalogFile = z.object({
  version: z.literal(1),
  description: z.string().optional(),
  providers: z.array(CatalogProviderInput),
  models: z.array(
    CatalogModelInput.extend({
      created: z.number().int().nonnegative(),
      endpoints: z.array(CatalogEndpointInput).min(1),
    }),
  ),
});
export type CatalogFile = z.infer<typeof CatalogFile>;

/** Reads and validates a versioned catalog file; every endpoint's provider must be declared. */
export function readCatalogFile(path: string): { file: CatalogFile; text: string } {
  const text = readFileSync(path, 'utf8');
  const parsed = CatalogFile.safeParse(JSON.parse(text));
  if (!parsed.success) throw new Error(`invalid catalog ${path}: ${z.prettifyError(parsed.error)}`);
  const providers = new Set(parsed.data.providers.map((p) => p.id));
  for (const m of parsed.data.models) {
    for (const e of m.endpoints) {
      if (!providers.has(e.provider))
        throw new Error(`catalog ${path}: ${m.id} names unknown provider ${e.provider}`);
    }
  }
  return { file: parsed.data, text };
}
