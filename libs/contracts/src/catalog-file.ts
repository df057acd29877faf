import { z } from 'zod';
import { CatalogEndpointInput, CatalogModelInput, CatalogProviderInput } from './catalog-admin.js';

/**
 * A whole catalog document: the versioned catalog file the router imports at boot when its
 * content changes (`services/router/catalog/*.catalog.json`), and the body of
 * `POST /admin/catalog/import`. An import updates what the operator has not overridden through
 * the admin API and never brings back what the operator deleted.
 */

/**
 * A provider of a catalog document. Its `kind` may name an adapter this build does not have yet
 * (an imported dataset names every provider kind): such a provider and its endpoints are kept,
 * flagged, and not routed to until the adapter lands.
 */
export const CatalogFileProvider = CatalogProviderInput.extend({
  kind: z
    .string()
    .regex(/^[a-z0-9][a-z0-9._-]{0,63}$/, 'a provider kind (lowercase letters, digits, . _ -)'),
});
export type CatalogFileProvider = z.infer<typeof CatalogFileProvider>;

export const CatalogFileModel = CatalogModelInput.extend({
  created: z.number().int().nonnegative(),
  endpoints: z.array(CatalogEndpointInput).min(1),
});
export type CatalogFileModel = z.infer<typeof CatalogFileModel>;

export const CatalogFile = z
  .object({
    version: z.literal(1),
    description: z.string().optional(),
    providers: z.array(CatalogFileProvider),
    models: z.array(CatalogFileModel),
  })
  .superRefine((file, ctx) => {
    for (const problem of catalogFileProblems(file))
      ctx.addIssue({ code: 'custom', message: problem.message, path: problem.path });
  });
export type CatalogFile = z.infer<typeof CatalogFile>;

/** Consistency a schema cannot express: unique ids, endpoints naming declared providers. */
export function catalogFileProblems(file: {
  providers: readonly { id: string }[];
  models: readonly { id: string; endpoints: readonly { provider: string }[] }[];
}): { message: string; path: (string | number)[] }[] {
  const problems: { message: string; path: (string | number)[] }[] = [];
  const providers = new Set<string>();
  file.providers.forEach((p, i) => {
    if (providers.has(p.id))
      problems.push({ message: `provider ${p.id} is declared twice`, path: ['providers', i] });
    providers.add(p.id);
  });
  const models = new Set<string>();
  file.models.forEach((m, i) => {
    if (models.has(m.id))
      problems.push({ message: `model ${m.id} is declared twice`, path: ['models', i] });
    models.add(m.id);
    const seen = new Set<string>();
    m.endpoints.forEach((e, j) => {
      const path = ['models', i, 'endpoints', j];
      if (!providers.has(e.provider))
        problems.push({ message: `${m.id} names unknown provider ${e.provider}`, path });
      if (seen.has(e.provider))
        problems.push({ message: `${m.id} has two endpoints at ${e.provider}`, path });
      seen.add(e.provider);
    });
  });
  return problems;
}

/** What an import did, by entity: what it created, changed, left as it was, and skipped. */
export interface CatalogImportCounts {
  created: number;
  updated: number;
  unchanged: number;
}

export interface CatalogImportReport {
  providers: CatalogImportCounts;
  models: CatalogImportCounts & {
    /** Deleted by the operator: not brought back. */
    skipped_deleted: number;
  };
  endpoints: CatalogImportCounts & { skipped_deleted: number };
  /** Fields the import would have changed but the operator had overridden (kept). */
  overrides_kept: number;
  /** Provider kinds of the document without an adapter in this build (not routed to). */
  kinds_without_adapter: string[];
}
