import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  fixKafkajsRequestQueue,
  kafkajsRequestQueue,
  scheduleCheckPendingRequests,
  type RequestQueueLike,
} from './request-queue-fix.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function queue(): RequestQueueLike {
  const RequestQueue = kafkajsRequestQueue();
  return new RequestQueue({
    maxInFlightRequests: null,
    requestTimeout: 30_000,
    enforceRequestTimeout: false,
    clientId: 'spec',
    broker: 'nowhere:9092',
    logger: { debug: () => undefined, info: () => undefined, warn: () => undefined },
  });
}

/** How often the queue checks its pending requests by itself within `ms`, nothing pending. */
async function checksWhileIdle(q: RequestQueueLike, ms: number): Promise<number> {
  let checks = 0;
  const check = q.checkPendingRequests.bind(q);
  q.checkPendingRequests = () => {
    checks++;
    check();
  };
  q.checkPendingRequests(); // what a response does
  await sleep(ms);
  if (q.throttleCheckTimeoutId) clearTimeout(q.throttleCheckTimeoutId);
  q.throttleCheckTimeoutId = null;
  q.checkPendingRequests = () => undefined;
  return checks;
}

describe("kafkajs' RequestQueue, fixed", () => {
  test('as shipped, an idle queue spins a 1 ms timer (the bug this fixes)', async () => {
    const q = queue();
    const shipped = kafkajsRequestQueue().prototype.scheduleCheckPendingRequests;
    if (shipped === scheduleCheckPendingRequests) return; // already fixed in this process
    assert.ok((await checksWhileIdle(q, 100)) > 10);
  });

  test('fixed, an idle queue schedules nothing', async () => {
    fixKafkajsRequestQueue();
    const q = queue();
    assert.equal(await checksWhileIdle(q, 100), 1);
  });

  test('fixed, waiting requests are still checked: after 10 ms, or when a throttle ends', async () => {
    fixKafkajsRequestQueue();
    const q = queue();
    q.pending.push({});
    q.scheduleCheckPendingRequests();
    assert.notEqual(q.throttleCheckTimeoutId, null);
    clearTimeout(q.throttleCheckTimeoutId!);
    q.throttleCheckTimeoutId = null;
    q.pending.length = 0;
    q.throttledUntil = Date.now() + 50;
    let checked = false;
    q.checkPendingRequests = () => {
      checked = true;
    };
    q.scheduleCheckPendingRequests();
    assert.notEqual(q.throttleCheckTimeoutId, null, 'the end of a throttle is checked');
    await sleep(120);
    assert.equal(checked, true);
  });
});
