import type { EndpointPricing, Micros, NativeTokens } from '@turnpike/contracts';

export * from './markup.js';
export * from './worst-case.js';
export * from './periods.js';
export * from './money.js';
export * from './ledger.js';

import { applyMarkup, chargeMicros, type Markup } from './markup.js';

const MILLION = 1_000_000n;

/**
 * Upstream cost of one generation in integer micro-units, from native token counts and the
 * endpoint's prices (micro-units per million tokens). Cached prompt tokens are a subset of
 * prompt tokens and reasoning tokens a subset of completion tokens (OpenAI's convention), so
 * each is billed at its own price and removed from its parent. The exact sum is rounded up
 * once, to the next micro-unit. BigInt keeps large products exact.
 */
export function upstreamCostMicros(tokens: NativeTokens, price: EndpointPricing): Micros {
  const cached = BigInt(Math.min(tokens.cachedRead, tokens.prompt));
  const cacheWrite = BigInt(Math.min(tokens.cacheWrite, tokens.prompt - Number(cached)));
  const prompt = BigInt(tokens.prompt) - cached - cacheWrite;
  const reasoning = BigInt(Math.min(tokens.reasoning, tokens.completion));
  const completion = BigInt(tokens.completion) - reasoning;
  const numerator =
    prompt * BigInt(price.promptPerM) +
    cached * BigInt(price.cachedReadPerM) +
    cacheWrite * BigInt(price.cacheWritePerM) +
    completion * BigInt(price.completionPerM) +
    reasoning * BigInt(price.reasoningPerM);
  const perTokens = (numerator + MILLION - 1n) / MILLION;
  return Number(perTokens + BigInt(price.perRequest));
}

/**
 * What one attempt cost us upstream: its tokens at the endpoint's prices. An attempt that
 * consumed nothing (an upstream error before any output) costs nothing, not even the
 * per-request price: upstreams do not bill failed requests.
 */
export function attemptCostMicros(tokens: NativeTokens, price: EndpointPricing): Micros {
  const consumed =
    tokens.prompt + tokens.completion + tokens.cachedRead + tokens.cacheWrite + tokens.reasoning;
  return consumed === 0 ? 0 : upstreamCostMicros(tokens, price);
}

/** Micro-units as a decimal currency amount string, exactly (no binary float). */
export function formatMicros(micros: Micros): string {
  const sign = micros < 0 ? '-' : '';
  const abs = Math.abs(micros);
  const whole = Math.floor(abs / 1_000_000);
  const frac = String(abs % 1_000_000).padStart(6, '0');
  return `${sign}${whole}.${frac}`;
}

/** Dollars per million tokens (as written in catalogs) to integer micro-units per million. */
export function perMillionFromDecimal(dollars: string): Micros {
  const m = /^(\d+)(?:\.(\d{1,6}))?$/.exec(dollars.trim());
  if (!m) throw new Error(`not a price: ${dollars}`);
  return Number(m[1]) * 1_000_000 + Number((m[2] ?? '').padEnd(6, '0'));
}

/**
 * Micro-units per million tokens as an exact decimal string of currency per token (OpenRouter's
 * `pricing` fields): 150_000 (= $0.15 per million) -> "0.00000015".
 */
export function perTokenDecimal(perM: Micros): string {
  if (perM === 0) return '0';
  const digits = String(perM).padStart(13, '0');
  const whole = digits.slice(0, -12);
  const frac = digits.slice(-12).replace(/0+$/, '');
  return frac ? `${whole}.${frac}` : whole;
}

/**
 * The upstream cost and the charged price of one generation, in integer micro-units. Errors and
 * empty completions are free to the tenant (the upstream cost is still reported: we may owe
 * it); an aborted stream pays for what was produced.
 */
export function priceGeneration(
  tokens: NativeTokens,
  price: EndpointPricing,
  markup: Markup,
  succeeded: boolean,
): { upstreamMicros: Micros; chargedMicros: Micros } {
  const upstreamMicros = upstreamCostMicros(tokens, price);
  return {
    upstreamMicros,
    chargedMicros: chargeMicros(upstreamMicros, markup, succeeded && tokens.completion > 0),
  };
}

/** What the tenant pays for from one attempt of a generation, and where its prices come from. */
export interface BilledPart {
  /** The tokens billed: the first serving attempt's prompt, and the completion it delivered. */
  tokens: NativeTokens;
  price: EndpointPricing;
  markup: Markup;
  /** The first serving attempt: it alone pays the per-request price and the fixed fee. */
  first: boolean;
}

/**
 * The upstream cost and the charge of a generation served by one or more attempts (an answer
 * cut mid-stream and resumed by a continuation), in integer micro-units: each part's billed
 * tokens at its own endpoint's prices (rounded up once per part), its own markup's percentage,
 * and the per-request price and fixed fee once, on the first part. For a single part this is
 * exactly {@link priceGeneration}. `chargeable` false (an error, an empty completion): nothing is
 * charged, the upstream cost is still reported.
 */
export function priceParts(
  parts: readonly BilledPart[],
  chargeable: boolean,
): {
  parts: Array<{ upstreamMicros: Micros; chargedMicros: Micros }>;
  upstreamMicros: Micros;
  chargedMicros: Micros;
} {
  const priced = parts.map((p) => {
    const price = p.first ? p.price : { ...p.price, perRequest: 0 };
    const upstreamMicros = upstreamCostMicros(p.tokens, price);
    const markup = p.first ? p.markup : { ...p.markup, fixedMicros: 0 };
    return { upstreamMicros, chargedMicros: chargeable ? applyMarkup(upstreamMicros, markup) : 0 };
  });
  return {
    parts: priced,
    upstreamMicros: priced.reduce((a, p) => a + p.upstreamMicros, 0),
    chargedMicros: priced.reduce((a, p) => a + p.chargedMicros, 0),
  };
}
