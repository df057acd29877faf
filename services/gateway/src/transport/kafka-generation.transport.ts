import { Injectable, Logger, type OnApplicationShutdown } from '@nestjs/common';
import { TOPICS, type LlmGenerateV1 } from '@turnpike/contracts';
import {
  ATTEMPT_SILENCE_LIMIT_MS,
  TransportRefusal,
  type AttemptLink,
  type AttemptListener,
  type AttemptRequest,
  type CancelReason,
  type GenerationTransport,
} from '@turnpike/generation';
import { encode, MessageTooLargeError } from '@turnpike/kafka';
import { ProducerService } from '@turnpike/service-kit';
import { context, failSpan, injectContext, SpanKind, trace, tracer } from '@turnpike/telemetry';
import { ReplyInboxService } from './reply-inbox.service.js';

/** How often the attempts' silence is checked. */
const SILENCE_CHECK_MS = 1_000;

/**
 * The split deployment's transport: an attempt is a message on `llm.requests.v1` (keyed by its
 * generation, so its cancel follows it to the same connector), its replies come back on this
 * instance's partition of `llm.replies.v1` through the reply inbox, in `seq` order. A reply
 * lost on the way is reported after the inbox's gap timeout; an attempt heard nothing from for
 * ATTEMPT_SILENCE_LIMIT_MS (a connector sends `alive` every KEEPALIVE_MS while it has nothing
 * else to say) is reported lost too: its request or its replies went missing, or its connector
 * died, and the request need not wait for its deadline.
 */
@Injectable()
export class KafkaGenerationTransport implements GenerationTransport, OnApplicationShutdown {
  readonly mode = 'kafka' as const;
  private readonly log = new Logger('transport');
  /** When each listening attempt was last heard from, and how to tell it it is lost. */
  private readonly heard = new Map<string, { at: number; lost: (why: string) => void }>();
  private readonly silenceCheck: NodeJS.Timeout;

  constructor(
    private readonly inbox: ReplyInboxService,
    private readonly producer: ProducerService,
  ) {
    this.silenceCheck = setInterval(() => this.checkSilence(), SILENCE_CHECK_MS);
    this.silenceCheck.unref();
  }

  onApplicationShutdown(): void {
    clearInterval(this.silenceCheck);
  }

  /** Reports the attempts silent past the limit (every SILENCE_CHECK_MS; tests pass `now`). */
  checkSilence(now = Date.now()): void {
    for (const [key, h] of this.heard)
      if (now - h.at > ATTEMPT_SILENCE_LIMIT_MS) {
        this.heard.delete(key);
        h.lost(`nothing heard from the attempt for ${Math.round((now - h.at) / 1000)} s`);
      }
  }

  unavailable(): string | null {
    return this.inbox.unavailable();
  }

  async start(
    request: AttemptRequest,
    listener: AttemptListener,
    headers: Record<string, string>,
  ): Promise<AttemptLink> {
    const { generationId, attempt } = request;
    const key = `${generationId}#${attempt}`;
    const heard = { at: Date.now(), lost: (why: string) => listener.lost(why) };
    const unregister = this.inbox.register(
      generationId,
      attempt,
      (reply, headers) => {
        heard.at = Date.now();
        if (reply.type === 'alive') return;
        // After the final reply nothing more is expected: its silence means nothing.
        if (reply.type !== 'chunk' && reply.type !== 'chunks') this.heard.delete(key);
        listener.reply(reply, headers);
      },
      (seq) => {
        this.heard.delete(key);
        listener.lost(`reply ${seq} of the attempt never arrived`);
      },
    );
    const release = () => {
      if (this.heard.get(key) === heard) this.heard.delete(key);
      unregister();
    };
    this.heard.set(key, heard);
    const message: LlmGenerateV1 = { ...request, replyTo: this.inbox.address };
    const produce = tracer().startSpan(`${TOPICS.llmRequests} publish`, {
      kind: SpanKind.PRODUCER,
      attributes: {
        'messaging.system': 'kafka',
        'messaging.destination.name': TOPICS.llmRequests,
        'turnpike.attempt': attempt,
      },
    });
    try {
      await this.producer.send(
        TOPICS.llmRequests,
        encode(TOPICS.llmRequests, generationId, message, {
          headers: { ...headers, ...injectContext(trace.setSpan(context.active(), produce)) },
        }),
        { failFast: true },
      );
    } catch (e) {
      failSpan(produce, e);
      release();
      if (e instanceof MessageTooLargeError)
        throw new TransportRefusal(
          'too_large',
          `the request exceeds the ${e.limit}-byte limit of a generation request`,
          e.limit,
        );
      throw new TransportRefusal('unavailable', (e as Error).message);
    } finally {
      produce.end();
    }
    return {
      release,
      cancel: (reason: CancelReason) => this.cancel(generationId, attempt, reason),
    };
  }

  private async cancel(generationId: string, attempt: number, reason: CancelReason) {
    // On the cancels topic every connector reads whole (never paused, whichever instance runs
    // the attempt now): keyed by generation like the request.
    await this.producer
      .send(
        TOPICS.llmCancels,
        encode(TOPICS.llmCancels, generationId, {
          v: 1,
          kind: 'cancel',
          generationId,
          attempt,
          reason,
        }),
      )
      .catch((e: unknown) =>
        this.log.warn(`cancel of ${generationId} not sent: ${(e as Error).message}`),
      );
  }
}
