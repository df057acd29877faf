import { ROUTED_PARAMETERS } from '@turnpike/contracts';
import type { RouteRequest, RoutingPreferences } from './rank.js';

export { ROUTED_PARAMETERS } from '@turnpike/contracts';

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
