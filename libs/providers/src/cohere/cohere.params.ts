/**
 * Cohere v2 chat's parameter map. Source: https://docs.cohere.com/reference/chat (and the SDK's
 * `V2ChatRequest`): `max_tokens`, `temperature`, `p` (top_p), `k` (top_k), `seed`,
 * `stop_sequences`, `frequency_penalty`, `presence_penalty`, `tools` (function tools),
 * `strict_tools`, `tool_choice` (`REQUIRED` | `NONE`; auto is its absence), `response_format`
 * (`{type: 'json_object', json_schema}`), `thinking` (`{type: 'enabled' | 'disabled',
 * token_budget}`), `logprobs`. No `n`, `parallel_tool_calls` (Cohere calls tools in parallel on
 * its own) or `logit_bias`.
 */
import type { Json } from '../core/json.js';
import type { ParamMap } from '../core/param-map.js';
import type { ReasoningRequest, ResponseFormat, ToolChoice } from '../core/request-model.js';
import { MAX_TOKENS } from '../openai-compatible/family-params.js';

export const COHERE_PARAMS: ParamMap = [
  MAX_TOKENS,
  { name: 'temperature', to: 'temperature' },
  { name: 'top_p', to: 'p', range: { min: 0.01, max: 0.99 } },
  { name: 'top_k', to: 'k', range: { min: 0, max: 500 } },
  { name: 'seed', to: 'seed' },
  {
    name: 'stop',
    to: 'stop_sequences',
    read: (ctx) => (ctx.request.stop.length ? ctx.request.stop : undefined),
  },
  { name: 'frequency_penalty', to: 'frequency_penalty' },
  { name: 'presence_penalty', to: 'presence_penalty' },
  {
    name: 'tools',
    read: (ctx) => (ctx.request.tools.length ? ctx.request.tools : undefined),
    apply: (target: Json, _v, ctx) => {
      const tools = ctx.request.tools;
      target['tools'] = tools.map((t) => ({
        type: 'function',
        function: {
          name: t.name,
          ...(t.description ? { description: t.description } : {}),
          parameters: t.parameters,
        },
      }));
      if (tools.every((t) => t.strict === true)) target['strict_tools'] = true;
    },
  },
  {
    // After `tools`: a named choice keeps only that tool and requires a call.
    name: 'tool_choice',
    read: (ctx) => ctx.request.toolChoice,
    apply: (target: Json, v) => {
      const choice = v as ToolChoice;
      if (choice === 'required') target['tool_choice'] = 'REQUIRED';
      else if (choice === 'none') target['tool_choice'] = 'NONE';
      else if (typeof choice === 'object' && Array.isArray(target['tools'])) {
        target['tools'] = (target['tools'] as Json[]).filter(
          (t) => (t['function'] as Json)['name'] === choice.name,
        );
        target['tool_choice'] = 'REQUIRED';
      }
    },
  },
  {
    name: 'response_format',
    also: ['structured_outputs'],
    read: (ctx) => ctx.request.responseFormat,
    transform: (v) => {
      const rf = v as ResponseFormat;
      if (rf.type === 'text') return { type: 'text' };
      return rf.type === 'json_schema'
        ? { type: 'json_object', json_schema: rf.schema }
        : { type: 'json_object' };
    },
    to: 'response_format',
  },
  {
    name: 'reasoning',
    also: ['reasoning_effort', 'include_reasoning'],
    read: (ctx) => ctx.request.reasoning,
    apply: (target: Json, v) => {
      const r = v as ReasoningRequest;
      target['thinking'] = r.enabled
        ? { type: 'enabled', ...(r.maxTokens ? { token_budget: r.maxTokens } : {}) }
        : { type: 'disabled' };
    },
  },
  { name: 'logprobs', to: 'logprobs' },
];
