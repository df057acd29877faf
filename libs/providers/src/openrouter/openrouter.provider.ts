/**
 * OpenRouter as an upstream (https://openrouter.ai/api/v1): OpenAI's chat completions with
 * OpenRouter's extensions, which our own API speaks too.
 *
 * Sources:
 * - API reference, https://openrouter.ai/docs/api-reference/overview: the request schema
 *   (`reasoning`, `usage`, `transforms`, `models`, `route`, `provider`, `plugins`), responses
 *   with `message.reasoning` and `reasoning_details`, in-stream errors as a chunk with an
 *   `error` object whose numeric `code` is an HTTP status, `: OPENROUTER PROCESSING` comments.
 * - Parameters, https://openrouter.ai/docs/api-reference/parameters: OpenAI's sampling plus
 *   `top_k`, `repetition_penalty`, `min_p`, `top_a`.
 * - Provider routing, https://openrouter.ai/docs/features/provider-routing; usage accounting,
 *   https://openrouter.ai/docs/use-cases/usage-accounting (`usage: {include: true}` adds the
 *   cost; cached tokens in `prompt_tokens_details.cached_tokens`).
 *
 * Which routing fields reach OpenRouter (our decision):
 * - never `models`, `route`: the catalog endpoint already chose the upstream model, and the
 *   price the tenant pays is that model's; OpenRouter must not switch to another one;
 * - `provider`: only the preferences that name no provider (`data_collection`, `zdr`, `sort`,
 *   `quantizations`, `max_price`, `require_parameters`, `allow_fallbacks`). `order`, `only` and
 *   `ignore` name OUR catalog's providers, not OpenRouter's, so they are not passed;
 * - `transforms` (e.g. `middle-out`): passed, OpenRouter applies them;
 * - `plugins` (web search and the like): not passed, they bill our account for tools the
 *   tenant's price does not cover;
 * - `usage: {include: true}`: always sent, so every answer reports usage and cost.
 */
import { isObj, type Json } from '../core/json.js';
import type { ParamMap } from '../core/param-map.js';
import { OPENAI_PARAMS } from '../openai/openai.provider.js';
import {
  OpenAICompatibleAdapter,
  omitParams,
  passThrough,
} from '../openai-compatible/openai-compatible.adapter.js';
import { COMPATIBLE_CAPABILITIES } from '../openai-compatible/family-params.js';

/** `provider` preferences that name no provider, and so mean the same thing to OpenRouter. */
export const OPENROUTER_PROVIDER_PREFERENCES: readonly string[] = [
  'data_collection',
  'zdr',
  'sort',
  'quantizations',
  'max_price',
  'require_parameters',
  'allow_fallbacks',
];

export const OPENROUTER_PARAMS: ParamMap = [
  ...omitParams(OPENAI_PARAMS, 'reasoning'),
  ...passThrough('top_k', 'repetition_penalty', 'min_p', 'top_a', 'include_reasoning'),
  // OpenRouter's own `reasoning` object, unchanged.
  { name: 'reasoning', to: 'reasoning' },
];

export const openrouterProvider = new OpenAICompatibleAdapter({
  kind: 'openrouter',
  defaultBaseUrl: 'https://openrouter.ai/api/v1',
  capabilities: { ...COMPATIBLE_CAPABILITIES, reasoning: true, multipleChoices: false },
  params: OPENROUTER_PARAMS,
  reasoningFormat: 'unknown',
  finishBody: (payload: Json, call) => {
    const provider = call.body['provider'];
    if (isObj(provider)) {
      const kept = Object.fromEntries(
        Object.entries(provider).filter(([k]) => OPENROUTER_PROVIDER_PREFERENCES.includes(k)),
      );
      if (Object.keys(kept).length > 0) payload['provider'] = kept;
    }
    if (Array.isArray(call.body['transforms'])) payload['transforms'] = call.body['transforms'];
    payload['usage'] = { include: true };
  },
});
