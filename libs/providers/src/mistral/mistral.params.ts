/**
 * Mistral's parameter map: which OpenAI parameters its chat API takes, and under which names.
 * Source: the chat completion request,
 * https://docs.mistral.ai/api/#tag/chat/operation/chat_completion_v1_chat_completions_post
 * (and the official SDK's `ChatCompletionRequest`, mistralai/client-ts
 * `src/models/components/chatcompletionrequest.ts`): `max_tokens` (no `max_completion_tokens`),
 * `temperature`, `top_p`, `stop`, `random_seed` (not `seed`), `presence_penalty`,
 * `frequency_penalty`, `n`, `tools`, `tool_choice` (`auto|none|any|required` or a named function),
 * `parallel_tool_calls`, `response_format` (`text|json_object|json_schema`), `prediction`,
 * `reasoning_effort` (`none..xhigh`), `prompt_mode`, `safe_prompt`. No `stream_options` (a stream
 * reports usage in its last chunk anyway), `logprobs`, `logit_bias` or `user`: Mistral refuses
 * fields it does not know with a 422.
 */
import type { Json } from '../core/json.js';
import type { ParamMap } from '../core/param-map.js';
import type { ReasoningRequest, ResponseFormat } from '../core/request-model.js';
import { MAX_TOKENS } from '../openai-compatible/family-params.js';

export const MISTRAL_PARAMS: ParamMap = [
  MAX_TOKENS,
  { name: 'temperature', to: 'temperature' },
  { name: 'top_p', to: 'top_p' },
  {
    name: 'stop',
    to: 'stop',
    read: (ctx) => (ctx.request.stop.length ? ctx.request.stop : undefined),
  },
  { name: 'seed', to: 'random_seed' },
  { name: 'presence_penalty', to: 'presence_penalty' },
  { name: 'frequency_penalty', to: 'frequency_penalty' },
  { name: 'n', to: 'n' },
  {
    name: 'tools',
    read: (ctx) => (ctx.request.tools.length ? ctx.request.tools : undefined),
    apply: (target, _v, ctx) => {
      target['tools'] = ctx.request.tools.map((t) => ({
        type: 'function',
        function: {
          name: t.name,
          ...(t.description ? { description: t.description } : {}),
          parameters: t.parameters,
          ...(t.strict !== undefined ? { strict: t.strict } : {}),
        },
      }));
    },
  },
  {
    name: 'tool_choice',
    read: (ctx) => ctx.request.toolChoice,
    // OpenAI's `required` is Mistral's `any` (it takes both; `any` is the documented one).
    transform: (v) =>
      typeof v === 'object' && v !== null
        ? { type: 'function', function: { name: (v as { name: string }).name } }
        : v === 'required'
          ? 'any'
          : v,
    to: 'tool_choice',
  },
  { name: 'parallel_tool_calls', to: 'parallel_tool_calls' },
  {
    name: 'response_format',
    also: ['structured_outputs'],
    read: (ctx) => ctx.request.responseFormat,
    transform: (v) => {
      const rf = v as ResponseFormat;
      if (rf.type !== 'json_schema') return { type: rf.type };
      return {
        type: 'json_schema',
        json_schema: {
          name: rf.name,
          schema: rf.schema,
          strict: rf.strict,
          ...(rf.description ? { description: rf.description } : {}),
        },
      };
    },
    to: 'response_format',
  },
  { name: 'prediction', to: 'prediction' },
  {
    name: 'reasoning',
    also: ['reasoning_effort', 'include_reasoning'],
    read: (ctx) => ctx.request.reasoning,
    apply: (target: Json, v) => {
      const r = v as ReasoningRequest;
      target['reasoning_effort'] = r.enabled ? (r.effort ?? 'medium') : 'none';
    },
  },
];

/** Mistral's own request fields, passed through when the client sets them. */
export const MISTRAL_ONLY_FIELDS: readonly string[] = [
  'safe_prompt',
  'prompt_mode',
  'guardrails',
  'prompt_cache_key',
  'metadata',
];
