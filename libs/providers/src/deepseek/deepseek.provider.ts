/**
 * DeepSeek (https://api.deepseek.com): OpenAI's chat completions with these differences.
 *
 * Sources:
 * - Create chat completion, https://api-docs.deepseek.com/api/create-chat-completion:
 *   `max_tokens`, `temperature`, `top_p`, `stop`, `presence_penalty`, `frequency_penalty`,
 *   `logprobs`/`top_logprobs`, tools and `tool_choice`, `response_format` `json_object` only
 *   (no json_schema), `stream_options.include_usage`; no `n`, `seed` or `logit_bias`. Finish
 *   reason `insufficient_system_resource` (the generation was interrupted).
 * - Thinking mode, https://api-docs.deepseek.com/guides/thinking_mode: `thinking: {type:
 *   enabled|disabled}` and `reasoning_effort: high|max` (low and medium mean high, xhigh max);
 *   the thinking comes back in `reasoning_content`, which must be sent back on the assistant
 *   turns of a tool-call exchange.
 * - Context caching, https://api-docs.deepseek.com/guides/kv_cache: usage
 *   `prompt_cache_hit_tokens` + `prompt_cache_miss_tokens` = `prompt_tokens`.
 * - Chat prefix completion (beta), https://api-docs.deepseek.com/guides/chat_prefix_completion:
 *   the last message is an assistant message with `prefix: true`, sent to the beta base URL
 *   `https://api.deepseek.com/beta`: our prefill.
 */
import type { ProviderConnection } from '@turnpike/contracts';
import type { GenerationCall } from '../core/adapter.js';
import { isObj, type Json } from '../core/json.js';
import type { ParamMap } from '../core/param-map.js';
import { prefillOf, readChatRequest } from '../core/request-model.js';
import {
  OpenAICompatibleAdapter,
  passThrough,
  trailingAssistant,
} from '../openai-compatible/openai-compatible.adapter.js';
import {
  COMPATIBLE_CAPABILITIES,
  JSON_OBJECT_ONLY,
  MAX_TOKENS,
  reasoningParam,
  SAMPLING,
} from '../openai-compatible/family-params.js';

export const DEEPSEEK_PARAMS: ParamMap = [
  MAX_TOKENS,
  ...SAMPLING.filter((s) => s.name !== 'seed'),
  ...passThrough('tools', 'tool_choice', 'logprobs', 'top_logprobs'),
  JSON_OBJECT_ONLY,
  reasoningParam((target, r) => {
    target['thinking'] = { type: r.enabled ? 'enabled' : 'disabled' };
    // DeepSeek's efforts are high and max; every lower effort means high.
    if (r.enabled && r.effort) target['reasoning_effort'] = 'high';
  }),
];

/** Earlier assistant turns carry their thinking back as `reasoning_content`. */
function reasoningBack(messages: unknown[]): void {
  for (const m of messages) {
    if (!isObj(m) || m['role'] !== 'assistant') continue;
    let text = typeof m['reasoning'] === 'string' ? m['reasoning'] : '';
    if (!text && Array.isArray(m['reasoning_details']))
      text = m['reasoning_details']
        .map((d) => (isObj(d) && typeof d['text'] === 'string' ? d['text'] : ''))
        .join('');
    delete m['reasoning'];
    delete m['reasoning_details'];
    if (text) m['reasoning_content'] = text;
  }
}

const hasPrefill = (call: GenerationCall): boolean =>
  prefillOf(readChatRequest(call.body)) !== undefined;

export const deepseekProvider = new OpenAICompatibleAdapter({
  kind: 'deepseek',
  defaultBaseUrl: 'https://api.deepseek.com',
  capabilities: {
    ...COMPATIBLE_CAPABILITIES,
    jsonSchema: false,
    vision: false,
    reasoning: true,
    prefill: true,
    multipleChoices: false,
  },
  params: DEEPSEEK_PARAMS,
  reasoningFormat: 'deepseek',
  finishReasons: { insufficient_system_resource: 'error' },
  url: (connection: ProviderConnection, call: GenerationCall) => {
    const base = connection.baseUrl.replace(/\/+$/, '');
    // Prefix completion is a beta feature, served under `/beta` instead of the version path.
    return hasPrefill(call)
      ? `${base.replace(/\/v1$/, '')}/beta/chat/completions`
      : `${base}/chat/completions`;
  },
  finishBody: (payload: Json) => {
    if (Array.isArray(payload['messages'])) reasoningBack(payload['messages']);
    const prefill = trailingAssistant(payload);
    if (prefill) prefill['prefix'] = true;
  },
});
