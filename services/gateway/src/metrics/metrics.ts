/**
 * A minimal stand-in for the metrics helper of `@turnpike/service-kit` (one Prometheus registry
 * per process, `metrics.counter(name, help, labelNames)`, issue 9), which is built on another
 * branch: the gateway's counters are written against that interface, so they move to the real
 * registry by changing this import. Until then they are counted in memory only (no `/metrics`
 * endpoint here).
 */

export interface Counter<L extends string = string> {
  /** Adds `value` (default 1) to the series of these label values. */
  inc(labels: Partial<Record<L, string>>, value?: number): void;
  /** The current value of one series (tests and logs). */
  get(labels: Partial<Record<L, string>>): number;
}

class MemoryCounter<L extends string> implements Counter<L> {
  private readonly series = new Map<string, number>();

  constructor(
    readonly name: string,
    readonly help: string,
    private readonly labelNames: readonly L[],
  ) {}

  private key(labels: Partial<Record<L, string>>): string {
    return this.labelNames.map((l) => `${l}=${labels[l] ?? ''}`).join(',');
  }

  inc(labels: Partial<Record<L, string>>, value = 1): void {
    const k = this.key(labels);
    this.series.set(k, (this.series.get(k) ?? 0) + value);
  }

  get(labels: Partial<Record<L, string>>): number {
    return this.series.get(this.key(labels)) ?? 0;
  }
}

const registry = new Map<string, Counter>();

export const metrics = {
  /** A counter of this process, made once per name (a second call returns the same one). */
  counter<L extends string>(name: string, help: string, labelNames: readonly L[]): Counter<L> {
    const existing = registry.get(name);
    if (existing) return existing as Counter<L>;
    const c = new MemoryCounter<L>(name, help, labelNames);
    registry.set(name, c);
    return c;
  },
};
