import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  STREAMS_END,
  STREAMS_START,
  errorsText,
  mergeStreamsSection,
  renderStreamsMarkdown,
  streamsSectionOf,
  type StreamsResults,
} from './report.js';
import { errorKind, failureKind, peakOpen, summarizeStreams, type StreamSample } from './stats.js';

const sample = (over: Partial<StreamSample> = {}): StreamSample => ({
  status: 200,
  ttfbMs: 10,
  ttftMs: 30,
  totalMs: 1000,
  contentEvents: 4,
  usageTokens: 4,
  done: true,
  openAt: 0,
  closeAt: 1000,
  ...over,
});

describe('bench:streams statistics', () => {
  it('counts a stream complete only with [DONE] and exactly the tokens asked for', () => {
    assert.equal(failureKind(sample(), 4), undefined);
    assert.equal(failureKind(sample({ usageTokens: NaN }), 4), undefined, 'usage is optional');
    assert.equal(failureKind(sample({ done: false }), 4), 'no [DONE]');
    assert.equal(failureKind(sample({ contentEvents: 3 }), 4), 'tokens short');
    assert.equal(failureKind(sample({ usageTokens: 3 }), 4), 'tokens short');
    assert.equal(failureKind(sample({ contentEvents: 5 }), 4), 'tokens short');
    assert.equal(
      failureKind(sample({ status: 429, error: 'http 429 rate_limited', done: false }), 4),
      'http 429 rate_limited',
    );
  });

  it('summarizes: opened, completed, errors by kind, percentiles of what exists', () => {
    const samples = [
      ...Array.from({ length: 98 }, (_, i) => sample({ ttfbMs: i + 1, ttftMs: 100 + i })),
      sample({ status: 0, ttfbMs: NaN, ttftMs: NaN, done: false, error: 'ECONNRESET' }),
      sample({ contentEvents: 2, ttfbMs: 500, ttftMs: 600 }),
    ];
    const s = summarizeStreams(samples, 4);
    assert.equal(s.sent, 100);
    assert.equal(s.opened, 99);
    assert.equal(s.completed, 98);
    assert.deepEqual(s.errors, { ECONNRESET: 1, 'tokens short': 1 });
    assert.deepEqual(s.errorAtMs['ECONNRESET'], { p50: 1000, p99: 1000 });
    assert.equal(s.allComplete, false);
    // 99 finite TTFBs (1..98 and 500): nearest rank p50 is the 50th, p99 the 99th (the slow one).
    assert.equal(s.ttfb.p50, 50);
    assert.equal(s.ttfb.p99, 500);
    assert.equal(s.ttft.p50, 149);
    assert.equal(summarizeStreams([sample()], 4).allComplete, true);
    assert.equal(summarizeStreams([], 4).allComplete, false, 'no stream is not all complete');
  });

  it('peakOpen: the most intervals overlapping, a close before an open at the same instant', () => {
    assert.equal(peakOpen([]), 0);
    assert.equal(
      peakOpen([
        [0, 10],
        [5, 15],
        [9, 20],
        [10, 30],
      ]),
      3,
    );
    assert.equal(
      peakOpen([
        [0, 10],
        [10, 20],
      ]),
      1,
    );
    assert.equal(
      peakOpen([
        [0, 10],
        [NaN, NaN],
        [1, 2],
      ]),
      2,
      'streams that never opened do not count',
    );
  });

  it('errorKind keeps the first line and hides ids', () => {
    assert.equal(errorKind('stream error upstream_stalled\nat x'), 'stream error upstream_stalled');
    assert.equal(errorKind('gen 0123456789abcdef lost'), 'gen … lost');
  });
});

const results = (): StreamsResults => ({
  date: '2026-12-06T08:00:00.000Z',
  durationS: 120,
  machine: {
    cpus: 2,
    cpuModel: 'cpu',
    totalMemGiB: 24,
    node: 'v24',
    os: 'Linux',
    loadAvgAtStart: [3, 2, 1],
    loadAvgAtEnd: [4, 3, 2],
    fdLimit: '20000 soft, 20000 hard',
  },
  config: {
    streams: 1000,
    tokens: 40,
    tps: 2,
    ttftMs: 20,
    openPerS: 1000,
    simulators: 1,
    loadgens: 1,
    settleS: 60,
    sampleMs: 500,
    timeoutMs: 120000,
  },
  modes: [
    {
      mode: 'split',
      summary: summarizeStreams(
        [
          sample({ contentEvents: 40, usageTokens: 40 }),
          sample({ status: 503, ttfbMs: NaN, error: 'http 503', done: false }),
        ],
        40,
      ),
      peakOpen: 2,
      wallS: 21,
      processes: {
        gateway: { peakRssBytes: 300 * 2 ** 20, settledRssBytes: 200 * 2 ** 20, cpuS: 12.34 },
      },
      notes: ['gateway peak RSS 315 MB: under the 1 GB target'],
    },
  ],
});

describe('bench:streams report', () => {
  it('renders the figures it was given, within its markers', () => {
    const md = renderStreamsMarkdown([results()], 'What limited it: the machine.');
    assert.ok(md.startsWith(STREAMS_START) && md.trimEnd().endsWith(STREAMS_END));
    assert.match(
      md,
      /\| split \| 2 \| 1 \| 2 \| 1 \| 1 × http 503 \(at 1\.0 s p50\) \| 10 \/ 10 \|/,
    );
    assert.match(md, /\| split \| gateway \| 300 \| 200 \| 12\.3 \| 0\.59 \|/);
    assert.match(md, /- split: gateway peak RSS 315 MB/);
    assert.match(md, /What limited it: the machine\./);
    assert.match(md, /### 1000 streams, 2026-12-06T08:00:00\.000Z/);
    assert.match(md, /load average \(1\/5\/15 min\) 3\.00 \/ 2\.00 \/ 1\.00 at the start/);
    assert.equal(errorsText({}), 'none');
    assert.equal(errorsText({ a: 1, b: 3 }), '3 × b; 1 × a');
    assert.equal(errorsText({ a: 2 }, { a: { p50: 61_500 } }), '2 × a (at 61.5 s p50)');
  });

  it('merges its section in place, keeping the rest of the document', () => {
    const section = renderStreamsMarkdown([results()]);
    const doc =
      '# Benchmarks\n\nbench text\n\n<!-- bench:peers:start x -->\npeers\n<!-- bench:peers:end -->\n';
    const once = mergeStreamsSection(doc, section);
    assert.ok(once.startsWith(doc.trimEnd()), 'the other sections are kept');
    assert.equal(streamsSectionOf(once), section.trimEnd());
    const replaced = mergeStreamsSection(once, section.replace('split', 'SPLIT'));
    assert.equal(replaced.split(STREAMS_START).length, 2, 'one streams section, not two');
    assert.match(streamsSectionOf(replaced), /SPLIT/);
    assert.ok(replaced.includes('bench text') && replaced.includes('peers\n'));
    assert.equal(mergeStreamsSection('', section), `${section.trimEnd()}\n`);
  });
});
