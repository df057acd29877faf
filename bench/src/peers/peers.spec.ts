import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Summary } from '../load.js';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseProcStat } from './proc.js';
import { fusedAvailability } from './systems.js';
import {
  PEERS_END,
  PEERS_START,
  heldTable,
  latencyTable,
  mergePeersSection,
  peersSectionOf,
  renderPeersMarkdown,
  type PeersResults,
} from './report.js';
import { addedOver, cpuPer1000, heldConcurrency, ratio, roundOrder, split } from './stats.js';

const summary = (
  ttft50: number,
  ttft99: number,
  total50: number,
  total99: number,
  extra: Partial<Summary> = {},
): Summary => ({
  requests: 100,
  errors: 0,
  throughput: 100,
  ttft: { p50: ttft50, p99: ttft99 },
  total: { p50: total50, p99: total99 },
  firstErrors: [],
  ...extra,
});

describe('bench:peers statistics', () => {
  it('added latency is the difference of the same percentile', () => {
    const added = addedOver(summary(25, 40, 100, 130), summary(20, 22, 95, 99));
    assert.deepEqual(added, { ttft: { p50: 5, p99: 18 }, total: { p50: 5, p99: 31 } });
  });

  it('ratios and CPU per 1000 requests refuse what cannot be divided', () => {
    assert.equal(ratio(300, 1200), 0.25);
    assert.ok(Number.isNaN(ratio(1, 0)));
    assert.ok(Number.isNaN(ratio(NaN, 1)));
    assert.equal(cpuPer1000(4.2, 1000), 4.2);
    assert.equal(cpuPer1000(0.5, 250), 2);
    assert.ok(Number.isNaN(cpuPer1000(1, 0)));
  });

  it('the highest load held is the last level before the first that breaks the bound or errs', () => {
    const steps = [
      { concurrency: 1, addedP99: 3, errors: 0 },
      { concurrency: 8, addedP99: 24.9, errors: 0 },
      { concurrency: 4, addedP99: 10, errors: 0 },
      { concurrency: 16, addedP99: 25.1, errors: 0 },
      { concurrency: 32, addedP99: 5, errors: 0 },
    ];
    assert.deepEqual(heldConcurrency(steps, 25), { held: 8, topReached: false });
    assert.deepEqual(heldConcurrency([{ concurrency: 1, addedP99: 1, errors: 1 }], 25), {
      held: 0,
      topReached: false,
    });
    assert.deepEqual(heldConcurrency([{ concurrency: 1, addedP99: NaN, errors: 0 }], 25), {
      held: 0,
      topReached: false,
    });
    assert.deepEqual(heldConcurrency(steps.slice(0, 3), 25), { held: 8, topReached: true });
    // A level the machine's noise decided stops the search: held is a lower bound.
    const noisy = [steps[0]!, { concurrency: 4, addedP99: 3, errors: 0, inconclusive: true }];
    assert.deepEqual(heldConcurrency(noisy, 25), { held: 1, topReached: false, inconclusiveAt: 4 });
  });

  it('rounds rotate the order and requests split evenly', () => {
    assert.deepEqual(roundOrder(['a', 'b', 'c'], 0), ['a', 'b', 'c']);
    assert.deepEqual(roundOrder(['a', 'b', 'c'], 1), ['b', 'c', 'a']);
    assert.deepEqual(roundOrder(['a', 'b', 'c'], 5), ['c', 'a', 'b']);
    assert.deepEqual(split(10, 4), [3, 3, 2, 2]);
    assert.equal(
      split(513, 2).reduce((a, b) => a + b, 0),
      513,
    );
  });

  it('reads CPU and RSS from a /proc stat line whose name holds spaces and parentheses', () => {
    // pid (comm) state ppid pgrp session tty tpgid flags minflt cminflt majflt cmajflt utime stime cutime cstime prio nice threads itreal start vsize rss
    const line =
      '4242 (gunicorn: (worker) x) S 4200 4200 4200 0 -1 4194560 100 0 0 0 150 50 30 20 20 0 4 0 1000 123456 2560 rest';
    const s = parseProcStat(line, 4242)!;
    assert.equal(s.ppid, 4200);
    assert.equal(s.cpuS, 2.5); // (150 + 50 + 30 + 20) ticks at 100 Hz
    assert.equal(s.rssBytes, 2560 * 4096);
  });
});

function results(): PeersResults {
  const direct = summary(20.1, 21, 95.5, 97, { throughput: 1200 });
  const split = summary(32, 60, 110, 140, { throughput: 400, errors: 2, requests: 102 });
  const cell = (mode: 'non-streaming' | 'streaming', c: number) => ({
    mode,
    concurrency: c,
    requestsPerSystem: 100,
    systems: {
      direct: {
        summary: direct,
        added: addedOver(direct, direct),
        cpuS: { simulator: 0.5 },
        cpuPer1000: 5,
      },
      'turnpike-split': {
        summary: split,
        added: addedOver(split, direct),
        cpuS: { gateway: 0.2, kafka: 0.2 },
        cpuPer1000: 4,
      },
    },
  });
  return {
    date: '2026-12-06T04:00:00.000Z',
    durationS: 100,
    machine: {
      cpus: 2,
      cpuModel: 'Test CPU',
      totalMemGiB: 24,
      node: 'v24.0.0',
      python: 'Python 3.11.7',
      os: 'Linux',
      loadAvgAtStart: [3.5, 3, 2],
      loadAvgAtEnd: [4, 3, 2],
    },
    config: {
      quick: true,
      upstream: 'sim',
      concurrency: [1, 128],
      perCell: { 1: 40, 128: 512 },
      rounds: 2,
      warmupPerSystem: 40,
      idleS: 10,
      boundMs: 25,
      steps: [1, 4],
      stepMinRequests: 60,
      runCapS: 20,
      client: 'undici',
    },
    systems: [
      { name: 'direct', version: 'simulator', streaming: true, notes: [] },
      { name: 'turnpike-split', version: '0.1.0', streaming: true, notes: ['five services'] },
      { name: 'portkey', version: '1.15.2', streaming: false, notes: [] },
      { name: 'bifrost', version: '1.6.3', notes: [], unavailable: 'ENOTFOUND getbifrost.ai' },
    ],
    idle: {
      'turnpike-split': {
        gateway: { cores: 0.1, rssBytes: 100 * 2 ** 20 },
        kafka: { cores: 0.14, rssBytes: 2 ** 29 },
      },
    },
    peakRssBytes: { 'turnpike-split': 2 ** 30 },
    cells: [cell('non-streaming', 1), cell('streaming', 128)],
    steps: [
      {
        mode: 'non-streaming',
        system: 'turnpike-split',
        steps: [
          { concurrency: 1, addedP99: 12.3, errors: 0 },
          { concurrency: 4, addedP99: 30, errors: 1 },
        ],
        held: 1,
        topReached: false,
      },
    ],
  };
}

describe('bench:peers fused hook', () => {
  it('measures fused only once the built gateway config declares the setting', () => {
    const root = mkdtempSync(path.join(os.tmpdir(), 'peers-fused-'));
    try {
      const env = { GATEWAY_TRANSPORT: 'inprocess' };
      assert.match(fusedAvailability(root, env)!, /not built/);
      const dist = path.join(root, 'services/gateway/dist');
      mkdirSync(dist, { recursive: true });
      const config = path.join(dist, 'gateway.config.js');
      writeFileSync(
        config,
        '// GATEWAY_TRANSPORT will come\nconst schema = { GATEWAY_REPLICAS: env.int(1, 1) };\n',
      );
      assert.match(fusedAvailability(root, env)!, /no GATEWAY_TRANSPORT setting/);
      writeFileSync(
        config,
        "const schema = { GATEWAY_TRANSPORT: env.oneOf(['kafka', 'inprocess']) };\n",
      );
      assert.equal(fusedAvailability(root, env), null);
      assert.match(fusedAvailability(root, {})!, /no --fused-env/);
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });
});

describe('bench:peers report', () => {
  it('shows added latency against direct, TTFT only when streaming, and the errors and CPU', () => {
    const lines = latencyTable(results()).split('\n');
    const row = (mode: string, c: number, system: string) =>
      lines
        .find(
          (l) =>
            l.includes(` ${mode} `) &&
            l.includes(` ${system} `) &&
            new RegExp(`\\|\\s+${c} \\|`).test(l),
        )!
        .split('|')
        .map((x) => x.trim());
    const ns = row('non-streaming', 1, 'turnpike-split');
    assert.deepEqual(ns.slice(4, 13), [
      '–',
      '–',
      '+14.5',
      '+43.0',
      '×1.15',
      '400',
      '×0.33',
      '2',
      '4.00',
    ]);
    const st = row('streaming', 128, 'turnpike-split');
    assert.deepEqual(st.slice(4, 6), ['+11.9', '+39.0']);
    const d = row('streaming', 128, 'direct');
    assert.deepEqual(d.slice(4, 8), ['20.1', '21.0', '95.5', '97.0']);
  });

  it('says what was not measured and why, and the machine, date and load', () => {
    const md = renderPeersMarkdown(results());
    assert.ok(md.startsWith(PEERS_START) && md.trimEnd().endsWith(PEERS_END));
    assert.match(md, /bifrost +\| 1\.6\.3 +\| \*\*not available\*\*: ENOTFOUND getbifrost\.ai/);
    assert.match(md, /portkey +\| 1\.15\.2 +\| non-streaming only /);
    assert.match(md, /2026-12-06T04:00:00\.000Z/);
    assert.match(md, /at the start: 3\.50 \/ 3\.00 \/ 2\.00/);
    assert.match(md, /npm run bench:peers -- --quick/);
    assert.match(md, /p99 \(nearest rank\)\s+is its largest sample/);
    assert.match(md, /\| kafka +\| +0\.140 \| +512 \|/);
  });

  it('the held-load table names the level and the trail of p99s', () => {
    const t = heldTable(results());
    assert.match(
      t,
      /turnpike-split \| +1 \| +not measured \| c=1: \+12\.3, c=4: \+30\.0 \(1 err\)/,
    );
    const r = results();
    r.steps[0]!.steps[1] = {
      concurrency: 4,
      addedP99: 3,
      errors: 0,
      directSpreadMs: 80,
      inconclusive: true,
    };
    Object.assign(r.steps[0]!, { held: 1, inconclusiveAt: 4 });
    assert.match(
      heldTable(r),
      /≥ 1 \(machine too noisy at c=4\) .* c=4: \+3\.0 \(inconclusive: direct's p99 − p50 80\.0\)/,
    );
  });

  it('replaces its own section in a document, or appends it, and hands it over intact', () => {
    const section = `${PEERS_START}\nnew\n${PEERS_END}\n`;
    const doc = `# Bench\n\nbody\n\n${PEERS_START}\nold\n${PEERS_END}\n\n## After\n`;
    const merged = mergePeersSection(doc, section);
    assert.equal(merged, `# Bench\n\nbody\n\n${PEERS_START}\nnew\n${PEERS_END}\n\n## After\n`);
    assert.equal(mergePeersSection('# Bench\n', section), `# Bench\n\n${section}`);
    assert.equal(mergePeersSection('', section), section);
    assert.equal(peersSectionOf(merged), `${PEERS_START}\nnew\n${PEERS_END}`);
    assert.equal(peersSectionOf('# Bench\n'), '');
  });
});
