import type { EndpointPricing, Micros } from '@turnpike/contracts';
import { applyMarkup, type Markup } from './markup.js';

const MILLION = 1_000_000n;

/** The most output tokens a request may produce on an endpoint (all choices). */
export function maxOutputTokens(
  body: Record<string, unknown>,
  endpoint: { maxOutputTokens: number | null; contextLength: number },
): number {
  const asked = [body['max_completion_tokens'], body['max_tokens']].find(
    (v): v is number => typeof v === 'number' && Number.isInteger(v) && v > 0,
  );
  const cap = endpoint.maxOutputTokens ?? endpoint.contextLength;
  const perChoice = asked === undefined ? cap : Math.min(asked, cap);
  const n =
    typeof body['n'] === 'number' && Number.isInteger(body['n']) && body['n'] > 1 ? body['n'] : 1;
  return perChoice * n;
}

/**
 * The most a generation can cost upstream: every prompt token at the dearest prompt price
 * (plain, cache write) and every output token at the dearest output price (completion,
 * reasoning), rounded up, plus the per-request price.
 */
export function worstCaseUpstreamMicros(
  promptTokens: number,
  outputTokens: number,
  price: EndpointPricing,
): Micros {
  const promptPerM = Math.max(price.promptPerM, price.cacheWritePerM, price.cachedReadPerM);
  const outputPerM = Math.max(price.completionPerM, price.reasoningPerM);
  const numerator =
    BigInt(promptTokens) * BigInt(promptPerM) + BigInt(outputTokens) * BigInt(outputPerM);
  return Number((numerator + MILLION - 1n) / MILLION + BigInt(price.perRequest));
}

/**
 * The most the tenant can be charged for a request on an endpoint, markup included.
 * `promptTokens` is a high estimate of the prompt (`estimatePrompt(body).high`, libs/providers).
 */
export function worstCaseChargeMicros(
  body: Record<string, unknown>,
  endpoint: { pricing: EndpointPricing; maxOutputTokens: number | null; contextLength: number },
  markup: Markup,
  promptTokens: number,
): Micros {
  return applyMarkup(
    worstCaseUpstreamMicros(promptTokens, maxOutputTokens(body, endpoint), endpoint.pricing),
    markup,
  );
}
