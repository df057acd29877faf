import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { z } from 'zod';
import { baseServiceEnv, ConfigError, env, readEnv, type Env } from '@turnpike/config';
import { TOPIC_SPECS, TOPICS } from '@turnpike/contracts';
import { loadMasterKeyRing, type MasterKeyRing } from '@turnpike/secrets';
import { BaseServiceConfig } from '@turnpike/service-kit';

const schema = z.object({
  ...baseServiceEnv,
  HTTP_PORT: env.port(8080),
  DATABASE_URL: z.string().min(1),
  /** Bearer token of the operator admin API (/admin/...), separate from tenant keys. */
  GATEWAY_ADMIN_TOKEN: z.string().min(16),
  /** Partition of llm.replies.v1 this instance reads; default: derived from INSTANCE_ID. */
  GATEWAY_REPLY_PARTITION: z.coerce.number().int().nonnegative().optional(),
  /** Largest request body accepted (413 above). */
  GATEWAY_MAX_BODY_BYTES: env.int(4 * 1024 * 1024, 1024),
  /** A generation that has not finished by then is cancelled (504 or an SSE error). */
  GATEWAY_REQUEST_TIMEOUT_MS: env.int(300_000, 100),
  /** Upstream attempts per request, across fallback endpoints. */
  GATEWAY_MAX_ATTEMPTS: env.int(3, 1),
  /**
   * Gateway replicas serving the same tenants: each may hold at most 1/N of a tenant's balance
   * in in-flight reservations (the overspend bound across replicas depends on it).
   */
  GATEWAY_REPLICAS: env.int(1, 1),
  /**
   * A streamed attempt that is not the last candidate falls back when its first token takes
   * longer than this (or than half the time left, whichever is shorter); a request may set its
   * own (`provider.first_token_timeout_ms`, 1-60 s).
   */
  GATEWAY_FIRST_TOKEN_TIMEOUT_MS: env.int(10_000, 100),
  /**
   * The silence between two chunks of a streamed attempt after which it is stalled, when the
   * request sets none (`provider.stall_timeout_ms`): keep it equal to the connectors'
   * CONNECTOR_STALL_MS. The connector ends a stalled attempt; the gateway ends it itself
   * {@link STALL_GRACE_MS} later if the connector did not (a backstop).
   */
  GATEWAY_STALL_TIMEOUT_MS: env.int(10_000, 100),
  /**
   * The most bytes of a stream the client may leave unread in the gateway (beyond what the
   * socket holds) before the gateway closes the stream as if the client had left: one slow
   * reader cannot grow the gateway's memory without bound. Default 1 MiB.
   */
  GATEWAY_STREAM_BUFFER_BYTES: env.int(1024 * 1024, 16 * 1024),
  /**
   * Where usage events wait on disk until the broker acknowledges them (a directory per
   * instance beneath it; a restarted gateway on the same host produces what its predecessor
   * left). Default: `<tmpdir>/turnpike-usage-spool`. `off`: memory only (events unsent at exit
   * are logged in full). On Kubernetes mount a volume here (emptyDir survives container restarts;
   * a PersistentVolume also survives the pod).
   */
  GATEWAY_USAGE_SPOOL_DIR: z.string().min(1).optional(),
  /**
   * How this gateway's attempts reach the upstreams. `kafka` (split, the default): a connector
   * runs them, over `llm.requests.v1` and `llm.replies.v1`. `inprocess` (fused): the gateway runs
   * them itself with the connectors' code, saving the two Kafka hops; it then holds the provider
   * credentials (it needs the master key) and its CPU serves the upstream calls too. Attempt
   * records and usage events go to Kafka either way; connectors still own the accounts.
   */
  GATEWAY_TRANSPORT: z.enum(['kafka', 'inprocess']).default('kafka'),
  /** Fused mode: the connectors' master key(s) (as CONNECTOR_MASTER_KEY), to open the accounts. */
  GATEWAY_MASTER_KEY: z.string().optional(),
  /** Path of a file with the same content (a mounted secret). */
  GATEWAY_MASTER_KEY_FILE: z.string().optional(),
});

/**
 * How long after a stream's stall limit the gateway ends the attempt itself, when the connector
 * (which enforces the limit and reports `upstream_stalled`) has not: the replies' way back.
 */
export const STALL_GRACE_MS = 500;

/** The gateway's configuration, read and validated once at boot. */
export class GatewayConfig extends BaseServiceConfig {
  readonly databaseUrl: string;
  readonly adminToken: string;
  readonly replyPartition: number;
  readonly maxBodyBytes: number;
  readonly requestTimeoutMs: number;
  readonly maxAttempts: number;
  readonly replicas: number;
  readonly firstTokenTimeoutMs: number;
  readonly stallTimeoutMs: number;
  readonly streamBufferBytes: number;
  /** null: no spool (`GATEWAY_USAGE_SPOOL_DIR=off`). */
  readonly usageSpoolDir: string | null;
  readonly transport: 'kafka' | 'inprocess';
  /** Fused mode only: the ring that opens the provider accounts. */
  readonly masterKeys: MasterKeyRing | null;

  private constructor(e: z.infer<typeof schema>, masterKeys: MasterKeyRing | null) {
    super('gateway', e);
    this.databaseUrl = e.DATABASE_URL;
    this.adminToken = e.GATEWAY_ADMIN_TOKEN;
    const partitions = Math.max(
      TOPIC_SPECS.find((t) => t.topic === TOPICS.llmReplies)?.partitions ?? 1,
      this.topicOverrides[TOPICS.llmReplies]?.partitions ?? 0,
    );
    this.replyPartition =
      e.GATEWAY_REPLY_PARTITION ??
      createHash('sha256').update(this.instanceId).digest().readUInt32BE(0) % partitions;
    if (this.replyPartition >= partitions) {
      throw new Error(`GATEWAY_REPLY_PARTITION must be below ${partitions}`);
    }
    this.maxBodyBytes = e.GATEWAY_MAX_BODY_BYTES;
    this.requestTimeoutMs = e.GATEWAY_REQUEST_TIMEOUT_MS;
    this.maxAttempts = e.GATEWAY_MAX_ATTEMPTS;
    this.replicas = e.GATEWAY_REPLICAS;
    this.firstTokenTimeoutMs = e.GATEWAY_FIRST_TOKEN_TIMEOUT_MS;
    this.stallTimeoutMs = e.GATEWAY_STALL_TIMEOUT_MS;
    this.streamBufferBytes = e.GATEWAY_STREAM_BUFFER_BYTES;
    const spool = e.GATEWAY_USAGE_SPOOL_DIR ?? path.join(os.tmpdir(), 'turnpike-usage-spool');
    this.usageSpoolDir = spool === 'off' ? null : path.resolve(spool);
    this.transport = e.GATEWAY_TRANSPORT;
    this.masterKeys = masterKeys;
  }

  static load(source: Env = process.env): GatewayConfig {
    const e = readEnv('gateway', schema, source);
    if (e.GATEWAY_TRANSPORT !== 'inprocess') return new GatewayConfig(e, null);
    // Fused: the gateway opens the provider accounts itself.
    const keys = loadMasterKeyRing(
      e.GATEWAY_MASTER_KEY,
      e.GATEWAY_MASTER_KEY_FILE,
      { value: 'GATEWAY_MASTER_KEY', file: 'GATEWAY_MASTER_KEY_FILE' },
      (f) => readFileSync(f, 'utf8'),
    );
    if (keys.problem !== null) throw new ConfigError('gateway', [keys.problem]);
    if (keys.ring === null)
      throw new ConfigError('gateway', [
        'GATEWAY_TRANSPORT=inprocess runs the attempts in the gateway, which then needs the master key the connectors use: set GATEWAY_MASTER_KEY or GATEWAY_MASTER_KEY_FILE',
      ]);
    return new GatewayConfig(e, keys.ring);
  }
}

/** The variables the gateway reads (for the generated configuration reference). */
export const ENV_SCHEMA = schema;
