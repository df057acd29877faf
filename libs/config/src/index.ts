import { z } from 'zod';

/**
 * Reads and validates a service's configuration from an environment map, once, at boot.
 * Every problem is reported at once, with the variable's name, and the process should exit.
 * This is the only place in the code base that reads `process.env`.
 */
export class ConfigError extends Error {
  constructor(
    readonly service: string,
    readonly problems: string[],
  ) {
    super(`invalid ${service} configuration:\n  - ${problems.join('\n  - ')}`);
    this.name = 'ConfigError';
  }
}

export type Env = Readonly<Record<string, string | undefined>>;

export function readEnv<S extends z.ZodObject>(
  service: string,
  schema: S,
  env: Env = process.env,
): z.infer<S> {
  const input: Record<string, string | undefined> = {};
  for (const key of Object.keys(schema.shape)) input[key] = env[key];
  const result = schema.safeParse(input);
  if (result.success) return result.data;
  throw new ConfigError(
    service,
    result.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`),
  );
}

/** Common variable parsers. */
export const env = {
  port: (def?: number) =>
    def === undefined
      ? z.coerce.number().int().min(0).max(65535)
      : z.coerce.number().int().min(0).max(65535).default(def),
  int: (def: number, min = 0) => z.coerce.number().int().min(min).default(def),
  str: (def?: string) => (def === undefined ? z.string().min(1) : z.string().min(1).default(def)),
  bool: (def: boolean) =>
    z
      .enum(['true', 'false', '1', '0', 'yes', 'no'])
      .default(def ? 'true' : 'false')
      .transform((v) => v === 'true' || v === '1' || v === 'yes'),
  list: (def?: string) =>
    (def === undefined ? z.string().min(1) : z.string().min(1).default(def)).transform((v) =>
      v
        .split(',')
        .map((s) => s.trim())
        .filter(Boolean),
    ),
  url: (def?: string) => (def === undefined ? z.url() : z.url().default(def)),
  /** A duration, `<number><unit>` with unit ms, s, m, h or d (e.g. `48h`), as milliseconds. */
  duration: (def: string) =>
    z
      .string()
      .default(def)
      .transform((v, ctx) => {
        const m = /^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)\s*$/.exec(v);
        if (!m) {
          ctx.addIssue({
            code: 'custom',
            message: `'${v}' is not a duration like 500ms, 30s, 5m, 48h or 7d`,
          });
          return z.NEVER;
        }
        return Math.round(Number(m[1]) * DURATION_UNITS[m[2] as keyof typeof DURATION_UNITS]);
      }),
};

/**
 * Per-topic overrides (`KAFKA_TOPICS`, JSON): topic name -> partitions, retention and further
 * topic configuration. Partitions only grow (Kafka cannot shrink them); the configuration Turnpike
 * owns (`cleanup.policy`, `max.message.bytes`) is not overridable.
 */
export const TopicOverride = z.strictObject({
  partitions: z.number().int().min(1).max(10_000).optional(),
  /** `retention.ms`; -1 keeps records for ever. */
  retentionMs: z.number().int().min(-1).optional(),
  /** Further topic configuration (`min.insync.replicas`, `segment.ms`, ...), as strings. */
  config: z
    .record(z.string().regex(/^[a-z][a-z0-9.]*$/, 'a topic configuration name'), z.string())
    .superRefine((config, ctx) => {
      for (const k of ['cleanup.policy', 'max.message.bytes', 'retention.ms'])
        if (k in config)
          ctx.addIssue({
            code: 'custom',
            path: [k],
            message: 'owned by Turnpike (cleanup.policy, max.message.bytes) or set by retentionMs',
          });
    })
    .optional(),
});
export type TopicOverride = z.infer<typeof TopicOverride>;
export type TopicOverrides = Readonly<Record<string, TopicOverride>>;

const jsonOf = <T extends z.ZodType>(schema: T) =>
  z.string().transform((text, ctx): z.infer<T> => {
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch {
      ctx.addIssue({ code: 'custom', message: 'not valid JSON' });
      return z.NEVER;
    }
    const r = schema.safeParse(json);
    if (r.success) return r.data;
    for (const i of r.error.issues)
      ctx.addIssue({ code: 'custom', message: `${i.path.join('.') || '(root)'}: ${i.message}` });
    return z.NEVER;
  });
const DURATION_UNITS = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 } as const;

/** Settings every Turnpike service shares. */
export const baseServiceEnv = {
  /** Bootstrap brokers, comma-separated `host:port`. */
  KAFKA_BROKERS: env.list('127.0.0.1:9092'),
  /** Kafka client id prefix; default `<service>-<instance id>`. */
  KAFKA_CLIENT_ID: z.string().optional(),
  /**
   * TLS to the brokers, trusting the system's CAs. Implied by any `KAFKA_SSL_*_FILE`.
   */
  KAFKA_SSL: env.bool(false),
  /** PEM bundle of the CA(s) that signed the brokers' certificates (instead of the system's). */
  KAFKA_SSL_CA_FILE: z.string().min(1).optional(),
  /** Client certificate (PEM) for mutual TLS; with `KAFKA_SSL_KEY_FILE`. */
  KAFKA_SSL_CERT_FILE: z.string().min(1).optional(),
  /** Client private key (PEM) for mutual TLS; with `KAFKA_SSL_CERT_FILE`. */
  KAFKA_SSL_KEY_FILE: z.string().min(1).optional(),
  /** Passphrase of an encrypted `KAFKA_SSL_KEY_FILE`. */
  KAFKA_SSL_KEY_PASSPHRASE: z.string().min(1).optional(),
  /** Host name checked against the brokers' certificates when it differs from the one dialled. */
  KAFKA_SSL_SERVERNAME: z.string().min(1).optional(),
  /** SASL mechanism: `plain`, `scram-sha-256` or `scram-sha-512`; unset: no SASL. */
  KAFKA_SASL_MECHANISM: z.enum(['plain', 'scram-sha-256', 'scram-sha-512']).optional(),
  /** SASL user name (with `KAFKA_SASL_MECHANISM`). */
  KAFKA_SASL_USERNAME: z.string().min(1).optional(),
  /** SASL password; or `KAFKA_SASL_PASSWORD_FILE`. */
  KAFKA_SASL_PASSWORD: z.string().min(1).optional(),
  /** Path of a file holding the SASL password (a mounted secret). */
  KAFKA_SASL_PASSWORD_FILE: z.string().min(1).optional(),
  /**
   * `true`: the service creates missing topics and brings the configuration Turnpike owns up to
   * date at boot. `false` when a deployment step owns the topics (the Helm chart's topics job).
   */
  KAFKA_TOPICS_ENSURE: env.bool(true),
  /** Replication factor of the topics created (at boot or by the topics job). */
  KAFKA_TOPICS_REPLICATION_FACTOR: env.int(1, 1),
  /**
   * Per-topic overrides, JSON: `{"llm.requests.v1": {"partitions": 24}, "llm.attempts.v1":
   * {"retentionMs": 86400000, "config": {"min.insync.replicas": "2"}}}`.
   */
  KAFKA_TOPICS: jsonOf(z.record(z.string().min(1), TopicOverride)).optional(),
  /** Instance name (logs, Kafka client id, the gateway's reply partition); default: random. */
  INSTANCE_ID: z.string().optional(),
  /** Port of the liveness/readiness HTTP server (the gateway serves the API on it too). */
  HTTP_PORT: env.port(0),
  /** Address the HTTP server binds (`0.0.0.0` in containers). */
  HTTP_HOST: env.str('127.0.0.1'),
  /** `debug`, `info`, `warn` or `error`. */
  LOG_LEVEL: z.enum(['debug', 'info', 'warn', 'error']).default('info'),
  /**
   * The drain deadline: how long SIGTERM waits for in-flight work (open streams, unary requests,
   * running generations) before it cuts what is left and exits. 25 s fits Kubernetes' default
   * terminationGracePeriodSeconds of 30 with room to flush and close; keep
   * terminationGracePeriodSeconds >= preStop sleep + this + 5 s.
   */
  SHUTDOWN_GRACE_MS: env.int(25_000),
};

/** TLS and SASL settings for the Kafka client (the shape `createKafka` takes). */
export interface KafkaSecurity {
  ssl?: { ca?: string; cert?: string; key?: string; passphrase?: string; servername?: string };
  sasl?: {
    mechanism: 'plain' | 'scram-sha-256' | 'scram-sha-512';
    username: string;
    password: string;
  };
}

/** The Kafka security variables of {@link baseServiceEnv}, as `readEnv` returns them. */
export interface KafkaSecurityEnv {
  KAFKA_SSL: boolean;
  KAFKA_SSL_CA_FILE?: string | undefined;
  KAFKA_SSL_CERT_FILE?: string | undefined;
  KAFKA_SSL_KEY_FILE?: string | undefined;
  KAFKA_SSL_KEY_PASSPHRASE?: string | undefined;
  KAFKA_SSL_SERVERNAME?: string | undefined;
  KAFKA_SASL_MECHANISM?: 'plain' | 'scram-sha-256' | 'scram-sha-512' | undefined;
  KAFKA_SASL_USERNAME?: string | undefined;
  KAFKA_SASL_PASSWORD?: string | undefined;
  KAFKA_SASL_PASSWORD_FILE?: string | undefined;
}

/**
 * Reads the files the Kafka security variables name and checks they go together. Every
 * problem is reported at once (a ConfigError), naming the variable, never a secret.
 */
export function kafkaSecurity(
  service: string,
  e: KafkaSecurityEnv,
  readFile: (path: string) => string,
): KafkaSecurity {
  const problems: string[] = [];
  const read = (name: string, file: string | undefined): string | undefined => {
    if (file === undefined) return undefined;
    try {
      return readFile(file);
    } catch (err) {
      problems.push(
        `${name}: cannot read ${file} (${(err as NodeJS.ErrnoException).code ?? 'error'})`,
      );
      return undefined;
    }
  };
  const ca = read('KAFKA_SSL_CA_FILE', e.KAFKA_SSL_CA_FILE);
  const cert = read('KAFKA_SSL_CERT_FILE', e.KAFKA_SSL_CERT_FILE);
  const key = read('KAFKA_SSL_KEY_FILE', e.KAFKA_SSL_KEY_FILE);
  if ((e.KAFKA_SSL_CERT_FILE === undefined) !== (e.KAFKA_SSL_KEY_FILE === undefined))
    problems.push('KAFKA_SSL_CERT_FILE and KAFKA_SSL_KEY_FILE: give both (mutual TLS) or neither');
  const tls =
    e.KAFKA_SSL ||
    [e.KAFKA_SSL_CA_FILE, e.KAFKA_SSL_CERT_FILE, e.KAFKA_SSL_KEY_FILE].some((f) => f !== undefined);
  if (!tls && (e.KAFKA_SSL_KEY_PASSPHRASE !== undefined || e.KAFKA_SSL_SERVERNAME !== undefined))
    problems.push(
      'KAFKA_SSL_KEY_PASSPHRASE/KAFKA_SSL_SERVERNAME: set KAFKA_SSL=true (or a KAFKA_SSL_*_FILE)',
    );

  let sasl: KafkaSecurity['sasl'];
  const mechanism = e.KAFKA_SASL_MECHANISM;
  if (e.KAFKA_SASL_PASSWORD !== undefined && e.KAFKA_SASL_PASSWORD_FILE !== undefined)
    problems.push('KAFKA_SASL_PASSWORD and KAFKA_SASL_PASSWORD_FILE: give one of them, not both');
  const password =
    e.KAFKA_SASL_PASSWORD ?? read('KAFKA_SASL_PASSWORD_FILE', e.KAFKA_SASL_PASSWORD_FILE)?.trim();
  if (mechanism !== undefined) {
    if (e.KAFKA_SASL_USERNAME === undefined)
      problems.push('KAFKA_SASL_USERNAME: required with KAFKA_SASL_MECHANISM');
    if (password === undefined && e.KAFKA_SASL_PASSWORD_FILE === undefined)
      problems.push(
        'KAFKA_SASL_PASSWORD (or KAFKA_SASL_PASSWORD_FILE): required with KAFKA_SASL_MECHANISM',
      );
    if (e.KAFKA_SASL_USERNAME !== undefined && password !== undefined)
      sasl = { mechanism, username: e.KAFKA_SASL_USERNAME, password };
  } else if (e.KAFKA_SASL_USERNAME !== undefined || password !== undefined) {
    problems.push('KAFKA_SASL_USERNAME/KAFKA_SASL_PASSWORD: set KAFKA_SASL_MECHANISM too');
  }
  if (problems.length > 0) throw new ConfigError(service, problems);
  const ssl = tls
    ? {
        ...(ca !== undefined ? { ca } : {}),
        ...(cert !== undefined ? { cert } : {}),
        ...(key !== undefined ? { key } : {}),
        ...(e.KAFKA_SSL_KEY_PASSPHRASE !== undefined
          ? { passphrase: e.KAFKA_SSL_KEY_PASSPHRASE }
          : {}),
        ...(e.KAFKA_SSL_SERVERNAME !== undefined ? { servername: e.KAFKA_SSL_SERVERNAME } : {}),
      }
    : undefined;
  return { ...(ssl ? { ssl } : {}), ...(sasl ? { sasl } : {}) };
}
