import type { LlmReplyV1 } from '@turnpike/contracts';

/** The transport lost one of the attempt's replies: no more will come but its final one. */
export interface ReplyLost {
  type: 'lost';
  why: string;
}

type Item = LlmReplyV1 | ReplyLost;
export type QueueResult = Item | 'timeout' | 'aborted';

/**
 * The replies of one attempt, as they arrive from the transport, for one reader that awaits
 * them one at a time with a deadline and the client's abort signal.
 */
export class ReplyQueue {
  private readonly items: Item[] = [];
  private waiter: ((r: QueueResult) => void) | null = null;

  push(reply: Item): void {
    const w = this.waiter;
    if (w) {
      this.waiter = null;
      w(reply);
    } else {
      this.items.push(reply);
    }
  }

  next(timeoutMs: number, signal?: AbortSignal): Promise<QueueResult> {
    const item = this.items.shift();
    if (item) return Promise.resolve(item);
    if (signal?.aborted) return Promise.resolve('aborted');
    if (timeoutMs <= 0) return Promise.resolve('timeout');
    return new Promise<QueueResult>((resolve) => {
      const done = (r: QueueResult) => {
        clearTimeout(timer);
        signal?.removeEventListener('abort', onAbort);
        this.waiter = null;
        resolve(r);
      };
      const onAbort = () => done('aborted');
      const timer = setTimeout(() => done('timeout'), timeoutMs);
      signal?.addEventListener('abort', onAbort, { once: true });
      this.waiter = done;
    });
  }
}
