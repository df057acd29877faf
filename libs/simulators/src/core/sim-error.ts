/** A body that is not the protocol's JSON: what a proxy in front of the upstream sends. */
export interface RawErrorBody {
  contentType: string;
  text: string;
}

/**
 * An error answered with `status` and a protocol-shaped JSON body (OpenAI's, Anthropic's, ...),
 * or, from a proxy, `raw`.
 */
export class SimHttpError extends Error {
  override readonly name = 'SimHttpError';
  constructor(
    readonly status: number,
    readonly body: unknown,
    readonly headers: Record<string, string> = {},
    readonly raw?: RawErrorBody,
  ) {
    super(messageOf(body) ?? `HTTP ${status}`);
  }
}

function messageOf(body: unknown): string | undefined {
  const b = body as { error?: { message?: unknown }; message?: unknown } | null;
  const m = b?.error?.message ?? b?.message;
  return typeof m === 'string' ? m : undefined;
}

/**
 * `sk-abc...wxyz` → `sk-abc*************wxyz`, like OpenAI's 401 message: the first six and the
 * last four characters of the key the client sent.
 */
export function redactKey(key: string): string {
  if (key.length <= 12) return '*'.repeat(key.length);
  return `${key.slice(0, 6)}${'*'.repeat(Math.max(4, key.length - 10))}${key.slice(-4)}`;
}

/** `retry-after` (whole seconds, RFC 9110) plus `retry-after-ms` (honoured by several SDKs). */
export function retryAfterHeaders(sec: number | undefined): Record<string, string> {
  if (sec === undefined) return {};
  return {
    'retry-after': String(Math.ceil(sec)),
    'retry-after-ms': String(Math.round(sec * 1000)),
  };
}
