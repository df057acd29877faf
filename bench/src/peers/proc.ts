/**
 * CPU time and resident memory of process trees, read from /proc (Linux): a system under test is
 * the processes it was started as plus all their descendants (gunicorn's workers, Postgres's
 * backends, the JVM's threads are in its own stat).
 */
import { readdirSync, readFileSync } from 'node:fs';

/** `getconf CLK_TCK`: 100 on every Linux we run on (x86_64 and arm64). */
const CLK_TCK = 100;
const PAGE_BYTES = 4096;

interface Stat {
  pid: number;
  ppid: number;
  /** utime + stime + cutime + cstime, in seconds: children that ended count in their parent. */
  cpuS: number;
  rssBytes: number;
}

/** Parses one `/proc/<pid>/stat` line (the command name may hold spaces and parentheses). */
export function parseProcStat(line: string, pid: number): Stat | null {
  const close = line.lastIndexOf(')');
  if (close < 0) return null;
  // Fields after the name, from field 3 (state): ppid is field 4, utime 14 … cstime 17, rss 24.
  const f = line.slice(close + 2).split(' ');
  const num = (field: number) => Number(f[field - 3]);
  const ticks = num(14) + num(15) + num(16) + num(17);
  if (!Number.isFinite(ticks)) return null;
  return { pid, ppid: num(4), cpuS: ticks / CLK_TCK, rssBytes: num(24) * PAGE_BYTES };
}

function readAll(): Map<number, Stat> {
  const out = new Map<number, Stat>();
  for (const name of readdirSync('/proc')) {
    const pid = Number(name);
    if (!Number.isInteger(pid)) continue;
    try {
      const s = parseProcStat(readFileSync(`/proc/${pid}/stat`, 'utf8'), pid);
      if (s) out.set(pid, s);
    } catch {
      // gone meanwhile
    }
  }
  return out;
}

export interface TreeSample {
  /** CPU seconds used so far by the trees (live processes and the children they reaped). */
  cpuS: number;
  rssBytes: number;
  processes: number;
}

/** The trees rooted at `roots`, per group name, from one pass over /proc. */
export function sampleGroups(groups: Record<string, number[]>): Record<string, TreeSample> {
  const all = readAll();
  const children = new Map<number, number[]>();
  for (const s of all.values()) {
    const list = children.get(s.ppid) ?? [];
    list.push(s.pid);
    children.set(s.ppid, list);
  }
  const out: Record<string, TreeSample> = {};
  for (const [group, roots] of Object.entries(groups)) {
    const seen = new Set<number>();
    const stack = roots.filter((pid) => all.has(pid));
    while (stack.length > 0) {
      const pid = stack.pop()!;
      if (seen.has(pid)) continue;
      seen.add(pid);
      stack.push(...(children.get(pid) ?? []));
    }
    const sample: TreeSample = { cpuS: 0, rssBytes: 0, processes: seen.size };
    for (const pid of seen) {
      const s = all.get(pid)!;
      sample.cpuS += s.cpuS;
      sample.rssBytes += s.rssBytes;
    }
    out[group] = sample;
  }
  return out;
}

/** CPU seconds each group used between two samples (never negative: a group may lose a process). */
export function cpuDelta(
  before: Record<string, TreeSample>,
  after: Record<string, TreeSample>,
): Record<string, number> {
  return Object.fromEntries(
    Object.keys(after).map((g) => [g, Math.max(0, after[g]!.cpuS - (before[g]?.cpuS ?? 0))]),
  );
}
