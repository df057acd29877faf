/**
 * Waits for many sends in constant memory: a count and the first failure, instead of an array
 * holding one promise per message (a long generation sends one reply per chunk).
 */
export class SendTracker {
  private pending = 0;
  private failure: { error: unknown } | null = null;
  private waiter: { resolve: () => void; reject: (e: unknown) => void } | null = null;

  /** Sends handed in and not yet acknowledged or failed. */
  get inFlight(): number {
    return this.pending;
  }

  add(send: Promise<unknown>): void {
    this.pending++;
    send.then(
      () => this.done(null),
      (e: unknown) => this.done({ error: e }),
    );
  }

  private done(failure: { error: unknown } | null): void {
    this.pending--;
    this.failure ??= failure;
    if (!this.waiter) return;
    if (this.failure) this.waiter.reject(this.failure.error);
    else if (this.pending === 0) this.waiter.resolve();
    else return;
    this.waiter = null;
  }

  /** Resolves when every send added so far is acknowledged; rejects with the first failure. */
  settled(): Promise<void> {
    if (this.failure) return Promise.reject(this.failure.error);
    if (this.pending === 0) return Promise.resolve();
    return new Promise((resolve, reject) => {
      this.waiter = { resolve, reject };
    });
  }
}
