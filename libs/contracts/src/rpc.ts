import { z } from 'zod';
import { ReplyAddress } from './llm-request.js';

/**
 * Request/reply between the gateway and the services that own data (`billing`, `router`,
 * `analytics`, `connector`): the gateway is the only public entry, and services never read each other's
 * tables. Requests go to `rpc.<service>.v1`; replies to the caller's partition of
 * `rpc.replies.v1`.
 */
export const RPC_SERVICES = ['billing', 'router', 'analytics', 'connector'] as const;
export type RpcService = (typeof RPC_SERVICES)[number];
export const rpcTopic = (service: RpcService) => `rpc.${service}.v1` as const;
export const RPC_REPLIES = 'rpc.replies.v1';

export const RpcRequestV1 = z.object({
  v: z.literal(1),
  /** Unique per call; commands use it as their idempotency key. */
  id: z.string().min(8),
  method: z.string().min(1),
  params: z.unknown(),
  replyTo: ReplyAddress,
  deadlineAt: z.number().int().positive(),
});
export type RpcRequestV1 = z.infer<typeof RpcRequestV1>;

export const RpcError = z.object({
  status: z.number().int().min(400).max(599),
  message: z.string(),
  type: z.string(),
  code: z.string().nullable(),
  param: z.string().nullable(),
});
export type RpcError = z.infer<typeof RpcError>;

export const RpcReplyV1 = z.discriminatedUnion('ok', [
  z.object({ v: z.literal(1), id: z.string(), ok: z.literal(true), result: z.unknown() }),
  z.object({ v: z.literal(1), id: z.string(), ok: z.literal(false), error: RpcError }),
]);
export type RpcReplyV1 = z.infer<typeof RpcReplyV1>;
