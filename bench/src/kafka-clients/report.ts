/** The results of `bench:kafka-clients` and their tables (markdown), ratios against kafkajs. */
import type { HopSummary, OutageReport } from './stats.js';
import { ratio } from '../peers/stats.js';

export interface KafkaClientsResults {
  startedAt: string;
  finishedAt?: string;
  machine: { cpus: number; node: string; loadAverage: { start: number[]; end: number[] } };
  plan: unknown;
  /** Client name → version measured. */
  clients: Record<string, string>;
  /** Client name → why it was not measured. */
  unavailable: Record<string, string>;
  confluentFeatures?: string[];
  /** Client → cell (`unary c=32`) → summary. */
  hop: Record<string, Record<string, HopSummary>>;
  /** The same figures divided by kafkajs' (ratiosTo). */
  hopRatiosToKafkajs: Record<string, unknown>;
  idle: Record<string, { cores: number; seconds: number }>;
  /** Client → shape → figures. */
  produce: Record<
    string,
    Record<string, { messagesPerS: number; cpuSPer100k: number; failed: number }>
  >;
  restart: Record<string, OutageReport>;
  restartTimeline?: { downAt: number; restartAt: number; upAt: number; brokerStartMs: number };
}

const f = (n: number, digits = 1) => (Number.isFinite(n) ? n.toFixed(digits) : '–');
/** `value (×ratio)` against kafkajs' figure; kafkajs itself shows the bare value. */
const vs = (value: number, base: number | undefined, isBase: boolean, digits = 1) =>
  isBase || base === undefined
    ? f(value, digits)
    : `${f(value, digits)} (×${f(ratio(value, base), 2)})`;

export function renderMarkdown(r: KafkaClientsResults): string {
  const clients = Object.keys(r.hop);
  const out: string[] = [];
  const la = (l: number[]) => l.map((x) => x.toFixed(2)).join(' ');
  out.push(
    `Measured ${r.startedAt} → ${r.finishedAt ?? '?'} on ${r.machine.cpus} cores (Node ${r.machine.node}); ` +
      `load average at start ${la(r.machine.loadAverage.start)}, at end ${la(r.machine.loadAverage.end)}.`,
    '',
    `Clients: ${Object.entries(r.clients)
      .map(([c, v]) => `${c} ${v}`)
      .join(', ')}.`,
  );
  for (const [c, why] of Object.entries(r.unavailable))
    out.push('', `Not measured: ${c}: ${why.split('\n')[0]}`);
  out.push(
    '',
    '### The hop (gateway → requests → connector → replies → gateway), ms; ×ratio to kafkajs in the same run',
    '',
    '| cell | client | first reply p50 | p99 | last reply p50 | p99 | round trips/s | CPU s / 1000 (gw + conn) | errors |',
    '| --- | --- | --- | --- | --- | --- | --- | --- | --- |',
  );
  const cells = Object.keys(r.hop[clients[0] ?? ''] ?? {});
  for (const cell of cells) {
    const base = r.hop['kafkajs']?.[cell];
    for (const c of clients) {
      const s = r.hop[c]?.[cell];
      if (!s) continue;
      const isBase = c === 'kafkajs';
      out.push(
        `| ${cell} | ${c} | ${vs(s.first.p50, base?.first.p50, isBase, 2)} | ${vs(s.first.p99, base?.first.p99, isBase, 2)} | ` +
          `${vs(s.last.p50, base?.last.p50, isBase, 2)} | ${vs(s.last.p99, base?.last.p99, isBase, 2)} | ` +
          `${vs(s.throughput, base?.throughput, isBase, 0)} | ` +
          `${vs(s.cpuPer1000.total, base?.cpuPer1000.total, isBase, 2)} (${f(s.cpuPer1000.gateway, 2)} + ${f(s.cpuPer1000.connector, 2)}) | ${s.errors} |`,
      );
    }
  }
  out.push('', '### Idle: one consumer (20 ms long poll) + one connected producer, cores used', '');
  out.push('| client | cores | over |', '| --- | --- | --- |');
  for (const [c, i] of Object.entries(r.idle))
    out.push(
      `| ${c} | ${vs(i.cores, r.idle['kafkajs']?.cores, c === 'kafkajs', 4)} | ${f(i.seconds, 0)} s |`,
    );
  out.push('', '### Produce, 100-byte messages, acks=all', '');
  out.push(
    '| shape | client | messages/s | CPU s / 100k messages | failed |',
    '| --- | --- | --- | --- | --- |',
  );
  const shapes = Object.keys(r.produce[clients[0] ?? ''] ?? {});
  for (const shape of shapes) {
    const base = r.produce['kafkajs']?.[shape];
    for (const c of Object.keys(r.produce)) {
      const p = r.produce[c]?.[shape];
      if (!p) continue;
      const isBase = c === 'kafkajs';
      out.push(
        `| ${shape} | ${c} | ${vs(p.messagesPerS, base?.messagesPerS, isBase, 0)} | ${vs(p.cpuSPer100k, base?.cpuSPer100k, isBase, 2)} | ${p.failed} |`,
      );
    }
  }
  const t = r.restartTimeline;
  out.push(
    '',
    `### Broker restart (down ${t ? f((t.restartAt - t.downAt) / 1000, 1) : '?'} s, ready ${t ? f(t.brokerStartMs / 1000, 1) : '?'} s after its start), a send every 50 ms`,
    '',
    '| client | sent while down | of which acked later / failed / pending | slowest failure ms | first ack after ready ms | first consume after ready ms | lost | duplicates | errors seen |',
    '| --- | --- | --- | --- | --- | --- | --- | --- | --- |',
  );
  for (const [c, o] of Object.entries(r.restart)) {
    out.push(
      `| ${c} | ${o.sentWhileDown} | ${o.ackedLater} / ${o.failed} / ${o.pendingAtEnd} | ${f(o.slowestFailureMs, 0)} | ` +
        `${f(o.sendRecoveryMs, 0)} | ${f(o.consumeRecoveryMs, 0)} | ${o.lost} | ${o.duplicates} | ${o.firstErrors.join('; ').replace(/\|/g, '/').slice(0, 160)} |`,
    );
  }
  return out.join('\n') + '\n';
}
