import type { Json } from '../core/json.js';
import type { ParamMap } from '../core/param-map.js';
import type { ReasoningRequest, ToolChoice, ToolSpec } from '../core/request-model.js';
import { applyThinking, outputFormatOf, toolChoiceOf, toolsOf } from './anthropic.request.js';
import type { ResponseFormat } from '../core/request-model.js';

/** `max_tokens` when neither the request nor the catalog's endpoint sets one. */
export const DEFAULT_MAX_TOKENS = 4096;

/**
 * The OpenAI parameters the Messages API takes, and how. Order matters: `reasoning` comes last,
 * because extended thinking constrains what the entries before it wrote (`max_tokens`,
 * sampling, `tool_choice`). Not taken, so dropped (or refused under
 * `provider.require_parameters`): `n`, `seed`, `presence_penalty`, `frequency_penalty`,
 * `logit_bias`, `logprobs`, `top_logprobs`, `service_tier`, `modalities`, `audio`, ...
 */
export const ANTHROPIC_PARAMS: ParamMap = [
  {
    // Required by Anthropic: the request's, else the endpoint's output limit, else a constant.
    name: 'max_tokens',
    also: ['max_completion_tokens'],
    read: (ctx) => ctx.request.maxTokens,
    required: true,
    default: (ctx) => ctx.maxOutputTokens ?? DEFAULT_MAX_TOKENS,
    range: { min: 1 },
    to: 'max_tokens',
  },
  // Anthropic's temperature is 0..1 (OpenAI's 0..2): clamped, as OpenRouter does.
  { name: 'temperature', range: { min: 0, max: 1 }, to: 'temperature' },
  { name: 'top_p', range: { min: 0, max: 1 }, to: 'top_p' },
  {
    // OpenRouter's `top_k: 0` means "off".
    name: 'top_k',
    range: { min: 0 },
    transform: (v) => (typeof v === 'number' && v >= 1 ? Math.floor(v) : undefined),
    to: 'top_k',
  },
  {
    name: 'stop',
    read: (ctx) => (ctx.request.stop.length > 0 ? ctx.request.stop : undefined),
    to: 'stop_sequences',
  },
  {
    name: 'tools',
    read: (ctx) => (ctx.request.tools.length > 0 ? ctx.request.tools : undefined),
    apply: (target, value) => {
      target['tools'] = toolsOf(value as ToolSpec[]);
    },
  },
  {
    name: 'tool_choice',
    also: ['parallel_tool_calls'],
    read: (ctx) =>
      ctx.request.toolChoice === undefined && ctx.request.parallelToolCalls === undefined
        ? undefined
        : { choice: ctx.request.toolChoice, parallel: ctx.request.parallelToolCalls },
    apply: (target, value) => {
      // Anthropic refuses a tool_choice without tools.
      if (!Array.isArray(target['tools'])) return;
      const v = value as { choice?: ToolChoice; parallel?: boolean };
      const choice = toolChoiceOf(v.choice, v.parallel);
      if (choice) target['tool_choice'] = choice;
    },
  },
  {
    name: 'response_format',
    also: ['structured_outputs'],
    read: (ctx) => ctx.request.responseFormat,
    apply: (target, value) => {
      const format = outputFormatOf(value as ResponseFormat);
      if (format) target['output_config'] = { ...(target['output_config'] as Json), format };
    },
  },
  {
    name: 'user',
    transform: (v) => (typeof v === 'string' ? v : undefined),
    to: 'metadata.user_id',
  },
  {
    name: 'reasoning',
    also: ['reasoning_effort', 'include_reasoning'],
    read: (ctx) => ctx.request.reasoning,
    apply: (target, value, ctx) => {
      applyThinking(target, value as ReasoningRequest, ctx.request);
    },
  },
];
