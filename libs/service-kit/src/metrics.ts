/**
 * Prometheus metrics: one registry per process (`metrics`), served in the text exposition format
 * at `GET /metrics` by every service (`MetricsController`, in `CoreModule`), with prom-client's
 * default process metrics (CPU, memory, event-loop lag, GC, handles).
 *
 * A metric is made where it is counted, through the helpers, by name:
 *
 *     const stalls = metrics.counter('turnpike_attempt_stalls_total', 'Attempts ...', ['provider']);
 *     stalls.inc({ provider: 'openai' });
 *
 * Asking again for a name returns the same metric (modules and tests may each ask); asking for it
 * with other label names, or as another type, is a bug and throws. Names follow Prometheus'
 * conventions: `turnpike_` first, the unit and `_total` for counters last, `_seconds` for
 * durations. The full list is in docs/metrics.md.
 */
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';

export type { Counter, Gauge, Histogram } from 'prom-client';

/**
 * Buckets (seconds) for whole LLM requests and HTTP exchanges: from a health probe's milliseconds
 * to a long generation's minutes.
 */
export const LLM_LATENCY_BUCKETS = [
  0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 20, 30, 60, 120, 300,
];

/** Buckets (seconds) for an upstream's time to first token. */
export const TTFT_BUCKETS = [0.05, 0.1, 0.25, 0.5, 0.75, 1, 1.5, 2, 3, 5, 7.5, 10, 20, 30, 60];

type Kind = 'counter' | 'gauge' | 'histogram';
type AnyMetric = Counter<string> | Gauge<string> | Histogram<string>;

export class Metrics {
  readonly registry = new Registry();
  private defaults = false;
  private readonly known = new Map<string, { metric: AnyMetric; labels: string; kind: Kind }>();

  /** Turns on the default process metrics (idempotent). */
  collectDefaults(): void {
    if (this.defaults) return;
    this.defaults = true;
    collectDefaultMetrics({ register: this.registry });
  }

  private make<M extends AnyMetric>(
    kind: Kind,
    name: string,
    labelNames: readonly string[],
    create: () => M,
  ): M {
    const labels = [...labelNames].sort().join(',');
    const known = this.known.get(name);
    if (known) {
      if (known.kind !== kind)
        throw new Error(`metric ${name} exists as a ${known.kind}, asked as a ${kind}`);
      if (known.labels !== labels)
        throw new Error(
          `metric ${name} exists with labels [${known.labels}], asked with [${labels}]`,
        );
      return known.metric as M;
    }
    const metric = create();
    this.known.set(name, { metric, labels, kind });
    return metric;
  }

  /** The counter `name`, made on first use. */
  counter<L extends string = never>(
    name: string,
    help: string,
    labelNames: readonly L[] = [],
  ): Counter<L> {
    return this.make(
      'counter',
      name,
      labelNames,
      () => new Counter<L>({ name, help, labelNames: [...labelNames], registers: [this.registry] }),
    );
  }

  /**
   * The gauge `name`, made on first use. `collect` (first asker's) runs on every scrape, before
   * the value is read: for values read from elsewhere (a queue's length, Kafka offsets).
   */
  gauge<L extends string = never>(
    name: string,
    help: string,
    labelNames: readonly L[] = [],
    collect?: (gauge: Gauge<L>) => void | Promise<void>,
  ): Gauge<L> {
    return this.make('gauge', name, labelNames, () => {
      const g: Gauge<L> = new Gauge<L>({
        name,
        help,
        labelNames: [...labelNames],
        registers: [this.registry],
        ...(collect ? { collect: () => collect(g) } : {}),
      });
      return g;
    });
  }

  /** The histogram `name` (seconds, say), made on first use. */
  histogram<L extends string = never>(
    name: string,
    help: string,
    labelNames: readonly L[] = [],
    buckets: readonly number[] = LLM_LATENCY_BUCKETS,
  ): Histogram<L> {
    return this.make(
      'histogram',
      name,
      labelNames,
      () =>
        new Histogram<L>({
          name,
          help,
          labelNames: [...labelNames],
          buckets: [...buckets],
          registers: [this.registry],
        }),
    );
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
