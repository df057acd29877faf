import {
  Inject,
  Injectable,
  Logger,
  type OnApplicationBootstrap,
  type OnApplicationShutdown,
} from '@nestjs/common';
import { TOPICS, type EndpointHealth, type LlmAttemptV1 } from '@turnpike/contracts';
import {
  decode,
  startConsumer,
  type BatchPayload,
  type ConsumerHandle,
  type KafkaClient,
} from '@turnpike/kafka';
import { HealthBook, type HealthChange } from '@turnpike/routing';
import { KAFKA_CLIENT, Readiness } from '@turnpike/service-kit';
import { RouterConfig } from '../router.config.js';

export type HealthListener = (endpointId: string, change: Exclude<HealthChange, 'none'>) => void;

/**
 * Follows `llm.attempts.v1` (every upstream attempt the connectors make) and keeps the health
 * of every endpoint: EWMAs, percentiles, uptime windows, error rate and circuit breaker (the
 * pure logic is `HealthBook` in libs/routing). Every router instance reads every attempt, in a
 * private group starting at the end: health is rebuilt from live traffic after a restart.
 */
@Injectable()
export class HealthMonitor implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly log = new Logger(HealthMonitor.name);
  private readonly book: HealthBook;
  private consumer: ConsumerHandle | null = null;
  private readonly listeners: HealthListener[] = [];
  readonly stats = { observed: 0, invalid: 0 };

  constructor(
    @Inject(KAFKA_CLIENT) private readonly kafka: KafkaClient,
    private readonly config: RouterConfig,
    readiness: Readiness,
  ) {
    this.book = new HealthBook(config.healthPolicy);
    readiness.register('attempts', () => this.consumer !== null || 'joining');
  }

  onChange(listener: HealthListener): void {
    this.listeners.push(listener);
  }

  async onApplicationBootstrap(): Promise<void> {
    this.consumer = await startConsumer(this.kafka, this.log, {
      groupId: `router-health-${this.config.instanceId}-${Date.now()}`,
      topics: [TOPICS.llmAttempts],
      fromBeginning: false,
      commit: 'none',
      eachBatch: (p) => this.onBatch(p),
    });
  }

  async onApplicationShutdown(): Promise<void> {
    await this.consumer?.stop();
    this.consumer = null;
  }

  health(endpointId: string, now = Date.now()): EndpointHealth {
    return this.book.health(endpointId, now);
  }

  /** Applies circuit transitions due by `now`; returns the endpoints that changed. */
  tick(now = Date.now()): string[] {
    return this.book.tick(now);
  }

  nextTransitionAt(now = Date.now()): number | null {
    return this.book.nextTransitionAt(now);
  }

  forget(endpointId: string): void {
    this.book.forget(endpointId);
  }

  /** Applies one attempt record (exposed for tests and replays). */
  observe(a: LlmAttemptV1, now = Date.now()): HealthChange {
    const change = this.book.observe(a, now);
    this.stats.observed++;
    if (change !== 'none') {
      if (change === 'state') {
        const h = this.book.health(a.endpointId, now);
        this.log.log(
          `${a.endpointId}: circuit ${h.circuit}${h.retryAfterUntil ? `, retry after ${new Date(h.retryAfterUntil).toISOString()}` : ''}` +
            ` (last: ${a.outcome} ${a.upstreamStatus ?? ''})`,
        );
      }
      for (const l of this.listeners) l(a.endpointId, change);
    }
    return change;
  }

  private async onBatch({ batch, heartbeat }: BatchPayload): Promise<void> {
    const now = Date.now();
    for (const m of batch.messages) {
      const d = decode(TOPICS.llmAttempts, m.value);
      if (!d.ok) {
        this.stats.invalid++;
        this.log.warn(`skipping invalid attempt at ${batch.partition}/${m.offset}: ${d.error}`);
        continue;
      }
      this.observe(d.value, now);
    }
    await heartbeat();
  }
}
