/** Renders the bench results as Markdown tables (also printed to stdout as they are). */
import os from 'node:os';
import type { Summary } from './load.js';

export type Mode = 'non-streaming' | 'streaming';

export interface CellResult {
  mode: Mode;
  concurrency: number;
  /** Measured requests per side (warm-up excluded). */
  requests: number;
  direct: Summary;
  gateway: Summary;
}

import type { BillingBenchResult } from './billing.js';
import type { RollupsBenchResult } from './rollups.js';
import type { FallbackBenchResult } from './fallback.js';

/** What the figures were measured on. */
export interface MachineInfo {
  cpus: number;
  cpuModel: string;
  totalMemGiB: number;
  node: string;
  os: string;
}

export function machineInfo(): MachineInfo {
  const cpus = os.cpus();
  return {
    cpus: cpus.length,
    cpuModel: cpus[0]?.model.trim() ?? 'unknown',
    totalMemGiB: os.totalmem() / 2 ** 30,
    node: process.version,
    os: `${os.type()} ${os.release()} ${os.arch()}`,
  };
}

export interface BenchResults {
  date: string;
  durationS: number;
  machine: MachineInfo & { loadAvg1mAtStart: number };
  config: {
    quick: boolean;
    knobs: string;
    prompt: string;
    rounds: number;
    warmupPerSide: number;
    client: string;
  };
  cells: CellResult[];
  /** Ledger ingestion and balance lag (`billing.ts`). */
  billing?: BillingBenchResult;
  /** Fallback while one of three upstreams fails half its requests (`fallback.ts`). */
  fallback?: FallbackBenchResult;
  /** Rollup ingestion and 30-day query latency (`rollups.ts`). */
  rollups?: RollupsBenchResult;
}

const ms = (v: number) => (Number.isFinite(v) ? v.toFixed(1) : '–');
const plus = (v: number) => (Number.isFinite(v) ? `${v >= 0 ? '+' : ''}${v.toFixed(1)}` : '–');
const ratio = (g: number, d: number) =>
  Number.isFinite(g) && Number.isFinite(d) && d > 0 ? `×${(g / d).toFixed(2)}` : '–';

/** A Markdown table with padded columns, so it also reads well in a terminal. */
export function table(head: string[], rows: string[][], right = head.map((_, i) => i > 0)): string {
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]) =>
    `| ${cells.map((c, i) => (right[i] ? c.padStart(widths[i]!) : c.padEnd(widths[i]!))).join(' | ')} |`;
  const rule = `|${widths.map((w, i) => (right[i] ? `${'-'.repeat(w + 1)}:` : `:${'-'.repeat(w + 1)}`)).join('|')}|`;
  return [line(head), rule, ...rows.map(line)].join('\n');
}

/** Headline: direct vs gateway percentiles, the difference and the ratio, per mode/concurrency/metric. */
export function latencyTable(cells: CellResult[]): string {
  const rows: string[][] = [];
  for (const c of cells) {
    const metrics: Array<['ttft' | 'total', string]> =
      c.mode === 'streaming'
        ? [
            ['ttft', 'TTFT'],
            ['total', 'total'],
          ]
        : [['total', 'total']];
    for (const [key, label] of metrics) {
      const d = c.direct[key];
      const g = c.gateway[key];
      rows.push([
        c.mode,
        String(c.concurrency),
        label,
        ms(d.p50),
        ms(g.p50),
        plus(g.p50 - d.p50),
        ratio(g.p50, d.p50),
        ms(d.p99),
        ms(g.p99),
        plus(g.p99 - d.p99),
        ratio(g.p99, d.p99),
      ]);
    }
  }
  return table(
    [
      'mode',
      'c',
      'metric',
      'direct p50',
      'gateway p50',
      'added p50',
      'ratio p50',
      'direct p99',
      'gateway p99',
      'added p99',
      'ratio p99',
    ],
    rows,
    [false, true, false, true, true, true, true, true, true, true, true],
  );
}

export function throughputTable(cells: CellResult[]): string {
  return table(
    [
      'mode',
      'c',
      'requests/side',
      'direct req/s',
      'gateway req/s',
      'gateway/direct',
      'errors direct',
      'errors gateway',
    ],
    cells.map((c) => [
      c.mode,
      String(c.concurrency),
      String(c.requests),
      c.direct.throughput.toFixed(0),
      c.gateway.throughput.toFixed(0),
      ratio(c.gateway.throughput, c.direct.throughput),
      String(c.direct.errors),
      String(c.gateway.errors),
    ]),
    [false, true, true, true, true, true, true, true],
  );
}

const TIMING_PARTS = ['gateway', 'kafka', 'connector', 'upstream', 'total'] as const;

/** Means of the gateway's Server-Timing parts, for the non-streaming cells. */
export function serverTimingTable(cells: CellResult[]): string {
  const rows = cells
    .filter((c) => c.mode === 'non-streaming' && c.gateway.serverTiming)
    .map((c) => {
      const t = c.gateway.serverTiming!;
      const total = t['total'] ?? NaN;
      return [
        String(c.concurrency),
        ...TIMING_PARTS.map((p) => {
          const v = t[p] ?? NaN;
          return p === 'total'
            ? ms(v)
            : `${ms(v)} (${Number.isFinite(total) && total > 0 ? ((100 * v) / total).toFixed(0) : '–'}%)`;
        }),
      ];
    });
  return table(['c', ...TIMING_PARTS.map((p) => `${p} ms`)], rows);
}

export function errorNotes(cells: CellResult[]): string {
  const lines = cells.flatMap((c) =>
    (['direct', 'gateway'] as const)
      .filter((side) => c[side].errors > 0)
      .map(
        (side) =>
          `- ${c.mode} c=${c.concurrency} ${side}: ${c[side].errors} failed (${c[side].firstErrors.join('; ')})`,
      ),
  );
  return lines.join('\n');
}

export function renderMarkdown(r: BenchResults): string {
  const m = r.machine;
  const errors = errorNotes(r.cells);
  return `# Benchmarks: the latency the gateway adds

Generated by \`npm run bench\`${r.config.quick ? ' (`--quick`: too few requests for the tails to mean much)' : ''} on ${r.date}; the run took ${r.durationS.toFixed(0)} s.

## Machine

- CPUs: ${m.cpus} × ${m.cpuModel}
- Memory: ${m.totalMemGiB.toFixed(1)} GiB
- Node ${m.node} on ${m.os}
- 1-minute load average at start: ${m.loadAvg1mAtStart.toFixed(2)}

Everything runs on this one machine: the load generator, the upstream simulator, Kafka (one KRaft
broker), Postgres and the five services (one instance each). They compete for the same cores, so the
absolute figures say as much about the machine as about Turnpike; read the differences and ratios.

## Method

- The bench starts its own platform (\`startPlatform\` from \`@turnpike/testing\`), seeds a tenant and
  compares, in the same run, two ways of asking the **same** simulator process for the same completion:
  - **direct**: \`POST <simulator>/v1/chat/completions\`, model \`sim-gpt-small\`;
  - **gateway**: \`POST <gateway>/v1/chat/completions\`, model \`turnpike/sim-small\` (gateway → Kafka →
    connector → simulator, and the reply back over Kafka; billing and analytics consume the usage
    event of every request).
- Simulator knobs, fixed by a directive in the user message: \`${r.config.knobs}\` — ${knobsInWords(r.config.knobs)}
  Prompt: \`${r.config.prompt}\`.
- Modes: non-streaming (total = time to the end of the JSON body; TTFT is not meaningful there) and
  streaming (SSE; TTFT = time to the first chunk with a non-empty \`delta.content\`, total = time to \`[DONE]\`).
- Concurrency 1, 32 and 128, closed loop: each of \`c\` workers sends its next request as soon as the
  previous one is done. Before each cell, one request per worker and side warms the connections up
  (not counted); before everything, ${r.config.warmupPerSide} requests per side and mode warm up the JITs.
- Each cell is split into ${r.config.rounds} rounds; every round runs direct then gateway, or gateway then
  direct, alternately (ABBA…), so that drift on the shared machine hits both sides alike.
- Client: ${r.config.client}, the same for both sides.
- Percentiles are nearest-rank over the successful requests of all the rounds. "added" is gateway − direct
  of the same percentile (the two sides are separate requests, so the p99 difference is a difference
  of tails, not the tail of per-request differences). Throughput is successful requests per second of
  wall time summed over the rounds.

## Results

${headline(r.cells)}

### Latency, ms

${latencyTable(r.cells)}

### Throughput and errors

${throughputTable(r.cells)}
${errors ? `\n${errors}\n` : ''}
### Where the gateway's time goes (non-streaming, mean of \`server-timing\`, ms and % of total)

${serverTimingTable(r.cells)}

\`gateway\`: the gateway's own time (its total minus the Kafka round trip); \`kafka\`: the round trip
gateway → connector → gateway minus the connector's time (produce, broker, consume, both ways, with
the producers' batching and the consumers' polling, and any queueing in front of a busy consumer);
\`connector\`: the connector's time outside the upstream call; \`upstream\`: the connector's HTTP call to the
simulator, the whole generation included (compare it with the direct non-streaming total p50 above).

## How to read this

Look at the **added** columns and the ratios, not the absolute figures: the baseline (direct) is
measured in the same run, on the same loaded machine, interleaved with the gateway, so most of the
machine's noise cancels out. At c=1 the added p50 is the gateway's fixed cost per request: the extra
HTTP hop, the two Kafka hops and the connector; the Server-Timing table says which part is which. At
c=32 and c=128 the machine is saturated and the added latency is mostly queueing: every request through
the gateway costs CPU in the gateway, Kafka, the connector, billing and analytics, where a direct request
costs only the simulator's (and the load generator's, which both sides pay), so the throughput ratio is
the better figure there. A streamed reply crosses Kafka chunk by chunk (one reply message per chunk), so streaming costs more per
request than non-streaming under load, and its first chunk queues behind the other streams' chunks: TTFT,
what users feel, grows faster with concurrency than the total. Raw figures, per side and cell:
\`bench/results/latest.json\` (not committed).
${renderExtras(r)}`;
}

/** One data-driven sentence: the fixed cost at c=1 and, when known, the Kafka part of it. */
function headline(cells: CellResult[]): string {
  const unary = cells.find((c) => c.mode === 'non-streaming' && c.concurrency === 1);
  const stream = cells.find((c) => c.mode === 'streaming' && c.concurrency === 1);
  const parts: string[] = [];
  if (unary) {
    const added = unary.gateway.total.p50 - unary.direct.total.p50;
    const kafka = unary.gateway.serverTiming?.['kafka'];
    parts.push(
      `At c=1 the gateway adds **${added.toFixed(1)} ms** at p50 to a non-streaming request (${ratio(unary.gateway.total.p50, unary.direct.total.p50)})` +
        (kafka !== undefined
          ? `, of which the Kafka round trip is ${kafka.toFixed(1)} ms on average`
          : ''),
    );
  }
  if (stream) {
    parts.push(
      `**${(stream.gateway.ttft.p50 - stream.direct.ttft.p50).toFixed(1)} ms** to the time to first token of a streamed one`,
    );
  }
  return parts.length ? `${parts.join(', and ')}.` : '';
}

function knobsInWords(knobs: string): string {
  const v = (k: string) => knobs.match(new RegExp(`${k}=(\\S+)`))?.[1];
  const tps = v('tps');
  return `${v('ttft_ms') ?? '0'} ms before the first token, then ${v('tokens') ?? '16'} tokens ${tps === '0' || !tps ? 'as fast as possible' : `at ${tps} tokens/s`}.`;
}

/** What the bench prints to stdout at the end. */
export function renderText(r: BenchResults): string {
  const errors = errorNotes(r.cells);
  return [
    `Turnpike bench — ${r.date} — ${r.machine.cpus} CPUs, Node ${r.machine.node}, ${r.durationS.toFixed(0)} s`,
    `knobs: ${r.config.knobs}`,
    '',
    'Latency, ms',
    latencyTable(r.cells),
    '',
    'Throughput and errors',
    throughputTable(r.cells),
    ...(errors ? ['', errors] : []),
    '',
    'Server-Timing means (non-streaming), ms',
    serverTimingTable(r.cells),
    '',
  ].join('\n');
}

/** The billing and fallback sections of the report. */
export function renderExtras(r: BenchResults): string {
  const out: string[] = [];
  if (r.billing) {
    const b = r.billing;
    out.push(`
## Billing: ledger ingestion and balance lag

Synthetic usage events produced straight to \`usage.events.v1\` and booked into the double-entry
ledger (one DB transaction per batch, idempotent on the generation id), live and as a replay of the
whole topic from offset 0 into an empty ledger; and the lag from the end of a response to the
\`billing.balances.v1\` record that includes its generation (when the gateway's reservation is released).

${table(
  ['figure', 'value'],
  [
    [
      'live ingestion',
      `${b.ingestion.live.eventsPerSecond.toFixed(0)} events/s (${b.ingestion.live.events} events)`,
    ],
    [
      'replay from offset 0',
      `${b.ingestion.replay.eventsPerSecond.toFixed(0)} events/s (${b.ingestion.replay.events} events)`,
    ],
    ['response end → balance update, p50', `${ms(b.lag.p50Ms)} ms`],
    [
      'response end → balance update, p99',
      `${ms(b.lag.p99Ms)} ms (${b.lag.samples} samples, max ${ms(b.lag.maxMs)} ms)`,
    ],
  ],
)}
`);
  }
  if (r.rollups) {
    const u = r.rollups;
    out.push(`
## Analytics: rollup ingestion and 30-day queries

Ingestion: synthetic generations at a realistic distribution (\`TrafficGenerator\`: zipf tenants,
keys, models and apps; log-normal latencies; errors and fallbacks) produced to \`usage.events.v1\`
with their attempt records on \`llm.attempts.v1\`, rolled up live by \`analytics\` while billing books
the same events. Queries: the \`RollupReader\` the tenant API and the community use, straight on
Postgres, over ${u.query.events.toLocaleString('en')} events in ${u.query.bucketRows.toLocaleString('en')} bucket rows
(${u.query.generator}; seeded in ${u.query.seedSeconds.toFixed(0)} s). Each query ran ${u.query.queries[0]?.runs ?? 0} times after a warm-up.

${table(
  ['figure', 'value'],
  [
    [
      'rollup ingestion',
      `${u.ingestion.eventsPerSecond.toFixed(0)} events/s (${u.ingestion.events} events, ${u.ingestion.attempts} attempt records)`,
    ],
    ...u.query.queries.map((q) => [
      q.name,
      `p50 ${ms(q.p50Ms)} ms, p99 ${ms(q.p99Ms)} ms (${q.rows} rows)`,
    ]),
  ],
)}
`);
  }
  if (r.fallback) {
    const f = r.fallback;
    out.push(`
## Fallback: one of three upstreams fails ${(f.failureShare * 100).toFixed(0)}% of its requests

Model \`${f.model}\` served by three simulators; the cheapest (which default routing favours) is
switched between answering 500 and healthy at random. Baseline and degraded phases alternate.

${table(
  [
    'mode',
    'c',
    'client errors',
    'baseline p50',
    'degraded p50',
    'added p50',
    'baseline p99',
    'degraded p99',
    'added p99',
    'failing upstream: requests / failed',
  ],
  f.modes.map((m) => [
    m.mode,
    String(m.concurrency),
    `${m.degraded.errors}/${m.degraded.requests} (${(m.clientErrorRate * 100).toFixed(2)}%)`,
    ms(m.baseline.p50Ms),
    ms(m.degraded.p50Ms),
    plus(m.addedP50Ms),
    ms(m.baseline.p99Ms),
    ms(m.degraded.p99Ms),
    plus(m.addedP99Ms),
    `${m.failingUpstream.requests} / ${m.failingUpstream.failed}`,
  ]),
)}
`);
  }
  return out.join('');
}
