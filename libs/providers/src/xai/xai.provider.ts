/**
 * xAI (https://api.x.ai/v1): OpenAI's chat completions with these differences.
 *
 * Sources:
 * - Reasoning, https://docs.x.ai/docs/guides/reasoning: `presencePenalty`, `frequencyPenalty`
 *   and `stop` are not supported by reasoning models ("adding them in the request would result
 *   in an error"); only grok-3-mini returns `message.reasoning_content`; `reasoning_effort`
 *   (`low|high`) is refused by grok-3, grok-4 and grok-4-fast-reasoning; usage reports
 *   `completion_tokens_details.reasoning_tokens`.
 * - Chat completions reference, https://docs.x.ai/docs/api-reference#chat-completions: `n`,
 *   `seed`, `logprobs`/`top_logprobs`, tools, `tool_choice`, `parallel_tool_calls`,
 *   `response_format` (`json_object`, `json_schema`), image inputs.
 */
import type { ParamMap, ParamSpec } from '../core/param-map.js';
import {
  OpenAICompatibleAdapter,
  passThrough,
} from '../openai-compatible/openai-compatible.adapter.js';
import {
  COMPATIBLE_CAPABILITIES,
  MAX_TOKENS,
  reasoningParam,
  RESPONSE_FORMAT,
  TOOLS,
} from '../openai-compatible/family-params.js';

/** Models that always reason (and refuse penalties and stop sequences). */
export const isXaiReasoningModel = (model: string): boolean =>
  /grok-3-mini|grok-4/.test(model) && !/non-reasoning/.test(model);

/** Models that refuse `reasoning_effort` (they reason, or not, by model). */
const rejectsEffort = (model: string): boolean => /grok-(?:3(?!-mini)|4(?!\.3)|code)/.test(model);

/** A parameter reasoning models refuse: dropped for them, passed to the others. */
const notForReasoning = (name: string): ParamSpec => ({
  name,
  to: name,
  transform: (v, ctx) => (isXaiReasoningModel(ctx.upstreamModel) ? undefined : v),
});

export const XAI_PARAMS: ParamMap = [
  MAX_TOKENS,
  ...passThrough('temperature', 'top_p', 'seed', 'n', 'logprobs', 'top_logprobs', 'user'),
  notForReasoning('presence_penalty'),
  notForReasoning('frequency_penalty'),
  notForReasoning('stop'),
  ...TOOLS,
  RESPONSE_FORMAT,
  reasoningParam((target, r, ctx) => {
    if (!r.enabled || rejectsEffort(ctx.upstreamModel)) return;
    target['reasoning_effort'] = r.effort === 'high' || r.effort === 'medium' ? 'high' : 'low';
  }),
];

export const xaiProvider = new OpenAICompatibleAdapter({
  kind: 'xai',
  defaultBaseUrl: 'https://api.x.ai/v1',
  capabilities: { ...COMPATIBLE_CAPABILITIES, reasoning: true },
  params: XAI_PARAMS,
  reasoningFormat: 'xai',
});
