/**
 * vLLM's OpenAI-compatible server (http://localhost:8000/v1 by default; a bearer key only when
 * started with `--api-key`).
 *
 * Sources:
 * - OpenAI-compatible server, https://docs.vllm.ai/en/latest/serving/openai_compatible_server.html:
 *   OpenAI's chat parameters plus the extra sampling parameters `top_k`, `min_p`,
 *   `repetition_penalty`, structured outputs (`response_format` json_schema, `guided_json`),
 *   and `continue_final_message` (with `add_generation_prompt: false`) to continue a trailing
 *   assistant message: our prefill.
 * - Reasoning outputs, https://docs.vllm.ai/en/latest/features/reasoning_outputs.html: with a
 *   reasoning parser the thinking comes back in `reasoning_content`; thinking of hybrid models is
 *   switched by `chat_template_kwargs: {enable_thinking}`.
 */
import { isObj, type Json } from '../core/json.js';
import type { ParamMap } from '../core/param-map.js';
import {
  OpenAICompatibleAdapter,
  passThrough,
  trailingAssistant,
} from '../openai-compatible/openai-compatible.adapter.js';
import {
  COMPATIBLE_CAPABILITIES,
  MAX_TOKENS,
  reasoningParam,
  RESPONSE_FORMAT,
  SAMPLING,
  TOOLS,
} from '../openai-compatible/family-params.js';

export const VLLM_PARAMS: ParamMap = [
  MAX_TOKENS,
  ...SAMPLING,
  ...TOOLS,
  RESPONSE_FORMAT,
  ...passThrough(
    'n',
    'logprobs',
    'top_logprobs',
    'logit_bias',
    'top_k',
    'min_p',
    'repetition_penalty',
    'user',
  ),
  reasoningParam((target, r) => {
    const kwargs = isObj(target['chat_template_kwargs']) ? target['chat_template_kwargs'] : {};
    target['chat_template_kwargs'] = { ...kwargs, enable_thinking: r.enabled };
  }),
];

export const vllmProvider = new OpenAICompatibleAdapter({
  kind: 'vllm',
  defaultBaseUrl: 'http://localhost:8000/v1',
  capabilities: { ...COMPATIBLE_CAPABILITIES, reasoning: true, prefill: true },
  params: VLLM_PARAMS,
  reasoningFormat: 'unknown',
  finishBody: (payload: Json) => {
    if (!trailingAssistant(payload)) return;
    payload['continue_final_message'] = true;
    payload['add_generation_prompt'] = false;
  },
});
