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

const DURATION_UNITS = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 } as const;

/** Settings every Turnpike service shares. */
export const baseServiceEnv = {
  KAFKA_BROKERS: env.list('127.0.0.1:9092'),
  KAFKA_CLIENT_ID: z.string().optional(),
  INSTANCE_ID: z.string().optional(),
  /** Port of the liveness/readiness HTTP server (the gateway serves the API on it too). */
  HTTP_PORT: env.port(0),
  HTTP_HOST: env.str('127.0.0.1'),
  LOG_LEVEL: z.enum(['debug', 'info', 'warn', 'error']).default('info'),
  /**
   * The drain deadline: how long SIGTERM waits for in-flight work (open streams, unary requests,
   * running generations) before it cuts what is left and exits. 25 s fits Kubernetes' default
   * terminationGracePeriodSeconds of 30 with room to flush and close; keep
   * terminationGracePeriodSeconds >= preStop sleep + this + 5 s.
   */
  SHUTDOWN_GRACE_MS: env.int(25_000),
};
