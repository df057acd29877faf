import { Inject, Injectable, Logger, type OnApplicationShutdown } from '@nestjs/common';
import { TOPICS, type ProviderAccountV1 } from '@turnpike/contracts';
import {
  AccountBook,
  AttemptExecutor,
  InProcessTransport,
  type AttemptLink,
  type AttemptListener,
  type AttemptRequest,
  type GenerationTransport,
} from '@turnpike/generation';
import { encode, type KafkaClient } from '@turnpike/kafka';
import {
  KAFKA_CLIENT,
  ProducerService,
  Readiness,
  TopicViewService,
  upstreamMetrics,
} from '@turnpike/service-kit';
import { GatewayConfig } from '../gateway.config.js';

/**
 * The provider accounts, for a fused gateway: it follows `connector.accounts.v1` as every
 * connector does (the connectors still own the accounts and their admin API) and opens each
 * secret with the master key. Unready until caught up.
 */
@Injectable()
export class GatewayAccountsView extends TopicViewService<typeof TOPICS.connectorAccounts> {
  readonly book: AccountBook;

  constructor(
    @Inject(KAFKA_CLIENT) kafka: KafkaClient,
    readiness: Readiness,
    config: GatewayConfig,
  ) {
    super(kafka, readiness, {
      topic: TOPICS.connectorAccounts,
      name: `gateway-accounts-${config.instanceId}`,
      check: 'accounts-view',
    });
    this.book = new AccountBook(config.masterKeys, undefined, new Logger('accounts'));
  }

  protected apply(key: string, value: ProviderAccountV1 | null): void {
    this.book.apply(key, value);
  }
}

/**
 * Fused mode (`GATEWAY_TRANSPORT=inprocess`): this gateway runs its attempts itself, with the
 * connectors' executor, instead of sending them to a connector over Kafka. Its attempt records
 * still go to `llm.attempts.v1` (routing health, analytics), its usage events to
 * `usage.events.v1`, as in the split deployment. At shutdown the attempts still running end
 * (within the drain deadline) before the upstream connections close.
 */
@Injectable()
export class InProcessGenerationTransport implements GenerationTransport, OnApplicationShutdown {
  readonly mode = 'inprocess' as const;
  private readonly transport: InProcessTransport;

  constructor(
    accounts: GatewayAccountsView,
    producer: ProducerService,
    private readonly config: GatewayConfig,
  ) {
    const log = new Logger('GenerationRunner');
    const executor = new AttemptExecutor({
      accounts: accounts.book,
      records: (record, headers) =>
        producer.send(
          TOPICS.llmAttempts,
          encode(TOPICS.llmAttempts, record.generationId, record, { headers }),
        ),
      metrics: upstreamMetrics,
      log,
      stallMs: config.stallTimeoutMs,
    });
    this.transport = new InProcessTransport(executor, log);
  }

  unavailable(): string | null {
    return this.transport.unavailable();
  }

  start(request: AttemptRequest, listener: AttemptListener): Promise<AttemptLink> {
    return this.transport.start(request, listener);
  }

  async onApplicationShutdown(): Promise<void> {
    const cut = await this.transport.drain(
      Date.now() + Math.min(5_000, this.config.shutdownGraceMs),
    );
    if (cut > 0) new Logger('drain').warn(`${cut} in-process attempts cut at shutdown`);
  }
}
