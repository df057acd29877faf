/**
 * Did a stream's chunks reach the client spread out as the upstream sent them, or in a burst?
 *
 * A timing check that holds on a busy 2-core machine and still fails on clumping: it compares
 * the client's arrival times with the upstream simulator's OWN send times (its records'
 * `tokenTimes`), never with the nominal pace. A starved simulator sends late and in bunches, and
 * the arrivals are judged against that; a hop that holds chunks back and releases them together
 * shrinks the arrivals' spread and their gaps relative to the sends, which is what fails.
 * Only differences within one clock are used (send gaps, arrival gaps), so the two processes'
 * clocks need not agree.
 */

export interface PacingOptions {
  /** The arrivals must spread over at least this share of the sends' spread (default 0.5). */
  minSpreadRatio?: number;
  /** A gap counts as "spread out" from this share of the median send gap on (default 0.25). */
  gapShare?: number;
  /** At least this share of the sends' spread-out gaps must be spread out on arrival too (default 0.5). */
  minGapRatio?: number;
}

export interface Pacing {
  sentSpreadMs: number;
  arrivedSpreadMs: number;
  medianSendGapMs: number;
  /** Gaps of at least `gapShare` × the median send gap: in the sends, and on arrival. */
  spreadGapsSent: number;
  spreadGapsArrived: number;
}

const gaps = (t: readonly number[]) => t.slice(1).map((v, i) => v - t[i]!);
const median = (v: readonly number[]) => {
  const s = [...v].sort((a, b) => a - b);
  return s.length === 0 ? 0 : (s[(s.length - 1) >> 1]! + s[s.length >> 1]!) / 2;
};

export function measurePacing(
  sent: readonly number[],
  arrived: readonly number[],
  opts: PacingOptions = {},
): Pacing {
  const share = opts.gapShare ?? 0.25;
  const sendGaps = gaps(sent);
  const m = median(sendGaps);
  const spread = (t: readonly number[]) => (t.length > 0 ? t.at(-1)! - t[0]! : 0);
  return {
    sentSpreadMs: spread(sent),
    arrivedSpreadMs: spread(arrived),
    medianSendGapMs: m,
    spreadGapsSent: sendGaps.filter((g) => g >= share * m).length,
    spreadGapsArrived: gaps(arrived).filter((g) => g >= share * m).length,
  };
}

/** What is wrong with the arrivals (empty: they came spread out roughly as they were sent). */
export function pacingProblems(
  sent: readonly number[],
  arrived: readonly number[],
  opts: PacingOptions = {},
): string[] {
  if (sent.length !== arrived.length)
    return [`${sent.length} chunks were sent but ${arrived.length} arrived`];
  if (sent.length < 3) return [`too few chunks to judge their pacing (${sent.length})`];
  const p = measurePacing(sent, arrived, opts);
  const problems: string[] = [];
  if (p.medianSendGapMs <= 0)
    problems.push('the upstream sent its chunks all at once: nothing to compare with');
  const ratio = opts.minSpreadRatio ?? 0.5;
  if (p.arrivedSpreadMs < ratio * p.sentSpreadMs)
    problems.push(
      `the chunks arrived within ${p.arrivedSpreadMs.toFixed(0)} ms though they were sent over ` +
        `${p.sentSpreadMs.toFixed(0)} ms (at least ${(ratio * 100).toFixed(0)} % expected)`,
    );
  const gapRatio = opts.minGapRatio ?? 0.5;
  if (p.spreadGapsArrived < gapRatio * p.spreadGapsSent)
    problems.push(
      `only ${p.spreadGapsArrived} of the ${p.spreadGapsSent} gaps between chunks survived the ` +
        `trip (median send gap ${p.medianSendGapMs.toFixed(0)} ms): they arrived in clumps`,
    );
  return problems;
}

/** One line for a test's log. */
export function describePacing(sent: readonly number[], arrived: readonly number[]): string {
  const p = measurePacing(sent, arrived);
  const r = (t: readonly number[]) =>
    gaps(t)
      .map((g) => g.toFixed(0))
      .join(',');
  return (
    `sent over ${p.sentSpreadMs.toFixed(0)} ms (gaps ${r(sent)}), ` +
    `arrived over ${p.arrivedSpreadMs.toFixed(0)} ms (gaps ${r(arrived)})`
  );
}
