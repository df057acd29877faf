import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { renderMarkdown, type KafkaClientsResults } from './report.js';
import {
  analyzeOutage,
  coresUsed,
  cpuSecondsBetween,
  percentiles,
  ratiosTo,
  summarizeHop,
  type HopRun,
  type ProbeSend,
} from './stats.js';

const run = (lastMs: number[], extra: Partial<HopRun> = {}): HopRun => ({
  firstMs: lastMs.map((v) => v / 2),
  lastMs,
  errors: 0,
  wallMs: 1000,
  gatewayCpuS: 0.5,
  connectorCpuS: 0.25,
  ...extra,
});

describe('bench:kafka-clients statistics', () => {
  it('takes nearest-rank percentiles whatever the order of the samples', () => {
    const values = Array.from({ length: 100 }, (_, i) => 100 - i); // 100 … 1
    assert.deepEqual(percentiles(values), { p50: 50, p99: 99 });
    assert.deepEqual(percentiles([7]), { p50: 7, p99: 7 });
    const empty = percentiles([]);
    assert.ok(Number.isNaN(empty.p50) && Number.isNaN(empty.p99));
  });

  it('pools the rounds of a cell: latency over every sample, throughput and CPU over the sums', () => {
    const s = summarizeHop([
      run([1, 2, 3, 4], { errors: 1 }),
      run([5, 6, 7, 8], { wallMs: 3000, gatewayCpuS: 1.5, connectorCpuS: 0.75 }),
    ]);
    assert.equal(s.roundTrips, 8);
    assert.equal(s.errors, 1);
    assert.deepEqual(s.last, { p50: 4, p99: 8 });
    assert.deepEqual(s.first, { p50: 2, p99: 4 });
    assert.equal(s.throughput, 2); // 8 round trips in 4 s
    // 2 s of gateway CPU and 1 s of connector CPU over 8 round trips, per 1000.
    assert.deepEqual(s.cpuPer1000, { gateway: 250, connector: 125, total: 375 });
  });

  it('says NaN, not 0, for CPU per round trip when nothing completed', () => {
    const s = summarizeHop([run([], { errors: 3 })]);
    assert.equal(s.roundTrips, 0);
    assert.equal(s.throughput, 0);
    assert.ok(Number.isNaN(s.cpuPer1000.total));
  });

  it('turns process.cpuUsage readings into seconds and cores', () => {
    assert.equal(
      cpuSecondsBetween(
        { user: 1_000_000, system: 500_000 },
        { user: 3_000_000, system: 1_000_000 },
      ),
      2.5,
    );
    assert.equal(coresUsed(3, 30_000), 0.1);
    assert.ok(Number.isNaN(coresUsed(1, 0)));
  });

  it('divides every figure by kafkajs’ same figure, leaf by leaf', () => {
    const r = ratiosTo(
      { last: { p50: 2, p99: 30 }, throughput: 500, only: 1 },
      { last: { p50: 4, p99: 10 }, throughput: 250 },
    );
    assert.deepEqual(r, { last: { p50: 0.5, p99: 3 }, throughput: 2 });
    assert.ok(Number.isNaN(ratiosTo(1, 0) as number));
  });

  describe('a broker restart', () => {
    // Broker down from t=1000 to t=2000; a send every 100 ms from t=0.
    const sends = (fate: (s: ProbeSend) => Partial<ProbeSend>): ProbeSend[] =>
      Array.from({ length: 40 }, (_, i) => {
        const s: ProbeSend = { seq: i, sentAt: i * 100 };
        return { ...s, ...fate(s) };
      });

    it('counts what waited through the outage and when the client worked again', () => {
      const all = sends((s) =>
        s.sentAt < 1000
          ? { ok: true, doneAt: s.sentAt + 5 }
          : s.sentAt < 2000
            ? { ok: true, doneAt: 2300 } // held and delivered after the restart
            : { ok: true, doneAt: Math.max(s.sentAt + 5, 2300) },
      );
      const received = new Map(all.map((s) => [s.seq, [s.doneAt! + 1]]));
      const o = analyzeOutage(all, received, 1000, 2000);
      assert.equal(o.sentWhileDown, 10);
      assert.equal(o.ackedLater, 10);
      assert.equal(o.failed, 0);
      assert.equal(o.pendingAtEnd, 0);
      assert.equal(o.sendRecoveryMs, 300);
      assert.equal(o.consumeRecoveryMs, 301);
      assert.equal(o.lost, 0);
      assert.equal(o.duplicates, 0);
      assert.ok(Number.isNaN(o.slowestFailureMs));
    });

    it('reports failures, their slowest, losses and duplicates', () => {
      const all = sends((s) =>
        s.sentAt < 1000
          ? { ok: true, doneAt: s.sentAt + 5 }
          : s.sentAt < 1500
            ? { ok: false, doneAt: s.sentAt + 1500, error: 'Connection refused' }
            : s.sentAt < 2000
              ? {} // still pending
              : { ok: true, doneAt: s.sentAt + 5 },
      );
      const received = new Map<number, number[]>(
        all.filter((s) => s.ok === true && s.seq !== 3).map((s) => [s.seq, [s.doneAt!]]),
      );
      received.set(25, [2505, 2600]); // consumed twice
      const o = analyzeOutage(all, received, 1000, 2000);
      assert.equal(o.sentWhileDown, 10);
      assert.equal(o.failed, 5);
      assert.equal(o.pendingAtEnd, 5);
      assert.equal(o.ackedLater, 0);
      assert.equal(o.slowestFailureMs, 1500);
      assert.equal(o.sendRecoveryMs, 5);
      assert.equal(o.lost, 1); // seq 3 was acknowledged and never consumed
      assert.equal(o.duplicates, 1);
      assert.deepEqual(o.firstErrors, ['Connection refused']);
    });

    it('says NaN when the client never recovered', () => {
      const all = sends((s) => (s.sentAt < 1000 ? { ok: true, doneAt: s.sentAt + 5 } : {}));
      const o = analyzeOutage(all, new Map(), 1000, 2000);
      assert.ok(Number.isNaN(o.sendRecoveryMs));
      assert.ok(Number.isNaN(o.consumeRecoveryMs));
      assert.equal(o.pendingAtEnd, 10);
    });
  });

  it('renders ratios to kafkajs measured in the same run', () => {
    const hop = (p50: number) => summarizeHop([run([p50, p50, p50])]);
    const results: KafkaClientsResults = {
      startedAt: 'a',
      finishedAt: 'b',
      machine: { cpus: 2, node: 'v24', loadAverage: { start: [1, 2, 3], end: [1, 2, 3] } },
      plan: {},
      clients: { kafkajs: '2.2.4', platformatic: '2.12.1' },
      unavailable: { confluent: 'no binary\nmore' },
      hop: { kafkajs: { 'unary c=1': hop(10) }, platformatic: { 'unary c=1': hop(5) } },
      hopRatiosToKafkajs: {},
      idle: { kafkajs: { cores: 0.02, seconds: 30 }, platformatic: { cores: 0.01, seconds: 30 } },
      produce: {},
      restart: {},
    };
    const md = renderMarkdown(results);
    assert.match(md, /\| unary c=1 \| kafkajs \| 5\.00 \| 5\.00 \| 10\.00 \| 10\.00 \|/);
    assert.match(
      md,
      /\| unary c=1 \| platformatic \| 2\.50 \(×0\.50\) \| 2\.50 \(×0\.50\) \| 5\.00 \(×0\.50\)/,
    );
    assert.match(md, /\| platformatic \| 0\.0100 \(×0\.50\) \| 30 s \|/);
    assert.match(md, /Not measured: confluent: no binary$/m);
  });
});
