import { OpenAICompatibleAdapter } from '../openai-compatible/openai-compatible.adapter.js';
import type { ProviderCapabilities } from '../provider.js';

/** OpenAI's chat completions parameters (the `supported_parameters` of its endpoints). */
export const OPENAI_PARAMETERS = [
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
  'response_format',
  'structured_outputs',
  'user',
  'metadata',
  'reasoning_effort',
  'service_tier',
  'store',
  'modalities',
  'audio',
  'prediction',
  'web_search_options',
] as const;

export const OPENAI_CAPABILITIES: ProviderCapabilities = {
  streaming: true,
  streamUsage: true,
  tools: true,
  toolChoice: true,
  parallelToolCalls: true,
  jsonMode: true,
  jsonSchema: true,
  vision: true,
  parameters: OPENAI_PARAMETERS,
};

/** OpenAI itself: the OpenAI-compatible base with OpenAI's capabilities. */
export const openaiProvider = new OpenAICompatibleAdapter({
  kind: 'openai',
  capabilities: OPENAI_CAPABILITIES,
});
