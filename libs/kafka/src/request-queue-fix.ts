import { createRequire } from 'node:module';

/** The part of kafkajs' (internal) RequestQueue the fix touches. */
export interface RequestQueueLike {
  pending: unknown[];
  throttledUntil: number;
  throttleCheckTimeoutId: NodeJS.Timeout | null;
  checkPendingRequests(): void;
  scheduleCheckPendingRequests(): void;
}

/** kafkajs' CHECK_PENDING_REQUESTS_INTERVAL. */
const CHECK_PENDING_MS = 10;

/**
 * kafkajs 2.2.4's `RequestQueue.scheduleCheckPendingRequests` schedules the next check even when
 * no request is pending, with a negative delay (`throttledUntil` is -1 unthrottled), which Node
 * runs after 1 ms: every broker connection spins a 1 ms timer loop forever (kafkajs issues #1556,
 * #1704, #1751: the `TimeoutNegativeWarning` each process printed), most of an idle service's
 * CPU. Fixed here as the unmerged upstream fix (kafkajs PR #1667 and the review of #1768) does: a
 * check is scheduled only while requests wait (at the end of a throttle, or after 10 ms, as
 * before), or for the end of a throttle; `push` schedules one when it queues a request, and every
 * response checks the queue.
 */
export function scheduleCheckPendingRequests(this: RequestQueueLike): void {
  if (this.throttleCheckTimeoutId) return;
  let delay = this.throttledUntil - Date.now();
  if (this.pending.length > 0) delay = delay > 0 ? delay : CHECK_PENDING_MS;
  else if (delay <= 0) return;
  this.throttleCheckTimeoutId = setTimeout(() => {
    this.throttleCheckTimeoutId = null;
    this.checkPendingRequests();
  }, delay);
}

/** kafkajs' RequestQueue class (CommonJS, not part of its typed API). */
export function kafkajsRequestQueue(): { prototype: RequestQueueLike } & (new (
  options: Record<string, unknown>,
) => RequestQueueLike) {
  return createRequire(import.meta.url)('kafkajs/src/network/requestQueue/index.js') as never;
}

let applied = false;

/** Applies the fix to kafkajs' RequestQueue once per process (done by `createKafka`). */
export function fixKafkajsRequestQueue(): void {
  if (applied) return;
  kafkajsRequestQueue().prototype.scheduleCheckPendingRequests = scheduleCheckPendingRequests;
  applied = true;
}
