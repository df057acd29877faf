/**
 * Cerebras (https://api.cerebras.ai/v1): OpenAI's chat completions with these differences.
 *
 * Sources:
 * - OpenAI compatibility, https://inference-docs.cerebras.ai/resources/openai: unsupported
 *   fields (`frequency_penalty`, `logit_bias`, `presence_penalty`, `parallel_tool_calls`,
 *   `service_tier`) are refused with a 400; a `system` message acts at the developer level.
 * - Chat completions reference, https://inference-docs.cerebras.ai/api-reference/chat-completions:
 *   `max_completion_tokens`, `temperature`, `top_p`, `stop`, `seed`, `logprobs`/
 *   `top_logprobs`, tools with `tool_choice`, `response_format` (`json_object`, `json_schema`);
 *   `reasoning_effort` (gpt-oss) and `reasoning_format` (`parsed`: the thinking in
 *   `message.reasoning`; `hidden`).
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
} from '../openai-compatible/family-params.js';

export const CEREBRAS_PARAMS: ParamMap = [
  MAX_TOKENS,
  ...passThrough(
    'temperature',
    'top_p',
    'stop',
    'seed',
    'logprobs',
    'top_logprobs',
    'tools',
    'tool_choice',
    'user',
  ),
  RESPONSE_FORMAT,
  reasoningParam((target, r) => {
    if (!r.enabled) return;
    target['reasoning_format'] = r.exclude ? 'hidden' : 'parsed';
    if (r.effort) target['reasoning_effort'] = effortOf(r);
  }),
];

export const cerebrasProvider = new OpenAICompatibleAdapter({
  kind: 'cerebras',
  defaultBaseUrl: 'https://api.cerebras.ai/v1',
  capabilities: {
    ...COMPATIBLE_CAPABILITIES,
    parallelToolCalls: false,
    vision: false,
    reasoning: true,
    multipleChoices: false,
  },
  params: CEREBRAS_PARAMS,
  reasoningFormat: 'cerebras',
});
