import type { NativeTokens } from '@turnpike/contracts';
import { count, isObj, type Json } from './json.js';

/**
 * Normalised usage: the same meaning for every provider, OpenAI's convention, which pricing
 * (`libs/pricing`) relies on:
 * - `prompt` counts EVERY input token, cached reads and cache writes included;
 * - `cachedRead` and `cacheWrite` are the parts of `prompt` read from / written to a cache;
 * - `completion` counts every output token, reasoning included; `reasoning` is its thinking part.
 * Each provider's own fields are converted by one function here, so a provider folder never
 * does this arithmetic itself.
 */

/** OpenAI (and the compatible family): `prompt_tokens` already includes cached tokens. */
export function fromOpenAIUsage(usage: Json): NativeTokens {
  const p = isObj(usage['prompt_tokens_details']) ? usage['prompt_tokens_details'] : {};
  const c = isObj(usage['completion_tokens_details']) ? usage['completion_tokens_details'] : {};
  // DeepSeek reports cache hits at the top level (`prompt_cache_hit_tokens`).
  const cached = count(p['cached_tokens']) || count(usage['prompt_cache_hit_tokens']);
  return {
    prompt: count(usage['prompt_tokens']),
    completion: count(usage['completion_tokens']),
    cachedRead: cached,
    cacheWrite: count(p['cache_write_tokens']),
    reasoning: count(c['reasoning_tokens']),
  };
}

/**
 * Anthropic: `input_tokens` EXCLUDES cache reads and writes, which come in
 * `cache_read_input_tokens` and `cache_creation_input_tokens`; `output_tokens` includes thinking
 * (Anthropic does not split it out, so `reasoning` is what the caller counted, bounded).
 */
export function fromAnthropicUsage(
  usage: {
    input_tokens?: unknown;
    output_tokens?: unknown;
    cache_read_input_tokens?: unknown;
    cache_creation_input_tokens?: unknown;
  },
  reasoningEstimate = 0,
): NativeTokens {
  const input = count(usage.input_tokens);
  const read = count(usage.cache_read_input_tokens);
  const write = count(usage.cache_creation_input_tokens);
  const output = count(usage.output_tokens);
  return {
    prompt: input + read + write,
    completion: output,
    cachedRead: read,
    cacheWrite: write,
    reasoning: Math.min(reasoningEstimate, output),
  };
}

/**
 * Gemini: `promptTokenCount` includes `cachedContentTokenCount`; `candidatesTokenCount` EXCLUDES
 * `thoughtsTokenCount` (thinking is billed as output). Tool-use prompt tokens are input too.
 */
export function fromGeminiUsage(u: Json): NativeTokens {
  const thoughts = count(u['thoughtsTokenCount']);
  return {
    prompt: count(u['promptTokenCount']) + count(u['toolUsePromptTokenCount']),
    completion: count(u['candidatesTokenCount']) + thoughts,
    cachedRead: count(u['cachedContentTokenCount']),
    cacheWrite: 0,
    reasoning: thoughts,
  };
}

/**
 * Bedrock Converse: `inputTokens` EXCLUDES `cacheReadInputTokens` and `cacheWriteInputTokens`
 * (like Anthropic's API); `outputTokens` is every output token.
 */
export function fromBedrockUsage(u: Json, reasoningEstimate = 0): NativeTokens {
  const read = count(u['cacheReadInputTokens']);
  const write = count(u['cacheWriteInputTokens']);
  const output = count(u['outputTokens']);
  return {
    prompt: count(u['inputTokens']) + read + write,
    completion: output,
    cachedRead: read,
    cacheWrite: write,
    reasoning: Math.min(reasoningEstimate, output),
  };
}

/** Cohere v2: `usage.tokens.{input,output}_tokens` (billed units in `billed_units`). */
export function fromCohereUsage(usage: Json): NativeTokens {
  const t = isObj(usage['tokens']) ? usage['tokens'] : {};
  const b = isObj(usage['billed_units']) ? usage['billed_units'] : {};
  return {
    prompt: count(t['input_tokens']) || count(b['input_tokens']),
    completion: count(t['output_tokens']) || count(b['output_tokens']),
    cachedRead: count(usage['cached_tokens']),
    cacheWrite: 0,
    reasoning: 0,
  };
}

/** OpenAI's `usage` object for normalised tokens (what every decoder emits). */
export function openAIUsageOf(t: NativeTokens): Json {
  return {
    prompt_tokens: t.prompt,
    completion_tokens: t.completion,
    total_tokens: t.prompt + t.completion,
    prompt_tokens_details: { cached_tokens: t.cachedRead, cache_write_tokens: t.cacheWrite },
    completion_tokens_details: { reasoning_tokens: t.reasoning },
  };
}
