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
 * A rough, deliberately low count of prompt tokens (four characters per token over the text
 * of the messages): endpoints are left out only when the prompt clearly cannot fit. An upstream
 * that still answers `context_length_exceeded` triggers a fallback to a larger window.
 */
export function estimatePromptTokens(messages: unknown): number {
  if (!Array.isArray(messages)) return 0;
  let chars = 0;
  for (const m of messages) {
    const content = (m as { content?: unknown } | null)?.content;
    if (typeof content === 'string') chars += content.length;
    else if (Array.isArray(content)) {
      for (const part of content) {
        const text = (part as { text?: unknown } | null)?.text;
        if (typeof text === 'string') chars += text.length;
      }
    }
  }
  return Math.floor(chars / 4);
}

/** Builds the routing request from a validated chat request. */
export function routeRequestOf(body: {
  model: string;
  models?: readonly string[] | undefined;
  messages: unknown;
  provider?: RoutingPreferences | null | undefined;
}): RouteRequest {
  const models = [body.model, ...(body.models ?? [])].filter((m, i, all) => all.indexOf(m) === i);
  return {
    models,
    parameters: requestParameters(body as Record<string, unknown>),
    estimatedPromptTokens: estimatePromptTokens(body.messages),
    provider: body.provider ?? null,
  };
}
