import sketches from '@datadog/sketches-js';
import { SKETCH_RELATIVE_ACCURACY, type SketchV1 } from '@turnpike/contracts';

const { DDSketch } = sketches;
type DDSketch = InstanceType<typeof DDSketch>;

/**
 * A distribution as analytics stores it: the bins of a DDSketch (`@datadog/sketches-js`,
 * logarithmic mapping at {@link SKETCH_RELATIVE_ACCURACY}), sparse, as a flat object of counts:
 *
 * - `"<index>"`: how many values fell in the bin of that index (the mapping's `key(value)`);
 * - `z`: values at zero (below the mapping's smallest positive value);
 * - `n`: how many values in all; `s`: their sum (for the mean; DDSketch keeps none).
 *
 * Every entry is a count or a sum, so two distributions merge by adding entry by entry (in
 * Postgres: `jsonb_add`, `jsonb_sum`), exactly, in any order: merging bins is what makes a
 * DDSketch mergeable. Quantiles are read with the library's own algorithm (`toDDSketch`), within
 * the stated relative accuracy of the true value, whatever was merged.
 */
export type SketchBins = Record<string, number>;

/** The mapping every stored sketch uses; changing the accuracy would change every index. */
const MAPPING = new DDSketch({ relativeAccuracy: SKETCH_RELATIVE_ACCURACY }).mapping;

/** Entries of a sketch that are not bins. */
const COUNT = 'n';
const SUM = 's';
const ZERO = 'z';

/** Adds one value (negative or non-finite values are not distributions we keep: ignored). */
export function addValue(bins: SketchBins, value: number): void {
  if (!Number.isFinite(value) || value < 0) return;
  const key = value > MAPPING.minPossible ? String(MAPPING.key(value)) : ZERO;
  bins[key] = (bins[key] ?? 0) + 1;
  bins[COUNT] = (bins[COUNT] ?? 0) + 1;
  bins[SUM] = (bins[SUM] ?? 0) + value;
}

/** Adds every entry of `from` into `into` (merges two distributions, or two code→count maps). */
export function addInto(
  into: Record<string, number>,
  from: Readonly<Record<string, number>>,
): void {
  for (const k in from) into[k] = (into[k] ?? 0) + from[k]!;
}

export function sketchOf(values: Iterable<number>): SketchBins {
  const b: SketchBins = {};
  for (const v of values) addValue(b, v);
  return b;
}

export const countOf = (bins: Readonly<SketchBins>): number => bins[COUNT] ?? 0;
export const sumOf = (bins: Readonly<SketchBins>): number => bins[SUM] ?? 0;

/** The library's DDSketch holding these bins (count and sum restored; min and max unknown). */
export function toDDSketch(bins: Readonly<SketchBins>): DDSketch {
  const s = new DDSketch({ relativeAccuracy: SKETCH_RELATIVE_ACCURACY });
  let count = 0;
  // Ascending indexes: the dense store grows once in each direction at most.
  const keys = Object.keys(bins)
    .filter((k) => k !== COUNT && k !== SUM && k !== ZERO)
    .map(Number)
    .sort((a, b) => a - b);
  for (const k of keys) {
    const c = bins[String(k)]!;
    if (c > 0) {
      s.store.add(k, c);
      count += c;
    }
  }
  const zeros = bins[ZERO] ?? 0;
  s.zeroCount = zeros;
  s.count = count + zeros;
  s.sum = sumOf(bins);
  return s;
}

/** The value at quantile `q` (0..1), within the relative accuracy; null for no values. */
export function quantileOf(bins: Readonly<SketchBins>, q: number): number | null {
  const s = toDDSketch(bins);
  if (s.count === 0) return null;
  const v = s.getValueAtQuantile(q);
  return Number.isFinite(v) ? v : null;
}

/** The mean (exact: the sum and count are kept beside the bins); null for no values. */
export function meanOf(bins: Readonly<SketchBins>): number | null {
  const n = countOf(bins);
  return n > 0 ? sumOf(bins) / n : null;
}

/**
 * The form published on `usage.rollups.v1`: DataDog's DDSketch protobuf, base64, with count and
 * sum. The library serialises its dense store whole (grown in chunks of 128 bins); the store is
 * trimmed to its first and last used bin first, which every DDSketch library reads the same.
 */
export function sketchRecord(bins: Readonly<SketchBins>): SketchV1 {
  const s = toDDSketch(bins);
  const store = s.store;
  if (store.count > 0) {
    store.bins = store.bins.slice(store.minKey - store.offset, store.maxKey - store.offset + 1);
    store.offset = store.minKey;
  } else {
    store.bins = [];
    store.offset = 0;
  }
  s.negativeStore.bins = [];
  s.negativeStore.offset = 0;
  return {
    relativeAccuracy: SKETCH_RELATIVE_ACCURACY,
    count: s.count,
    sum: sumOf(bins),
    ddsketch: s.count > 0 ? Buffer.from(s.toProto()).toString('base64') : '',
  };
}

/** A published sketch read back with the library (`DDSketch.fromProto`): for consumers and tests. */
export function fromSketchRecord(r: SketchV1): DDSketch | null {
  if (r.ddsketch === '') return null;
  return DDSketch.fromProto(Buffer.from(r.ddsketch, 'base64'));
}
