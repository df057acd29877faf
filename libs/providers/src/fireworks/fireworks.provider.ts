/**
 * Fireworks AI (https://api.fireworks.ai/inference/v1): OpenAI's chat completions plus
 * open-model sampling.
 *
 * Sources:
 * - Chat completions reference, https://docs.fireworks.ai/api-reference/post-chatcompletions:
 *   `top_k`, `top_p`, `min_p`, `repetition_penalty`, `n`, `seed`, `logprobs`/`top_logprobs`,
 *   `response_format` (`json_object`, `json_schema`, `grammar`), tools and `tool_choice`,
 *   `reasoning_effort`.
 * - Reasoning, https://docs.fireworks.ai/guides/reasoning: the thinking is returned in
 *   `reasoning_content`; `reasoning_effort` takes `none|low|medium|high` (per model).
 */
import type { ParamMap } from '../core/param-map.js';
import {
  OpenAICompatibleAdapter,
  passThrough,
} from '../openai-compatible/openai-compatible.adapter.js';
import {
  COMPATIBLE_CAPABILITIES,
  effortOf,
  MAX_TOKENS,
  reasoningParam,
  RESPONSE_FORMAT,
  SAMPLING,
  TOOLS,
} from '../openai-compatible/family-params.js';

export const FIREWORKS_PARAMS: ParamMap = [
  MAX_TOKENS,
  ...SAMPLING,
  ...TOOLS,
  RESPONSE_FORMAT,
  ...passThrough(
    'top_k',
    'min_p',
    'repetition_penalty',
    'n',
    'logprobs',
    'top_logprobs',
    'logit_bias',
    'user',
  ),
  reasoningParam((target, r) => {
    target['reasoning_effort'] = r.enabled ? effortOf(r) : 'none';
  }),
];

export const fireworksProvider = new OpenAICompatibleAdapter({
  kind: 'fireworks',
  defaultBaseUrl: 'https://api.fireworks.ai/inference/v1',
  capabilities: { ...COMPATIBLE_CAPABILITIES, reasoning: true },
  params: FIREWORKS_PARAMS,
  reasoningFormat: 'fireworks',
});
