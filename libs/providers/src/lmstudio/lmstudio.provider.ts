/**
 * LM Studio's OpenAI-compatible server (http://localhost:1234/v1; no authentication by default).
 *
 * Sources:
 * - OpenAI compatibility endpoints, https://lmstudio.ai/docs/app/api/endpoints/openai:
 *   supported payload parameters `model`, `top_p`, `top_k`, `messages`, `temperature`,
 *   `max_tokens`, `stream`, `stop`, `presence_penalty`, `frequency_penalty`, `logit_bias`,
 *   `repeat_penalty` (its name for a repetition penalty), `seed`; tools and `tool_choice`.
 * - Structured output, https://lmstudio.ai/docs/app/api/structured-output: `response_format`
 *   `json_schema` only.
 * - Reasoning models return their thinking in `reasoning_content` (when the server separates
 *   it); `reasoning_effort` for gpt-oss.
 */
import type { ParamMap } from '../core/param-map.js';
import {
  OpenAICompatibleAdapter,
  passThrough,
} from '../openai-compatible/openai-compatible.adapter.js';
import {
  COMPATIBLE_CAPABILITIES,
  JSON_SCHEMA_ONLY,
  effortOf,
  MAX_TOKENS,
  reasoningParam,
  SAMPLING,
} from '../openai-compatible/family-params.js';

export const LMSTUDIO_PARAMS: ParamMap = [
  MAX_TOKENS,
  ...SAMPLING,
  ...passThrough('top_k', 'logit_bias', 'tools', 'tool_choice'),
  // OpenRouter's `repetition_penalty` is LM Studio's `repeat_penalty`.
  { name: 'repetition_penalty', to: 'repeat_penalty' },
  // json_schema only (no json_object).
  JSON_SCHEMA_ONLY,
  reasoningParam((target, r) => {
    if (r.enabled) target['reasoning_effort'] = effortOf(r);
  }),
];

export const lmstudioProvider = new OpenAICompatibleAdapter({
  kind: 'lmstudio',
  defaultBaseUrl: 'http://localhost:1234/v1',
  capabilities: {
    ...COMPATIBLE_CAPABILITIES,
    jsonMode: false,
    reasoning: true,
    multipleChoices: false,
  },
  params: LMSTUDIO_PARAMS,
  reasoningFormat: 'unknown',
});
