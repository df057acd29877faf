/** The arithmetic of `bench:kafka-clients`, pure: latency summaries, CPU per round trip, ratios, outages. */
import { percentile } from '../load.js';
import { cpuPer1000, ratio } from '../peers/stats.js';

/** One closed-loop run of the hop, as a gateway side reports it. */
export interface HopRun {
  /** ms from the request's send to its first reply, per completed round trip. */
  firstMs: number[];
  /** ms from the request's send to its last reply, per completed round trip. */
  lastMs: number[];
  errors: number;
  wallMs: number;
  /** CPU seconds of the gateway side and of the connector side during the run. */
  gatewayCpuS: number;
  connectorCpuS: number;
}

export interface Percentiles {
  p50: number;
  p99: number;
}

export interface HopSummary {
  roundTrips: number;
  errors: number;
  first: Percentiles;
  last: Percentiles;
  /** Completed round trips per second of wall time. */
  throughput: number;
  /** CPU seconds per 1000 round trips: gateway side, connector side, both. */
  cpuPer1000: { gateway: number; connector: number; total: number };
}

export function percentiles(values: number[]): Percentiles {
  const sorted = [...values].sort((a, b) => a - b);
  return { p50: percentile(sorted, 50), p99: percentile(sorted, 99) };
}

/** The runs of one client and one cell, pooled (rounds interleaved with the other clients'). */
export function summarizeHop(runs: HopRun[]): HopSummary {
  const first = runs.flatMap((r) => r.firstMs);
  const last = runs.flatMap((r) => r.lastMs);
  const wallMs = runs.reduce((a, r) => a + r.wallMs, 0);
  const gateway = runs.reduce((a, r) => a + r.gatewayCpuS, 0);
  const connector = runs.reduce((a, r) => a + r.connectorCpuS, 0);
  const n = last.length;
  return {
    roundTrips: n,
    errors: runs.reduce((a, r) => a + r.errors, 0),
    first: percentiles(first),
    last: percentiles(last),
    throughput: wallMs > 0 ? (n * 1000) / wallMs : 0,
    cpuPer1000: {
      gateway: cpuPer1000(gateway, n),
      connector: cpuPer1000(connector, n),
      total: cpuPer1000(gateway + connector, n),
    },
  };
}

/** process.cpuUsage() difference in seconds (user + system). */
export function cpuSecondsBetween(
  before: { user: number; system: number },
  after: { user: number; system: number },
): number {
  return (after.user - before.user + (after.system - before.system)) / 1e6;
}

/** Cores used: CPU seconds over wall seconds. */
export function coresUsed(cpuS: number, wallMs: number): number {
  return wallMs > 0 ? cpuS / (wallMs / 1000) : NaN;
}

/**
 * Each numeric leaf of `value` divided by the same leaf of `base` (kafkajs measured in the same
 * run): 0.5 is half of kafkajs' figure. Leaves absent from `base` are left out.
 */
export function ratiosTo(value: unknown, base: unknown): unknown {
  if (typeof value === 'number' && typeof base === 'number') return ratio(value, base);
  if (value && base && typeof value === 'object' && typeof base === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) {
      const b = (base as Record<string, unknown>)[k];
      if (b === undefined) continue;
      const r = ratiosTo(v, b);
      if (r !== undefined) out[k] = r;
    }
    return out;
  }
  return undefined;
}

/** One send of the broker-restart probe: when it was handed over and how it ended (ms, one clock). */
export interface ProbeSend {
  seq: number;
  sentAt: number;
  /** Absent: still pending when the report was taken. */
  doneAt?: number;
  ok?: boolean;
  error?: string;
}

export interface OutageReport {
  /** Sends handed over while the broker was down. */
  sentWhileDown: number;
  /** Of those: acknowledged (after the restart), failed, still pending at the end. */
  ackedLater: number;
  failed: number;
  pendingAtEnd: number;
  /** How long a failing send took to fail (ms), the slowest; NaN if none failed. */
  slowestFailureMs: number;
  /** From the broker being ready again to the first send acknowledged that was sent after it (ms). */
  sendRecoveryMs: number;
  /** From the broker being ready again to the first message consumed that was sent after it (ms). */
  consumeRecoveryMs: number;
  /** Acknowledged sends never consumed, and messages consumed twice. */
  lost: number;
  duplicates: number;
  firstErrors: string[];
}

/**
 * What a client did across one broker restart: sends go out every few ms throughout, the broker is
 * down in [downAt, upAt) and answers again from upAt; `received` maps seq to the times it was consumed.
 */
export function analyzeOutage(
  sends: ProbeSend[],
  received: Map<number, number[]>,
  downAt: number,
  upAt: number,
): OutageReport {
  const down = sends.filter((s) => s.sentAt >= downAt && s.sentAt < upAt);
  const failures = sends.filter((s) => s.ok === false);
  const after = sends.filter((s) => s.sentAt >= upAt);
  const firstAck = Math.min(...after.filter((s) => s.ok === true).map((s) => s.doneAt ?? Infinity));
  const firstConsumed = Math.min(
    ...after.flatMap((s) => received.get(s.seq) ?? []).filter((t) => t >= upAt),
  );
  return {
    sentWhileDown: down.length,
    ackedLater: down.filter((s) => s.ok === true).length,
    failed: down.filter((s) => s.ok === false).length,
    pendingAtEnd: down.filter((s) => s.ok === undefined).length,
    slowestFailureMs:
      failures.length > 0
        ? Math.max(...failures.map((s) => (s.doneAt ?? s.sentAt) - s.sentAt))
        : NaN,
    sendRecoveryMs: Number.isFinite(firstAck) ? firstAck - upAt : NaN,
    consumeRecoveryMs: Number.isFinite(firstConsumed) ? firstConsumed - upAt : NaN,
    lost: sends.filter((s) => s.ok === true && !received.has(s.seq)).length,
    duplicates: [...received.values()].filter((times) => times.length > 1).length,
    firstErrors: [...new Set(failures.map((s) => s.error ?? '?'))].slice(0, 3),
  };
}
