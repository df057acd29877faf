import type { EndpointPricing, Micros } from '@turnpike/contracts';
import { applyMarkup, type Markup } from './markup.js';

const MILLION = 1_000_000n;

/**
 * An upper estimate of a request's prompt tokens, without a tokenizer: one token per three
 * UTF-8 bytes of the JSON of its messages and tools. Real tokenizers give about one token per
 * four characters of English; three bytes also covers scripts whose characters are one token
 * each (CJK: three bytes per character).
 */
export function estimatePromptTokens(body: Record<string, unknown>): number {
  const parts: unknown[] = [body['messages'] ?? []];
  if (body['tools'] !== undefined) parts.push(body['tools']);
  if (body['response_format'] !== undefined) parts.push(body['response_format']);
  return Math.ceil(Buffer.byteLength(JSON.stringify(parts)) / 3);
}

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

/** The most the tenant can be charged for a request on an endpoint, markup included. */
export function worstCaseChargeMicros(
  body: Record<string, unknown>,
  endpoint: { pricing: EndpointPricing; maxOutputTokens: number | null; contextLength: number },
  markup: Markup,
  promptTokens: number = estimatePromptTokens(body),
): Micros {
  return applyMarkup(
    worstCaseUpstreamMicros(promptTokens, maxOutputTokens(body, endpoint), endpoint.pricing),
    markup,
  );
}
