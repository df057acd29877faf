/**
 * Every Kafka topic Turnpike uses, with its partitioning and retention. Topics are created
 * explicitly at install/boot (auto-creation is off on the broker), from this list.
 */
export interface TopicSpec {
  readonly topic: string;
  readonly partitions: number;
  /** Compacted topics keep the latest value per key: state that consumers load into memory. */
  readonly compacted: boolean;
  /**
   * The topic's `max.message.bytes`, set explicitly when it must differ from the broker's
   * default (`message.max.bytes`, about 1 MB). Producers refuse larger messages before
   * sending them, and consumers fetch up to it.
   */
  readonly maxMessageBytes?: number;
  /**
   * The topic's `retention.ms` when it must differ from the broker's default (7 days): -1 keeps
   * every record, for the topics the billing ledger is rebuilt from (a replay from offset 0). On
   * a compacted topic it makes the policy `compact,delete`: the latest record of each key is
   * kept, and records older than this are deleted.
   */
  readonly retentionMs?: number;
  /**
   * The producer lane its messages take (default `hot`): `hot` for what a request waits on
   * (generation requests, replies, cancels, RPC), sent on the next event-loop turn on producers
   * of their own; `bulk` for records nobody waits on (usage, attempts, state), which linger to be
   * batched. A hot message never queues behind bulk ones.
   */
  readonly lane?: 'hot' | 'bulk';
  /** Further topic configuration (an operator's overrides: `min.insync.replicas`, ...). */
  readonly config?: Readonly<Record<string, string>>;
  readonly description: string;
}

/** The broker's default `message.max.bytes` (1 MiB + 12 bytes of framing in Kafka 3.x). */
export const DEFAULT_MAX_MESSAGE_BYTES = 1024 * 1024;

/**
 * Generation requests carry the whole request body (the gateway accepts up to 4 MiB by
 * default), and unary replies a whole completion: their topics take 8 MiB messages, twice the
 * default body limit, so a request at the limit travels with room for its envelope.
 */
export const LARGE_MESSAGE_BYTES = 8 * 1024 * 1024;

/** How long `usage.rollups.v1` keeps a bucket's record (35 days: a month and its margin). */
export const USAGE_ROLLUPS_RETENTION_MS = 35 * 24 * 3_600_000;

/**
 * How long `llm.cancels.v1` keeps a cancel (an hour: far past the longest request deadline; a
 * connector that starts reads back this far, see CANCEL_LOOKBACK_MS in the connector).
 */
export const LLM_CANCELS_RETENTION_MS = 3_600_000;

export const TOPICS = {
  llmRequests: 'llm.requests.v1',
  llmCancels: 'llm.cancels.v1',
  llmReplies: 'llm.replies.v1',
  llmAttempts: 'llm.attempts.v1',
  usageEvents: 'usage.events.v1',
  usageRollups: 'usage.rollups.v1',
  billingBalances: 'billing.balances.v1',
  billingPricing: 'billing.pricing.v1',
  billingCredits: 'billing.credits.v1',
  routingTable: 'routing.table.v1',
  accountsKeys: 'accounts.keys.v1',
  connectorAccounts: 'connector.accounts.v1',
  rpcBilling: 'rpc.billing.v1',
  rpcRouter: 'rpc.router.v1',
  rpcAnalytics: 'rpc.analytics.v1',
  rpcConnector: 'rpc.connector.v1',
  rpcReplies: 'rpc.replies.v1',
} as const;

export type TopicName = (typeof TOPICS)[keyof typeof TOPICS];

export const TOPIC_SPECS: readonly TopicSpec[] = [
  {
    topic: TOPICS.llmRequests,
    partitions: 12,
    compacted: false,
    maxMessageBytes: LARGE_MESSAGE_BYTES,
    description:
      'Generation requests from gateway to connector, keyed by generation id (cancels of the previous release travelled here too; see llm.cancels.v1).',
  },
  {
    topic: TOPICS.llmCancels,
    partitions: 1,
    compacted: false,
    retentionMs: LLM_CANCELS_RETENTION_MS,
    // Retention deletes whole segments: short segments, so an hour's cancels are all it keeps.
    config: { 'segment.ms': String(LLM_CANCELS_RETENTION_MS / 4) },
    description:
      'Cancels of generation attempts from gateway to connector, keyed by generation id. Every connector instance reads all of them (a private group), so a cancel is heard even when the instance is saturated (its requests paused) or its request partition moved.',
  },
  {
    topic: TOPICS.llmReplies,
    partitions: 12,
    compacted: false,
    maxMessageBytes: LARGE_MESSAGE_BYTES,
    description:
      'Reply stream from connector to the gateway instance that owns the reply partition.',
  },
  {
    topic: TOPICS.llmAttempts,
    lane: 'bulk',
    partitions: 6,
    compacted: false,
    description: 'One record per upstream attempt (health signal for routing).',
  },
  {
    topic: TOPICS.usageEvents,
    lane: 'bulk',
    partitions: 6,
    compacted: false,
    // The billing fact: billing's replay rebuilds the ledger from offset 0, so nothing expires.
    retentionMs: -1,
    description: 'One record per generation: the billing fact, keyed by generation id.',
  },
  {
    topic: TOPICS.usageRollups,
    lane: 'bulk',
    partitions: 3,
    compacted: true,
    retentionMs: USAGE_ROLLUPS_RETENTION_MS,
    description:
      'Closed usage and attempt buckets (minute, hour, day) for analysts, keyed by the bucket; the latest version of a bucket wins.',
  },
  {
    topic: TOPICS.billingBalances,
    lane: 'bulk',
    partitions: 3,
    compacted: true,
    description: 'Latest balance per tenant and key (a tenant and its keys share a partition).',
  },
  {
    topic: TOPICS.billingPricing,
    lane: 'bulk',
    partitions: 1,
    compacted: true,
    description:
      'Markup rules (global, per model, per tenant, per tenant and model), keyed by scope.',
  },
  {
    topic: TOPICS.billingCredits,
    lane: 'bulk',
    partitions: 3,
    compacted: false,
    retentionMs: -1,
    description:
      'Operator credit movements (grants, adjustments, refunds), keyed by tenant: with usage events, the ledger input.',
  },
  {
    topic: TOPICS.routingTable,
    lane: 'bulk',
    partitions: 1,
    compacted: true,
    description: 'Latest catalog entry and endpoint health per model, keyed by model id.',
  },
  {
    topic: TOPICS.accountsKeys,
    lane: 'bulk',
    partitions: 1,
    compacted: true,
    description: 'Latest state of each API key, keyed by key hash.',
  },
  {
    topic: TOPICS.connectorAccounts,
    lane: 'bulk',
    partitions: 1,
    compacted: true,
    description:
      'Provider accounts (secrets envelope-encrypted), keyed by account id; written and read by the connectors only.',
  },
  ...(['billing', 'router', 'analytics', 'connector'] as const).map((s) => ({
    topic: `rpc.${s}.v1`,
    partitions: 3,
    compacted: false,
    description: `Requests from the gateway to ${s} (queries and operator commands).`,
  })),
  {
    topic: 'rpc.replies.v1',
    partitions: 12,
    compacted: false,
    description: 'Replies to rpc.*.v1, on the partition of the gateway instance that asked.',
  },
];

/** The topics whose messages take the producer's hot lane (see {@link TopicSpec.lane}). */
export function hotTopics(): string[] {
  return TOPIC_SPECS.filter((s) => (s.lane ?? 'hot') === 'hot').map((s) => s.topic);
}

/** The largest message each topic accepts (`max.message.bytes`). */
export function maxMessageBytes(topic: string): number {
  return TOPIC_SPECS.find((s) => s.topic === topic)?.maxMessageBytes ?? DEFAULT_MAX_MESSAGE_BYTES;
}

/** Kafka header names used across services. */
export const HEADERS = {
  traceparent: 'traceparent',
  tracestate: 'tracestate',
  messageType: 'turnpike-type',
} as const;
