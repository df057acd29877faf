import { z } from 'zod';

/** Integer micro-units of currency (1 USD = 1_000_000). Never a binary float. */
export const Micros = z.number().int().safe();
export type Micros = z.infer<typeof Micros>;

/** A non-negative integer count (tokens, bytes, ...). */
export const Count = z.number().int().nonnegative().safe();

/** Milliseconds as measured by the producing service. */
export const Millis = z.number().nonnegative();

export const GenerationId = z.string().regex(/^gen-[A-Za-z0-9-]{8,64}$/);

/** Native token counts, as the upstream reported them. */
export const NativeTokens = z.object({
  prompt: Count,
  completion: Count,
  cachedRead: Count,
  cacheWrite: Count,
  reasoning: Count,
});
export type NativeTokens = z.infer<typeof NativeTokens>;

export const zeroTokens = (): NativeTokens => ({
  prompt: 0,
  completion: 0,
  cachedRead: 0,
  cacheWrite: 0,
  reasoning: 0,
});

/**
 * Prices of one endpoint, in integer micro-units per million tokens (so $0.15 per million
 * tokens is 150_000) and micro-units per request.
 */
export const EndpointPricing = z.object({
  promptPerM: Micros.nonnegative(),
  completionPerM: Micros.nonnegative(),
  cachedReadPerM: Micros.nonnegative(),
  cacheWritePerM: Micros.nonnegative(),
  reasoningPerM: Micros.nonnegative(),
  perRequest: Micros.nonnegative(),
});
export type EndpointPricing = z.infer<typeof EndpointPricing>;

/** Result of a runtime check: the typed value, or a readable reason. */
export type Parsed<T> = { ok: true; value: T } | { ok: false; error: string };

export function parseWith<T>(schema: z.ZodType<T>, input: unknown): Parsed<T> {
  const result = schema.safeParse(input);
  if (result.success) return { ok: true, value: result.data };
  return { ok: false, error: z.prettifyError(result.error) };
}

/**
 * Where `value` holds text that Postgres cannot store (a NUL, U+0000, in a string or an object
 * key): the path of the first such place (`''` for `value` itself, else `a.b[2]`-style), or null.
 * Shared by the gateway's input validation and the RPC servers' parameter validation. Bounded:
 * it stops descending at `maxDepth` (deeper values are the body parser's business).
 */
export function findNulText(value: unknown, maxDepth = 64): string | null {
  const walk = (v: unknown, path: string, depth: number): string | null => {
    if (typeof v === 'string') return v.includes('\u0000') ? path : null;
    if (typeof v !== 'object' || v === null || depth >= maxDepth) return null;
    if (Array.isArray(v)) {
      for (let i = 0; i < v.length; i++) {
        const hit = walk(v[i], `${path}[${i}]`, depth + 1);
        if (hit !== null) return hit;
      }
      return null;
    }
    for (const [k, x] of Object.entries(v as Record<string, unknown>)) {
      const at = path === '' ? k : `${path}.${k}`;
      if (k.includes('\u0000')) return at;
      const hit = walk(x, at, depth + 1);
      if (hit !== null) return hit;
    }
    return null;
  };
  return walk(value, '', 0);
}
