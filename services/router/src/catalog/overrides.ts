/**
 * Operator overrides and imports, as pure functions over field values.
 *
 * Every catalog row (provider, model, endpoint) keeps two things beside its values: the values
 * of the last import that brought it (`imported`, null for a row only the operator wrote) and
 * the names of the fields the operator overrode (`overrides`). An operator's write through the
 * admin API overrides exactly the fields whose new value differs from the imported one (writing
 * the imported value back clears the override); a row the operator created is theirs, field by
 * field. An import rewrites only the fields that are not overridden, and always records what it
 * brought, so the operator can see the list price beside their own.
 */

/** A row's values by field name (`pricing.prompt`, `disabled`, ...), normalised for comparison. */
export type FieldValues = Readonly<Record<string, unknown>>;

export const PROVIDER_FIELDS = ['name', 'kind'] as const;
export const MODEL_FIELDS = [
  'name',
  'description',
  'created',
  'context_length',
  'input_modalities',
  'output_modalities',
] as const;
export const ENDPOINT_FIELDS = [
  'upstream_model',
  'pricing.prompt',
  'pricing.completion',
  'pricing.cached_read',
  'pricing.cache_write',
  'pricing.reasoning',
  'pricing.request',
  'context_length',
  'max_output_tokens',
  'quantization',
  'region',
  'data_collection',
  'supported_parameters',
  'disabled',
] as const;

export const same = (a: unknown, b: unknown): boolean => JSON.stringify(a) === JSON.stringify(b);

/**
 * The overrides after an operator writes `written` fields with `next` values: a written field is
 * overridden when it differs from the imported value (always, when nothing was imported); the
 * fields not written keep their state.
 */
export function overridesAfterWrite(
  fields: readonly string[],
  previous: readonly string[],
  written: readonly string[],
  next: FieldValues,
  imported: FieldValues | null,
): string[] {
  const out = new Set(previous.filter((f) => !written.includes(f)));
  for (const f of written) if (!imported || !same(next[f], imported[f])) out.add(f);
  return fields.filter((f) => out.has(f));
}

export interface ImportMerge {
  /** The row's values after the import. */
  values: Record<string, unknown>;
  /** Fields the import changed. */
  changed: string[];
  /** Fields the import would have changed but the operator overrode. */
  kept: string[];
}

/**
 * What an import makes of a row: the incoming values, except in overridden fields, where the
 * current (operator's) values stay. A new row takes everything.
 */
export function mergeImport(
  fields: readonly string[],
  current: FieldValues | null,
  overrides: readonly string[],
  incoming: FieldValues,
): ImportMerge {
  const values: Record<string, unknown> = {};
  const changed: string[] = [];
  const kept: string[] = [];
  for (const f of fields) {
    if (current && overrides.includes(f)) {
      values[f] = current[f];
      if (!same(current[f], incoming[f])) kept.push(f);
    } else {
      values[f] = incoming[f];
      if (!current || !same(current[f], incoming[f])) changed.push(f);
    }
  }
  return { values, changed, kept };
}
