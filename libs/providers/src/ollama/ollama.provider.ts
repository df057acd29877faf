/**
 * Ollama's OpenAI-compatible endpoint (http://localhost:11434/v1; no authentication: the key is
 * required by OpenAI's clients but ignored).
 *
 * Sources:
 * - OpenAI compatibility, https://docs.ollama.com/api/openai-compatibility: supported request
 *   fields of `/v1/chat/completions` are `model`, `messages` (text and image parts),
 *   `frequency_penalty`, `presence_penalty`, `response_format`, `seed`, `stop`, `stream`,
 *   `stream_options.include_usage` (a stream reports usage only when asked), `temperature`,
 *   `top_p`, `max_tokens`, `tools`, `tool_choice`, `reasoning_effort`, `reasoning.effort`,
 *   `logprobs`/`top_logprobs`. No `n`, `logit_bias`, `top_k` or `parallel_tool_calls`.
 * - Thinking models return their thinking in `message.reasoning` (`delta.reasoning`).
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
} from '../openai-compatible/family-params.js';

export const OLLAMA_PARAMS: ParamMap = [
  MAX_TOKENS,
  ...SAMPLING,
  ...passThrough('tools', 'tool_choice', 'logprobs', 'top_logprobs'),
  RESPONSE_FORMAT,
  reasoningParam((target, r) => {
    target['reasoning_effort'] = r.enabled ? effortOf(r) : 'none';
  }),
];

export const ollamaProvider = new OpenAICompatibleAdapter({
  kind: 'ollama',
  defaultBaseUrl: 'http://localhost:11434/v1',
  capabilities: { ...COMPATIBLE_CAPABILITIES, reasoning: true, multipleChoices: false },
  params: OLLAMA_PARAMS,
  reasoningFormat: 'unknown',
});
