/**
 * Fallback benchmark: the client-visible error rate and the latency fallback adds while one of
 * the three upstreams serving a model fails about half of its requests.
 *
 * `runFallbackBench()` runs against a running platform: for each mode (non-streaming,
 * streaming) a baseline phase with every upstream healthy, then a degraded phase in which one
 * simulator is flipped between "answer 500" and "healthy" at random every few milliseconds
 * (the simulator has no per-request failure ratio, so the ratio is in time; the share of its
 * requests that really failed is read back from its request log and reported). Latency is
 * compared percentile by percentile.
 *
 * Standalone: `node bench/dist/fallback.js [--quick]` starts its own platform (three
 * simulators, one model served by all three) and prints the figures as JSON.
 */
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { Agent, request } from 'undici';
import { turnpikeCacheDir } from '@turnpike/testing';

export interface FallbackBenchOptions {
  gatewayUrl: string;
  apiKey: string;
  /** A model served by several upstreams, among them the failing one. */
  model: string;
  /** Control URL (`http://host:port`, without `/v1`) of the simulator made to fail. */
  failingSimulatorUrl: string;
  /** Share of the time the failing simulator answers 500 (default 0.5). */
  failureShare?: number;
  /** The failing simulator's state is redrawn this often (default 25 ms). */
  flipEveryMs?: number;
  concurrency?: number;
  /** Measured requests per phase (default 1000). */
  requests?: number;
  /** Baseline and degraded phases alternate in this many rounds, so drift hits both alike (default 4). */
  rounds?: number;
  modes?: Array<'non-streaming' | 'streaming'>;
  /** The last user message; a `[[sim ...]]` directive sets the upstream's pace. */
  prompt?: string;
  log?: (line: string) => void;
}

export interface PhaseStats {
  requests: number;
  errors: number;
  errorRate: number;
  p50Ms: number;
  p90Ms: number;
  p99Ms: number;
  maxMs: number;
  firstErrors: string[];
}

export interface FallbackModeResult {
  mode: 'non-streaming' | 'streaming';
  concurrency: number;
  baseline: PhaseStats;
  degraded: PhaseStats;
  /** What the failing upstream saw during the degraded phase. */
  failingUpstream: { requests: number; failed: number; failedShare: number };
  /** Client-visible error rate while one upstream failed. */
  clientErrorRate: number;
  addedP50Ms: number;
  addedP99Ms: number;
}

export interface FallbackBenchResult {
  model: string;
  failureShare: number;
  modes: FallbackModeResult[];
}

const agent = new Agent({
  connections: 256,
  pipelining: 1,
  keepAliveTimeout: 60_000,
  headersTimeout: 30_000,
  bodyTimeout: 30_000,
});

/** Same pace as the main benchmark: first token after 20 ms, then 15 more at 200 tokens/s. */
const DEFAULT_PROMPT =
  '[[sim ttft_ms=20 tps=200 tokens=16]] Fallback benchmark: one upstream fails half of its requests';

export async function runFallbackBench(opts: FallbackBenchOptions): Promise<FallbackBenchResult> {
  const log = opts.log ?? (() => undefined);
  const share = opts.failureShare ?? 0.5;
  const concurrency = opts.concurrency ?? 8;
  const rounds = opts.rounds ?? 4;
  const requests = opts.requests ?? 1000;
  const prompt = opts.prompt ?? DEFAULT_PROMPT;
  const modes = opts.modes ?? ['non-streaming', 'streaming'];
  const failing = opts.failingSimulatorUrl.replace(/\/v1\/?$/, '');
  const out: FallbackBenchResult = { model: opts.model, failureShare: share, modes: [] };

  await control(failing, 'reset');
  for (const mode of modes) {
    const stream = mode === 'streaming';
    const load = (n: number, tag: string) =>
      runPhase(opts, { stream, concurrency, requests: n, prompt: `${prompt} ${tag}` });
    await load(Math.min(200, requests), 'warmup');
    log(
      `${mode}: ${requests} requests healthy and ${requests} with one upstream failing ${Math.round(share * 100)}% of the time, at concurrency ${concurrency}, in ${rounds} alternating rounds`,
    );
    const tag = `degraded-${mode}-${Date.now()}`;
    const baselineSamples: Sample[] = [];
    const degradedSamples: Sample[] = [];
    const seen: Array<{ status: number | null }> = [];
    for (let round = 0; round < rounds; round++) {
      const n = Math.floor(requests / rounds) + (round < requests % rounds ? 1 : 0);
      await settle(opts, stream);
      baselineSamples.push(...(await load(n, 'baseline')));
      const flipper = startFlipper(failing, share, opts.flipEveryMs ?? 25);
      try {
        degradedSamples.push(...(await load(n, tag)));
      } finally {
        await flipper.stop();
      }
      // Read the failing upstream's log before the reset clears it.
      seen.push(
        ...(await upstreamLog(failing)).filter((r) => JSON.stringify(r.body ?? '').includes(tag)),
      );
      await control(failing, 'reset');
    }
    await settle(opts, stream);
    const baseline = stats(baselineSamples);
    const degraded = stats(degradedSamples);
    const failed = seen.filter((r) => r.status !== null && r.status >= 500).length;

    out.modes.push({
      mode,
      concurrency,
      baseline,
      degraded,
      failingUpstream: {
        requests: seen.length,
        failed,
        failedShare: seen.length ? round(failed / seen.length) : 0,
      },
      clientErrorRate: degraded.errorRate,
      addedP50Ms: round(degraded.p50Ms - baseline.p50Ms),
      addedP99Ms: round(degraded.p99Ms - baseline.p99Ms),
    });
    log(`${mode}: ${JSON.stringify(out.modes.at(-1))}`);
  }
  return out;
}

interface PhaseOptions {
  stream: boolean;
  concurrency: number;
  requests: number;
  prompt: string;
}

interface Sample {
  ok: boolean;
  ms: number;
  error?: string;
}

async function runPhase(opts: FallbackBenchOptions, p: PhaseOptions): Promise<Sample[]> {
  const body = JSON.stringify({
    model: opts.model,
    stream: p.stream,
    messages: [{ role: 'user', content: p.prompt }],
  });
  const samples: Sample[] = [];
  let next = 0;
  const worker = async () => {
    while (next < p.requests) {
      next++;
      samples.push(await once(opts, body, p.stream));
    }
  };
  await Promise.all(Array.from({ length: Math.min(p.concurrency, p.requests) }, worker));
  return samples;
}

function stats(samples: Sample[]): PhaseStats {
  const ok = samples
    .filter((s) => s.ok)
    .map((s) => s.ms)
    .sort((a, b) => a - b);
  const errors = samples.length - ok.length;
  return {
    requests: samples.length,
    errors,
    errorRate: samples.length ? round(errors / samples.length, 5) : 0,
    p50Ms: round(percentile(ok, 50)),
    p90Ms: round(percentile(ok, 90)),
    p99Ms: round(percentile(ok, 99)),
    maxMs: round(ok.at(-1) ?? NaN),
    firstErrors: [...new Set(samples.filter((s) => !s.ok).map((s) => s.error ?? '?'))].slice(0, 5),
  };
}

/** One request; a stream counts as successful only if it ends with `[DONE]` and no error event. */
async function once(opts: FallbackBenchOptions, body: string, stream: boolean): Promise<Sample> {
  const t0 = performance.now();
  try {
    const res = await request(`${opts.gatewayUrl}/v1/chat/completions`, {
      method: 'POST',
      dispatcher: agent,
      headers: { authorization: `Bearer ${opts.apiKey}`, 'content-type': 'application/json' },
      body,
    });
    const text = await res.body.text();
    const ms = performance.now() - t0;
    if (res.statusCode !== 200)
      return { ok: false, ms, error: `HTTP ${res.statusCode}: ${text.slice(0, 160)}` };
    if (stream) {
      if (!text.endsWith('data: [DONE]\n\n'))
        return { ok: false, ms, error: 'stream without [DONE]' };
      if (text.includes('"finish_reason":"error"'))
        return { ok: false, ms, error: 'stream error event' };
    } else if (!text.includes('"content"')) {
      return { ok: false, ms, error: 'no content' };
    }
    return { ok: true, ms };
  } catch (e) {
    return { ok: false, ms: performance.now() - t0, error: (e as Error).message };
  }
}

/** Redraws the failing simulator's state every `everyMs`: 500 with probability `share`. */
function startFlipper(url: string, share: number, everyMs: number): { stop(): Promise<void> } {
  let stopped = false;
  const loop = (async () => {
    let failing: boolean | null = null;
    while (!stopped) {
      const next = Math.random() < share;
      if (next !== failing) {
        await control(url, 'config', next ? { status: 500 } : { status: null });
        failing = next;
      }
      await new Promise((r) => setTimeout(r, everyMs));
    }
    await control(url, 'config', { status: null });
  })();
  return {
    stop: async () => {
      stopped = true;
      await loop;
    },
  };
}

async function control(
  url: string,
  what: 'config' | 'reset',
  knobs?: Record<string, unknown>,
): Promise<void> {
  const res = await request(`${url}/__sim/${what}`, {
    method: 'POST',
    dispatcher: agent,
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(knobs ?? {}),
  });
  await res.body.text();
  if (res.statusCode !== 200) throw new Error(`simulator ${what} failed: HTTP ${res.statusCode}`);
}

async function upstreamLog(url: string): Promise<Array<{ status: number | null; body?: unknown }>> {
  const res = await request(`${url}/__sim/requests`, { dispatcher: agent });
  return ((await res.body.json()) as { data: Array<{ status: number | null; body?: unknown }> })
    .data;
}

/** Waits until every endpoint of the model reports status 0 (circuits closed), driving probes. */
async function settle(opts: FallbackBenchOptions, stream: boolean): Promise<void> {
  const until = Date.now() + 60_000;
  for (;;) {
    const res = await request(`${opts.gatewayUrl}/v1/models/${opts.model}/endpoints`, {
      dispatcher: agent,
    });
    const eps = (
      (await res.body.json()) as { data: { endpoints: Array<{ tag: string; status: number }> } }
    ).data.endpoints;
    const bad = eps.filter((e) => e.status !== 0);
    if (bad.length === 0 || Date.now() > until) return;
    for (const e of bad) {
      const body = JSON.stringify({
        model: opts.model,
        stream,
        messages: [{ role: 'user', content: 'settle' }],
        provider: { only: [e.tag] },
      });
      await once(opts, body, stream);
    }
    await new Promise((r) => setTimeout(r, 200));
  }
}

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length, Math.max(1, Math.ceil((p / 100) * sorted.length))) - 1]!;
}

const round = (v: number, digits = 2): number => Math.round(v * 10 ** digits) / 10 ** digits;

/** The catalog of the standalone run: one model served by three simulators at different prices. */
const CATALOG = {
  version: 1,
  description: 'Fallback benchmark: one model, three simulated providers.',
  providers: [
    { id: 'sim', name: 'Simulator A', kind: 'openai' },
    { id: 'sim-b', name: 'Simulator B', kind: 'openai' },
    { id: 'sim-c', name: 'Simulator C', kind: 'openai' },
  ],
  models: [
    {
      id: 'turnpike/sim-multi',
      name: 'Turnpike: Simulator Multi',
      created: 1732406400,
      context_length: 8192,
      input_modalities: ['text'],
      output_modalities: ['text'],
      endpoints: (
        [
          ['sim', '0.10', '0.40'],
          ['sim-b', '0.20', '0.80'],
          ['sim-c', '0.30', '1.20'],
        ] as const
      ).map(([provider, prompt, completion]) => ({
        provider,
        upstream_model: 'sim-gpt-small',
        pricing: { prompt, completion },
        context_length: 8192,
        max_output_tokens: 4096,
      })),
    },
  ],
};

async function standalone(): Promise<void> {
  const { seedTenant, startPlatform, stopPlatform } = await import('@turnpike/testing');
  const rootDir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
  const quick = process.argv.includes('--quick');
  const stateDir = mkdtempSync(path.join(os.tmpdir(), 'turnpike-fallback-bench-'));
  chmodSync(stateDir, 0o755);
  const catalogFile = path.join(stateDir, 'catalog.json');
  writeFileSync(catalogFile, JSON.stringify(CATALOG, null, 2));
  const log = (l: string) => process.stderr.write(`[fallback-bench] ${l}\n`);
  try {
    const state = await startPlatform({
      rootDir,
      stateDir,
      cacheDir: turnpikeCacheDir(),
      detached: false,
      simulators: [{ id: 'sim' }, { id: 'sim-b' }, { id: 'sim-c' }],
      gatewayReplicas: 1,
      catalogFile,
      log,
    });
    const tenant = await seedTenant(state.gatewayUrls[0]!, state.adminToken, {
      id: 'bench',
      name: 'Bench',
    });
    const result = await runFallbackBench({
      gatewayUrl: state.gatewayUrls[0]!,
      apiKey: tenant.key,
      model: 'turnpike/sim-multi',
      // The cheapest simulator: the default routing sends it most of the traffic.
      failingSimulatorUrl: state.simulators.find((s) => s.id === 'sim')!.url,
      requests: quick ? 300 : 1000,
      log,
    });
    process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
  } finally {
    await stopPlatform(stateDir).catch(() => undefined);
    rmSync(stateDir, { recursive: true, force: true });
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  standalone().then(
    () => process.exit(0),
    (e: unknown) => {
      console.error(e);
      process.exit(1);
    },
  );
}
