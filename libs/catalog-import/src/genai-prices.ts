/**
 * The second dataset: `@pydantic/genai-prices` (MIT), the price data it embeds, as its
 * `waitForUpdate()` resolves it when no remote update was asked for. Providers with their models:
 * an id, a match rule (which model ids the prices apply to), a name, a context window (often),
 * and prices per million tokens (input, output, cache read and write, ...), some tiered by prompt
 * size, some conditional (a schedule of dated prices, or prices by the time of day). It describes
 * no capabilities or modalities. Only the fields the importer reads are typed.
 */

/** genai-prices' model match rule (`MatchLogic`), applied to a lowercased model id. */
export type MatchRule =
  | { equals: string }
  | { starts_with: string }
  | { ends_with: string }
  | { contains: string }
  | { regex: string }
  | { or: readonly MatchRule[] }
  | { and: readonly MatchRule[] };

/** A price that changes with the prompt's size: `base` up to the first tier's `start` tokens. */
export interface TieredPrice {
  base: number;
  tiers: ReadonlyArray<{ start: number; price: number }>;
}

/** Prices by unit: `input_mtok`, `output_mtok`, `cache_read_mtok`, ... (USD per million). */
export type GenaiPrices = Readonly<Record<string, number | TieredPrice | undefined>>;

/** A price that applies from a date on, or at times of the day. */
export interface ConditionalPrice {
  constraint?:
    | { type: 'start_date'; start_date: string }
    | { type: 'time_of_date'; start_time: string; end_time: string };
  prices: GenaiPrices;
}

export interface GenaiPricesModel {
  id: string;
  name?: string;
  match: MatchRule;
  context_window?: number;
  deprecated?: boolean;
  prices: GenaiPrices | readonly ConditionalPrice[];
}

export interface GenaiPricesProvider {
  id: string;
  name: string;
  api_pattern: string;
  models: readonly GenaiPricesModel[];
}

export type GenaiPricesDataset = readonly GenaiPricesProvider[];

/** Whether a rule matches a model id, as genai-prices matches them (on the lowercased id). */
export function matches(rule: MatchRule, modelId: string): boolean {
  const id = modelId.toLowerCase().trim();
  if ('or' in rule) return rule.or.some((r) => matches(r, id));
  if ('and' in rule) return rule.and.every((r) => matches(r, id));
  if ('equals' in rule) return id === rule.equals;
  if ('starts_with' in rule) return id.startsWith(rule.starts_with);
  if ('ends_with' in rule) return id.endsWith(rule.ends_with);
  if ('contains' in rule) return id.includes(rule.contains);
  return new RegExp(rule.regex).test(id);
}

/**
 * The id a provider's API takes for a model: the model's own id when its rule prices it (before
 * or after the provider's spelling, e.g. Bedrock's `us.` profiles, Hugging Face's `:provider`
 * suffix), else the first exact id its rule names. Null for a family rule that names no concrete
 * model (`starts_with: "ft:gpt-4o-2024-"`): there is nothing to call.
 */
export function concreteId(
  m: GenaiPricesModel,
  spelling: (id: string) => string = (id) => id,
): string | null {
  const own = spelling(m.id);
  if (matches(m.match, own) || matches(m.match, m.id)) return own;
  const named = equalsOf(m.match)[0];
  return named === undefined ? null : spelling(named);
}

function equalsOf(rule: MatchRule): string[] {
  if ('or' in rule) return rule.or.flatMap(equalsOf);
  if ('equals' in rule) return [rule.equals];
  return [];
}

/** The prices of a model on a date, or why they cannot be listed as one price. */
export function pricesOn(
  m: GenaiPricesModel,
  date: string,
): { prices: GenaiPrices } | { refused: string } {
  if (!Array.isArray(m.prices)) return { prices: m.prices as GenaiPrices };
  const schedule = m.prices as readonly ConditionalPrice[];
  if (schedule.some((c) => c.constraint?.type === 'time_of_date'))
    return { refused: 'prices vary by the time of day' };
  // Dated prices: the last one in force on the date (genai-prices' own order and rule).
  let inForce: GenaiPrices | undefined;
  for (const c of schedule)
    if (!c.constraint || (c.constraint.type === 'start_date' && c.constraint.start_date <= date))
      inForce = c.prices;
  return inForce ? { prices: inForce } : { refused: 'no price in force on the reference date' };
}

/** A price's base value (its first tier), and where the next tier starts if it is tiered. */
export function baseOf(p: number | TieredPrice | undefined): { value?: number; tierAt?: number } {
  if (p === undefined) return {};
  if (typeof p === 'number') return { value: p };
  return { value: p.base, tierAt: p.tiers[0]?.start };
}
