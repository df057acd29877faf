/**
 * Response types of `POST /v1/chat/completions`, matching OpenAI's
 * `CreateChatCompletionResponse` / `CreateChatCompletionStreamResponse`, with
 * the OpenRouter extensions we emit marked as such (all optional, so an object
 * of these types without them is exactly OpenAI's shape).
 */
import type { ServiceTier } from './chat-request.js';

/**
 * OpenAI's finish reasons. OpenRouter's extra `error` is deliberately not
 * here: OpenAI's schema (and so OpenAI SDK users) reject it.
 */
export type FinishReason = 'stop' | 'length' | 'tool_calls' | 'content_filter' | 'function_call';

export interface PromptTokensDetails {
  cached_tokens?: number;
  audio_tokens?: number;
  text_tokens?: number;
  image_tokens?: number;
  /** Prompt tokens written to the provider's cache. */
  cache_write_tokens?: number;
  /** OpenRouter extension. */
  video_tokens?: number;
}

export interface CompletionTokensDetails {
  reasoning_tokens?: number;
  audio_tokens?: number;
  text_tokens?: number;
  accepted_prediction_tokens?: number;
  rejected_prediction_tokens?: number;
}

/** OpenRouter extension: breakdown of what the upstream charged. */
export interface CostDetails {
  upstream_inference_cost?: number | null;
  upstream_inference_prompt_cost: number;
  upstream_inference_completions_cost: number;
}

export interface CompletionUsage {
  prompt_tokens: number;
  completion_tokens: number;
  total_tokens: number;
  prompt_tokens_details?: PromptTokensDetails;
  completion_tokens_details?: CompletionTokensDetails;
  /** OpenRouter extension: what the request cost the tenant, in US dollars (credits). */
  cost?: number | null;
  /** OpenRouter extension. */
  cost_details?: CostDetails | null;
  /** OpenRouter extension: whether the tenant's own provider key was used. */
  is_byok?: boolean;
}

export interface ChatCompletionMessageFunctionToolCall {
  id: string;
  type: 'function';
  function: { name: string; arguments: string };
}

export interface ChatCompletionMessageCustomToolCall {
  id: string;
  type: 'custom';
  custom: { name: string; input: string };
}

export type ChatCompletionMessageToolCall =
  ChatCompletionMessageFunctionToolCall | ChatCompletionMessageCustomToolCall;

export interface UrlCitationAnnotation {
  type: 'url_citation';
  url_citation: { start_index: number; end_index: number; url: string; title: string };
}

export interface ChatCompletionAudio {
  id: string;
  /** Unix seconds. */
  expires_at: number;
  data: string;
  transcript: string;
}

/** The assistant message of a non-streamed choice. `content` and `refusal` are always present (possibly null). */
export interface ChatCompletionMessage {
  role: 'assistant';
  content: string | null;
  refusal: string | null;
  tool_calls?: ChatCompletionMessageToolCall[];
  annotations?: UrlCitationAnnotation[];
  /** Deprecated. */
  function_call?: { name: string; arguments: string };
  audio?: ChatCompletionAudio | null;
  /** OpenRouter extension: reasoning text, when the model exposes it. */
  reasoning?: string | null;
  /** OpenRouter extension: structured reasoning blocks. */
  reasoning_details?: unknown[];
}

export interface TopLogprob {
  token: string;
  logprob: number;
  bytes: number[] | null;
}

export interface ChatCompletionTokenLogprob extends TopLogprob {
  top_logprobs: TopLogprob[];
}

export interface ChoiceLogprobs {
  content: ChatCompletionTokenLogprob[] | null;
  refusal: ChatCompletionTokenLogprob[] | null;
}

export interface ChatCompletionChoice {
  index: number;
  message: ChatCompletionMessage;
  finish_reason: FinishReason;
  logprobs: ChoiceLogprobs | null;
  /** OpenRouter extension: the provider's raw finish reason. */
  native_finish_reason?: string | null;
}

export interface ChatCompletion {
  id: string;
  object: 'chat.completion';
  /** Unix seconds. */
  created: number;
  model: string;
  choices: ChatCompletionChoice[];
  usage?: CompletionUsage;
  service_tier?: ServiceTier | null;
  /** Deprecated by OpenAI; OpenRouter always sends it (possibly null). */
  system_fingerprint?: string | null;
  metadata?: Record<string, string> | null;
  /** OpenRouter extension: name of the provider that served the request. */
  provider?: string;
}

export interface ChatCompletionChunkToolCall {
  index: number;
  id?: string;
  type?: 'function';
  function?: { name?: string; arguments?: string };
}

export interface ChatCompletionChunkDelta {
  role?: 'developer' | 'system' | 'user' | 'assistant' | 'tool';
  content?: string | null;
  refusal?: string | null;
  tool_calls?: ChatCompletionChunkToolCall[];
  /** Deprecated. */
  function_call?: { name?: string; arguments?: string };
  /** OpenRouter extension. */
  reasoning?: string | null;
  /** OpenRouter extension. */
  reasoning_details?: unknown[];
}

export interface ChatCompletionChunkChoice {
  index: number;
  delta: ChatCompletionChunkDelta;
  finish_reason: FinishReason | null;
  logprobs?: ChoiceLogprobs | null;
  /** OpenRouter extension. */
  native_finish_reason?: string | null;
}

export interface ChatCompletionChunk {
  id: string;
  object: 'chat.completion.chunk';
  /** Unix seconds; the same on every chunk of a stream. */
  created: number;
  model: string;
  /** Empty on the final usage chunk (`stream_options.include_usage`). */
  choices: ChatCompletionChunkChoice[];
  /** Only with `stream_options.include_usage`: null on every chunk but the last. */
  usage?: CompletionUsage | null;
  service_tier?: ServiceTier | null;
  system_fingerprint?: string | null;
  obfuscation?: string;
  /** OpenRouter extension. */
  provider?: string;
}

/** `{ prompt_tokens: 0, completion_tokens: 0, total_tokens: 0 }` — a fresh object each call. */
export function emptyUsage(): CompletionUsage {
  return { prompt_tokens: 0, completion_tokens: 0, total_tokens: 0 };
}
