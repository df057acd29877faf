/**
 * `npm run bench [-- --quick] [-- --out <file.md>]`: starts its own platform, then measures the
 * latency the gateway adds over direct calls to the same upstream simulator, non-streaming and
 * streaming, at concurrency 1, 32 and 128; then billing's ledger, fallback, and analytics' rollup
 * ingestion and 30-day queries over 10 million events. Prints the tables, writes docs/benchmarks.md and
 * bench/results/latest.json. Exits 1 when more than 1% of the measured requests failed.
 */
import {
  chmodSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { seedTenant, startPlatform, stopPlatform, turnpikeCacheDir } from '@turnpike/testing';
import { benchBilling } from './billing.js';
import { runFallbackBench } from './fallback.js';
import { benchRollups } from './rollups.js';
import { agent, runLoad, summarize, type LoadRun, type Target } from './load.js';
import { mergePeersSection, peersSectionOf } from './peers/report.js';
import { mergeStreamsSection, streamsSectionOf } from './streams/report.js';
import {
  machineInfo,
  renderMarkdown,
  renderText,
  type BenchResults,
  type CellResult,
  type Mode,
} from './report.js';

const rootDir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const cacheDir = turnpikeCacheDir();

const { values: args } = parseArgs({
  options: { quick: { type: 'boolean', default: false }, out: { type: 'string' } },
});
const outFile = path.resolve(args.out ?? path.join(rootDir, 'docs/benchmarks.md'));
const jsonFile = path.join(rootDir, 'bench/results/latest.json');

/** A fast model, deterministic: first token after 20 ms, then 15 more at 200 tokens/s (≈ 95 ms in all). */
const KNOBS = 'ttft_ms=20 tps=200 tokens=16';
const PROMPT = `[[sim ${KNOBS}]] Benchmark the toll road from the gateway to the upstream and back`;
const MODES: Mode[] = ['non-streaming', 'streaming'];
const CONCURRENCY = [1, 32, 128];
// Requests per side and cell. At c=128, 2000 are ~4 waves per round: a round's ramp up/down stays small.
const PLAN = args.quick
  ? { perCell: { 1: 40, 32: 160, 128: 256 } as Record<number, number>, rounds: 2, warmup: 20 }
  : { perCell: { 1: 200, 32: 1000, 128: 2000 } as Record<number, number>, rounds: 4, warmup: 100 };
const MAX_ERROR_RATE = 0.01;

const progress = (line: string) => process.stderr.write(`[bench] ${line}\n`);

/** Ctrl-C / SIGTERM: stop sending, abort what is in flight, stop the platform, exit 130. */
const interrupted = new AbortController();

async function measure(direct: Target, gateway: Target): Promise<CellResult[]> {
  const targets = { direct, gateway };
  const signal = interrupted.signal;
  const load = async (target: Target, stream: boolean, concurrency: number, requests: number) => {
    const run = await runLoad({ target, stream, concurrency, requests, prompt: PROMPT, signal });
    signal.throwIfAborted();
    return run;
  };
  // Past this many failures the run has failed anyway: stop rather than wait out timeouts.
  const planned = MODES.length * 2 * CONCURRENCY.reduce((a, c) => a + PLAN.perCell[c]!, 0);
  const budget = Math.floor(planned * MAX_ERROR_RATE);
  let failed = 0;

  for (const mode of MODES) {
    for (const target of [direct, gateway])
      await load(target, mode === 'streaming', 8, PLAN.warmup);
  }
  const cells: CellResult[] = [];
  for (const mode of MODES) {
    for (const concurrency of CONCURRENCY) {
      const stream = mode === 'streaming';
      const requests = PLAN.perCell[concurrency]!;
      // One request per worker and side: opens the sockets this concurrency needs.
      for (const target of [direct, gateway]) await load(target, stream, concurrency, concurrency);
      const runs: Record<'direct' | 'gateway', LoadRun[]> = { direct: [], gateway: [] };
      for (let round = 0; round < PLAN.rounds; round++) {
        const perRound =
          Math.floor(requests / PLAN.rounds) + (round < requests % PLAN.rounds ? 1 : 0);
        const order =
          round % 2 === 0 ? (['direct', 'gateway'] as const) : (['gateway', 'direct'] as const);
        for (const side of order) {
          const run = await load(targets[side], stream, concurrency, perRound);
          runs[side].push(run);
          const errors = run.samples.filter((s) => !s.ok);
          failed += errors.length;
          if (failed > budget) {
            throw new Error(
              `${failed} failed requests, more than ${MAX_ERROR_RATE * 100}% of the ${planned} planned; giving up at ` +
                `${mode} c=${concurrency} ${side}: ${[...new Set(errors.map((e) => e.error))].slice(0, 3).join('; ')}`,
            );
          }
        }
      }
      const cell: CellResult = {
        mode,
        concurrency,
        requests,
        direct: summarize(runs.direct),
        gateway: summarize(runs.gateway),
      };
      progress(
        `${mode} c=${concurrency}: total p50 ${cell.direct.total.p50.toFixed(1)} → ${cell.gateway.total.p50.toFixed(1)} ms, ` +
          `${cell.direct.throughput.toFixed(0)} → ${cell.gateway.throughput.toFixed(0)} req/s, errors ${cell.direct.errors}/${cell.gateway.errors}`,
      );
      cells.push(cell);
    }
  }
  return cells;
}

async function main(): Promise<number> {
  const t0 = performance.now();
  const loadAvg1mAtStart = os.loadavg()[0]!;
  const stateDir = mkdtempSync(path.join(os.tmpdir(), 'turnpike-bench-'));
  chmodSync(stateDir, 0o755); // Postgres runs as an unprivileged user when we are root
  const onSignal = (signal: NodeJS.Signals) => {
    progress(`${signal}: interrupting`);
    interrupted.abort(new Error(`interrupted by ${signal}`));
  };
  process.once('SIGINT', onSignal).once('SIGTERM', onSignal);

  let ok = false;
  try {
    progress(`starting the platform in ${stateDir}`);
    const state = await startPlatform({
      rootDir,
      stateDir,
      cacheDir,
      detached: false,
      // Three simulators and a model served by all three, for the fallback figures.
      simulators: [{ id: 'sim' }, { id: 'sim-b' }, { id: 'sim-c' }],
      catalogFile: path.join(rootDir, 'tests/fixtures/test.catalog.json'),
      log: (l) => progress(l),
    });
    const gatewayUrl = state.gatewayUrls[0]!;
    const sim = state.simulators[0]!;
    const { key } = await seedTenant(gatewayUrl, state.adminToken, {
      id: 'bench',
      name: 'Bench tenant',
    });
    progress(`platform up after ${((performance.now() - t0) / 1000).toFixed(0)} s; measuring`);

    const cells = await measure(
      { side: 'direct', url: sim.url, apiKey: sim.apiKey, model: 'sim-gpt-small' },
      { side: 'gateway', url: gatewayUrl, apiKey: key, model: 'turnpike/sim-small' },
    );
    progress('billing: ledger ingestion and balance lag');
    const billing = await benchBilling({
      stateDir,
      gatewayUrl,
      log: (l) => progress(l),
      ...(args.quick ? { events: 3000, lagSamples: 60 } : {}),
    });
    progress('fallback: one of three upstreams failing half its requests');
    const fallback = await runFallbackBench({
      gatewayUrl,
      apiKey: key,
      model: 'turnpike/sim-multi',
      failingSimulatorUrl: state.simulators.find((s) => s.id === 'sim')!.url,
      requests: args.quick ? 200 : 1000,
      log: (l) => progress(l),
    });
    progress('analytics: rollup ingestion and 30-day queries over 10 million events');
    const rollups = await benchRollups({
      stateDir,
      log: (l) => progress(l),
      ...(args.quick ? { events: 3000, queryRuns: 20 } : {}),
    });
    const results: BenchResults = {
      date: new Date().toISOString(),
      durationS: (performance.now() - t0) / 1000,
      machine: { ...machineInfo(), loadAvg1mAtStart },
      config: {
        quick: args.quick,
        knobs: KNOBS,
        prompt: PROMPT,
        rounds: PLAN.rounds,
        warmupPerSide: PLAN.warmup,
        client:
          'undici `request` over one `Agent` (up to 512 keep-alive sockets per origin, no pipelining)',
      },
      cells,
      billing,
      fallback,
      rollups,
    };
    mkdirSync(path.dirname(jsonFile), { recursive: true });
    writeFileSync(jsonFile, `${JSON.stringify(results, null, 2)}\n`);
    mkdirSync(path.dirname(outFile), { recursive: true });
    // The peers and streams sections (`npm run bench:peers`, `bench:streams`) are the other
    // benches': carried over as they are.
    const previous = existsSync(outFile) ? readFileSync(outFile, 'utf8') : '';
    const peers = peersSectionOf(previous);
    const streams = streamsSectionOf(previous);
    let doc = renderMarkdown(results);
    if (peers) doc = mergePeersSection(doc, peers);
    if (streams) doc = mergeStreamsSection(doc, streams);
    writeFileSync(outFile, doc);
    process.stdout.write(`\n${renderText(results)}\n`);
    progress(
      `wrote ${path.relative(process.cwd(), outFile)} and ${path.relative(process.cwd(), jsonFile)}`,
    );

    const sent =
      cells.reduce((a, c) => a + c.direct.requests + c.gateway.requests, 0) +
      fallback.modes.reduce((a, m) => a + m.degraded.requests + m.baseline.requests, 0);
    const failed =
      cells.reduce((a, c) => a + c.direct.errors + c.gateway.errors, 0) +
      fallback.modes.reduce((a, m) => a + m.degraded.errors + m.baseline.errors, 0);
    ok = failed <= sent * MAX_ERROR_RATE;
    if (!ok)
      progress(`FAILED: ${failed} of ${sent} requests failed (more than ${MAX_ERROR_RATE * 100}%)`);
  } finally {
    await agent.close();
    progress('stopping the platform');
    await stopPlatform(stateDir);
    if (ok) rmSync(stateDir, { recursive: true, force: true });
    else progress(`logs kept in ${path.join(stateDir, 'logs')}`);
  }
  progress(`done in ${((performance.now() - t0) / 1000).toFixed(0)} s`);
  return ok ? 0 : 1;
}

main().then(
  (code) => process.exit(code),
  (e: unknown) => {
    progress(
      `failed: ${interrupted.signal.aborted ? (e as Error).message : ((e as Error).stack ?? String(e))}`,
    );
    process.exit(interrupted.signal.aborted ? 130 : 1);
  },
);
