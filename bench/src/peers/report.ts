/** `bench:peers` results: their shape, and their Markdown (the peers section of docs/benchmarks.md). */
import type { Summary } from '../load.js';
import { table, type MachineInfo } from '../report.js';
import { mergeSection, sectionOf } from '../sections.js';
import { ratio, type Added, type Mode, type Step } from './stats.js';

export interface SystemInfo {
  name: string;
  version: string;
  streaming?: boolean;
  notes: string[];
  parts?: string[];
  /** Why it was not measured. */
  unavailable?: string;
}

export interface CellSystem {
  summary: Summary;
  added: Added;
  /** CPU seconds per part over the measured rounds. */
  cpuS: Record<string, number>;
  cpuPer1000: number;
}

export interface PeersCell {
  mode: Mode;
  concurrency: number;
  requestsPerSystem: number;
  systems: Record<string, CellSystem>;
}

export interface StepResult {
  mode: Mode;
  system: string;
  steps: Step[];
  held: number;
  topReached: boolean;
  inconclusiveAt?: number;
}

export interface PeersResults {
  date: string;
  durationS: number;
  machine: MachineInfo & { python: string; loadAvgAtStart: number[]; loadAvgAtEnd: number[] };
  config: {
    quick: boolean;
    upstream: string;
    concurrency: number[];
    perCell: Record<number, number>;
    rounds: number;
    warmupPerSystem: number;
    idleS: number;
    boundMs: number;
    steps: number[];
    /** Requests per system at the lowest step level (more at higher ones). */
    stepMinRequests: number;
    /** A run starts no request after this many seconds (a collapsing system sends fewer). */
    runCapS: number;
    client: string;
  };
  systems: SystemInfo[];
  /** Per system and part: cores used while nothing was sent, and RSS. */
  idle: Record<string, Record<string, { cores: number; rssBytes: number }>>;
  peakRssBytes: Record<string, number>;
  cells: PeersCell[];
  steps: StepResult[];
}

export const PEERS_START =
  '<!-- bench:peers:start (written by `npm run bench:peers`; `npm run bench` keeps it) -->';
export const PEERS_END = '<!-- bench:peers:end -->';

const f1 = (v: number) => (Number.isFinite(v) ? v.toFixed(1) : '–');
const f2 = (v: number) => (Number.isFinite(v) ? v.toFixed(2) : '–');
const plus = (v: number) => (Number.isFinite(v) ? `${v >= 0 ? '+' : ''}${v.toFixed(1)}` : '–');
const times = (v: number) => (Number.isFinite(v) ? `×${v.toFixed(2)}` : '–');
const mib = (b: number) => (Number.isFinite(b) && b > 0 ? (b / 2 ** 20).toFixed(0) : '–');

/** The peers section inside a whole document: replaced in place, or appended. */
export const mergePeersSection = (document: string, section: string): string =>
  mergeSection(document, section, PEERS_START, PEERS_END);

/** The peers section of a document, '' when it has none (what `npm run bench` carries over). */
export const peersSectionOf = (document: string): string =>
  sectionOf(document, PEERS_START, PEERS_END);

function cellOf(r: PeersResults, mode: Mode, c: number, system: string): CellSystem | undefined {
  return r.cells.find((x) => x.mode === mode && x.concurrency === c)?.systems[system];
}

const measured = (r: PeersResults) => r.systems.filter((s) => !s.unavailable);

export function latencyTable(r: PeersResults): string {
  const rows: string[][] = [];
  for (const cell of r.cells) {
    const direct = cell.systems['direct'];
    for (const [name, s] of Object.entries(cell.systems)) {
      const streaming = cell.mode === 'streaming';
      rows.push([
        cell.mode,
        String(cell.concurrency),
        name,
        streaming ? (name === 'direct' ? f1(s.summary.ttft.p50) : plus(s.added.ttft.p50)) : '–',
        streaming ? (name === 'direct' ? f1(s.summary.ttft.p99) : plus(s.added.ttft.p99)) : '–',
        name === 'direct' ? f1(s.summary.total.p50) : plus(s.added.total.p50),
        name === 'direct' ? f1(s.summary.total.p99) : plus(s.added.total.p99),
        times(ratio(s.summary.total.p50, direct?.summary.total.p50 ?? NaN)),
        s.summary.throughput.toFixed(0),
        times(ratio(s.summary.throughput, direct?.summary.throughput ?? NaN)),
        String(s.summary.errors),
        f2(s.cpuPer1000),
      ]);
    }
  }
  return table(
    [
      'mode',
      'c',
      'system',
      'TTFT p50',
      'TTFT p99',
      'total p50',
      'total p99',
      'total p50 ×direct',
      'req/s',
      'req/s ×direct',
      'errors',
      'CPU s/1k req',
    ],
    rows,
    [false, true, false, true, true, true, true, true, true, true, true, true],
  );
}

export function heldTable(r: PeersResults): string {
  const names = [...new Set(r.steps.map((s) => s.system))];
  const rows = names.map((name) => {
    const cols = (['non-streaming', 'streaming'] as Mode[]).map((mode) => {
      const s = r.steps.find((x) => x.system === name && x.mode === mode);
      if (!s) return ['not measured', ''];
      const held =
        s.inconclusiveAt !== undefined
          ? `≥ ${s.held} (machine too noisy at c=${s.inconclusiveAt})`
          : s.held === 0
            ? 'none (fails at c=1)'
            : `${s.held}${s.topReached ? ' (top level)' : ''}`;
      const trail = s.steps
        .map(
          (st) =>
            `c=${st.concurrency}: ${plus(st.addedP99)}${st.errors ? ` (${st.errors} err)` : ''}` +
            `${st.inconclusive ? ` (inconclusive: direct's p99 − p50 ${f1(st.directSpreadMs ?? NaN)})` : ''}`,
        )
        .join(', ');
      return [held, trail];
    });
    return [name, cols[0]![0]!, cols[1]![0]!, cols[0]![1]!, cols[1]![1]!];
  });
  return table(
    [
      'system',
      'held, non-streaming',
      'held, streaming',
      'p99 added per level, non-streaming (ms)',
      'p99 added TTFT per level, streaming (ms)',
    ],
    rows,
    [false, true, true, false, false],
  );
}

export function resourcesTable(r: PeersResults): string {
  const rows = measured(r).map((s) => {
    const idle = r.idle[s.name] ?? {};
    const cores = Object.values(idle).reduce((a, p) => a + p.cores, 0);
    const rss = Object.values(idle).reduce((a, p) => a + p.rssBytes, 0);
    const cpu = (mode: Mode, c: number) => f2(cellOf(r, mode, c, s.name)?.cpuPer1000 ?? NaN);
    return [
      s.name,
      cores.toFixed(3),
      mib(rss),
      mib(r.peakRssBytes[s.name] ?? NaN),
      cpu('non-streaming', 32),
      cpu('non-streaming', 128),
      cpu('streaming', 32),
      cpu('streaming', 128),
    ];
  });
  return table(
    [
      'system',
      'idle cores',
      'idle RSS MiB',
      'peak RSS MiB',
      'CPU s/1k non-str c=32',
      'c=128',
      'CPU s/1k str c=32',
      'c=128',
    ],
    rows,
    [false, true, true, true, true, true, true, true],
  );
}

/** Turnpike's parts separately: each service, the broker, Postgres. */
export function partsTable(r: PeersResults, system: string): string {
  const idle = r.idle[system] ?? {};
  const cells = r.cells.filter((c) => c.systems[system]);
  const rows = Object.keys(idle).map((part) => [
    part,
    idle[part]!.cores.toFixed(3),
    mib(idle[part]!.rssBytes),
    ...cells.map((c) => {
      const s = c.systems[system]!;
      const ok = s.summary.requests - s.summary.errors;
      return f2(ok > 0 ? ((s.cpuS[part] ?? 0) * 1000) / ok : NaN);
    }),
  ]);
  return table(
    [
      'part',
      'idle cores',
      'idle RSS MiB',
      ...cells.map(
        (c) => `CPU s/1k ${c.mode === 'streaming' ? 'str' : 'non-str'} c=${c.concurrency}`,
      ),
    ],
    rows,
    [false, ...cells.map(() => true), true, true],
  );
}

/** Each measured system against each other, at c=1 and c=128: added p50, throughput, CPU, held load. */
export function versusTable(r: PeersResults, base: string): string {
  const rows: string[][] = [];
  for (const s of measured(r)) {
    if (s.name === base || s.name === 'direct') continue;
    for (const mode of ['non-streaming', 'streaming'] as Mode[]) {
      const metric = (c: number, pick: (x: CellSystem) => number) => {
        const a = cellOf(r, mode, c, base);
        const b = cellOf(r, mode, c, s.name);
        return a && b ? times(ratio(pick(a), pick(b))) : '–';
      };
      const added = (x: CellSystem) =>
        mode === 'streaming' ? x.added.ttft.p50 : x.added.total.p50;
      const heldOf = (n: string) =>
        r.steps.find((x) => x.system === n && x.mode === mode)?.held ?? NaN;
      rows.push([
        s.name,
        mode,
        metric(1, added),
        metric(128, added),
        metric(128, (x) => x.summary.throughput),
        metric(128, (x) => x.cpuPer1000),
        times(ratio(heldOf(base), heldOf(s.name))),
      ]);
    }
  }
  return table(
    ['vs', 'mode', `added p50 c=1`, 'added p50 c=128', 'req/s c=128', 'CPU/req c=128', 'held load'],
    rows,
    [false, false, true, true, true, true, true],
  );
}

function systemsTable(r: PeersResults): string {
  return table(
    ['system', 'version', 'measured', 'notes'],
    r.systems.map((s) => [
      s.name,
      s.version,
      s.unavailable
        ? `**not available**: ${s.unavailable}`
        : s.streaming
          ? 'non-streaming and streaming'
          : 'non-streaming only',
      s.notes.join('; '),
    ]),
    [false, false, false, false],
  );
}

function headline(r: PeersResults): string {
  const lines: string[] = [];
  for (const mode of ['non-streaming', 'streaming'] as Mode[]) {
    for (const c of [1, 128]) {
      const parts = measured(r)
        .filter((s) => s.name !== 'direct')
        .map((s) => {
          const x = cellOf(r, mode, c, s.name);
          if (!x) return null;
          const a = mode === 'streaming' ? x.added.ttft : x.added.total;
          return `${s.name} ${plus(a.p50)} / ${plus(a.p99)} ms`;
        })
        .filter((p): p is string => p !== null);
      if (parts.length > 0)
        lines.push(
          `- ${mode}, c=${c}, added ${mode === 'streaming' ? 'TTFT' : 'total'} p50 / p99: ${parts.join(', ')}.`,
        );
    }
  }
  return lines.join('\n');
}

/** The cells where a system served fewer requests than planned (it hit the run cap). */
function cappedNote(r: PeersResults): string {
  const short = r.cells.flatMap((c) =>
    Object.entries(c.systems)
      .filter(([, s]) => s.summary.requests < c.requestsPerSystem)
      .map(
        ([n, s]) =>
          `${n} ${c.mode} c=${c.concurrency} (${s.summary.requests} of ${c.requestsPerSystem})`,
      ),
  );
  return short.length > 0 ? `  Cut short by it: ${short.join(', ')}.\n` : '';
}

/** Which sample a nearest-rank p99 of n samples is, counted from the largest. */
function nthLargest(n: number): string {
  const k = n - Math.ceil(0.99 * n) + 1;
  return k <= 1 ? 'largest' : `${k}${k === 2 ? 'nd' : k === 3 ? 'rd' : 'th'} largest`;
}

export function renderPeersMarkdown(r: PeersResults): string {
  const la = (l: number[]) => l.map((x) => x.toFixed(2)).join(' / ');
  const turnpike = measured(r).filter((s) => s.name.startsWith('turnpike'));
  const samples = (c: number) => r.config.perCell[c] ?? 0;
  return `${PEERS_START}

# Side by side: Turnpike and the gateways users would pick instead

Generated by \`npm run bench:peers${r.config.quick ? ' -- --quick' : ''}\` on ${r.date}; the run took ${r.durationS.toFixed(0)} s.

## Machine and load

- CPUs: ${r.machine.cpus} × ${r.machine.cpuModel}; memory ${r.machine.totalMemGiB.toFixed(1)} GiB; ${r.machine.os}
- Node ${r.machine.node} (load generator, Turnpike, Portkey); ${r.machine.python} (LiteLLM)
- Load average (1 / 5 / 15 min) at the start: ${la(r.machine.loadAvgAtStart)}; at the end: ${la(r.machine.loadAvgAtEnd)}.
  The machine is shared (other engineers' builds and tests ran meanwhile): absolute figures move
  from run to run; the interleaved rounds make the comparisons within a run fair, not the run repeatable.

## Systems

${systemsTable(r)}

## Method

- One upstream for everyone: ${r.config.upstream} (20 ms to the first token, then 16 tokens at 200 tokens/s, ≈ 95 ms in all).
  **direct** is that simulator called straight; every gateway is pointed at it (Turnpike through its
  catalog entry \`turnpike/sim-small\` → provider \`sim\` → \`sim-gpt-small\`; LiteLLM through a
  \`model_list\` entry \`openai/sim-gpt-small\` with \`api_base\`; Portkey through
  \`x-portkey-provider: openai\` and \`x-portkey-custom-host\`).
- One load generator: ${r.config.client}. Closed loop: each of \`c\` workers sends its next request
  when its previous one is done.
- Per mode and concurrency (${r.config.concurrency.join(', ')}): ${Object.entries(r.config.perCell)
    .map(([c, n]) => `${n} requests per system at c=${c}`)
    .join(', ')}, in
  ${r.config.rounds} rounds; each round runs every system once, the order rotated by one each
  round (A B C D, B C D A, …), so drift on the shared machine hits all alike. Before each cell,
  one request per worker and system opens the sockets; before everything, ${r.config.warmupPerSystem}
  requests per system and mode warm the JITs up. Nothing of the warm-up is counted.
- **Added** = the system's percentile − direct's same percentile over the same rounds (a difference
  of tails, not the tail of per-request differences). TTFT = time to the first non-empty
  \`delta.content\` (streaming only); total = to the end of the JSON body, or to \`[DONE]\`.
- **Highest load held**: concurrency raised through ${r.config.steps.join(', ')}; at each level every
  system still in the race and direct run interleaved (2 rounds); a system holds a level when its p99
  added (total non-streaming, TTFT streaming) is ≤ ${r.config.boundMs} ms with no error; the search stops
  for it at the first level it does not hold. A level where direct's own p99 − p50 exceeds the bound
  is measured again (3 attempts at most); if it still does, the machine was too noisy to judge that
  level and the figure is a lower bound ("≥").
- **CPU s/1k req**: utime+stime (with reaped children) of the system's process trees from
  \`/proc/<pid>/stat\`, read before and after each of its own runs, per 1000 successful requests.
  **Idle cores**: every system idle at once for ${r.config.idleS} s after the warm-up. **RSS**: the trees'
  resident memory, idle and the highest seen after a run. The upstream's and the load generator's
  CPU are nobody's (direct's row shows the simulator's own).

## Results

${headline(r)}

### Added latency (ms over direct; direct's rows are its own latency), throughput, errors, CPU

${latencyTable(r)}

### Highest load held with p99 added ≤ ${r.config.boundMs} ms and no error

${heldTable(r)}

### CPU and memory

${resourcesTable(r)}
${turnpike.map((t) => `\n#### ${t.name}, by part\n\n${partsTable(r, t.name)}\n`).join('')}
### Ratios between systems (Turnpike split ÷ the other; below 1 is better for Turnpike except req/s and held load)

${versusTable(r, 'turnpike-split')}

## What limited each figure

- Everything shares 2 cores: the load generator, the simulator, every gateway and Turnpike's five
  services, broker and Postgres, and other engineers' work. All systems are up during the whole run,
  so a system's idle cost (Turnpike's idle cores above) is spent during the others' rounds too.
- Samples: ${r.config.quick ? 'a `--quick` run: ' : ''}${samples(1)} requests per system at c=1, so its p99 (nearest rank)
  is its ${nthLargest(samples(1))} sample; a step level sends at least ${r.config.stepMinRequests} requests per system.${r.config.quick ? ' Treat the p99s as rough.' : ''}
- A run starts no new request after ${r.config.runCapS} s: a system that slows down that much
  serves fewer requests than planned in that cell (its \`requests\` in the JSON say how many).
${cappedNote(r)}- CPU per request at c=1 is mostly a system's idle cost spread over few requests: a request takes
  ≈ 0.1 s there, so an idle burn of x cores adds ≈ 100·x CPU s per 1000 requests. The c=32 and
  c=128 figures are the ones to compare.
- direct's throughput at c=128 is the simulator's and the load generator's ceiling on this machine,
  not a network limit; a gateway's ratio to it is what the gateway costs on the same cores.
${r.systems
  .filter((s) => s.notes.length > 0 || s.unavailable)
  .map(
    (s) =>
      `- ${s.name}: ${[...(s.unavailable ? [`not measured: ${s.unavailable}`] : []), ...s.notes].join('; ')}.`,
  )
  .join('\n')}

${PEERS_END}
`;
}

export function renderPeersText(r: PeersResults): string {
  return [
    systemsTable(r),
    '',
    latencyTable(r),
    '',
    heldTable(r),
    '',
    resourcesTable(r),
    '',
    versusTable(r, 'turnpike-split'),
  ].join('\n');
}
