/** Response headers as undici and node:http give them. */
export type HeaderBag = Record<string, string | string[] | undefined>;

/** Seconds from a `Retry-After` value: delta-seconds or an HTTP date (RFC 9110 §10.2.3). */
export function parseRetryAfter(
  value: string | string[] | undefined,
  now = Date.now(),
): number | null {
  const v = (Array.isArray(value) ? value[0] : value)?.trim();
  if (!v) return null;
  if (/^-?\d+(?:\.\d+)?$/.test(v)) return Math.max(0, Number(v));
  const at = Date.parse(v);
  return Number.isNaN(at) ? null : Math.max(0, Math.ceil((at - now) / 1000));
}

/**
 * How long the upstream asked us to wait: `retry-after-ms` (OpenAI, Azure; more precise) or
 * `Retry-After`. Header names are matched case-insensitively.
 */
export function retryAfterFrom(headers: HeaderBag, now = Date.now()): number | null {
  const get = (name: string): string | string[] | undefined => {
    for (const [k, v] of Object.entries(headers)) if (k.toLowerCase() === name) return v;
    return undefined;
  };
  const msRaw = get('retry-after-ms');
  const ms = Array.isArray(msRaw) ? msRaw[0] : msRaw;
  if (ms !== undefined && /^\d+(?:\.\d+)?$/.test(ms.trim())) return Number(ms) / 1000;
  return parseRetryAfter(get('retry-after'), now);
}
