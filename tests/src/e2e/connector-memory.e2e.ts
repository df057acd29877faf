/**
 * The connector keeps nothing of a generation once it is over: after a couple of thousand
 * streams, a fifth of them abandoned by their client mid-stream, its live heap (after a full GC,
 * forced through its inspector) is back within a few MB of what it was before them. A structure
 * that retained anything per generation (a reply, a span, a promise per chunk, an abort
 * listener) would show here as kilobytes per generation, megabytes in all.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { Agent, request } from 'undici';
import { collectGarbage, inspectorUrlFromLog, scrapeMetric } from '@turnpike/testing';
import { ctx, eventually } from '../support/context.js';

const GENERATIONS = 2000;
const CONCURRENCY = 250;
const ABANDONED_SHARE = 0.2;
/**
 * Live heap the run may leave behind: 1 KB a generation (2,000 generations: 2 MB). Measured
 * here: about 0.5 KB a generation (the dedupe map's entries, kept 15 minutes, among them).
 * Retaining a finished generation's request, output tally and trace headers measured 1.4 KB.
 */
const MARGIN_BYTES = 1024 * GENERATIONS;
const PROMPT = '[[sim ttft_ms=10 tps=400 tokens=40]] remember nothing of me';

const connector = () => ctx().services.find((s) => s.name.startsWith('connector'))!;

async function metric(name: string): Promise<number> {
  const v = await scrapeMetric(connector().url, name);
  assert.ok(!Number.isNaN(v), `${name} in the connector's /metrics`);
  return v;
}

/** A full GC of the connector through its inspector, then its live heap. */
async function heapAfterGc(): Promise<number> {
  await collectGarbage(inspectorUrlFromLog(connector().logFile));
  return metric('nodejs_heap_size_used_bytes');
}

const dispatcher = new Agent({ connections: CONCURRENCY, pipelining: 1, bodyTimeout: 60_000 });

/** One streamed generation; `abandon`: the client goes away after the first content. */
async function stream(abandon: boolean): Promise<'done' | 'abandoned'> {
  const ac = new AbortController();
  const res = await request(`${ctx().gatewayUrl}/v1/chat/completions`, {
    method: 'POST',
    dispatcher,
    signal: ac.signal,
    headers: {
      authorization: `Bearer ${ctx().tenants[1]!.key}`,
      'content-type': 'application/json',
    },
    body: JSON.stringify({
      model: 'turnpike/sim-small',
      stream: true,
      messages: [{ role: 'user', content: PROMPT }],
    }),
  });
  if (res.statusCode !== 200) assert.fail(`HTTP ${res.statusCode}: ${await res.body.text()}`);
  let text = '';
  try {
    for await (const chunk of res.body) {
      text += String(chunk);
      if (abandon && text.includes('"content"')) {
        ac.abort();
        return 'abandoned';
      }
    }
  } catch (e) {
    if (abandon && ac.signal.aborted) return 'abandoned';
    throw e;
  }
  assert.ok(text.includes('[DONE]'), text.slice(-300));
  return 'done';
}

async function generations(n: number): Promise<Record<string, number>> {
  let next = 0;
  const counts: Record<string, number> = {};
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (next < n) {
        const i = next++;
        const r = await stream(i % Math.round(1 / ABANDONED_SHARE) === 0);
        counts[r] = (counts[r] ?? 0) + 1;
      }
    }),
  );
  return counts;
}

/** Waits until the connector runs no generation (the abandoned ones are cancelled). */
const idle = () =>
  eventually(
    async () =>
      (await metric('turnpike_connector_generations_in_flight')) === 0 ? true : undefined,
    'the connector to finish every generation',
  );

describe('connector memory', () => {
  test(`${GENERATIONS} streams (a fifth abandoned) leave the live heap where it was`, async () => {
    // Warm-up with the same traffic: compiled code, inline caches and pools are not a leak.
    await generations(CONCURRENCY);
    await idle();
    const baseline = await heapAfterGc();
    const counts = await generations(GENERATIONS);
    assert.equal(counts['abandoned'], GENERATIONS * ABANDONED_SHARE, JSON.stringify(counts));
    assert.equal(counts['done'], GENERATIONS * (1 - ABANDONED_SHARE));
    await idle();
    const after = await heapAfterGc();
    const grown = after - baseline;
    process.stderr.write(
      `connector heapUsed after GC: ${(baseline / 2 ** 20).toFixed(1)} MB before, ${(after / 2 ** 20).toFixed(1)} MB after ${GENERATIONS} generations (${Math.round(grown / GENERATIONS)} bytes a generation)\n`,
    );
    assert.ok(
      grown < MARGIN_BYTES,
      `the connector's live heap grew by ${(grown / 2 ** 20).toFixed(1)} MB over ${GENERATIONS} generations (${Math.round(grown / GENERATIONS)} bytes each; at most ${MARGIN_BYTES / GENERATIONS})`,
    );
    await dispatcher.close();
  });
});
