import {
  Injectable,
  Logger,
  type OnApplicationBootstrap,
  type OnApplicationShutdown,
} from '@nestjs/common';
import { TOPICS, type EndpointPricing, type RoutingEntryV1 } from '@turnpike/contracts';
import { encode } from '@turnpike/kafka';
import { ProducerService, Readiness } from '@turnpike/service-kit';
import { CatalogService } from '../catalog/catalog.service.js';
import { RouterConfig } from '../router.config.js';
import { HealthMonitor } from './health-monitor.service.js';

const FREE: EndpointPricing = {
  promptPerM: 0,
  completionPerM: 0,
  cachedReadPerM: 0,
  cacheWritePerM: 0,
  reasoningPerM: 0,
  perRequest: 0,
};

/** Coalesces the publishes of one burst of state changes (many attempts in one batch). */
const STATE_FLUSH_MS = 5;

/**
 * Publishes the routing table on the compacted `routing.table.v1` (one record per model: the
 * model, its enabled endpoints and their live health):
 * - at once (within a few ms) when an endpoint's circuit or Retry-After state changes, or an
 *   operator changes the catalog;
 * - at most every `ROUTER_HEALTH_PUBLISH_MS` per model when only its metrics moved;
 * - when a circuit's cool-down ends (open → half-open), on a timer;
 * - and every `ROUTER_PUBLISH_INTERVAL_MS` in full.
 */
@Injectable()
export class TablePublisher implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly log = new Logger(TablePublisher.name);
  private readonly urgent = new Set<string>();
  private readonly lazy = new Set<string>();
  private readonly lastPublishedAt = new Map<string, number>();
  private urgentTimer: NodeJS.Timeout | null = null;
  private lazyTimer: NodeJS.Timeout | null = null;
  private transitionTimer: { at: number; timer: NodeJS.Timeout } | null = null;
  private fullTimer: NodeJS.Timeout | null = null;
  private published = false;
  private stopped = false;

  constructor(
    private readonly catalog: CatalogService,
    private readonly health: HealthMonitor,
    private readonly producer: ProducerService,
    private readonly config: RouterConfig,
    readiness: Readiness,
  ) {
    readiness.register('routing-table', () => this.published || 'publishing');
    health.onChange((endpointId, change) => {
      const model = this.catalog.modelOfEndpoint(endpointId);
      if (!model) return;
      if (change === 'state') this.markUrgent([model]);
      else this.markLazy(model);
    });
  }

  async onApplicationBootstrap(): Promise<void> {
    await this.catalog.load();
    const t0 = performance.now();
    const ids = this.catalog.modelIds();
    await this.publish(ids);
    this.log.log(
      `routing table published: ${ids.length} models in ${(performance.now() - t0).toFixed(0)} ms`,
    );
    this.published = true;
    this.fullTimer = setInterval(() => {
      this.publish(this.catalog.modelIds()).catch((e: unknown) =>
        this.log.error(`publish failed: ${(e as Error).message}`),
      );
    }, this.config.publishIntervalMs);
    this.fullTimer.unref();
  }

  onApplicationShutdown(): void {
    this.stopped = true;
    for (const t of [this.urgentTimer, this.lazyTimer, this.transitionTimer?.timer, this.fullTimer])
      if (t) clearTimeout(t);
  }

  /**
   * The routing entry of a model as of `now`, or null when it is not in the catalog, or when
   * none of its endpoints has an adapter in this build (imported, flagged, not routed: it is not
   * listed either).
   */
  entry(modelId: string, now = Date.now()): RoutingEntryV1 | null {
    const m = this.catalog.model(modelId);
    if (!m) return null;
    const all = this.catalog.endpointsOf(modelId, true);
    if (all.length > 0 && !all.some((e) => this.catalog.routable(e))) return null;
    const eps = this.catalog.routableEndpointsOf(modelId);
    const params = new Map(eps.map((e) => [e.id, this.catalog.effectiveParameters(e)]));
    const price = (p: EndpointPricing) => p.promptPerM + p.completionPerM;
    const cheapest = [...eps].sort((a, b) => price(a.pricing) - price(b.pricing))[0];
    return {
      v: 1,
      model: {
        id: m.id,
        name: m.name,
        description: m.description,
        created: m.created,
        contextLength: m.contextLength,
        inputModalities: m.inputModalities,
        outputModalities: m.outputModalities,
        supportedParameters: [...new Set([...params.values()].flat())].sort(),
        pricing: cheapest?.pricing ?? FREE,
      },
      endpoints: eps.map((e) => ({
        id: e.id,
        provider: e.providerId,
        providerName: this.catalog.provider(e.providerId)?.name ?? e.providerId,
        upstreamModel: e.upstreamModel,
        pricing: e.pricing,
        contextLength: e.contextLength,
        maxOutputTokens: e.maxOutputTokens,
        quantization: e.quantization,
        region: e.region,
        supportedParameters: params.get(e.id) ?? [],
        dataCollection: e.dataCollection,
        supportsPrefill: this.catalog.supportsPrefill(e),
        health: this.health.health(e.id, now),
      })),
      updatedAt: now,
    };
  }

  /** Publishes these models now (a tombstone for models no longer in the catalog). */
  async publish(modelIds: Iterable<string>): Promise<void> {
    const now = Date.now();
    const sends: Promise<void>[] = [];
    for (const id of new Set(modelIds)) {
      this.urgent.delete(id);
      this.lazy.delete(id);
      this.lastPublishedAt.set(id, now);
      const entry = this.entry(id, now);
      sends.push(this.producer.send(TOPICS.routingTable, encode(TOPICS.routingTable, id, entry)));
      if (!entry) this.lastPublishedAt.delete(id);
    }
    await Promise.all(sends);
    this.scheduleTransition();
  }

  /** Publish within a few milliseconds (coalescing a burst). */
  markUrgent(modelIds: readonly string[]): void {
    for (const id of modelIds) this.urgent.add(id);
    if (this.urgentTimer || this.stopped) return;
    this.urgentTimer = setTimeout(() => {
      this.urgentTimer = null;
      this.publish([...this.urgent]).catch((e: unknown) =>
        this.log.error(`publish failed: ${(e as Error).message}`),
      );
    }, STATE_FLUSH_MS);
  }

  /** Publish when this model's last publish is old enough. */
  private markLazy(modelId: string): void {
    this.lazy.add(modelId);
    if (this.lazyTimer || this.stopped) return;
    const last = this.lastPublishedAt.get(modelId) ?? 0;
    const wait = Math.max(STATE_FLUSH_MS, last + this.config.healthPublishMs - Date.now());
    this.lazyTimer = setTimeout(() => {
      this.lazyTimer = null;
      const now = Date.now();
      const due = [...this.lazy].filter(
        (id) =>
          (this.lastPublishedAt.get(id) ?? 0) + this.config.healthPublishMs <= now + STATE_FLUSH_MS,
      );
      const later = [...this.lazy].filter((id) => !due.includes(id));
      this.publish(due)
        .catch((e: unknown) => this.log.error(`publish failed: ${(e as Error).message}`))
        .finally(() => {
          for (const id of later) this.markLazy(id);
        });
    }, wait);
  }

  /** Wakes up when the next open circuit reaches its cool-down, to publish it half-open. */
  private scheduleTransition(): void {
    if (this.stopped) return;
    const now = Date.now();
    const at = this.health.nextTransitionAt(now);
    if (at === null || (this.transitionTimer && this.transitionTimer.at <= at)) return;
    if (this.transitionTimer) clearTimeout(this.transitionTimer.timer);
    const timer = setTimeout(
      () => {
        this.transitionTimer = null;
        const changed = this.health.tick(Date.now());
        const models = changed.flatMap((id) => this.catalog.modelOfEndpoint(id) ?? []);
        if (models.length > 0) this.markUrgent(models);
        else this.scheduleTransition();
      },
      at - now + 1,
    );
    timer.unref();
    this.transitionTimer = { at, timer };
  }
}
