/** An error answered with `status` and a protocol-shaped JSON body (OpenAI's, Anthropic's, ...). */
export class SimHttpError extends Error {
  override readonly name = 'SimHttpError';
  constructor(
    readonly status: number,
    readonly body: unknown,
    readonly headers: Record<string, string> = {},
    message = `HTTP ${status}`,
  ) {
    super(message);
  }
}

/** `sk-abc...wxyz` → `sk-abc*************wxyz`, as providers quote a wrong key in their 401s. */
export function redactKey(key: string): string {
  if (key.length <= 8) return '*'.repeat(key.length);
  return `${key.slice(0, 3)}${'*'.repeat(Math.max(4, key.length - 7))}${key.slice(-4)}`;
}

/** `retry-after` (whole seconds, RFC 9110) plus `retry-after-ms` (honoured by several SDKs). */
export function retryAfterHeaders(sec: number | undefined): Record<string, string> {
  if (sec === undefined) return {};
  return {
    'retry-after': String(Math.ceil(sec)),
    'retry-after-ms': String(Math.round(sec * 1000)),
  };
}
