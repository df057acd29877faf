import type { RouteRequest, RoutingPreferences } from './rank.js';

/**
 * Request parameters that endpoints declare in `supported_parameters` (OpenAI's, plus the
 * sampling extensions OpenRouter routes on). Other body fields (messages, stream, provider,
 * unknown pass-through fields) say nothing about what an endpoint must support.
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

/** The parameters a request uses, in `supported_parameters` terms. */
export function requestParameters(body: Record<string, unknown>): string[] {
  const out = new Set<string>();
  for (const [k, v] of Object.entries(body)) {
    if (v === null || v === undefined || !ROUTED_PARAMETERS.has(k)) continue;
    out.add(k);
  }
  const rf = body['response_format'];
  if (typeof rf === 'object' && rf !== null && (rf as { type?: unknown }).type === 'json_schema')
    out.add('structured_outputs');
  return [...out].sort();
}

/**
 * Builds the routing request from a validated chat request. `estimatedPromptTokens` is a
 * deliberately low count of its prompt (`estimatePrompt(body).low`, libs/providers): endpoints
 * are left out only when the prompt clearly cannot fit; an upstream that still answers
 * `context_length_exceeded` triggers a fallback to a larger window.
 */
export function routeRequestOf(
  body: {
    model: string;
    models?: readonly string[] | undefined;
    messages: unknown;
    provider?: RoutingPreferences | null | undefined;
  },
  estimatedPromptTokens: number,
): RouteRequest {
  const models = [body.model, ...(body.models ?? [])].filter((m, i, all) => all.indexOf(m) === i);
  return {
    models,
    parameters: requestParameters(body as Record<string, unknown>),
    estimatedPromptTokens,
    provider: body.provider ?? null,
  };
}
