/**
 * Gemini's parameter map: which OpenAI request parameters it takes and where they go in a
 * `GenerateContentRequest` (the same for the Gemini API and Vertex AI). Not mapped, so dropped
 * (or refused under `provider.require_parameters`): `logit_bias`, `logprobs`/`top_logprobs`
 * (Gemini's logprobs have another shape), `parallel_tool_calls` (Gemini cannot be told not to
 * call several functions), `service_tier`, `modalities`, `audio`, `prediction`,
 * `web_search_options`, `verbosity`, `repetition_penalty`, `min_p`, `top_a`.
 */
import { isObj, type Json } from '../core/json.js';
import type { ParamMap } from '../core/param-map.js';
import type { ReasoningEffort, ReasoningRequest } from '../core/request-model.js';
import { functionDeclarationOf, responseFormatConfig, toolConfigOf } from './gemini.request.js';

/** Thinking budgets (tokens) for an effort, where the request names no budget. */
export const THINKING_BUDGET: Readonly<Record<ReasoningEffort, number>> = {
  minimal: 512,
  low: 1024,
  medium: 8192,
  high: 24576,
};

/**
 * `reasoning` (and `reasoning_effort`, `include_reasoning`) as `thinkingConfig`, or undefined when
 * the request only asks not to see the reasoning: Gemini shows none unless asked, and a model
 * that cannot think refuses any `thinkingConfig`.
 */
export function thinkingConfigOf(r: ReasoningRequest): Json | undefined {
  if (!r.enabled) return { thinkingBudget: 0 };
  if (r.exclude && r.maxTokens === undefined && r.effort === undefined) return undefined;
  // -1: Gemini's dynamic thinking, the model decides how much.
  const budget = r.maxTokens ?? (r.effort ? THINKING_BUDGET[r.effort] : -1);
  return { thinkingBudget: budget, includeThoughts: !r.exclude };
}

function generationConfig(target: Json): Json {
  if (!isObj(target['generationConfig'])) target['generationConfig'] = {};
  return target['generationConfig'] as Json;
}

export const GEMINI_PARAMS: ParamMap = [
  {
    name: 'max_tokens',
    also: ['max_completion_tokens'],
    read: (ctx) => ctx.request.maxTokens,
    range: { min: 1 },
    to: 'generationConfig.maxOutputTokens',
  },
  { name: 'temperature', range: { min: 0, max: 2 }, to: 'generationConfig.temperature' },
  { name: 'top_p', range: { min: 0, max: 1 }, to: 'generationConfig.topP' },
  {
    name: 'top_k',
    range: { min: 1 },
    transform: (v) => Math.round(v as number),
    to: 'generationConfig.topK',
  },
  {
    name: 'stop',
    read: (ctx) => (ctx.request.stop.length > 0 ? ctx.request.stop : undefined),
    to: 'generationConfig.stopSequences',
  },
  // Gemini answers with 1 to 8 candidates.
  {
    name: 'n',
    range: { min: 1, max: 8, onOut: 'refuse' },
    transform: (v) => ((v as number) === 1 ? undefined : Math.round(v as number)),
    to: 'generationConfig.candidateCount',
  },
  { name: 'seed', transform: (v) => Math.round(v as number), to: 'generationConfig.seed' },
  {
    name: 'presence_penalty',
    range: { min: -2, max: 2 },
    to: 'generationConfig.presencePenalty',
  },
  {
    name: 'frequency_penalty',
    range: { min: -2, max: 2 },
    to: 'generationConfig.frequencyPenalty',
  },
  {
    name: 'response_format',
    also: ['structured_outputs'],
    read: (ctx) => ctx.request.responseFormat,
    apply: (target, _v, ctx) => {
      const format = ctx.request.responseFormat;
      if (format) Object.assign(generationConfig(target), responseFormatConfig(format));
    },
  },
  {
    name: 'reasoning',
    also: ['reasoning_effort', 'include_reasoning'],
    read: (ctx) => ctx.request.reasoning,
    apply: (target, _v, ctx) => {
      const thinking = ctx.request.reasoning && thinkingConfigOf(ctx.request.reasoning);
      if (thinking) generationConfig(target)['thinkingConfig'] = thinking;
    },
  },
  {
    name: 'tools',
    read: (ctx) => (ctx.request.tools.length > 0 ? ctx.request.tools : undefined),
    apply: (target, _v, ctx) => {
      target['tools'] = [{ functionDeclarations: ctx.request.tools.map(functionDeclarationOf) }];
    },
  },
  {
    name: 'tool_choice',
    read: (ctx) => (ctx.request.tools.length > 0 ? ctx.request.toolChoice : undefined),
    apply: (target, _v, ctx) => {
      if (ctx.request.toolChoice) target['toolConfig'] = toolConfigOf(ctx.request.toolChoice);
    },
  },
];
