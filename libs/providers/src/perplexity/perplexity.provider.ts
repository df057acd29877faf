/**
 * Perplexity (https://api.perplexity.ai): Sonar models answer from a live web search, through
 * OpenAI's chat completions at `/chat/completions` (no version path).
 *
 * Sources:
 * - Chat completions, https://docs.perplexity.ai/api-reference/chat-completions-post:
 *   `max_tokens`, `temperature`, `top_p`, `top_k`, `presence_penalty`, `frequency_penalty`,
 *   `response_format` (`json_schema`, `regex`; no `json_object`), search controls
 *   (`search_mode`, `search_domain_filter`, `search_recency_filter`, `return_images`,
 *   `return_related_questions`, `web_search_options`), which pass through as they are. No tools
 *   and no `tool_choice`, `n`, `seed`, `stop` or `logit_bias`.
 * - The answer carries `citations` and `search_results` beside `choices` (every chunk of a
 *   stream repeats them); they are kept. Usage adds `citation_tokens` and
 *   `num_search_queries`.
 * - Reasoning models (sonar-reasoning*) write their thinking inline in `<think>` tags, so no
 *   reasoning output is declared.
 */
import type { ParamMap } from '../core/param-map.js';
import {
  OpenAICompatibleAdapter,
  passThrough,
} from '../openai-compatible/openai-compatible.adapter.js';
import {
  COMPATIBLE_CAPABILITIES,
  JSON_SCHEMA_ONLY,
  MAX_TOKENS,
} from '../openai-compatible/family-params.js';

export const PERPLEXITY_PARAMS: ParamMap = [
  MAX_TOKENS,
  ...passThrough(
    'temperature',
    'top_p',
    'top_k',
    'presence_penalty',
    'frequency_penalty',
    'web_search_options',
  ),
  // json_schema only (no json_object).
  JSON_SCHEMA_ONLY,
];

export const perplexityProvider = new OpenAICompatibleAdapter({
  kind: 'perplexity',
  defaultBaseUrl: 'https://api.perplexity.ai',
  capabilities: {
    ...COMPATIBLE_CAPABILITIES,
    tools: false,
    toolChoice: false,
    parallelToolCalls: false,
    jsonMode: false,
    multipleChoices: false,
  },
  params: PERPLEXITY_PARAMS,
});
