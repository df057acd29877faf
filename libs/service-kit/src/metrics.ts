/**
 * Prometheus metrics: one registry per process (`metrics`), served in the text exposition format
 * at `GET /metrics` by every service (`MetricsController`, in `CoreModule`), with prom-client's
 * default process metrics (CPU, memory, event-loop lag, GC, handles).
 *
 * A metric is made where it is counted, through the helper, by name:
 *
 *     const stalls = metrics.counter('turnpike_attempt_stalls_total', 'Attempts ...', ['provider']);
 *     stalls.inc({ provider: 'openai' });
 *
 * Asking again for a name returns the same metric (modules and tests may each ask); asking for it
 * with other label names is a bug and throws. Names follow Prometheus' conventions: `turnpike_`
 * first, the unit and `_total` for counters last.
 */
import { collectDefaultMetrics, Counter, Registry } from 'prom-client';

export type { Counter } from 'prom-client';

export class Metrics {
  readonly registry = new Registry();
  private defaults = false;
  private readonly counters = new Map<string, { counter: Counter<string>; labels: string }>();

  /** Turns on the default process metrics (idempotent). */
  collectDefaults(): void {
    if (this.defaults) return;
    this.defaults = true;
    collectDefaultMetrics({ register: this.registry });
  }

  /** The counter `name`, made on first use. */
  counter<L extends string = never>(
    name: string,
    help: string,
    labelNames: readonly L[] = [],
  ): Counter<L> {
    const labels = [...labelNames].sort().join(',');
    const known = this.counters.get(name);
    if (known) {
      if (known.labels !== labels)
        throw new Error(
          `metric ${name} exists with labels [${known.labels}], asked with [${labels}]`,
        );
      return known.counter as Counter<L>;
    }
    const counter = new Counter<L>({
      name,
      help,
      labelNames: [...labelNames],
      registers: [this.registry],
    });
    this.counters.set(name, { counter: counter as Counter<string>, labels });
    return counter;
  }

  /** The `Content-Type` of {@link text}. */
  get contentType(): string {
    return this.registry.contentType;
  }

  /** Every metric of the registry in the text exposition format. */
  text(): Promise<string> {
    return this.registry.metrics();
  }
}

/** The process's one registry. */
export const metrics = new Metrics();
