/**
 * Idle CPU of a platform with no traffic: starts one (every service, one replica each, one
 * simulator), lets it settle, then reads each process's CPU time (utime + stime of
 * /proc/<pid>/stat, every thread) over a window and prints it as a share of one core, per
 * service, for the broker and Postgres, and the Node services' total.
 *
 * Then, with `--hop N`, the latency the hop adds at concurrency 1: N non-streaming requests and
 * N streaming ones (16 tokens, no upstream delay) through the gateway and straight to the
 * simulator, interleaved; p50/p99 of total time (unary) and time to the first byte of content
 * (streaming), gateway minus direct.
 *
 * `bash scripts/turnpike node bench/dist/idle-cpu.js [--settle-s 20] [--window-s 60] [--hop 300]
 *   [--cpu-prof <dir>]` (`--cpu-prof`: every process writes a V8 CPU profile there when it exits)
 */
import { chmodSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { seedTenant, startPlatform, stopPlatform, turnpikeCacheDir } from '@turnpike/testing';

const rootDir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const TICKS_PER_S = 100; // CLK_TCK on Linux

function arg(name: string, fallback: number): number {
  const i = process.argv.indexOf(name);
  return i >= 0 ? Number(process.argv[i + 1]) : fallback;
}

/** CPU ticks (user + system) of a process and its descendants. */
export function cpuTicks(pid: number): number {
  let ticks = 0;
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name may contain spaces: fields are counted after its closing parenthesis.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    ticks += Number(fields[11]) + Number(fields[12]); // utime, stime (fields 14 and 15)
  } catch {
    return 0;
  }
  for (const child of childrenOf(pid)) ticks += cpuTicks(child);
  return ticks;
}

function childrenOf(pid: number): number[] {
  const out: number[] = [];
  try {
    for (const tid of readdirSync(`/proc/${pid}/task`)) {
      const text = readFileSync(`/proc/${pid}/task/${tid}/children`, 'utf8').trim();
      if (text) out.push(...text.split(' ').map(Number));
    }
  } catch {
    // gone
  }
  return out;
}

interface Target {
  url: string;
  apiKey: string;
  model: string;
}

/** ms to the end of a unary answer, or to the first content chunk of a stream. */
async function timeOne(t: Target, stream: boolean): Promise<number> {
  const t0 = performance.now();
  const res = await fetch(`${t.url}/chat/completions`, {
    method: 'POST',
    headers: { authorization: `Bearer ${t.apiKey}`, 'content-type': 'application/json' },
    body: JSON.stringify({ model: t.model, stream, messages: [{ role: 'user', content: 'hop' }] }),
  });
  if (res.status !== 200) throw new Error(`${t.url}: ${res.status} ${await res.text()}`);
  if (!stream) {
    await res.arrayBuffer();
    return performance.now() - t0;
  }
  const reader = res.body!.getReader();
  let first = -1;
  let text = '';
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    text += Buffer.from(value).toString();
    if (first < 0 && text.includes('"content":"')) first = performance.now() - t0;
  }
  return first;
}

const pct = (xs: number[], p: number) =>
  [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor((xs.length * p) / 100))]!;

async function hop(gateway: Target, direct: Target, n: number): Promise<void> {
  for (const stream of [false, true]) {
    for (let i = 0; i < 20; i++) await timeOne(gateway, stream); // warm-up
    const g: number[] = [];
    const d: number[] = [];
    for (let i = 0; i < n; i++) {
      g.push(await timeOne(gateway, stream));
      d.push(await timeOne(direct, stream));
    }
    const what = stream ? 'streaming TTFT' : 'unary total';
    console.log(
      `hop ${what.padEnd(15)} added p50 ${(pct(g, 50) - pct(d, 50)).toFixed(1)} ms, p99 ${(pct(g, 99) - pct(d, 99)).toFixed(1)} ms (gateway p50 ${pct(g, 50).toFixed(1)} p99 ${pct(g, 99).toFixed(1)}; direct p50 ${pct(d, 50).toFixed(1)} p99 ${pct(d, 99).toFixed(1)})`,
    );
  }
}

async function main(): Promise<void> {
  const settleS = arg('--settle-s', 20);
  const windowS = arg('--window-s', 60);
  const i = process.argv.indexOf('--cpu-prof');
  const profileDir = i >= 0 ? path.resolve(process.argv[i + 1]!) : null;
  const stateDir = mkdtempSync(path.join(os.tmpdir(), 'turnpike-idle-'));
  chmodSync(stateDir, 0o711);
  try {
    const state = await startPlatform({
      rootDir,
      stateDir,
      cacheDir: turnpikeCacheDir(),
      detached: false,
      simulators: [{ id: 'sim' }],
      catalogFile: path.join(rootDir, 'tests/fixtures/test.catalog.json'),
      ...(profileDir ? { env: { NODE_OPTIONS: `--cpu-prof --cpu-prof-dir=${profileDir}` } } : {}),
      log: (l) => console.error(`[platform] ${l}`),
    });
    const procs = [
      ...state.services.map((s) => ({ name: s.name, pid: s.pid, node: true })),
      { name: 'kafka', pid: state.kafka.pid, node: false },
      { name: 'postgres', pid: state.postgres.pid, node: false },
      ...state.simulators.map((s) => ({ name: s.name, pid: s.pid, node: false })),
    ];
    console.error(`[idle] settling ${settleS} s, then measuring ${windowS} s`);
    await new Promise((r) => setTimeout(r, settleS * 1000));
    const logSize = () => state.services.map((s) => statSync(s.logFile).size);
    const logsBefore = logSize();
    const before = procs.map((p) => cpuTicks(p.pid));
    const t0 = process.hrtime.bigint();
    await new Promise((r) => setTimeout(r, windowS * 1000));
    const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
    const after = procs.map((p) => cpuTicks(p.pid));
    const logsAfter = logSize();
    for (const [i, s] of state.services.entries())
      if (logsAfter[i]! > logsBefore[i]!)
        console.error(`[idle] ${s.name} logged ${logsAfter[i]! - logsBefore[i]!} bytes while idle`);
    let nodeTotal = 0;
    for (const [i, p] of procs.entries()) {
      const share = (after[i]! - before[i]!) / TICKS_PER_S / seconds;
      if (p.node) nodeTotal += share;
      console.log(`${p.name.padEnd(20)} ${(share * 100).toFixed(2).padStart(6)} % of a core`);
    }
    console.log(
      `${'node services'.padEnd(20)} ${(nodeTotal * 100).toFixed(2).padStart(6)} % of a core`,
    );
    const n = arg('--hop', 0);
    if (n > 0) {
      const gatewayUrl = state.gatewayUrls[0]!;
      const { key } = await seedTenant(gatewayUrl, state.adminToken, { id: 'idle', name: 'Idle' });
      const sim = state.simulators[0]!;
      await hop(
        { url: `${gatewayUrl}/v1`, apiKey: key, model: 'turnpike/sim-small' },
        { url: `${sim.url}/v1`, apiKey: sim.apiKey, model: 'sim-gpt-small' },
        n,
      );
    }
  } finally {
    await stopPlatform(stateDir).catch((e: unknown) => console.error(String(e)));
    if (process.argv.includes('--keep')) console.error(`[idle] logs kept in ${stateDir}/logs`);
    else rmSync(stateDir, { recursive: true, force: true });
  }
}

await main();
