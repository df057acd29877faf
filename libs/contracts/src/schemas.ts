import { z } from 'zod';
import { TOPICS } from './topics.js';
import { LlmCancelV1, LlmRequestMessageV1 } from './llm-request.js';
import { LlmReplyV1 } from './llm-reply.js';
import { LlmAttemptV1 } from './attempt.js';
import { UsageEventV1 } from './usage-event.js';
import { RoutingEntryV1 } from './routing-table.js';
import { AccountKeyV1 } from './account-key.js';
import { ProviderAccountV1 } from './provider-account.js';
import { RpcReplyV1, RpcRequestV1 } from './rpc.js';
import { BalanceV1, CreditEventV1, PricingRuleV1 } from './billing.js';
import { UsageRollupV1 } from './analytics.js';

/** The one schema of each topic's message value. */
export const TOPIC_SCHEMAS = {
  [TOPICS.llmRequests]: LlmRequestMessageV1,
  [TOPICS.llmCancels]: LlmCancelV1,
  [TOPICS.llmReplies]: LlmReplyV1,
  [TOPICS.llmAttempts]: LlmAttemptV1,
  [TOPICS.usageEvents]: UsageEventV1,
  [TOPICS.usageRollups]: UsageRollupV1,
  [TOPICS.routingTable]: RoutingEntryV1,
  [TOPICS.accountsKeys]: AccountKeyV1,
  [TOPICS.connectorAccounts]: ProviderAccountV1,
  [TOPICS.rpcBilling]: RpcRequestV1,
  [TOPICS.rpcRouter]: RpcRequestV1,
  [TOPICS.rpcAnalytics]: RpcRequestV1,
  [TOPICS.rpcConnector]: RpcRequestV1,
  [TOPICS.rpcReplies]: RpcReplyV1,
  [TOPICS.billingBalances]: BalanceV1,
  [TOPICS.billingPricing]: PricingRuleV1,
  [TOPICS.billingCredits]: CreditEventV1,
} as const satisfies Record<string, z.ZodType>;

/** JSON Schema (draft 2020-12) of each topic, as committed under `libs/contracts/schemas/`. */
export function topicJsonSchemas(): Record<string, object> {
  const out: Record<string, object> = {};
  for (const [topic, schema] of Object.entries(TOPIC_SCHEMAS)) {
    out[topic] = {
      $id: `https://turnpike.dev/schemas/${topic}.json`,
      title: topic,
      ...z.toJSONSchema(schema, {
        target: 'draft-2020-12',
        io: 'output',
        // An opaque chunk (llm-reply.ts) is checked only for being an object.
        unrepresentable: 'any',
        override: (ctx) => {
          if (ctx.zodSchema._zod.def.type === 'custom') ctx.jsonSchema['type'] = 'object';
        },
      }),
    };
  }
  return out;
}
