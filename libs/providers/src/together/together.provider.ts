/**
 * Together AI (https://api.together.xyz/v1): OpenAI's chat completions plus open-model sampling.
 *
 * Sources:
 * - Chat completions reference, https://docs.together.ai/reference/chat-completions-1:
 *   `top_k`, `repetition_penalty`, `min_p`, `logprobs` (an integer), `n`, `seed`,
 *   `response_format` (`json_object`, `json_schema`), tools and `tool_choice`,
 *   `reasoning_effort`, and `reasoning: {enabled}` for hybrid reasoning models.
 * - Reasoning, https://docs.together.ai/docs/reasoning-models-guide: the thinking is returned
 *   in `message.reasoning` (`delta.reasoning` when streaming).
 * - Errors, https://docs.together.ai/docs/error-codes: OpenAI's `{error: {message, type, code}}`.
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

export const TOGETHER_PARAMS: ParamMap = [
  MAX_TOKENS,
  ...SAMPLING,
  ...TOOLS,
  RESPONSE_FORMAT,
  ...passThrough('top_k', 'repetition_penalty', 'min_p', 'n', 'logit_bias', 'user'),
  // Together's `logprobs` is the number of top tokens; OpenAI's is a flag and `top_logprobs`.
  {
    name: 'logprobs',
    also: ['top_logprobs'],
    to: 'logprobs',
    read: (ctx) =>
      ctx.body['logprobs'] === true
        ? typeof ctx.body['top_logprobs'] === 'number'
          ? Math.max(1, ctx.body['top_logprobs'])
          : 1
        : undefined,
  },
  reasoningParam((target, r) => {
    target['reasoning'] = { enabled: r.enabled };
    if (r.enabled && r.effort) target['reasoning_effort'] = effortOf(r);
  }),
];

export const togetherProvider = new OpenAICompatibleAdapter({
  kind: 'together',
  defaultBaseUrl: 'https://api.together.xyz/v1',
  capabilities: { ...COMPATIBLE_CAPABILITIES, reasoning: true },
  params: TOGETHER_PARAMS,
  reasoningFormat: 'together',
});
