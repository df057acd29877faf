/**
 * `npm run bench:peers [-- --quick] [-- --turnpike-only] [-- --out docs/benchmarks.md] [-- --fused-env K=V ...]
 * [-- --render bench/results/peers.json]`:
 * Turnpike (split, and fused once it exists) beside LiteLLM, Portkey and Bifrost, all pointed at
 * the same fast upstream simulator (its own process) and driven by one load generator (this
 * process) in interleaved rounds. Installs the peers first (cached), then writes
 * bench/results/peers.json and the peers section of docs/benchmarks.md.
 */
import { execFileSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import {
  masterKeyFileOf,
  readState,
  restartService,
  seedTenant,
  startPlatform,
  stopPid,
  stopPlatform,
  turnpikeCacheDir,
} from '@turnpike/testing';
import { Agent } from 'undici';
import { runLoad, summarize, type LoadRun } from '../load.js';
import { machineInfo } from '../report.js';
import {
  BIFROST_VERSION,
  LITELLM_VERSION,
  PORTKEY_VERSIONS,
  ensureLiteLLM,
  ensureNpmPeer,
} from './install.js';
import { cpuDelta, sampleGroups, type TreeSample } from './proc.js';
import {
  mergePeersSection,
  renderPeersMarkdown,
  renderPeersText,
  type PeersCell,
  type PeersResults,
  type StepResult,
  type SystemInfo,
} from './report.js';
import {
  addedOver,
  cpuPer1000,
  heldConcurrency,
  roundOrder,
  split,
  stepHolds,
  type Mode,
} from './stats.js';
import {
  firstError,
  fusedAvailability,
  probe,
  startLiteLLM,
  startPortkey,
  tryBifrost,
  type System,
} from './systems.js';

const rootDir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
const cacheDir = turnpikeCacheDir();

const { values: args } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    out: { type: 'string' },
    'fused-env': { type: 'string', multiple: true, default: ['GATEWAY_TRANSPORT=inprocess'] },
    /** Only render: rewrite the peers section of --out from a results file, measuring nothing. */
    render: { type: 'string' },
    /** Skip the peers (LiteLLM, Portkey, Bifrost): Turnpike split and fused beside direct only. */
    'turnpike-only': { type: 'boolean', default: false },
  },
});
const outFile = path.resolve(args.out ?? path.join(rootDir, 'docs/benchmarks.md'));
const jsonFile = path.join(rootDir, 'bench/results/peers.json');
const fusedEnv = Object.fromEntries(
  args['fused-env'].map((kv) => [kv.slice(0, kv.indexOf('=')), kv.slice(kv.indexOf('=') + 1)]),
);

/** 20 ms to the first token, then 16 tokens at 200 tokens/s: the simulator's start-up defaults. */
const SIM_ARGS = ['--ttft-ms', '20', '--tps', '200', '--tokens', '16'];
const PROMPT = 'Benchmark the toll road from the gateway to the upstream and back';
const MODES: Mode[] = ['non-streaming', 'streaming'];
const CONCURRENCY = [1, 32, 128];
const BOUND_MS = 25;
const IDLE_S = 10;
const PLAN = args.quick
  ? {
      perCell: { 1: 40, 32: 256, 128: 512 } as Record<number, number>,
      rounds: 2,
      warmup: 40,
      steps: [1, 4, 8, 16, 32, 64, 128],
      stepRequests: (c: number) => Math.max(100, 2 * c),
      stepRounds: 2,
      runCapS: 20,
    }
  : {
      perCell: { 1: 200, 32: 1000, 128: 2000 } as Record<number, number>,
      rounds: 4,
      warmup: 100,
      steps: [1, 2, 4, 8, 16, 32, 64, 128, 256],
      stepRequests: (c: number) => Math.max(200, 6 * c),
      stepRounds: 2,
      runCapS: 60,
    };

const progress = (line: string) => process.stderr.write(`[bench:peers] ${line}\n`);
/**
 * The load generator's client: enough sockets for the highest concurrency, no pipelining, a stuck
 * request fails after 15 s. Idle sockets close after 1 s, before any server's own keep-alive
 * timeout (gunicorn's is 2 s): between two rounds of a system the others run for seconds, and a
 * socket the server closes just as a request goes out fails that request ('other side closed').
 */
const client = new Agent({
  connections: 512,
  pipelining: 1,
  keepAliveTimeout: 1_000,
  keepAliveMaxTimeout: 1_000,
  headersTimeout: 15_000,
  bodyTimeout: 15_000,
});
const interrupted = new AbortController();

/** One system's run of `requests`, with the CPU its processes used meanwhile and their RSS after. */
interface Measured {
  run: LoadRun;
  cpuS: Record<string, number>;
  rss: Record<string, TreeSample>;
}

async function measureRun(
  system: System,
  stream: boolean,
  concurrency: number,
  requests: number,
): Promise<Measured> {
  const before = sampleGroups(system.groups);
  const run = await runLoad({
    target: system.target!,
    stream,
    concurrency,
    requests,
    prompt: PROMPT,
    signal: interrupted.signal,
    stopStartingAfterMs: PLAN.runCapS * 1000,
    dispatcher: client,
  });
  interrupted.signal.throwIfAborted();
  const after = sampleGroups(system.groups);
  return { run, cpuS: cpuDelta(before, after), rss: after };
}

const sum = (o: Record<string, number>) => Object.values(o).reduce((a, b) => a + b, 0);

function addInto(into: Record<string, number>, from: Record<string, number>) {
  for (const [k, v] of Object.entries(from)) into[k] = (into[k] ?? 0) + v;
}

async function matrix(systems: System[], peakRss: Record<string, number>): Promise<PeersCell[]> {
  const cells: PeersCell[] = [];
  for (const mode of MODES) {
    const stream = mode === 'streaming';
    const active = systems.filter((s) => s.target && (!stream || s.streaming));
    for (const concurrency of CONCURRENCY) {
      // One request per worker: opens the sockets this concurrency needs.
      for (const s of active) await measureRun(s, stream, concurrency, concurrency);
      const runs: Record<string, LoadRun[]> = {};
      const cpu: Record<string, Record<string, number>> = {};
      const perRound = split(PLAN.perCell[concurrency]!, PLAN.rounds);
      for (let round = 0; round < PLAN.rounds; round++) {
        for (const s of roundOrder(active, round)) {
          const m = await measureRun(s, stream, concurrency, perRound[round]!);
          (runs[s.name] ??= []).push(m.run);
          addInto((cpu[s.name] ??= {}), m.cpuS);
          peakRss[s.name] = Math.max(
            peakRss[s.name] ?? 0,
            sum(Object.fromEntries(Object.entries(m.rss).map(([k, v]) => [k, v.rssBytes]))),
          );
        }
      }
      const direct = summarize(runs['direct']!);
      const cell: PeersCell = {
        mode,
        concurrency,
        requestsPerSystem: PLAN.perCell[concurrency]!,
        systems: {},
      };
      for (const s of active) {
        const summary = s.name === 'direct' ? direct : summarize(runs[s.name]!);
        const ok = summary.requests - summary.errors;
        cell.systems[s.name] = {
          summary,
          added: addedOver(summary, direct),
          cpuS: cpu[s.name]!,
          cpuPer1000: cpuPer1000(sum(cpu[s.name]!), ok),
        };
      }
      progress(
        `${mode} c=${concurrency}: ` +
          active
            .map((s) => {
              const c = cell.systems[s.name]!;
              return `${s.name} ${c.summary.total.p50.toFixed(1)} ms p50, ${c.summary.throughput.toFixed(0)} req/s, ${c.summary.errors} err`;
            })
            .join(' | '),
      );
      cells.push(cell);
    }
  }
  return cells;
}

/** Per mode: raise the concurrency until a system's p99 added exceeds the bound or it errs. */
const STEP_ATTEMPTS = 3;
const plusMs = (v: number) => `${v >= 0 ? '+' : ''}${v.toFixed(1)} ms`;

/** How far direct's own p99 is from its p50 (TTFT streaming, total otherwise). */
function directSpread(d: ReturnType<typeof summarize>, stream: boolean): number {
  const m = stream ? d.ttft : d.total;
  return m.p99 - m.p50;
}

async function stepSearch(systems: System[]): Promise<StepResult[]> {
  const direct = systems.find((s) => s.name === 'direct')!;
  const out: StepResult[] = [];
  for (const mode of MODES) {
    const stream = mode === 'streaming';
    let alive = systems.filter((s) => s.name !== 'direct' && s.target && (!stream || s.streaming));
    const steps: Record<string, StepResult['steps']> = Object.fromEntries(
      alive.map((s) => [s.name, []]),
    );
    for (const concurrency of PLAN.steps) {
      if (alive.length === 0) break;
      const present = [direct, ...alive];
      let runs: Record<string, LoadRun[]> = {};
      let d = summarize([]);
      // A level where direct itself strays (its p99 over its p50 by more than the bound) says
      // more about the machine than about the systems: measured again, at most STEP_ATTEMPTS times.
      for (let attempt = 1; attempt <= STEP_ATTEMPTS; attempt++) {
        runs = {};
        const perRound = split(PLAN.stepRequests(concurrency), PLAN.stepRounds);
        for (const s of present) await measureRun(s, stream, concurrency, concurrency);
        for (let round = 0; round < PLAN.stepRounds; round++) {
          for (const s of roundOrder(present, round)) {
            (runs[s.name] ??= []).push(
              (await measureRun(s, stream, concurrency, perRound[round]!)).run,
            );
          }
        }
        d = summarize(runs['direct']!);
        if (directSpread(d, stream) <= BOUND_MS) break;
        progress(
          `step ${mode} c=${concurrency}: direct's own p99 − p50 is ${directSpread(d, stream).toFixed(1)} ms (attempt ${attempt} of ${STEP_ATTEMPTS})`,
        );
      }
      const spread = directSpread(d, stream);
      for (const s of alive) {
        const sm = summarize(runs[s.name]!);
        const added = addedOver(sm, d);
        steps[s.name]!.push({
          concurrency,
          addedP99: stream ? added.ttft.p99 : added.total.p99,
          errors: sm.errors,
          directSpreadMs: spread,
          ...(spread > BOUND_MS ? { inconclusive: true } : {}),
        });
      }
      alive = alive.filter((s) => stepHolds(steps[s.name]!.at(-1)!, BOUND_MS));
      progress(
        `step ${mode} c=${concurrency}: ` +
          Object.entries(steps)
            .filter(([, st]) => st.at(-1)?.concurrency === concurrency)
            .map(
              ([n, st]) =>
                `${n} ${plusMs(st.at(-1)!.addedP99)} p99, ${st.at(-1)!.errors} err${st.at(-1)!.inconclusive ? ' (inconclusive)' : ''}`,
            )
            .join(' | '),
      );
    }
    for (const [name, st] of Object.entries(steps)) {
      out.push({ mode, system: name, steps: st, ...heldConcurrency(st, BOUND_MS) });
    }
  }
  return out;
}

/** The repository's prettier over what we wrote (the docs are kept formatted); best effort. */
function prettier(files: string[]): void {
  try {
    execFileSync(path.join(rootDir, 'node_modules/.bin/prettier'), ['--write', ...files], {
      cwd: rootDir,
      stdio: 'ignore',
    });
  } catch (e) {
    progress(`prettier did not run: ${(e as Error).message.split('\n')[0]}`);
  }
}

function versionOf(cmd: string, argv: string[]): string {
  try {
    return execFileSync(cmd, argv, { encoding: 'utf8' }).trim().split('\n')[0]!;
  } catch {
    return 'unknown';
  }
}

async function main(): Promise<number> {
  const t0 = performance.now();
  const loadAvgAtStart = os.loadavg();
  const stateDir = mkdtempSync(path.join(os.tmpdir(), 'turnpike-bench-peers-'));
  chmodSync(stateDir, 0o755); // Postgres runs as an unprivileged user when we are root
  const peerLogs = path.join(stateDir, 'peers');
  mkdirSync(peerLogs, { recursive: true });
  process.once('SIGINT', () => interrupted.abort(new Error('interrupted by SIGINT')));
  process.once('SIGTERM', () => interrupted.abort(new Error('interrupted by SIGTERM')));
  const systems: System[] = [];
  const unavailable: SystemInfo[] = [];
  let ok = false;
  try {
    // 1. Installs, before anything runs.
    const peers = !args['turnpike-only'];
    let litellmBin: string | undefined;
    try {
      if (peers) litellmBin = await ensureLiteLLM(cacheDir, rootDir, progress);
    } catch (e) {
      unavailable.push({
        name: 'litellm',
        version: LITELLM_VERSION,
        notes: [],
        unavailable: `install failed: ${(e as Error).message.slice(0, 300)}`,
      });
    }
    const portkeyDirs: Array<[string, string]> = [];
    for (const v of peers ? PORTKEY_VERSIONS : []) {
      try {
        portkeyDirs.push([v, await ensureNpmPeer(cacheDir, '@portkey-ai/gateway', v, progress)]);
      } catch (e) {
        progress(`portkey ${v}: install failed: ${(e as Error).message.slice(0, 200)}`);
      }
    }
    let bifrostDir: string | undefined;
    try {
      if (peers)
        bifrostDir = await ensureNpmPeer(cacheDir, '@maximhq/bifrost', BIFROST_VERSION, progress);
    } catch (e) {
      unavailable.push({
        name: 'bifrost',
        version: BIFROST_VERSION,
        notes: [],
        unavailable: `npm install failed: ${(e as Error).message.slice(0, 200)}`,
      });
    }

    // 2. Turnpike split: the test platform, whose simulator is everyone's upstream.
    progress(`starting the platform in ${stateDir}`);
    const state = await startPlatform({
      rootDir,
      stateDir,
      cacheDir,
      detached: false,
      simulators: [{ id: 'sim', args: SIM_ARGS }],
      catalogFile: path.join(rootDir, 'tests/fixtures/test.catalog.json'),
      log: (l) => progress(l),
    });
    const sim = state.simulators[0]!;
    const upstream = { url: sim.url, apiKey: sim.apiKey, model: 'sim-gpt-small' };
    const gatewayUrl = state.gatewayUrls[0]!;
    const { key } = await seedTenant(
      gatewayUrl,
      state.adminToken,
      { id: 'bench-peers', name: 'Bench peers' },
      'default',
      1000,
    );
    const instanceOf = (name: string) => {
      const found = state.services.find((s) => s.name === name || s.name.startsWith(`${name}-`));
      if (!found) throw new Error(`no ${name} in the platform's state`);
      return found;
    };
    const pidOf = (name: string) => instanceOf(name).pid;
    const platformGroups = {
      gateway: [pidOf('gateway')],
      router: [pidOf('router')],
      connector: [pidOf('connector')],
      billing: [pidOf('billing')],
      analytics: [pidOf('analytics')],
      kafka: [state.kafka.pid],
      postgres: [state.postgres.pid],
    };
    const turnpikeVersion = (
      JSON.parse(readFileSync(path.join(rootDir, 'package.json'), 'utf8')) as { version: string }
    ).version;
    const gitRev = versionOf('git', ['-C', rootDir, 'rev-parse', '--short', 'HEAD']);
    systems.push({
      name: 'direct',
      version: 'simulator',
      target: { side: 'direct', ...upstream },
      streaming: true,
      groups: { simulator: [sim.pid] },
      notes: [
        "the upstream simulator itself: its CPU is the upstream's, the same behind every gateway",
      ],
      stop: async () => undefined,
    });
    systems.push({
      name: 'turnpike-split',
      version: `${turnpikeVersion} (${gitRev})`,
      target: { side: 'turnpike-split', url: gatewayUrl, apiKey: key, model: 'turnpike/sim-small' },
      streaming: true,
      groups: platformGroups,
      notes: [
        'five services, one KRaft broker, one Postgres, one instance each, on the same 2 cores as everything else',
      ],
      stop: async () => undefined,
    });

    // 3. Turnpike fused: a second gateway on the same platform with the transport setting.
    const fusedWhyNot = fusedAvailability(rootDir, fusedEnv);
    if (fusedWhyNot) {
      unavailable.push({
        name: 'turnpike-fused',
        version: `${turnpikeVersion} (${gitRev})`,
        notes: [],
        unavailable: fusedWhyNot,
      });
    } else {
      const fused = await restartService(stateDir, instanceOf('gateway').name, {
        as: 'gateway-fused',
        env: {
          // A fused gateway opens the provider accounts (the platform's master key) and reads
          // its RPC replies on a partition of its own.
          GATEWAY_MASTER_KEY_FILE: masterKeyFileOf(stateDir),
          GATEWAY_REPLY_PARTITION: '11',
          ...fusedEnv,
        },
      });
      systems.push({
        name: 'turnpike-fused',
        version: `${turnpikeVersion} (${gitRev})`,
        target: {
          side: 'turnpike-fused',
          url: fused.url,
          apiKey: key,
          model: 'turnpike/sim-small',
        },
        streaming: true,
        groups: { ...platformGroups, gateway: [fused.pid] },
        notes: [
          `a second gateway with ${Object.entries(fusedEnv)
            .map(([k, v]) => `${k}=${v}`)
            .join(' ')} beside the split one (shares router, billing, analytics, broker, Postgres)`,
        ],
        stop: async () => void (await stopPid(fused.pid, 30_000)),
      });
    }

    // 4. The peers.
    if (litellmBin) {
      try {
        progress('starting LiteLLM');
        const s = await startLiteLLM(litellmBin, LITELLM_VERSION, upstream, peerLogs);
        systems.push(s);
        for (const stream of [false, true]) {
          const err = await probe(s.target!, stream);
          if (err)
            throw new Error(`litellm ${stream ? 'streaming' : 'non-streaming'} probe: ${err}`);
        }
      } catch (e) {
        const s = systems.find((x) => x.name === 'litellm');
        if (s) {
          await s.stop();
          systems.splice(systems.indexOf(s), 1);
        }
        unavailable.push({
          name: 'litellm',
          version: LITELLM_VERSION,
          notes: [],
          unavailable: (e as Error).message.slice(0, 400),
        });
      }
    }
    const portkeyTried: string[] = [];
    let portkey: System | undefined;
    for (const [v, dir] of portkeyDirs) {
      let s: System | undefined;
      try {
        s = await startPortkey(dir, v, upstream, peerLogs);
      } catch (e) {
        portkeyTried.push(`${v}: did not start (${(e as Error).message.split('\n')[0]})`);
        continue;
      }
      const nonStreaming = await probe(s.target!, false);
      const streaming = await probe(s.target!, true);
      progress(
        `portkey ${v}: non-streaming ${nonStreaming ?? 'ok'}, streaming ${streaming ?? 'ok'}`,
      );
      if (!nonStreaming && !streaming) {
        portkeyTried.push(`${v}: streams`);
        await portkey?.stop();
        portkey = s;
        break;
      }
      const logged = s.logFile ? firstError(s.logFile) : undefined;
      portkeyTried.push(
        `${v}: ${nonStreaming ? `non-streaming fails (${nonStreaming.slice(0, 120)})` : ''}` +
          `${streaming ? `streaming fails (${streaming.slice(0, 120)}; its log: ${logged ?? 'nothing'})` : ''}`,
      );
      if (!nonStreaming && !portkey) {
        s.streaming = false;
        portkey = s; // kept, non-streaming only, unless an older version streams
      } else await s.stop();
    }
    if (portkey) {
      portkey.notes.push(`versions tried: ${portkeyTried.join('; ')}`);
      if (!portkey.streaming)
        portkey.notes.push('measured non-streaming only: no installed version streams');
      systems.push(portkey);
    } else if (portkeyDirs.length > 0) {
      unavailable.push({
        name: 'portkey',
        version: PORTKEY_VERSIONS.join(', '),
        notes: [],
        unavailable: portkeyTried.join('; '),
      });
    }
    if (bifrostDir) {
      progress('trying Bifrost');
      const b = await tryBifrost(bifrostDir, BIFROST_VERSION, peerLogs);
      if ('error' in b) {
        unavailable.push({
          name: 'bifrost',
          version: BIFROST_VERSION,
          notes: [],
          unavailable: b.error,
        });
        progress(`bifrost: ${b.error}`);
      } else {
        // Started after all: it would need its provider configured through its API; not wired.
        await stopPid(b.pid, 10_000);
        unavailable.push({
          name: 'bifrost',
          version: BIFROST_VERSION,
          notes: [],
          unavailable: 'started, but the bench does not configure it yet',
        });
      }
    }

    // 5. Warm-up, then everyone idle at once for IDLE_S seconds.
    progress(
      `warming up: ${systems
        .filter((s) => s.target)
        .map((s) => s.name)
        .join(', ')}`,
    );
    for (const s of systems) {
      await measureRun(s, false, 8, PLAN.warmup);
      if (s.streaming) await measureRun(s, true, 8, PLAN.warmup);
    }
    await sleep(2_000);
    const allGroups = Object.fromEntries(
      systems.flatMap((s) => Object.entries(s.groups).map(([g, pids]) => [`${s.name}/${g}`, pids])),
    );
    const idleBefore = sampleGroups(allGroups);
    const idleT0 = performance.now();
    await sleep(IDLE_S * 1000);
    const idleS = (performance.now() - idleT0) / 1000;
    const idleAfter = sampleGroups(allGroups);
    const idleCpu = cpuDelta(idleBefore, idleAfter);
    const idle: PeersResults['idle'] = {};
    for (const s of systems) {
      const parts: Record<string, { cores: number; rssBytes: number }> = {};
      for (const g of Object.keys(s.groups)) {
        parts[g] = {
          cores: idleCpu[`${s.name}/${g}`]! / idleS,
          rssBytes: idleAfter[`${s.name}/${g}`]!.rssBytes,
        };
      }
      idle[s.name] = parts;
    }
    progress(
      `idle ${idleS.toFixed(1)} s: ${Object.entries(idle)
        .map(
          ([n, p]) =>
            `${n} ${Object.values(p)
              .reduce((a, x) => a + x.cores, 0)
              .toFixed(3)} cores`,
        )
        .join(', ')}`,
    );

    // 6. The matrix, then the step search.
    const peakRss: Record<string, number> = {};
    const cells = await matrix(systems, peakRss);
    progress(`step search: the highest concurrency with p99 added ≤ ${BOUND_MS} ms and no error`);
    const steps = await stepSearch(systems);

    const results: PeersResults = {
      date: new Date().toISOString(),
      durationS: (performance.now() - t0) / 1000,
      machine: {
        ...machineInfo(),
        python: versionOf('python3', ['--version']),
        loadAvgAtStart,
        loadAvgAtEnd: os.loadavg(),
      },
      config: {
        quick: args.quick,
        upstream: `OpenAI-wire simulator, its own process: ${SIM_ARGS.join(' ')}`,
        concurrency: CONCURRENCY,
        perCell: PLAN.perCell,
        rounds: PLAN.rounds,
        warmupPerSystem: PLAN.warmup,
        idleS: IDLE_S,
        boundMs: BOUND_MS,
        steps: PLAN.steps,
        stepMinRequests: PLAN.stepRequests(1),
        runCapS: PLAN.runCapS,
        client:
          'undici `request` over one `Agent` (512 keep-alive sockets per origin, idle ones closed after 1 s, no pipelining), in the bench process, which runs nothing else while measuring',
      },
      systems: [
        ...systems.map((s) => ({
          name: s.name,
          version: s.version,
          streaming: s.streaming,
          notes: s.notes,
          parts: Object.keys(s.groups),
        })),
        ...unavailable,
      ],
      idle,
      peakRssBytes: peakRss,
      cells,
      steps,
    };
    mkdirSync(path.dirname(jsonFile), { recursive: true });
    writeFileSync(jsonFile, `${JSON.stringify(results, null, 2)}\n`);
    const previous = existsSync(outFile) ? readFileSync(outFile, 'utf8') : '';
    writeFileSync(outFile, mergePeersSection(previous, renderPeersMarkdown(results)));
    prettier([outFile, jsonFile]);
    process.stdout.write(`\n${renderPeersText(results)}\n`);
    progress(
      `wrote ${path.relative(process.cwd(), outFile)} and ${path.relative(process.cwd(), jsonFile)}`,
    );
    ok = true;
  } finally {
    await client.close();
    for (const s of systems) await s.stop().catch(() => undefined);
    progress('stopping the platform');
    if (readState(stateDir)) await stopPlatform(stateDir);
    if (ok) rmSync(stateDir, { recursive: true, force: true });
    else progress(`logs kept in ${stateDir}`);
  }
  progress(`done in ${((performance.now() - t0) / 1000).toFixed(0)} s`);
  return 0;
}

/** `--render <peers.json>`: the Markdown again from a run's results (e.g. after a change of format). */
function render(file: string): number {
  const results = JSON.parse(readFileSync(file, 'utf8')) as PeersResults;
  const previous = existsSync(outFile) ? readFileSync(outFile, 'utf8') : '';
  writeFileSync(outFile, mergePeersSection(previous, renderPeersMarkdown(results)));
  prettier([outFile]);
  progress(`wrote ${path.relative(process.cwd(), outFile)} from ${file}`);
  return 0;
}

(args.render ? Promise.resolve(render(args.render)) : main()).then(
  (code) => process.exit(code),
  (e: unknown) => {
    progress(`failed: ${(e as Error).stack ?? String(e)}`);
    process.exit(interrupted.signal.aborted ? 130 : 1);
  },
);
