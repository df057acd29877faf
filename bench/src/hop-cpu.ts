/**
 * `node bench/dist/hop-cpu.js [--requests 2000] [--concurrency 32] [--rounds 3]`: CPU seconds
 * per 1000 requests of each service process (from /proc) and the added latency of the hop,
 * non-streaming and streaming, in interleaved rounds (direct, gateway). One JSON object on stdout.
 */
import os from 'node:os';
import { parseArgs } from 'node:util';
import { cpuSeconds } from '@turnpike/testing';
import { agent, runLoad, summarize, type LoadRun, type Target } from './load.js';
import { runProbe } from './probe-platform.js';

const { values: args } = parseArgs({
  options: {
    requests: { type: 'string', default: '2000' },
    concurrency: { type: 'string', default: '32' },
    rounds: { type: 'string', default: '3' },
  },
});
const PROMPT = '[[sim ttft_ms=20 tps=200 tokens=16]] Benchmark the toll road';

runProbe('hop', {}, async ({ state, key, progress }) => {
  try {
    const gw = state.gatewayUrls[0]!;
    const sim = state.simulators[0]!;
    const direct: Target = {
      side: 'direct',
      url: sim.url,
      apiKey: sim.apiKey,
      model: 'sim-gpt-small',
    };
    const gateway: Target = { side: 'gateway', url: gw, apiKey: key, model: 'turnpike/sim-small' };
    const procs = [
      ...state.services,
      { name: 'kafka', pid: state.kafka.pid },
      { name: 'postgres', pid: state.postgres.pid },
    ];
    const concurrency = Number(args.concurrency);
    const requests = Number(args.requests);
    const rounds = Number(args.rounds);
    const out: Record<string, unknown> = {
      concurrency,
      requests,
      rounds,
      loadAvgAtStart: os.loadavg(),
    };
    for (const stream of [false, true]) {
      for (const t of [direct, gateway])
        await runLoad({ target: t, stream, concurrency, requests: 200, prompt: PROMPT });
      const runs: Record<string, LoadRun[]> = { direct: [], gateway: [] };
      const cpu: Record<string, number> = {};
      let gatewayRequests = 0;
      for (let r = 0; r < rounds; r++) {
        runs['direct']!.push(
          await runLoad({ target: direct, stream, concurrency, requests, prompt: PROMPT }),
        );
        const before = Object.fromEntries(procs.map((p) => [p.name, cpuSeconds(p.pid)]));
        runs['gateway']!.push(
          await runLoad({ target: gateway, stream, concurrency, requests, prompt: PROMPT }),
        );
        // Let billing and analytics catch up on this round's events: their CPU belongs to it.
        await new Promise((res) => setTimeout(res, 3000));
        for (const p of procs)
          cpu[p.name] = (cpu[p.name] ?? 0) + cpuSeconds(p.pid) - before[p.name]!;
        gatewayRequests += requests;
      }
      const d = summarize(runs['direct']!);
      const g = summarize(runs['gateway']!);
      const per1000 = Object.fromEntries(
        Object.entries(cpu).map(([k, v]) => [
          k,
          Math.round((v / gatewayRequests) * 1000 * 100) / 100,
        ]),
      );
      const mode = stream ? 'streaming' : 'non-streaming';
      out[mode] = {
        addedTtftP50: +(g.ttft.p50 - d.ttft.p50).toFixed(1),
        addedTtftP99: +(g.ttft.p99 - d.ttft.p99).toFixed(1),
        addedTotalP50: +(g.total.p50 - d.total.p50).toFixed(1),
        addedTotalP99: +(g.total.p99 - d.total.p99).toFixed(1),
        throughput: { direct: Math.round(d.throughput), gateway: Math.round(g.throughput) },
        errors: { direct: d.errors, gateway: g.errors },
        cpuSecondsPer1000: per1000,
        cpuSecondsPer1000Services:
          Math.round(
            Object.entries(per1000)
              .filter(([k]) => k !== 'kafka' && k !== 'postgres')
              .reduce((a, [, v]) => a + v, 0) * 100,
          ) / 100,
      };
      progress(`${mode}: ${JSON.stringify(out[mode])}`);
    }
    return out;
  } finally {
    await agent.close();
  }
});
