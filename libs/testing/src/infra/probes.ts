/**
 * Looking into a running service process from outside, for memory and CPU measurements: one
 * Prometheus sample of its /metrics, the CPU it has used, and a full GC through its inspector
 * (the process runs with `--inspect=127.0.0.1:<port>`).
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
 * A full, compacting GC of the process whose inspector listens on `port`
 * (HeapProfiler.collectGarbage), twice: what the first finalises goes in the second.
 */
export async function collectGarbage(port: number): Promise<void> {
  const targets = (await (await fetch(`http://127.0.0.1:${port}/json/list`)).json()) as Array<{
    webSocketDebuggerUrl: string;
  }>;
  const ws = new WebSocket(targets[0]!.webSocketDebuggerUrl);
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
