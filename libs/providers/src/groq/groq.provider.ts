/**
 * Groq (https://api.groq.com/openai/v1): OpenAI's chat completions with these differences.
 *
 * Sources:
 * - OpenAI compatibility, https://console.groq.com/docs/openai: `logprobs`, `logit_bias`,
 *   `top_logprobs` and `messages[].name` are refused with a 400; `n` must be 1; a temperature of
 *   0 is converted to 1e-8.
 * - Reasoning, https://console.groq.com/docs/reasoning: `reasoning_format` (`parsed` puts the
 *   thinking in `message.reasoning`, `raw` inline in `<think>` tags, `hidden` drops it),
 *   `include_reasoning`, and `reasoning_effort` (`low|medium|high` for gpt-oss, `none|default`
 *   for Qwen 3).
 * - Streaming usage arrives in the last chunk's `x_groq.usage` (https://console.groq.com/docs/api-reference#chat-create).
 * - Prefill: Groq continues a trailing assistant message, but the wire does not mark it, so a
 *   gateway cannot tell a continuation from an answer; `prefill` stays false.
 */
import { isObj, type Json } from '../core/json.js';
import type { ParamMap } from '../core/param-map.js';
import {
  OpenAICompatibleAdapter,
  passThrough,
} from '../openai-compatible/openai-compatible.adapter.js';
import {
  COMPATIBLE_CAPABILITIES,
  MAX_TOKENS,
  reasoningParam,
  RESPONSE_FORMAT,
  SAMPLING,
  TOOLS,
} from '../openai-compatible/family-params.js';

export const GROQ_PARAMS: ParamMap = [
  MAX_TOKENS,
  ...SAMPLING,
  ...TOOLS,
  RESPONSE_FORMAT,
  ...passThrough('user', 'service_tier'),
  reasoningParam((target, r) => {
    if (!r.enabled) {
      target['reasoning_effort'] = 'none';
      return;
    }
    // `parsed` returns the thinking as `message.reasoning` (`delta.reasoning`); `hidden` thinks
    // without returning it.
    target['reasoning_format'] = r.exclude ? 'hidden' : 'parsed';
    if (r.effort) target['reasoning_effort'] = r.effort === 'minimal' ? 'low' : r.effort;
  }),
];

export const groqProvider = new OpenAICompatibleAdapter({
  kind: 'groq',
  defaultBaseUrl: 'https://api.groq.com/openai/v1',
  capabilities: { ...COMPATIBLE_CAPABILITIES, reasoning: true, multipleChoices: false },
  params: GROQ_PARAMS,
  reasoningFormat: 'groq',
  streamUsageOf: (chunk: Json) => {
    const x = chunk['x_groq'];
    return isObj(x) && isObj(x['usage']) ? x['usage'] : undefined;
  },
  finishBody: (payload) => {
    // `messages[].name` is refused with a 400.
    if (Array.isArray(payload['messages']))
      for (const m of payload['messages']) if (isObj(m)) delete m['name'];
  },
});
