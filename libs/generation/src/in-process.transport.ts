import { performance } from 'node:perf_hooks';
import { TOPICS } from '@turnpike/contracts';
import { context } from '@turnpike/telemetry';
import type { AttemptExecutor } from './attempt-executor.js';
import { DirectReplySink } from './reply-sink.js';
import type {
  AttemptLink,
  AttemptRequest,
  CancelReason,
  AttemptListener,
  GenerationTransport,
} from './transport.js';

/** The reply address of an in-process attempt (the contract requires one; nothing reads it). */
const IN_PROCESS = { topic: TOPICS.llmReplies, partition: 0, instance: 'in-process' } as const;

/**
 * Fused mode: the gateway runs each attempt itself, with the same executor the connectors run,
 * and gets its replies as function calls: no request message, no reply message, no encoding.
 * The executor still sends each attempt's record to Kafka (off the request path).
 */
export class InProcessTransport implements GenerationTransport {
  readonly mode = 'inprocess' as const;
  private readonly running = new Map<string, { abort: AbortController; done: Promise<void> }>();

  constructor(
    private readonly executor: AttemptExecutor,
    private readonly log: { error(message: string): void },
  ) {}

  /** Attempts running now. */
  get inFlight(): number {
    return this.running.size;
  }

  unavailable(): string | null {
    return null;
  }

  start(request: AttemptRequest, listener: AttemptListener): Promise<AttemptLink> {
    const key = `${request.generationId}#${request.attempt}`;
    const abort = new AbortController();
    const sink = new DirectReplySink(request, (r) => listener.reply(r));
    const done = this.executor
      .run(
        { ...request, replyTo: IN_PROCESS },
        sink,
        abort.signal,
        context.active(),
        performance.now(),
      )
      .catch((e: unknown) =>
        this.log.error(`generation ${key} failed: ${(e as Error).stack ?? String(e)}`),
      )
      .finally(() => this.running.delete(key));
    this.running.set(key, { abort, done });
    return Promise.resolve({
      cancel: (reason: CancelReason) => {
        abort.abort(reason);
        return Promise.resolve();
      },
      release: () => sink.close(),
    });
  }

  /**
   * At shutdown: lets the attempts still running end by `deadline` (epoch ms), then aborts the
   * rest (each still reports what it consumed), and closes the upstream connections.
   */
  async drain(deadline: number): Promise<number> {
    while (this.running.size > 0 && Date.now() < deadline)
      await Promise.race([
        Promise.allSettled([...this.running.values()].map((r) => r.done)),
        new Promise((r) => setTimeout(r, 100)),
      ]);
    const cut = this.running.size;
    for (const r of this.running.values()) r.abort.abort('client_disconnected');
    await Promise.allSettled([...this.running.values()].map((r) => r.done));
    await this.executor.close();
    return cut;
  }
}
