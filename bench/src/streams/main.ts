/**
 * `npm run bench:streams [-- --streams 10000] [-- --quick] [-- --tokens 40 --tps 2]
 * [-- --simulators K] [-- --loadgens L] [-- --modes split,fused] [-- --out docs/benchmarks.md]`:
 * N concurrent open streams on one gateway, split (through Kafka to the connector) then fused
 * (GATEWAY_TRANSPORT=inprocess), on one platform. The upstream simulators and the load generators
 * run in processes of their own, so the gateway's CPU and memory are read apart from theirs.
 * Writes bench/results/streams.json and the streams section of docs/benchmarks.md.
 */
import { execFileSync, fork, type ChildProcess } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import {
  readState,
  seedTenant,
  startPlatform,
  stopPid,
  stopPlatform,
  turnpikeCacheDir,
} from '@turnpike/testing';
import { split } from '../peers/stats.js';
import { sampleGroups, type TreeSample } from '../peers/proc.js';
import { machineInfo } from '../report.js';
import { prettier, writeResults } from '../sections.js';
import type { LoadgenJob, LoadgenMessage } from './loadgen.js';
import {
  mergeStreamsSection,
  renderStreamsMarkdown,
  renderStreamsText,
  type ProcessFigures,
  type StreamsMode,
  type StreamsResults,
} from './report.js';
import { peakOpen, summarizeStreams, type StreamSample } from './stats.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const rootDir = path.resolve(here, '../../..');

const { values: args } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    streams: { type: 'string' },
    tokens: { type: 'string', default: '40' },
    tps: { type: 'string', default: '2' },
    'ttft-ms': { type: 'string', default: '20' },
    'open-per-s': { type: 'string', default: '1000' },
    /** Default: one per 2,500 streams. */
    simulators: { type: 'string' },
    loadgens: { type: 'string', default: '1' },
    /** Default: the streams and a quarter more (the connector's own default, 2,000, caps split). */
    'connector-max-in-flight': { type: 'string' },
    'settle-s': { type: 'string' },
    modes: { type: 'string', default: 'split,fused' },
    out: { type: 'string' },
    json: { type: 'string' },
    /** Only render: the streams section of --out from these results files (several runs), measuring nothing. */
    render: { type: 'string', multiple: true },
    /** With --render: a Markdown file of commentary put before the runs. */
    commentary: { type: 'string' },
  },
});

const STREAMS = Number(args.streams ?? (args.quick ? 200 : 10_000));
const TOKENS = Number(args.tokens);
const TPS = Number(args.tps);
const TTFT_MS = Number(args['ttft-ms']);
const OPEN_PER_S = Number(args['open-per-s']);
const SIMULATORS = Number(args.simulators ?? Math.max(1, Math.ceil(STREAMS / 2500)));
const LOADGENS = Number(args.loadgens);
const CONNECTOR_MAX_IN_FLIGHT = Number(
  args['connector-max-in-flight'] ?? Math.max(2000, Math.ceil(STREAMS * 1.25)),
);
const SETTLE_S = Number(args['settle-s'] ?? (args.quick ? 10 : 60));
const SAMPLE_MS = 500;
const TIMEOUT_MS = 120_000;
const MODES = args.modes.split(',') as Array<'split' | 'fused'>;
const RSS_TARGET_BYTES = 1e9;
const outFile = path.resolve(args.out ?? path.join(rootDir, 'docs/benchmarks.md'));
const jsonFile = path.resolve(args.json ?? path.join(rootDir, 'bench/results/streams.json'));
const PROMPT = `Hold the line open [[sim tokens=${TOKENS} tps=${TPS} ttft_ms=${TTFT_MS}]]`;

const progress = (line: string) =>
  process.stderr.write(`[bench:streams ${new Date().toISOString().slice(11, 19)}] ${line}\n`);
const interrupted = new AbortController();
const children = new Set<ChildProcess>();

/** The test catalog's simulator model, once per simulator: `turnpike/stream-<k>` served by `sim-<k>`. */
function writeCatalog(file: string, sims: string[]): string[] {
  const base = JSON.parse(
    readFileSync(path.join(rootDir, 'tests/fixtures/test.catalog.json'), 'utf8'),
  ) as {
    providers: Array<{ id: string; name: string; kind: string }>;
    models: Array<{ id: string; name: string; endpoints: Array<{ provider: string }> }>;
  };
  const model = base.models.find((m) => m.id === 'turnpike/sim-small')!;
  const models = sims.map((id) => ({
    ...model,
    id: `turnpike/stream-${id}`,
    name: `Streams bench ${id}`,
    endpoints: [{ ...model.endpoints[0]!, provider: id }],
  }));
  writeFileSync(
    file,
    JSON.stringify({
      ...base,
      description: 'bench:streams: one model per upstream simulator process',
      providers: sims.map((id) => ({ id, name: `Simulator ${id}`, kind: 'openai' })),
      models,
    }),
  );
  return models.map((m) => m.id);
}

function fdLimit(): string {
  try {
    return execFileSync('sh', ['-c', 'echo "$(ulimit -Sn) soft, $(ulimit -Hn) hard"'], {
      encoding: 'utf8',
    }).trim();
  } catch {
    return 'unknown';
  }
}

/** One load generator process running `job`; resolves with its samples. */
function runLoadgen(
  job: LoadgenJob,
  onPid: (pid: number) => void,
  onProgress: (line: string) => void,
): Promise<StreamSample[]> {
  const child = fork(path.join(here, 'loadgen.js'), ['--child'], {
    serialization: 'advanced', // NaN survives
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  children.add(child);
  onPid(child.pid!);
  return new Promise<StreamSample[]>((resolve, reject) => {
    child.on('message', (m: LoadgenMessage) => {
      if (m.kind === 'progress')
        onProgress(`${m.started} started, ${m.open} open, ${m.ended} ended`);
      else if (m.kind === 'done') resolve(m.samples);
      else reject(new Error(`load generator: ${m.error}`));
    });
    child.on('exit', (code) => {
      children.delete(child);
      reject(new Error(`a load generator exited (${code}) before sending its samples`));
    });
    child.send(job);
  });
}

interface Groups {
  [group: string]: number[];
}

async function measureMode(
  mode: 'split' | 'fused',
  url: string,
  apiKey: string,
  models: string[],
  groups: Groups,
): Promise<StreamsMode> {
  progress(`${mode}: ${STREAMS} streams at ${OPEN_PER_S}/s via ${url}`);
  const loadgenPids: number[] = [];
  const allGroups = () => ({ ...groups, loadgens: loadgenPids });
  const peak: Record<string, number> = {};
  const observe = (s: Record<string, TreeSample>) => {
    for (const [g, v] of Object.entries(s)) peak[g] = Math.max(peak[g] ?? 0, v.rssBytes);
  };
  const before = sampleGroups(allGroups());
  const t0 = performance.now();
  const lines: string[] = [];
  let ticks = 0;
  const sampler = setInterval(() => {
    const s = sampleGroups(allGroups());
    observe(s);
    if (++ticks % 10 === 0)
      progress(
        `${mode}: ${lines.join(' | ')} | gateway ${(s['gateway']!.rssBytes / 2 ** 20).toFixed(0)} MiB, load ${os.loadavg()[0]!.toFixed(1)}`,
      );
  }, SAMPLE_MS);
  const loadgenCpu: number[] = [];
  let samples: StreamSample[];
  try {
    const runs = split(STREAMS, LOADGENS).map((n, i) =>
      runLoadgen(
        {
          url,
          apiKey,
          models,
          streams: n,
          openPerS: OPEN_PER_S / LOADGENS,
          prompt: PROMPT,
          maxTokens: TOKENS + 8,
          timeoutMs: TIMEOUT_MS,
        },
        (pid) => loadgenPids.push(pid),
        (line) => (lines[i] = `loadgen-${i + 1} ${line}`),
      ),
    );
    // The load generators' own CPU, read just before they exit (their trees vanish after).
    const watch = setInterval(() => {
      const s = sampleGroups({ loadgens: loadgenPids });
      loadgenCpu.push(s['loadgens']!.cpuS);
    }, SAMPLE_MS);
    try {
      samples = (await Promise.all(runs)).flat();
    } finally {
      clearInterval(watch);
    }
  } finally {
    clearInterval(sampler);
  }
  interrupted.signal.throwIfAborted();
  const wallS = (performance.now() - t0) / 1000;
  const after = sampleGroups(allGroups());
  observe(after);
  const summary = summarizeStreams(samples, TOKENS);
  const open = peakOpen(samples.map((s) => [s.openAt, s.closeAt]));
  progress(
    `${mode}: ${summary.completed}/${summary.sent} complete, peak ${open} open at once, TTFB p50 ${summary.ttfb.p50.toFixed(0)} ms, in ${wallS.toFixed(1)} s; settling ${SETTLE_S} s`,
  );
  const cpu: Record<string, number> = {};
  for (const g of Object.keys(groups))
    cpu[g] = Math.max(0, after[g]!.cpuS - (before[g]?.cpuS ?? 0));
  cpu['loadgens'] = Math.max(0, ...loadgenCpu);
  // Settled: no traffic for SETTLE_S seconds (the load generators are gone).
  await sleep(SETTLE_S * 1000, undefined, { signal: interrupted.signal });
  const settled = sampleGroups(groups);
  const processes: Record<string, ProcessFigures> = {};
  for (const g of [...Object.keys(groups), 'loadgens']) {
    processes[g] = {
      peakRssBytes: peak[g] ?? NaN,
      settledRssBytes: settled[g]?.rssBytes ?? NaN,
      cpuS: cpu[g] ?? NaN,
    };
  }
  const notes: string[] = [];
  const gw = processes['gateway']!;
  notes.push(
    `gateway peak RSS ${(gw.peakRssBytes / 1e6).toFixed(0)} MB: ${gw.peakRssBytes < RSS_TARGET_BYTES ? 'under' : 'over'} the 1 GB target with ${open} streams open at once`,
  );
  if (open < STREAMS)
    notes.push(
      `only ${open} of ${STREAMS} streams were open at once (a stream lasts ≥ ${(TTFT_MS / 1000 + TOKENS / TPS).toFixed(0)} s; they were started over ${(STREAMS / OPEN_PER_S).toFixed(1)} s)`,
    );
  return { mode, summary, peakOpen: open, wallS, processes, notes };
}

async function main(): Promise<number> {
  const t0 = performance.now();
  const loadAvgAtStart = os.loadavg();
  const stateDir = mkdtempSync(path.join(os.tmpdir(), 'turnpike-bench-streams-'));
  chmodSync(stateDir, 0o755); // Postgres runs as an unprivileged user when we are root
  process.once('SIGINT', () => interrupted.abort(new Error('interrupted by SIGINT')));
  process.once('SIGTERM', () => interrupted.abort(new Error('interrupted by SIGTERM')));
  let ok = false;
  try {
    const sims = Array.from({ length: SIMULATORS }, (_, i) => `sim-${i + 1}`);
    const catalogFile = path.join(stateDir, 'streams.catalog.json');
    const models = writeCatalog(catalogFile, sims);
    progress(
      `starting the platform in ${stateDir} (${SIMULATORS} simulators, a split and a fused gateway); load average ${loadAvgAtStart.map((x) => x.toFixed(2)).join(' ')}`,
    );
    const state = await startPlatform({
      rootDir,
      stateDir,
      cacheDir: turnpikeCacheDir(),
      detached: false,
      simulators: sims.map((id) => ({ id })),
      fusedGateways: 1,
      catalogFile,
      // The connector pauses its requests topic past this many generations; the split
      // gateway then reports the waiting attempts lost after 15 s of silence.
      serviceEnv: { connector: { CONNECTOR_MAX_IN_FLIGHT: String(CONNECTOR_MAX_IN_FLIGHT) } },
      log: (l) => progress(l),
    });
    const pidOf = (name: string) => {
      const s = state.services.find((x) => x.name === name);
      if (!s) throw new Error(`no ${name} in the platform's state`);
      return s.pid;
    };
    const { key } = await seedTenant(
      state.gatewayUrls[0]!,
      state.adminToken,
      { id: 'bench-streams', name: 'Bench streams' },
      'default',
      100_000,
    );
    const common: Groups = {
      simulators: state.simulators.map((s) => s.pid),
      router: [pidOf('router-1')],
      billing: [pidOf('billing-1')],
      analytics: [pidOf('analytics-1')],
      kafka: [state.kafka.pid],
      postgres: [state.postgres.pid],
    };
    const targets = {
      split: {
        url: state.gatewayUrls[0]!,
        groups: { gateway: [pidOf('gateway-1')], connector: [pidOf('connector-1')], ...common },
      },
      fused: {
        url: state.fusedGatewayUrls![0]!,
        groups: { gateway: [pidOf('gateway-fused-1')], ...common },
      },
    };
    // Warm-up: a few short streams through each gateway (JIT, pools, the routing table).
    const { runJob } = await import('./loadgen.js');
    for (const mode of MODES) {
      const warm = await runJob({
        url: targets[mode].url,
        apiKey: key,
        models,
        streams: 4 * models.length,
        openPerS: 100,
        prompt: `Warm up [[sim tokens=4 tps=100 ttft_ms=5]]`,
        maxTokens: 16,
        timeoutMs: 30_000,
      });
      const bad = warm.filter((s) => !s.done || s.error);
      if (bad.length > 0)
        throw new Error(
          `${mode} warm-up: ${bad.length} failed, e.g. ${bad[0]!.error ?? 'no [DONE]'}`,
        );
    }
    await sleep(2_000);
    const modes: StreamsMode[] = [];
    for (const mode of MODES) {
      const t = targets[mode];
      modes.push(await measureMode(mode, t.url, key, models, t.groups));
    }
    const results: StreamsResults = {
      date: new Date().toISOString(),
      durationS: (performance.now() - t0) / 1000,
      machine: { ...machineInfo(), loadAvgAtStart, loadAvgAtEnd: os.loadavg(), fdLimit: fdLimit() },
      config: {
        streams: STREAMS,
        tokens: TOKENS,
        tps: TPS,
        ttftMs: TTFT_MS,
        openPerS: OPEN_PER_S,
        simulators: SIMULATORS,
        loadgens: LOADGENS,
        connectorMaxInFlight: CONNECTOR_MAX_IN_FLIGHT,
        settleS: SETTLE_S,
        sampleMs: SAMPLE_MS,
        timeoutMs: TIMEOUT_MS,
      },
      modes,
    };
    writeResults({
      rootDir,
      jsonFile,
      outFile,
      results,
      section: renderStreamsMarkdown([results]),
      merge: mergeStreamsSection,
      log: progress,
    });
    process.stdout.write(`\n${renderStreamsText(results)}\n`);
    ok = true;
  } finally {
    for (const c of children) if (c.pid) await stopPid(c.pid, 5_000).catch(() => undefined);
    progress('stopping the platform');
    if (readState(stateDir)) await stopPlatform(stateDir);
    if (ok) rmSync(stateDir, { recursive: true, force: true });
    else progress(`logs kept in ${stateDir}`);
  }
  progress(`done in ${((performance.now() - t0) / 1000).toFixed(0)} s`);
  return 0;
}

/** `--render a.json --render b.json`: the section again from runs' results, measuring nothing. */
function render(files: string[]): number {
  const runs = files.map((f) => JSON.parse(readFileSync(f, 'utf8')) as StreamsResults);
  const commentary = args.commentary ? readFileSync(args.commentary, 'utf8') : '';
  const previous = existsSync(outFile) ? readFileSync(outFile, 'utf8') : '';
  writeFileSync(outFile, mergeStreamsSection(previous, renderStreamsMarkdown(runs, commentary)));
  prettier(rootDir, [outFile], progress);
  progress(`wrote ${path.relative(process.cwd(), outFile)} from ${files.join(', ')}`);
  return 0;
}

(args.render ? Promise.resolve(render(args.render)) : main()).then(
  (code) => process.exit(code),
  (e: unknown) => {
    progress(`failed: ${(e as Error).stack ?? String(e)}`);
    process.exit(interrupted.signal.aborted ? 130 : 1);
  },
);
