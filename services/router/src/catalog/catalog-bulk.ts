import type { z } from 'zod';
import {
  CATALOG_BULK_MAX_ITEMS,
  CatalogBulkModel,
  CatalogProviderInput,
  EndpointRefParams,
  ModelId,
  type CatalogBulkItemError,
  type CatalogBulkParams,
  type CatalogEndpointInput,
} from '@turnpike/contracts';

/** What a valid bulk document does, item by item (validated, defaults applied). */
export interface BulkPlan {
  providers: CatalogProviderInput[];
  models: CatalogBulkModel[];
  deleteModels: string[];
  deleteEndpoints: Array<{ model: string; provider: string }>;
}

/** What the catalog holds now, for the document's references. */
export interface CatalogKeys {
  providers: ReadonlySet<string>;
  models: ReadonlySet<string>;
  /** Endpoint ids, `<model>@<provider>`. */
  endpoints: ReadonlySet<string>;
}

const endpointKey = (model: string, provider: string) => `${model}@${provider}`;

function issuesOf(prefix: string, error: z.ZodError): CatalogBulkItemError[] {
  return error.issues.map((i) => {
    let path = prefix;
    for (const p of i.path) path += typeof p === 'number' ? `[${p}]` : `.${String(p)}`;
    return { path, message: i.message };
  });
}

/**
 * Validates a bulk document as a whole: every item against its schema, then the references
 * (an endpoint's provider exists, or is in the document; a deleted endpoint exists; no item twice,
 * nothing both upserted and deleted). Returns every error found, each with its path, or the plan.
 * Deleting what does not exist is not an error (a bulk document can be applied again).
 */
export function planBulk(
  doc: CatalogBulkParams,
  catalog: CatalogKeys,
): { ok: true; plan: BulkPlan } | { ok: false; errors: CatalogBulkItemError[] } {
  const errors: CatalogBulkItemError[] = [];
  const items =
    doc.providers.length +
    doc.models.length +
    doc.delete.models.length +
    doc.delete.endpoints.length;
  if (items > CATALOG_BULK_MAX_ITEMS)
    return {
      ok: false,
      errors: [
        {
          path: '',
          message: `${items} items; one bulk call takes at most ${CATALOG_BULK_MAX_ITEMS}`,
        },
      ],
    };

  const parseAll = <T>(list: unknown[], schema: z.ZodType<T>, prefix: string): Array<T | null> =>
    list.map((item, i) => {
      const r = schema.safeParse(item);
      if (r.success) return r.data;
      errors.push(...issuesOf(`${prefix}[${i}]`, r.error));
      return null;
    });

  const providers = parseAll(doc.providers, CatalogProviderInput, 'providers');
  const models = parseAll(doc.models, CatalogBulkModel, 'models');
  const deleteModels = parseAll(doc.delete.models, ModelId, 'delete.models');
  const deleteEndpoints = parseAll(doc.delete.endpoints, EndpointRefParams, 'delete.endpoints');

  const once = <T>(list: Array<T | null>, key: (t: T) => string, prefix: string, what: string) => {
    const seen = new Map<string, number>();
    list.forEach((t, i) => {
      if (t === null) return;
      const k = key(t);
      const first = seen.get(k);
      if (first !== undefined)
        errors.push({
          path: `${prefix}[${i}]`,
          message: `${what} '${k}' is also ${prefix}[${first}]`,
        });
      else seen.set(k, i);
    });
    return seen;
  };
  once(providers, (p) => p.id, 'providers', 'provider');
  once(models, (m) => m.id, 'models', 'model');
  const deleted = once(deleteModels, (m) => m, 'delete.models', 'model');
  once(deleteEndpoints, (e) => endpointKey(e.model, e.provider), 'delete.endpoints', 'endpoint');

  const knownProviders = new Set([
    ...catalog.providers,
    ...providers.flatMap((p) => (p ? [p.id] : [])),
  ]);
  const upsertedEndpoints = new Set<string>();
  models.forEach((m, i) => {
    if (!m) return;
    if (deleted.has(m.id))
      errors.push({
        path: `models[${i}]`,
        message: `model '${m.id}' is also deleted (delete.models)`,
      });
    const mine = new Set<string>();
    (m.endpoints ?? []).forEach((e: CatalogEndpointInput, j) => {
      const at = `models[${i}].endpoints[${j}]`;
      if (!knownProviders.has(e.provider))
        errors.push({
          path: `${at}.provider`,
          message: `provider '${e.provider}' is neither in the catalog nor in this document's providers`,
        });
      if (mine.has(e.provider))
        errors.push({ path: at, message: `model '${m.id}' has two endpoints at '${e.provider}'` });
      mine.add(e.provider);
      upsertedEndpoints.add(endpointKey(m.id, e.provider));
    });
  });
  deleteEndpoints.forEach((e, i) => {
    if (!e) return;
    const key = endpointKey(e.model, e.provider);
    if (upsertedEndpoints.has(key))
      errors.push({
        path: `delete.endpoints[${i}]`,
        message: `endpoint '${key}' is also upserted`,
      });
    if (deleted.has(e.model))
      errors.push({
        path: `delete.endpoints[${i}]`,
        message: `its model '${e.model}' is deleted too (delete.models)`,
      });
  });
  if (errors.length > 0) return { ok: false, errors };
  const present = <T>(xs: Array<T | null>): T[] => xs.filter((x): x is T => x !== null);
  return {
    ok: true,
    plan: {
      providers: present(providers),
      models: present(models),
      deleteModels: present(deleteModels).filter((m) => catalog.models.has(m)),
      deleteEndpoints: present(deleteEndpoints).filter((e) =>
        catalog.endpoints.has(endpointKey(e.model, e.provider)),
      ),
    },
  };
}

/** Every provider a document names (its providers and its endpoints'), valid or not. */
export function providersNamed(plan: BulkPlan): string[] {
  return [
    ...new Set([
      ...plan.providers.map((p) => p.id),
      ...plan.models.flatMap((m) => (m.endpoints ?? []).map((e) => e.provider)),
    ]),
  ].sort();
}

export function upsertedEndpointCount(plan: BulkPlan): number {
  return plan.models.reduce((n, m) => n + (m.endpoints?.length ?? 0), 0);
}
