import { randomUUID } from 'node:crypto';
import type { z } from 'zod';
import {
  TOPICS,
  findNulText,
  rpcTopic,
  type RpcError,
  type RpcReplyV1,
  type RpcRequestV1,
  type RpcService,
} from '@turnpike/contracts';
import { MessageTooLargeError, type BatchingProducer } from './batching-producer.js';
import type { KafkaClient } from './client.js';
import { decode, encode } from './codec.js';
import { startConsumer, type BatchPayload, type ConsumerHandle } from './consumer.js';
import type { Log } from './logger.js';
import { startPrivatePartitionConsumer } from './private-partition.js';

/** A failed call, carrying the error the owning service answered with. */
export class RpcFailure extends Error {
  constructor(readonly error: RpcError) {
    super(error.message);
    this.name = 'RpcFailure';
  }

  static of(
    status: number,
    message: string,
    code: string | null = null,
    param: string | null = null,
  ): RpcFailure {
    return new RpcFailure({
      status,
      message,
      code,
      param,
      type:
        status >= 500
          ? 'server_error'
          : status === 404
            ? 'invalid_request_error'
            : 'invalid_request_error',
    });
  }
}

/**
 * The gateway's side of request/reply with the services that own data. Replies come back on
 * this instance's private partition of `rpc.replies.v1`.
 */
export class RpcClient {
  private consumer: ConsumerHandle | null = null;
  private readonly waiting = new Map<string, (reply: RpcReplyV1) => void>();

  constructor(
    private readonly kafka: KafkaClient,
    private readonly producer: BatchingProducer,
    private readonly log: Log,
    private readonly self: { instance: string; partition: number },
  ) {}

  async start(): Promise<void> {
    this.consumer = await startPrivatePartitionConsumer(this.kafka, this.producer, this.log, {
      topic: TOPICS.rpcReplies,
      partition: this.self.partition,
      groupId: `gateway-rpc-${this.self.instance}`,
      onMessage: (m) => {
        const d = decode(TOPICS.rpcReplies, m.value);
        if (d.ok) this.waiting.get(d.value.id)?.(d.value);
        else this.log.warn(`invalid rpc reply: ${d.error}`);
      },
    });
  }

  async stop(): Promise<void> {
    await this.consumer?.stop();
    this.consumer = null;
  }

  /** Calls `method` on `service`; rejects with RpcFailure (its answer) or on timeout (504). */
  async call<T>(
    service: RpcService,
    method: string,
    params: unknown,
    timeoutMs = 10_000,
    id: string = randomUUID(),
  ): Promise<T> {
    const request: RpcRequestV1 = {
      v: 1,
      id,
      method,
      params,
      replyTo: {
        topic: TOPICS.rpcReplies,
        partition: this.self.partition,
        instance: this.self.instance,
      },
      deadlineAt: Date.now() + timeoutMs,
    };
    let timer: NodeJS.Timeout | undefined;
    const reply = new Promise<RpcReplyV1>((resolve, reject) => {
      timer = setTimeout(() => {
        this.waiting.delete(id);
        reject(RpcFailure.of(504, `${service} did not answer ${method} in time.`, 'timeout'));
      }, timeoutMs);
      this.waiting.set(id, (r) => {
        clearTimeout(timer);
        this.waiting.delete(id);
        resolve(r);
      });
    });
    // The reply promise exists before the send is awaited: if the send throws, nobody awaits
    // it, and its timeout rejection must not go unhandled (that would kill the process).
    reply.catch(() => undefined);
    const topic = rpcTopic(service);
    try {
      await this.producer.send(topic, encode(topic, id, request), {
        failFast: true,
        deadlineAt: request.deadlineAt,
      });
    } catch (e) {
      clearTimeout(timer);
      this.waiting.delete(id);
      this.log.warn(`${service}.${method} not sent: ${(e as Error).message}`);
      // Too large for the topic: the caller's request is at fault, and retrying cannot help.
      if (e instanceof MessageTooLargeError)
        throw RpcFailure.of(
          413,
          `The request is too large to pass to ${service} (${e.bytes} bytes; at most ${e.limit}).`,
          'request_too_large',
        );
      throw RpcFailure.of(
        503,
        `${service} cannot be reached right now; try again shortly.`,
        'service_unavailable',
      );
    }
    const r = await reply;
    if (!r.ok) throw new RpcFailure(r.error);
    return r.result as T;
  }
}

/**
 * Validates a call's params against its contract schema (and refuses NUL characters in any text);
 * a 400 RpcFailure naming the field if not.
 */
export function rpcParams<T>(schema: z.ZodType<T>, params: unknown): T {
  // Postgres cannot store a NUL in text: refuse it here rather than fail in the database.
  const nul = findNulText(params);
  if (nul !== null)
    throw RpcFailure.of(
      400,
      `${nul || 'params'}: text must not contain NUL characters.`,
      null,
      nul || null,
    );
  const r = schema.safeParse(params);
  if (r.success) return r.data;
  const issue = r.error.issues[0];
  const path = issue?.path.join('.') || null;
  throw RpcFailure.of(
    400,
    issue ? `${path ?? 'params'}: ${issue.message}` : 'Invalid parameters.',
    null,
    path,
  );
}

export type RpcHandler = (
  params: unknown,
  call: { id: string; method: string },
) => Promise<unknown>;

/**
 * A service's side: consumes `rpc.<service>.v1` and answers each request on the caller's reply
 * partition. At-least-once: a redelivered call runs again, so commands must be idempotent on
 * the call id. Requests past their deadline are dropped (nobody waits for them).
 */
export class RpcServer {
  private consumer: ConsumerHandle | null = null;
  private readonly handlers = new Map<string, RpcHandler>();

  constructor(
    private readonly kafka: KafkaClient,
    private readonly producer: BatchingProducer,
    private readonly log: Log,
    private readonly service: RpcService,
  ) {}

  handle(method: string, handler: RpcHandler): void {
    this.handlers.set(method, handler);
  }

  async start(): Promise<void> {
    this.consumer = await startConsumer(this.kafka, this.log, {
      groupId: `${this.service}-rpc`,
      topics: [rpcTopic(this.service)],
      fromBeginning: false,
      commit: 'auto',
      eachBatch: (p) => this.onBatch(p),
    });
  }

  async stop(): Promise<void> {
    await this.consumer?.stop();
    this.consumer = null;
  }

  private async onBatch({ batch, heartbeat }: BatchPayload): Promise<void> {
    const topic = rpcTopic(this.service);
    await Promise.all(
      batch.messages.map(async (m) => {
        const d = decode(topic, m.value);
        if (!d.ok) {
          this.log.warn(`invalid rpc request: ${d.error}`);
          return;
        }
        const req = d.value;
        if (req.deadlineAt < Date.now()) return;
        const reply = await this.dispatch(req);
        // Retried within the producer's budget; a reply lost for good only times the caller out.
        await this.producer
          .send(
            TOPICS.rpcReplies,
            encode(TOPICS.rpcReplies, req.id, reply, { partition: req.replyTo.partition }),
            { deadlineAt: req.deadlineAt },
          )
          .catch((e: unknown) =>
            this.log.warn(`reply to ${req.method} ${req.id} not sent: ${(e as Error).message}`),
          );
      }),
    );
    await heartbeat();
  }

  private async dispatch(req: RpcRequestV1): Promise<RpcReplyV1> {
    const handler = this.handlers.get(req.method);
    if (!handler) {
      return {
        v: 1,
        id: req.id,
        ok: false,
        error: RpcFailure.of(501, `Unknown method ${this.service}.${req.method}.`).error,
      };
    }
    try {
      return {
        v: 1,
        id: req.id,
        ok: true,
        result: (await handler(req.params, { id: req.id, method: req.method })) ?? null,
      };
    } catch (e) {
      if (e instanceof RpcFailure) return { v: 1, id: req.id, ok: false, error: e.error };
      this.log.error(`${this.service}.${req.method} failed: ${(e as Error).stack ?? String(e)}`);
      return {
        v: 1,
        id: req.id,
        ok: false,
        error: RpcFailure.of(500, 'The service failed to answer.').error,
      };
    }
  }
}
