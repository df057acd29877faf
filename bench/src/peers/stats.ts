/** The arithmetic of `bench:peers`, pure: added latency, ratios, CPU per request, the step search. */
import type { Summary } from '../load.js';

export type Mode = 'non-streaming' | 'streaming';

export interface Added {
  ttft: { p50: number; p99: number };
  total: { p50: number; p99: number };
}

/** What a system adds over direct at the same percentile, from the same rounds. */
export function addedOver(system: Summary, direct: Summary): Added {
  return {
    ttft: { p50: system.ttft.p50 - direct.ttft.p50, p99: system.ttft.p99 - direct.ttft.p99 },
    total: { p50: system.total.p50 - direct.total.p50, p99: system.total.p99 - direct.total.p99 },
  };
}

/** a / b, NaN when either is not a positive finite number. */
export function ratio(a: number, b: number): number {
  return Number.isFinite(a) && Number.isFinite(b) && b > 0 && a >= 0 ? a / b : NaN;
}

/** CPU seconds per 1000 requests; NaN when none was served. */
export function cpuPer1000(cpuS: number, requests: number): number {
  return requests > 0 ? (cpuS * 1000) / requests : NaN;
}

export interface Step {
  concurrency: number;
  /** p99 added over direct at this level: total (non-streaming) or TTFT (streaming). */
  addedP99: number;
  errors: number;
  /** direct's own p99 − p50 at this level: the machine's noise. */
  directSpreadMs?: number;
  /** direct itself strayed beyond the bound in every attempt: the machine, not the system, decided. */
  inconclusive?: boolean;
}

/** Held: no error and p99 added within the bound, on a level the machine let us judge. */
export function stepHolds(step: Step, boundMs: number): boolean {
  return (
    !step.inconclusive &&
    step.errors === 0 &&
    Number.isFinite(step.addedP99) &&
    step.addedP99 <= boundMs
  );
}

/**
 * The highest concurrency held: the last level that held before the first that did not (the
 * search stops there); 0 when even the first did not. `topReached` when every level held;
 * `inconclusiveAt` when the search stopped at a level the machine's noise decided (held is then
 * a lower bound).
 */
export function heldConcurrency(
  steps: Step[],
  boundMs: number,
): { held: number; topReached: boolean; inconclusiveAt?: number } {
  let held = 0;
  for (const step of [...steps].sort((a, b) => a.concurrency - b.concurrency)) {
    if (step.inconclusive) return { held, topReached: false, inconclusiveAt: step.concurrency };
    if (!stepHolds(step, boundMs)) return { held, topReached: false };
    held = step.concurrency;
  }
  return { held, topReached: steps.length > 0 };
}

/** Round r's order: the systems rotated by r (A B C D, B C D A, ...), so no one always goes first. */
export function roundOrder<T>(items: T[], round: number): T[] {
  if (items.length === 0) return [];
  const k = round % items.length;
  return [...items.slice(k), ...items.slice(0, k)];
}

/** n split into `parts` nearly equal whole parts (the first ones get the remainder). */
export function split(n: number, parts: number): number[] {
  return Array.from({ length: parts }, (_, i) => Math.floor(n / parts) + (i < n % parts ? 1 : 0));
}
