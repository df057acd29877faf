/**
 * `node bench/dist/connector-memory.js [--waves 3] [--concurrency 1000] [--abandon 200] [--idle 60]`:
 * the connector's memory over a few thousand streams (issue 12, item 5). Starts its own platform
 * (the connector with `--heapsnapshot-signal=SIGUSR2`), samples the connector's RSS and heap
 * (its /metrics) before, at the peak of each wave of `concurrency` concurrent streams (of which
 * `abandon` are dropped by their client after the first bytes), and after `idle` seconds idle
 * followed by a heap snapshot (which forces a full GC). Also prints the CPU seconds each service
 * spent, from /proc. Prints one JSON object on stdout.
 */
import { mkdtempSync, readdirSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { Agent, request } from 'undici';
import { collectGarbage, cpuSeconds, inspectorUrlFromLog, scrapeMetric } from '@turnpike/testing';
import { runProbe } from './probe-platform.js';

const { values: args } = parseArgs({
  options: {
    waves: { type: 'string', default: '3' },
    concurrency: { type: 'string', default: '1000' },
    abandon: { type: 'string', default: '200' },
    idle: { type: 'string', default: '60' },
    tokens: { type: 'string', default: '100' },
    tps: { type: 'string', default: '50' },
    snapshot: { type: 'boolean', default: false },
    /** Extra environment of the connector, `KEY=VALUE` (e.g. MALLOC_ARENA_MAX=2). */
    env: { type: 'string', multiple: true, default: [] },
  },
});
const WAVES = Number(args.waves);
const CONCURRENCY = Number(args.concurrency);
const ABANDON = Number(args.abandon);
const IDLE_S = Number(args.idle);
const PROMPT = `[[sim ttft_ms=50 tps=${args.tps} tokens=${args.tokens}]] Memory of the connector`;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface Mem {
  rssMb: number;
  heapUsedMb: number;
  heapTotalMb: number;
  externalMb: number;
}

async function memOf(url: string): Promise<Mem> {
  const mb = async (name: string) =>
    Math.round(((await scrapeMetric(url, name)) / 2 ** 20) * 10) / 10;
  return {
    rssMb: await mb('process_resident_memory_bytes'),
    heapUsedMb: await mb('nodejs_heap_size_used_bytes'),
    heapTotalMb: await mb('nodejs_heap_size_total_bytes'),
    externalMb: await mb('nodejs_external_memory_bytes'),
  };
}

const client = new Agent({ connections: 2048, pipelining: 1, bodyTimeout: 120_000 });

/** One streaming request; `abandon`: drop it after its first bytes. */
async function stream(
  url: string,
  key: string,
  abandon: boolean,
): Promise<'ok' | 'abandoned' | string> {
  const ac = new AbortController();
  try {
    const res = await request(`${url}/v1/chat/completions`, {
      method: 'POST',
      dispatcher: client,
      signal: ac.signal,
      headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
      body: JSON.stringify({
        model: 'turnpike/sim-small',
        stream: true,
        messages: [{ role: 'user', content: PROMPT }],
      }),
    });
    if (res.statusCode !== 200)
      return `HTTP ${res.statusCode}: ${(await res.body.text()).slice(0, 120)}`;
    let text = '';
    for await (const chunk of res.body) {
      text += chunk.toString();
      if (abandon && text.includes('"content"')) {
        ac.abort();
        return 'abandoned';
      }
    }
    return text.includes('[DONE]') ? 'ok' : 'no [DONE]';
  } catch (e) {
    return abandon && ac.signal.aborted ? 'abandoned' : (e as Error).message;
  }
}

const snapDir = mkdtempSync(path.join(os.tmpdir(), 'turnpike-memory-snapshots-'));

runProbe(
  'memory',
  {
    serviceEnv: {
      connector: {
        NODE_OPTIONS: `--inspect=127.0.0.1:0 --heapsnapshot-signal=SIGUSR2 --diagnostic-dir=${snapDir}`,
        ...Object.fromEntries(args.env.map((kv) => kv.split('=', 2) as [string, string])),
      },
    },
  },
  async ({ state, key, progress }) => {
    const gw = state.gatewayUrls[0]!;
    const connector = state.services.find((s) => s.name.startsWith('connector'))!;
    const cpu0 = Object.fromEntries(state.services.map((s) => [s.name, cpuSeconds(s.pid)]));
    /** A full GC through the inspector (HeapProfiler.collectGarbage), then the memory. */
    const gc = async (label: string): Promise<Mem> => {
      await collectGarbage(inspectorUrlFromLog(connector.logFile));
      await sleep(500);
      const m = await memOf(connector.url);
      progress(`${label} (after a full GC): ${JSON.stringify(m)}`);
      return m;
    };
    const snapshot = async (label: string): Promise<Mem> => {
      const before = readdirSync(snapDir).length;
      process.kill(connector.pid, 'SIGUSR2');
      const t0 = Date.now();
      while (readdirSync(snapDir).length === before && Date.now() - t0 < 60_000) await sleep(200);
      await sleep(3000); // the file is written while the process is paused; let it finish
      const m = await memOf(connector.url);
      progress(`${label} (after a heap snapshot): ${JSON.stringify(m)}`);
      return m;
    };
    // Warm up (JIT, pools) with a few streams, then the baseline.
    await Promise.all(Array.from({ length: 20 }, () => stream(gw, key, false)));
    await sleep(2000);
    const baselineNoGc = await memOf(connector.url);
    const baseline = await gc('baseline');

    const waves: Array<{ results: Record<string, number>; peak: Mem; afterWave: Mem; s: number }> =
      [];
    for (let w = 0; w < WAVES; w++) {
      let peak = await memOf(connector.url);
      let running = true;
      const sampler = (async () => {
        while (running) {
          const m = await memOf(connector.url).catch(() => null);
          if (m && m.rssMb > peak.rssMb) peak = { ...m };
          if (m && m.heapUsedMb > peak.heapUsedMb) peak.heapUsedMb = m.heapUsedMb;
          await sleep(250);
        }
      })();
      const t0 = performance.now();
      const outcomes = await Promise.all(
        Array.from({ length: CONCURRENCY }, (_, i) => stream(gw, key, i < ABANDON)),
      );
      running = false;
      await sampler;
      const results: Record<string, number> = {};
      for (const o of outcomes) results[o] = (results[o] ?? 0) + 1;
      const afterWave = await memOf(connector.url);
      const s = (performance.now() - t0) / 1000;
      progress(
        `wave ${w + 1}: ${JSON.stringify(results)} in ${s.toFixed(1)} s; peak ${JSON.stringify(peak)}; after ${JSON.stringify(afterWave)}`,
      );
      waves.push({ results, peak, afterWave, s });
    }
    const cpu = Object.fromEntries(
      state.services.map((s) => [
        s.name,
        Math.round((cpuSeconds(s.pid) - cpu0[s.name]!) * 100) / 100,
      ]),
    );
    progress(`idle ${IDLE_S} s`);
    await sleep(IDLE_S * 1000);
    const idleNoGc = await memOf(connector.url);
    progress(`idle (no forced GC): ${JSON.stringify(idleNoGc)}`);
    const afterIdle = await gc('after idle');
    const afterSnapshot = args.snapshot ? await snapshot('after idle') : null;
    const snapshots = readdirSync(snapDir).map((f) => path.join(snapDir, f));
    await client.close();
    return {
      concurrency: CONCURRENCY,
      abandon: ABANDON,
      prompt: PROMPT,
      baselineNoGc,
      baseline,
      waves,
      idleNoGc,
      afterIdle,
      afterSnapshot,
      cpuSecondsDuringWaves: cpu,
      snapshots,
    };
  },
);
