import { ROUTED_PARAMETERS } from '@turnpike/contracts';
import type { ModelsDevModel } from './models-dev.js';

/**
 * The request parameters a MODEL supports, in the `supported_parameters` vocabulary, from the
 * dataset's capability flags. Provider-neutral on purpose: the router intersects an endpoint's
 * list with what its provider kind's adapter maps (`capabilities.parameters`), when it publishes
 * the routing table, so the committed catalog does not change when an adapter lands or grows.
 */
export const PARAMETER_VOCABULARY: readonly string[] = [
  ...ROUTED_PARAMETERS,
  'structured_outputs',
].sort();

const TOOLS = ['tools', 'tool_choice', 'parallel_tool_calls'];
const REASONING = ['reasoning', 'include_reasoning', 'reasoning_effort'];
const SAMPLING = [
  'temperature',
  'top_p',
  'top_k',
  'min_p',
  'top_a',
  'presence_penalty',
  'frequency_penalty',
  'repetition_penalty',
];
/** JSON mode and JSON schema: models that call tools also fill a schema (documented heuristic). */
const STRUCTURED = ['response_format', 'structured_outputs'];
/** Audio output parameters. */
const AUDIO_OUT = ['audio', 'modalities'];

export function modelParameters(m: ModelsDevModel): string[] {
  const out = new Set(PARAMETER_VOCABULARY);
  const drop = (names: readonly string[]) => names.forEach((n) => out.delete(n));
  if (m.tool_call !== true) drop([...TOOLS, ...STRUCTURED]);
  if (m.reasoning !== true) drop(REASONING);
  if (m.temperature === false) drop(SAMPLING);
  if (!(m.modalities?.output ?? []).includes('audio')) drop(AUDIO_OUT);
  return [...out].sort();
}
