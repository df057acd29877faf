/**
 * Looking into a running service process from outside, for memory and CPU measurements: one
 * Prometheus sample of its /metrics, the CPU it has used, and a full GC through its inspector
 * (the process runs with `--inspect=127.0.0.1:0`).
 */
import { readFileSync } from 'node:fs';

/** The first sample of `name` in a service's /metrics (NaN when absent). */
export async function scrapeMetric(serviceUrl: string, name: string): Promise<number> {
  const text = await (await fetch(`${serviceUrl}/metrics`)).text();
  const m = new RegExp(`^${name}(?:\\{[^}]*\\})? (\\S+)`, 'm').exec(text);
  return m ? Number(m[1]) : NaN;
}

/** CPU seconds (user + system) a process has used, from /proc. */
export function cpuSeconds(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(f[11]) + Number(f[12])) / 100;
}

/**
 * The inspector's WebSocket URL of a process started with `--inspect=127.0.0.1:0` (a port of
 * its own choosing: no race for a free port), from its log (the last one: it may have been
 * restarted into the same log).
 */
export function inspectorUrlFromLog(logFile: string): string {
  const all = [...readFileSync(logFile, 'utf8').matchAll(/Debugger listening on (ws:\/\/\S+)/g)];
  const url = all.at(-1)?.[1];
  if (!url) throw new Error(`no inspector in ${logFile} (is the process started with --inspect?)`);
  return url;
}

/**
 * A full, compacting GC of the process whose inspector is at `wsUrl` (see inspectorUrlFromLog)
 * (HeapProfiler.collectGarbage), twice: what the first finalises goes in the second.
 */
export async function collectGarbage(wsUrl: string): Promise<void> {
  const ws = new WebSocket(wsUrl);
  await new Promise((resolve, reject) => {
    ws.onopen = resolve;
    ws.onerror = reject;
  });
  try {
    for (const id of [1, 2])
      await new Promise<void>((resolve) => {
        ws.onmessage = (e) => {
          if ((JSON.parse(String(e.data)) as { id?: number }).id === id) resolve();
        };
        ws.send(JSON.stringify({ id, method: 'HeapProfiler.collectGarbage' }));
      });
  } finally {
    ws.close();
  }
}
