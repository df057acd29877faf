/**
 * Bedrock Converse's parameter map: which OpenAI request parameters it takes and where they go.
 * `inferenceConfig` holds the parameters every model takes; model-specific ones go in
 * `additionalModelRequestFields` (Claude's `top_k` and extended `thinking`, Nova's `topK`).
 * Not taken (dropped, or refused under `provider.require_parameters`): `n`, `seed`,
 * `presence_penalty`, `frequency_penalty`, `logit_bias`, `logprobs`, `parallel_tool_calls`
 * (Converse has no switch for it) and the rest of OpenAI's.
 */
import type { ParamContext, ParamMap } from '../core/param-map.js';
import type { ReasoningEffort, ReasoningRequest, ToolChoice } from '../core/request-model.js';
import {
  isClaudeModel,
  isNovaModel,
  structuredOutputTool,
  toolSpecs,
  type ConverseRequest,
} from './bedrock.request.js';

/** Claude's smallest thinking budget. */
export const MIN_THINKING_BUDGET = 1024;
/** Answer tokens on top of the thinking budget when the client set no `max_tokens`. */
export const DEFAULT_ANSWER_TOKENS = 4096;
/** Thinking budgets for an `effort` without `max_tokens` (`reasoning: {}` is medium). */
export const EFFORT_BUDGETS: Readonly<Record<ReasoningEffort, number>> = {
  minimal: 1024,
  low: 2048,
  medium: 8192,
  high: 16384,
};

const inference = (t: ConverseRequest) => (t.inferenceConfig ??= {});
const extra = (t: ConverseRequest) => (t.additionalModelRequestFields ??= {});

/** OpenAI's tool_choice in Converse's terms (unset: Converse's default, auto). */
function converseToolChoice(choice: ToolChoice | undefined) {
  if (choice === undefined) return undefined;
  if (choice === 'auto') return { auto: {} };
  if (choice === 'required') return { any: {} };
  if (choice === 'none') return undefined;
  return { tool: { name: choice.name } };
}

/**
 * `thinking` for Claude models: the budget is `reasoning.max_tokens`, or the effort's; Claude
 * wants it ≥ 1024 and below `max_tokens` (raised or set to fit), and takes no temperature, no
 * `top_k`, a `top_p` of at least 0.95 and no forced tool while it thinks.
 */
function applyThinking(target: ConverseRequest, value: unknown, ctx: ParamContext): void {
  const r = value as ReasoningRequest;
  if (!r.enabled || !isClaudeModel(ctx.upstreamModel)) return;
  let budget = Math.max(MIN_THINKING_BUDGET, r.maxTokens ?? EFFORT_BUDGETS[r.effort ?? 'medium']);
  const cap = ctx.maxOutputTokens;
  const inf = inference(target);
  const asked = typeof inf['maxTokens'] === 'number' ? inf['maxTokens'] : undefined;
  // The client's max_tokens is for the answer when it does not leave room for the thinking.
  let max =
    asked !== undefined && asked > budget ? asked : budget + (asked ?? DEFAULT_ANSWER_TOKENS);
  if (cap !== undefined && max > cap) max = cap;
  if (budget >= max) budget = max - 1;
  if (budget < MIN_THINKING_BUDGET) return; // no room to think within the model's output limit
  inf['maxTokens'] = max;
  delete inf['temperature'];
  if (typeof inf['topP'] === 'number' && inf['topP'] < 0.95) delete inf['topP'];
  const fields = extra(target);
  delete fields['top_k'];
  fields['thinking'] = { type: 'enabled', budget_tokens: budget };
  // The structured-output tool cannot be forced while Claude thinks: offered, not forced.
  const choice = target.toolConfig?.toolChoice;
  const structured = structuredOutputTool(ctx.request);
  if (
    structured &&
    choice &&
    (choice as { tool?: { name?: string } }).tool?.name === structured.name
  )
    target.toolConfig!.toolChoice = { auto: {} };
}

export const BEDROCK_PARAMS: ParamMap<ConverseRequest> = [
  {
    name: 'max_tokens',
    also: ['max_completion_tokens'],
    read: (ctx) => ctx.request.maxTokens,
    range: { min: 1, onOut: 'refuse' },
    to: 'inferenceConfig.maxTokens',
  },
  // Converse's (and its models') range is 0-1: OpenAI's 0-2 is clamped, as OpenRouter does.
  { name: 'temperature', range: { min: 0, max: 1 }, to: 'inferenceConfig.temperature' },
  { name: 'top_p', range: { min: 0, max: 1 }, to: 'inferenceConfig.topP' },
  {
    name: 'stop',
    read: (ctx) => (ctx.request.stop.length > 0 ? ctx.request.stop : undefined),
    to: 'inferenceConfig.stopSequences',
  },
  {
    name: 'top_k',
    range: { min: 0 },
    apply(target, value, ctx) {
      const k = Math.floor(value as number);
      if (isNovaModel(ctx.upstreamModel)) {
        const fields = extra(target);
        fields['inferenceConfig'] = { ...(fields['inferenceConfig'] as object), topK: k };
      } else extra(target)['top_k'] = k;
    },
  },
  {
    name: 'tools',
    also: ['tool_choice'],
    read: (ctx) => (ctx.request.tools.length > 0 ? ctx.request.tools : undefined),
    apply(target, _value, ctx) {
      const choice = converseToolChoice(ctx.request.toolChoice);
      // `none` has no Converse form: the tools are left out (the request builder puts them back
      // when earlier turns used them, as Converse then requires).
      if (ctx.request.toolChoice === 'none') return;
      target.toolConfig = {
        tools: toolSpecs(ctx.request.tools),
        ...(choice ? { toolChoice: choice } : {}),
      };
    },
  },
  {
    name: 'response_format',
    also: ['structured_outputs'],
    read: (ctx) => ctx.request.responseFormat,
    apply(target, _value, ctx) {
      const tool = structuredOutputTool(ctx.request);
      if (!tool) return;
      const spec = {
        toolSpec: {
          name: tool.name,
          description: tool.description,
          inputSchema: { json: tool.schema },
        },
      };
      target.toolConfig = {
        tools: [...(target.toolConfig?.tools ?? []), spec],
        toolChoice: { tool: { name: tool.name } },
      };
    },
  },
  {
    name: 'service_tier',
    transform: (v) =>
      v === 'flex' || v === 'priority' || v === 'default' ? { type: v } : undefined,
    to: 'serviceTier',
  },
  // Last: thinking adjusts what the entries above wrote.
  {
    name: 'reasoning',
    also: ['reasoning_effort', 'include_reasoning'],
    read: (ctx) => ctx.request.reasoning,
    apply: applyThinking,
  },
];
