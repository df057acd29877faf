import {
  appendFileSync,
  closeSync,
  existsSync,
  fdatasync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  unlinkSync,
  writeFileSync,
  writeSync,
} from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { UsageEventV1 } from '@turnpike/contracts';

/**
 * A write-ahead spool of usage events on the gateway's disk: an event is appended (and synced)
 * before it is produced and forgotten once the broker acknowledged it, so an event the broker
 * has not taken survives a crash, a kill or an outage longer than memory can hold, and is
 * produced again by the next process that opens the spool. Billing and analytics are idempotent
 * on the generation id, so an event produced twice (acknowledged, then the process died before
 * it could forget it) still counts once.
 *
 * Layout: `<root>/<instance>/usage-<start ms>-<n>.jsonl` segments of one JSON event per line,
 * and a `lock` file naming the process (`<hostname> <pid>`). A segment is deleted when every
 * event in it was acknowledged and a newer one is being written. At open, the spools of dead
 * processes of this host under the same root are adopted (instance ids may be random: a
 * restarted process would otherwise never find its predecessor's spool). A torn last line (a
 * crash mid-write) is skipped.
 */
export class UsageSpool {
  private current: Segment | null = null;
  private readonly segments = new Set<Segment>();
  private readonly where = new Map<string, Segment>();
  private seq = 0;
  private syncWaiters: Array<{ resolve: () => void; reject: (e: unknown) => void }> = [];
  private syncTimer: NodeJS.Timeout | null = null;
  private readonly dirty = new Set<Segment>();
  private closed = false;

  private constructor(
    readonly dir: string,
    private readonly opts: Required<SpoolOptions>,
  ) {}

  /**
   * Opens (creating it) the spool of `instance` under `root`, adopts the spools of dead
   * processes of this host, and returns the events still waiting for the broker.
   */
  static open(
    root: string,
    instance: string,
    options: SpoolOptions = {},
  ): { spool: UsageSpool; pending: UsageEventV1[]; skippedLines: number } {
    const opts = { ...SPOOL_DEFAULTS, ...options };
    const dir = path.join(root, safeName(instance));
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    writeFileSync(path.join(dir, LOCK), `${os.hostname()} ${process.pid}\n`, { mode: 0o600 });
    for (const other of readdirSync(root, { withFileTypes: true })) {
      if (!other.isDirectory() || other.name === path.basename(dir)) continue;
      const from = path.join(root, other.name);
      // Two gateways starting on one host may adopt the same dead spool at once: a file the
      // other took first is skipped (each segment goes to exactly one of them), never an error
      // that would leave this gateway without a spool.
      try {
        if (!ownerIsDead(from)) continue;
        for (const f of segmentFiles(from)) {
          try {
            renameSync(path.join(from, f), path.join(dir, f));
          } catch (e) {
            if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
          }
        }
        rmSync(from, { recursive: true, force: true });
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
      }
    }
    const spool = new UsageSpool(dir, opts);
    let skippedLines = 0;
    // Every line of every segment: events, and acknowledgements (`{"ack": id}`, written
    // unsynced: one lost in a crash only means its event is produced once more).
    const acked = new Set<string>();
    const read = segmentFiles(dir).map((name) => {
      const file = path.join(dir, name);
      const text = readFileSync(file, 'utf8');
      const lines = text.split('\n');
      lines.pop(); // what follows the last newline: empty, or a torn line
      if (!text.endsWith('\n') && text.length > 0) skippedLines++;
      const events: UsageEventV1[] = [];
      for (const line of lines) {
        try {
          const x = JSON.parse(line) as (UsageEventV1 & { ack?: undefined }) | { ack: string };
          if (typeof x.ack === 'string') acked.add(x.ack);
          else if (typeof (x as UsageEventV1).generationId === 'string')
            events.push(x as UsageEventV1);
          else skippedLines++;
        } catch {
          skippedLines++;
        }
      }
      return { file, events };
    });
    const pending: UsageEventV1[] = [];
    for (const { file, events } of read) {
      const seg: Segment = { file, fd: null, pending: new Set(), lines: 0, openedAt: 0 };
      for (const event of events) {
        if (acked.has(event.generationId) || spool.where.has(event.generationId)) continue;
        seg.pending.add(event.generationId);
        spool.where.set(event.generationId, seg);
        pending.push(event);
      }
      if (seg.pending.size === 0) unlinkSync(file);
      else spool.segments.add(seg);
    }
    return { spool, pending, skippedLines };
  }

  /** Events written and not yet acknowledged. */
  get size(): number {
    return this.where.size;
  }

  has(generationId: string): boolean {
    return this.where.has(generationId);
  }

  /**
   * Writes `event` and resolves once it is on disk (synced with the other events of the same
   * few milliseconds). An event already in the spool is not written twice.
   */
  append(event: UsageEventV1): Promise<void> {
    if (this.closed) return Promise.reject(new Error('the usage spool is closed'));
    if (this.where.has(event.generationId)) return Promise.resolve();
    const seg = this.writable();
    writeSync(seg.fd!, `${JSON.stringify(event)}\n`);
    seg.lines++;
    seg.pending.add(event.generationId);
    this.where.set(event.generationId, seg);
    this.dirty.add(seg);
    return new Promise((resolve, reject) => {
      this.syncWaiters.push({ resolve, reject });
      this.syncTimer ??= setTimeout(() => this.sync(), this.opts.syncDelayMs);
    });
  }

  /** The broker took the event: forget it (a segment with nothing left is deleted). */
  ack(generationId: string): void {
    const seg = this.where.get(generationId);
    if (!seg) return;
    this.where.delete(generationId);
    seg.pending.delete(generationId);
    if (seg.pending.size === 0 && seg !== this.current) this.drop(seg);
    else {
      // Remembered (unsynced) so that a restart does not produce it again; if the line is lost
      // the event is produced twice, and counted once downstream. After close, in the file of
      // the event's own segment.
      const line = `${JSON.stringify({ ack: generationId })}\n`;
      if (!this.closed && this.current?.fd != null) writeSync(this.current.fd, line);
      else appendFileSync(seg.file, line);
    }
  }

  /** The events of the spool not in `except` (at most `limit`), read back from disk. */
  readPending(except: ReadonlySet<string>, limit: number): UsageEventV1[] {
    const out: UsageEventV1[] = [];
    for (const seg of this.segments) {
      if (out.length >= limit) break;
      let text: string;
      try {
        text = readFileSync(seg.file, 'utf8');
      } catch {
        continue;
      }
      for (const line of text.split('\n')) {
        if (out.length >= limit) break;
        if (!line) continue;
        try {
          const e = JSON.parse(line) as UsageEventV1;
          if (seg.pending.has(e.generationId) && !except.has(e.generationId)) out.push(e);
        } catch {
          /* a torn line */
        }
      }
    }
    return out;
  }

  /** Syncs what was written and closes the files; the spool stays on disk for the next process. */
  close(): void {
    if (this.closed) return;
    this.sync();
    this.closed = true;
    for (const seg of this.segments) {
      if (seg.fd !== null) closeSync(seg.fd);
      seg.fd = null;
      if (seg.pending.size === 0) this.drop(seg);
    }
    if (this.where.size === 0) rmSync(path.join(this.dir, LOCK), { force: true });
  }

  /** The segment to append to: the current one, or a new one when it is full or old. */
  private writable(): Segment {
    const now = Date.now();
    const cur = this.current;
    if (
      cur &&
      cur.lines < this.opts.maxSegmentEvents &&
      now - cur.openedAt < this.opts.maxSegmentAgeMs
    )
      return cur;
    if (cur) {
      this.current = null;
      if (cur.pending.size === 0) this.drop(cur);
    }
    const file = path.join(this.dir, `usage-${now}-${String(this.seq++).padStart(6, '0')}.jsonl`);
    const seg: Segment = {
      file,
      fd: openSync(file, 'a', 0o600),
      pending: new Set(),
      lines: 0,
      openedAt: now,
    };
    this.segments.add(seg);
    this.current = seg;
    return seg;
  }

  private drop(seg: Segment): void {
    this.segments.delete(seg);
    this.dirty.delete(seg);
    if (seg.fd !== null) {
      // Its events were acknowledged: whatever is unsynced in it no longer matters.
      closeSync(seg.fd);
      seg.fd = null;
    }
    rmSync(seg.file, { force: true });
  }

  /** fdatasyncs every file written since the last sync, then settles the waiting appends. */
  private sync(): void {
    if (this.syncTimer) clearTimeout(this.syncTimer);
    this.syncTimer = null;
    const waiters = this.syncWaiters;
    this.syncWaiters = [];
    const fds = [...this.dirty].map((s) => s.fd).filter((fd): fd is number => fd !== null);
    this.dirty.clear();
    if (waiters.length === 0) return;
    let left = fds.length;
    let failure: unknown = null;
    const done = () => {
      for (const w of waiters) {
        if (failure) w.reject(failure);
        else w.resolve();
      }
    };
    if (left === 0) return done();
    for (const fd of fds)
      fdatasync(fd, (e) => {
        if (e) failure ??= e;
        if (--left === 0) done();
      });
  }
}

export interface SpoolOptions {
  /** Events in one segment before the next one is started. */
  maxSegmentEvents?: number;
  /** Age of a segment after which the next one is started (so acknowledged ones go). */
  maxSegmentAgeMs?: number;
  /** How long an append waits for company before the sync (group commit). */
  syncDelayMs?: number;
}

const SPOOL_DEFAULTS: Required<SpoolOptions> = {
  maxSegmentEvents: 1000,
  maxSegmentAgeMs: 10_000,
  syncDelayMs: 5,
};

interface Segment {
  file: string;
  fd: number | null;
  pending: Set<string>;
  lines: number;
  openedAt: number;
}

const LOCK = 'lock';
const SEGMENT = /^usage-\d+-\d+\.jsonl$/;

function segmentFiles(dir: string): string[] {
  return readdirSync(dir)
    .filter((f) => SEGMENT.test(f))
    .sort((a, b) => {
      const [, at, an] = /^usage-(\d+)-(\d+)/.exec(a)!;
      const [, bt, bn] = /^usage-(\d+)-(\d+)/.exec(b)!;
      return Number(at) - Number(bt) || Number(an) - Number(bn);
    });
}

const safeName = (s: string) => s.replace(/[^a-zA-Z0-9._-]/g, '_');

/** True when the spool's owner was a process of this host that no longer runs. */
function ownerIsDead(dir: string): boolean {
  const lock = path.join(dir, LOCK);
  if (!existsSync(lock)) return segmentFiles(dir).length > 0 || readdirSync(dir).length === 0;
  const [host, pidText] = readFileSync(lock, 'utf8').trim().split(' ');
  if (host !== os.hostname()) return false;
  const pid = Number(pidText);
  if (!Number.isInteger(pid) || pid <= 0) return true;
  try {
    process.kill(pid, 0);
    return false;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'ESRCH';
  }
}
