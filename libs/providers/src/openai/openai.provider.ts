import type { ParamMap } from '../core/param-map.js';
import {
  OpenAICompatibleAdapter,
  passThrough,
} from '../openai-compatible/openai-compatible.adapter.js';
import { COMPATIBLE_CAPABILITIES } from '../openai-compatible/family-params.js';

/** OpenAI's chat completions parameters: all passed through as they are. */
export const OPENAI_PARAMS: ParamMap = [
  ...passThrough(
    'max_tokens',
    'max_completion_tokens',
    'temperature',
    'top_p',
    'n',
    'stop',
    'presence_penalty',
    'frequency_penalty',
    'logit_bias',
    'logprobs',
    'top_logprobs',
    'seed',
    'tools',
    'tool_choice',
    'parallel_tool_calls',
    'reasoning_effort',
    'service_tier',
    'modalities',
    'audio',
    'prediction',
    'web_search_options',
    'verbosity',
  ),
  { name: 'response_format', to: 'response_format', also: ['structured_outputs'] },
  // OpenRouter's `reasoning: {effort}` is OpenAI's `reasoning_effort`.
  {
    name: 'reasoning',
    apply: (target, value) => {
      const effort = (value as { effort?: unknown }).effort;
      if (typeof effort === 'string' && target['reasoning_effort'] === undefined)
        target['reasoning_effort'] = effort === 'xhigh' ? 'high' : effort;
    },
  },
  // Legacy request fields still sent by some clients: `user` and `metadata`, `store`.
  ...passThrough('user', 'metadata', 'store'),
];

/** OpenAI itself. */
export const openaiProvider = new OpenAICompatibleAdapter({
  kind: 'openai',
  defaultBaseUrl: 'https://api.openai.com/v1',
  capabilities: COMPATIBLE_CAPABILITIES,
  params: OPENAI_PARAMS,
});
