import type { ParamMap } from '../core/param-map.js';
import {
  OpenAICompatibleAdapter,
  passThrough,
} from '../openai-compatible/openai-compatible.adapter.js';

/**
 * The parameters OpenAI-compatible servers commonly take (vLLM, SGLang, TGI and the hosted
 * providers built on them, which document "OpenAI-compatible" chat completions): the core of
 * OpenAI's chat request, without OpenAI's own features (`service_tier`, `prediction`, audio,
 * web search, `verbosity`, `reasoning_effort`) and without `n` > 1.
 */
export const OPENAI_COMPATIBLE_HOST_PARAMS: ParamMap = [
  ...passThrough(
    'max_tokens',
    'max_completion_tokens',
    'temperature',
    'top_p',
    'stop',
    'presence_penalty',
    'frequency_penalty',
    'seed',
    'tools',
    'tool_choice',
    'parallel_tool_calls',
    'logprobs',
    'top_logprobs',
    'user',
  ),
  { name: 'response_format', to: 'response_format', also: ['structured_outputs'] },
];

/**
 * `openai-compatible`: a host that speaks OpenAI's chat completions and declares no quirks of
 * its own (the catalog's Chutes, DeepInfra, Hugging Face, Moonshot AI, Z.AI, ...). It has no
 * public default: each account names its base URL (the provider's, e.g.
 * `https://llm.chutes.ai/v1`). A host with quirks gets a kind of its own instead.
 */
export const openaiCompatibleHostProvider = new OpenAICompatibleAdapter({
  kind: 'openai-compatible',
  defaultBaseUrl: '',
  capabilities: {
    streaming: true,
    streamUsage: true,
    systemPrompt: true,
    tools: true,
    toolChoice: true,
    parallelToolCalls: true,
    jsonMode: true,
    jsonSchema: true,
    vision: true,
    reasoning: false,
    prefill: false,
    multipleChoices: false,
    promptCaching: false,
  },
  params: OPENAI_COMPATIBLE_HOST_PARAMS,
});
