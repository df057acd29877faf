import type { ProviderCapabilities } from '../core/capabilities.js';
import type { Json } from '../core/json.js';
import type { ParamContext, ParamMap, ParamSpec } from '../core/param-map.js';
import type { ReasoningRequest } from '../core/request-model.js';
import { passThrough } from './openai-compatible.adapter.js';

/**
 * Parameter entries the OpenAI-compatible family shares; each provider composes its map from
 * these and declares only where it differs (see each provider's file for its sources).
 */

/**
 * The output limit: `max_completion_tokens` or `max_tokens` (the neutral model's one value),
 * sent as `max_tokens`, which every compatible server takes.
 */
export const MAX_TOKENS: ParamSpec = {
  name: 'max_tokens',
  also: ['max_completion_tokens'],
  read: (ctx) => ctx.request.maxTokens,
  to: 'max_tokens',
};

/** `response_format` (json_object and json_schema) passed as OpenAI writes it. */
export const RESPONSE_FORMAT: ParamSpec = {
  name: 'response_format',
  to: 'response_format',
  also: ['structured_outputs'],
};

/** `response_format` for a server without json_schema: json_object only, schemas refused. */
export const JSON_OBJECT_ONLY: ParamSpec = {
  name: 'response_format',
  to: 'response_format',
  transform: (v) =>
    typeof v === 'object' && v !== null && (v as Json)['type'] === 'json_schema'
      ? { type: 'json_object' }
      : v,
};

/** `response_format` for a server with json_schema but no json_object (dropped otherwise). */
export const JSON_SCHEMA_ONLY: ParamSpec = {
  name: 'response_format',
  also: ['structured_outputs'],
  to: 'response_format',
  transform: (v) =>
    typeof v === 'object' && v !== null && (v as Json)['type'] === 'json_schema' ? v : undefined,
};

/** Function tools and the choice among them, as OpenAI writes them. */
export const TOOLS: ParamMap = passThrough('tools', 'tool_choice', 'parallel_tool_calls');

/** OpenAI's sampling parameters that most of the family takes unchanged. */
export const SAMPLING: ParamMap = passThrough(
  'temperature',
  'top_p',
  'stop',
  'seed',
  'presence_penalty',
  'frequency_penalty',
);

/**
 * The reasoning request (OpenRouter's `reasoning`, `reasoning_effort`, `include_reasoning`: one
 * neutral value) written in the provider's own fields by `write`.
 */
export function reasoningParam(
  write: (target: Json, r: ReasoningRequest, ctx: ParamContext) => void,
): ParamSpec {
  return {
    name: 'reasoning',
    also: ['reasoning_effort', 'include_reasoning'],
    read: (ctx) => ctx.request.reasoning,
    apply: (target, value, ctx) => write(target, value as ReasoningRequest, ctx),
  };
}

/** OpenAI's effort words for a server that takes `reasoning_effort` (low | medium | high). */
export const effortOf = (r: ReasoningRequest, fallback = 'medium'): string =>
  r.effort === 'minimal' ? 'low' : (r.effort ?? fallback);

/**
 * What an OpenAI-compatible server can usually do (OpenAI's own list, without reasoning output
 * or prefill, which OpenAI lacks); each provider declares only where it differs.
 */
export const COMPATIBLE_CAPABILITIES: Omit<ProviderCapabilities, 'parameters'> = {
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
  multipleChoices: true,
  promptCaching: false,
};
