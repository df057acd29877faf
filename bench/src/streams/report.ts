/** `bench:streams` results: their shape, and their Markdown (the streams section of docs/benchmarks.md). */
import type { MachineInfo } from '../report.js';
import { mergeSection, sectionOf } from '../sections.js';
import type { StreamsSummary } from './stats.js';

export interface ProcessFigures {
  /** Highest RSS sampled (every `sampleMs`) from the first stream to the last one's end. */
  peakRssBytes: number;
  /** RSS after `settleS` seconds with no traffic. */
  settledRssBytes: number;
  /** CPU seconds from the first stream to the last one's end. */
  cpuS: number;
}

export interface StreamsMode {
  mode: 'split' | 'fused';
  summary: StreamsSummary;
  /** The most streams open at once (headers received, not ended), over all load generators. */
  peakOpen: number;
  /** From the first stream's start to the last one's end. */
  wallS: number;
  /** Per process group: gateway, connector (split), simulators, load generators, ... */
  processes: Record<string, ProcessFigures>;
  /** What a reader should know about this mode's figures (what limited them). */
  notes: string[];
}

export interface StreamsResults {
  date: string;
  durationS: number;
  machine: MachineInfo & {
    loadAvgAtStart: number[];
    loadAvgAtEnd: number[];
    fdLimit: string;
  };
  config: {
    streams: number;
    tokens: number;
    tps: number;
    ttftMs: number;
    openPerS: number;
    simulators: number;
    loadgens: number;
    /** CONNECTOR_MAX_IN_FLIGHT of the platform's connector (split mode's generations). */
    connectorMaxInFlight?: number;
    settleS: number;
    sampleMs: number;
    timeoutMs: number;
  };
  modes: StreamsMode[];
}

export const STREAMS_START =
  '<!-- bench:streams:start (written by `npm run bench:streams`; the other benches keep it) -->';
export const STREAMS_END = '<!-- bench:streams:end -->';

export const mergeStreamsSection = (document: string, section: string) =>
  mergeSection(document, section, STREAMS_START, STREAMS_END);
export const streamsSectionOf = (document: string) =>
  sectionOf(document, STREAMS_START, STREAMS_END);

const ms = (v: number) => (Number.isFinite(v) ? v.toFixed(0) : '–');
const mib = (b: number) => (Number.isFinite(b) && b > 0 ? (b / 2 ** 20).toFixed(0) : '–');
const s1 = (v: number) => (Number.isFinite(v) ? v.toFixed(1) : '–');

/** `n × kind` by count, with when they happened (p50 of their time from start) when known. */
export function errorsText(
  errors: Record<string, number>,
  at: Record<string, { p50: number }> = {},
): string {
  const entries = Object.entries(errors).sort((a, b) => b[1] - a[1]);
  const when = (k: string) =>
    Number.isFinite(at[k]?.p50) ? ` (at ${(at[k]!.p50 / 1000).toFixed(1)} s p50)` : '';
  return entries.length === 0
    ? 'none'
    : entries.map(([k, n]) => `${n} × ${k}${when(k)}`).join('; ');
}

/** The streams table: one row per mode. */
export function streamsTable(r: StreamsResults): string {
  const head =
    '| mode | sent | opened | peak open at once | completed (all tokens + [DONE]) | errors | TTFB p50 / p99 ms | TTFT p50 / p99 ms | total p50 / p99 ms |';
  const rows = r.modes.map((m) => {
    const s = m.summary;
    return `| ${m.mode} | ${s.sent} | ${s.opened} | ${m.peakOpen} | ${s.completed}${s.allComplete ? ' (all)' : ''} | ${errorsText(s.errors, s.errorAtMs)} | ${ms(s.ttfb.p50)} / ${ms(s.ttfb.p99)} | ${ms(s.ttft.p50)} / ${ms(s.ttft.p99)} | ${ms(s.total.p50)} / ${ms(s.total.p99)} |`;
  });
  return [head, '|' + ' --- |'.repeat(9), ...rows].join('\n');
}

/** The processes table: peak and settled RSS, CPU seconds, per mode and process group. */
export function processTable(r: StreamsResults): string {
  const head =
    '| mode | process | peak RSS MiB | settled RSS MiB | CPU s | cores (CPU s / wall s) |';
  const rows = r.modes.flatMap((m) =>
    Object.entries(m.processes).map(
      ([name, p]) =>
        `| ${m.mode} | ${name} | ${mib(p.peakRssBytes)} | ${mib(p.settledRssBytes)} | ${s1(p.cpuS)} | ${m.wallS > 0 ? (p.cpuS / m.wallS).toFixed(2) : '–'} |`,
    ),
  );
  return [head, '|' + ' --- |'.repeat(6), ...rows].join('\n');
}

/** One run: how it was made, its tables and notes. */
function runMarkdown(r: StreamsResults, heading: string): string {
  const c = r.config;
  const la = (v: number[]) => v.map((x) => x.toFixed(2)).join(' / ');
  const notes = r.modes.flatMap((m) => m.notes.map((n) => `- ${m.mode}: ${n}`));
  return `${heading} ${c.streams} streams, ${r.date}

\`npm run bench:streams -- --streams ${c.streams} --tokens ${c.tokens} --tps ${c.tps} --open-per-s ${c.openPerS} --loadgens ${c.loadgens}\`; the run took ${r.durationS.toFixed(0)} s.
Machine: ${r.machine.cpus} × ${r.machine.cpuModel}, ${r.machine.totalMemGiB.toFixed(1)} GiB, ${r.machine.node}, fd limit ${r.machine.fdLimit};
load average (1/5/15 min) ${la(r.machine.loadAvgAtStart)} at the start and ${la(r.machine.loadAvgAtEnd)} at the end (the 2 cores are shared with other work).
${c.streams} streams are started at ${c.openPerS}/s by ${c.loadgens} load generator process(es), round-robin over
${c.simulators} upstream simulator process(es); each asks for ${c.tokens} tokens at ${c.tps} tokens/s
after ${c.ttftMs} ms (\`[[sim tokens=${c.tokens} tps=${c.tps} ttft_ms=${c.ttftMs}]]\`), so it lasts
${s1(c.ttftMs / 1000 + c.tokens / c.tps)} s at least. The connector runs with \`CONNECTOR_MAX_IN_FLIGHT=${c.connectorMaxInFlight ?? 2000}\`.
RSS sampled every ${c.sampleMs} ms; settled after ${c.settleS} s with no traffic; client timeouts ${c.timeoutMs} ms.

${streamsTable(r)}

${processTable(r)}
${notes.length > 0 ? `\n${notes.join('\n')}\n` : ''}`;
}

/** The streams section: the method once, then each run (newest first as given). */
export function renderStreamsMarkdown(runs: StreamsResults[], commentary = ''): string {
  return `${STREAMS_START}

## Concurrent open streams (\`npm run bench:streams\`)

Target (issue 12): 10,000 concurrent open streams on one gateway under 1 GB RSS.
One platform with a split gateway (through Kafka to the connector) and a fused one
(\`GATEWAY_TRANSPORT=inprocess\`), measured one after the other, each stream on a socket of its own
(undici in load generator processes of their own; the upstream simulators in processes of their own).
"Peak open at once" counts streams between their headers and their end. A stream is complete when it
got \`[DONE]\` and exactly the tokens asked for, as content events (and usage saying as much).
CPU seconds cover a mode's wall time (first stream's start to last one's end); cores is their ratio.
${commentary ? `\n${commentary.trim()}\n` : ''}
${runs.map((r) => runMarkdown(r, '###')).join('\n')}
${STREAMS_END}
`;
}

export function renderStreamsText(r: StreamsResults): string {
  return `${streamsTable(r)}\n\n${processTable(r)}\n`;
}
