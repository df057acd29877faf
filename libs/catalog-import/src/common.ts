/** What the importer's parts share: the report, an endpoint offer, prices, ids. */
import { ModelId } from '@turnpike/contracts';
import { idOf, type CanonicalId } from './model-ids.js';
import type { DatasetName, ProviderMapping } from './providers.js';

export interface ImportReport {
  /** Endpoints per catalog provider. */
  endpoints: Record<string, number>;
  models: number;
  /** Models by the dataset that describes them (one dataset per model). */
  modelsFrom: Record<DatasetName, number>;
  /** Entries (a provider's model) left out, by dataset and reason. */
  skipped: Record<DatasetName, Record<string, number>>;
  /** Dataset providers neither mapped nor skipped (a new dataset version brought them). */
  unmappedProviders: string[];
  /** Two ids of one provider for one model: the first kept, the others left out. */
  duplicates: string[];
  /** Endpoints with tiered prices (by prompt size): their base tier is listed. */
  tieredEndpoints: number;
}

/** One provider's offer of one model, from either dataset. */
export interface Offer {
  mapping: ProviderMapping;
  upstream: string;
  id: CanonicalId;
}

/** Dollars per million tokens as the catalog's decimal string (at most 6 decimals). */
export function price(n: number | undefined): string {
  if (n === undefined || !Number.isFinite(n) || n <= 0) return '0';
  return n.toFixed(6).replace(/\.?0+$/, '') || '0';
}

export const bump = (o: Record<string, number>, k: string): void => {
  o[k] = (o[k] ?? 0) + 1;
};

/** A canonical id the catalog accepts (`author/slug`, no `:` or `~`), else null. */
export function validId(id: CanonicalId | null): CanonicalId | null {
  return id && ModelId.safeParse(idOf(id)).success ? id : null;
}
