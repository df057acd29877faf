import { Injectable, Logger, type OnApplicationShutdown } from '@nestjs/common';
import { TOPICS, type LlmGenerateV1 } from '@turnpike/contracts';
import { AttemptExecutor, CoalescingReplySink } from '@turnpike/generation';
import { encode } from '@turnpike/kafka';
import { ProducerService, upstreamMetrics } from '@turnpike/service-kit';
import type { Context } from '@turnpike/telemetry';
import { AccountsView } from '../accounts/accounts-view.service.js';
import { ConnectorConfig } from '../connector.config.js';

/**
 * The connector's attempt executor (libs/generation): its accounts from this instance's view of
 * `connector.accounts.v1`, its attempt records to `llm.attempts.v1`, and each attempt's replies
 * to the partition of `llm.replies.v1` the gateway that asked reads, coalesced per flush window.
 */
@Injectable()
export class AttemptExecutorService implements OnApplicationShutdown {
  private readonly executor: AttemptExecutor;

  constructor(
    private readonly producer: ProducerService,
    accounts: AccountsView,
    private readonly config: ConnectorConfig,
  ) {
    this.executor = new AttemptExecutor({
      accounts: accounts.book,
      records: (record, headers) =>
        producer.send(
          TOPICS.llmAttempts,
          encode(TOPICS.llmAttempts, record.generationId, record, { headers }),
        ),
      metrics: upstreamMetrics,
      log: new Logger('GenerationRunner'),
      stallMs: config.stallMs,
    });
  }

  /** Runs one attempt; its replies go back over Kafka. */
  run(req: LlmGenerateV1, signal: AbortSignal, parent: Context, receivedAt: number): Promise<void> {
    const sink = new CoalescingReplySink(
      req,
      (message, headers) =>
        this.producer.send(
          TOPICS.llmReplies,
          encode(TOPICS.llmReplies, req.generationId, message, {
            partition: req.replyTo.partition,
            headers,
          }),
        ),
      this.config.replyFlushMs,
    );
    return this.executor.run(req, sink, signal, parent, receivedAt);
  }

  async onApplicationShutdown(): Promise<void> {
    await this.executor.close();
  }
}
