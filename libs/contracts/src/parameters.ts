/**
 * The vocabulary of `supported_parameters`: OpenAI's chat request parameters plus the sampling
 * extensions OpenRouter routes on. Endpoints declare a subset; routing filters on it
 * (`provider.require_parameters`); each provider's parameter map names what it translates.
 * Other body fields (messages, stream, provider, unknown pass-through fields) say nothing about
 * what an endpoint must support.
 */
export const ROUTED_PARAMETERS: ReadonlySet<string> = new Set([
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
  'reasoning_effort',
  'reasoning',
  'include_reasoning',
  'service_tier',
  'modalities',
  'audio',
  'prediction',
  'web_search_options',
  'verbosity',
  'top_k',
  'repetition_penalty',
  'min_p',
  'top_a',
]);
