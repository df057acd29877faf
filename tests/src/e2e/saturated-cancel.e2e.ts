/**
 * A saturated connector still cancels: on a platform of its own whose connector holds at most 4
 * generations (CONNECTOR_MAX_IN_FLIGHT=4; at that many it stops taking requests), four slow
 * streams fill it and a fifth request waits in Kafka. The client of one running stream goes
 * away: the connector must hear the cancel although it takes no new requests, close that
 * upstream call promptly (the simulator records the abort), record the attempt as cancelled,
 * and then take the waiting request.
 */
import assert from 'node:assert/strict';
import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, describe, test } from 'node:test';
import pg from 'pg';
import type { UsageEventV1 } from '@turnpike/contracts';
import {
  seedTenant,
  startPlatform,
  stopPlatform,
  turnpikeCacheDir,
  type PlatformState,
} from '@turnpike/testing';
import { eventually, marker, type SimRecord } from '../support/context.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
const MAX_IN_FLIGHT = 4;
/** 120 tokens at 4 tokens/s: a 30 s stream, far longer than the test waits for a cancel. */
const SLOW = '[[sim tokens=120 tps=4]]';
/** How soon after the client left its upstream call must be closed (a busy 2-core machine). */
const PROMPT_MS = 5_000;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

let stateDir = '';
let state: PlatformState;
let apiKey = '';
let db: pg.Client;

before(async () => {
  stateDir = mkdtempSync(path.join(os.tmpdir(), 'turnpike-saturated-'));
  chmodSync(stateDir, 0o711);
  state = await startPlatform({
    rootDir: root,
    stateDir,
    cacheDir: turnpikeCacheDir(),
    detached: false,
    simulators: [{ id: 'sim' }],
    serviceEnv: { connector: { CONNECTOR_MAX_IN_FLIGHT: String(MAX_IN_FLIGHT) } },
    log: (l) => console.log(`  [saturated platform] ${l}`),
  });
  apiKey = (
    await seedTenant(state.gatewayUrls[0]!, state.adminToken, { id: 'sat', name: 'Saturated' })
  ).key;
  db = new pg.Client({ connectionString: state.postgres.url });
  await db.connect();
});

after(async () => {
  await db?.end();
  if (stateDir) {
    await stopPlatform(stateDir).catch((e: unknown) => console.error(String(e)));
    if (process.env['TURNPIKE_KEEP_TEST_STATE'] !== '1')
      rmSync(stateDir, { recursive: true, force: true });
  }
});

async function simRecords(text: string): Promise<SimRecord[]> {
  const res = await fetch(`${state.simulators[0]!.url}/__sim/requests`);
  const { data } = (await res.json()) as { data: SimRecord[] };
  return data.filter((r) => JSON.stringify(r.body).includes(text));
}

interface Stream {
  text: string;
  abort: AbortController;
  generationId: Promise<string>;
  /** Resolves once the first content chunk arrived. */
  firstChunk: Promise<void>;
  /** Resolves when the stream ended (or was aborted). */
  done: Promise<void>;
}

/** A streamed completion read in the background. */
function stream(text: string): Stream {
  const abort = new AbortController();
  let gotId!: (id: string) => void;
  let gotChunk!: () => void;
  const generationId = new Promise<string>((r) => (gotId = r));
  const firstChunk = new Promise<void>((r) => (gotChunk = r));
  const done = (async () => {
    try {
      const res = await fetch(`${state.gatewayUrls[0]}/v1/chat/completions`, {
        method: 'POST',
        headers: { authorization: `Bearer ${apiKey}`, 'content-type': 'application/json' },
        body: JSON.stringify({
          model: 'turnpike/sim-small',
          stream: true,
          messages: [{ role: 'user', content: `${text} ${SLOW}` }],
        }),
        signal: abort.signal,
      });
      assert.equal(res.status, 200);
      gotId(res.headers.get('x-generation-id') ?? '');
      const decoder = new TextDecoder();
      let body = '';
      for await (const part of res.body!) {
        body += decoder.decode(part as Uint8Array, { stream: true });
        if (body.includes('"content":"')) gotChunk();
      }
    } catch (e) {
      if (!abort.signal.aborted) throw e;
    }
  })();
  done.catch(() => undefined);
  return { text, abort, generationId, firstChunk, done };
}

describe('a saturated connector', () => {
  test('still cancels: the upstream call of a stream whose client left is closed promptly', async () => {
    const m = marker('saturated');
    const running = Array.from({ length: MAX_IN_FLIGHT }, (_, i) => stream(`${m} running ${i}`));
    try {
      await Promise.all(running.map((s) => s.firstChunk));
      // The connector holds its maximum: a fifth request waits in Kafka, it does not start.
      const waiting = stream(`${m} waiting`);
      await sleep(2_000);
      assert.equal(
        (await simRecords(`${m} waiting`)).length,
        0,
        'the fifth request must wait while the connector is saturated (it did not pause)',
      );

      const victim = running[1]!;
      const generationId = await victim.generationId;
      const abortedAt = Date.now();
      victim.abort.abort();
      const rec = await eventually(
        async () => {
          const [r] = await simRecords(victim.text);
          return r && r.outcome !== 'in_progress' ? r : undefined;
        },
        'the simulator to record the end of the cancelled stream',
        20_000,
      );
      const closedAfter = rec.endedAt! - abortedAt;
      console.log(
        `  the upstream call ended (${rec.outcome}) ${closedAfter} ms after the client left`,
      );
      assert.equal(rec.outcome, 'aborted', 'the upstream call was closed, not run to its end');
      assert.ok(
        closedAfter < PROMPT_MS,
        `the upstream call was closed ${closedAfter} ms after the client left (limit ${PROMPT_MS} ms)`,
      );
      assert.ok(rec.tokensSent < 120, `stopped early (${rec.tokensSent} tokens sent)`);

      // The others run on, untouched.
      for (const s of running.filter((s) => s !== victim)) {
        const [r] = await simRecords(s.text);
        assert.equal(r?.outcome, 'in_progress', `${s.text} still streams`);
      }

      // The attempt is recorded as cancelled (the usage event billing booked).
      const event = await eventually(
        async () =>
          (
            await db.query<{ event: UsageEventV1 }>(
              'SELECT event FROM billing.usage_events WHERE generation_id = $1',
              [generationId],
            )
          ).rows[0]?.event,
        'the usage event of the cancelled generation',
        40_000,
      );
      assert.equal(event.status, 'cancelled');
      assert.equal(event.attempts[0]?.outcome, 'cancelled');

      // Its slot freed, the connector takes the waiting request.
      await eventually(
        async () => (await simRecords(`${m} waiting`)).length > 0,
        'the waiting request to start once a slot was free',
        20_000,
      );
      waiting.abort.abort();
      await waiting.done;
    } finally {
      for (const s of running) s.abort.abort();
      await Promise.allSettled(running.map((s) => s.done));
    }
  });
});
