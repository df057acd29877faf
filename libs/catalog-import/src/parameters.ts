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

/** The output limit and, where every chat model takes them, sampling and stop sequences. */
const ALWAYS_SAFE = ['max_completion_tokens', 'max_tokens', 'stop', 'temperature', 'top_p'];

/**
 * Per provider kind, what of {@link ALWAYS_SAFE} some of its chat models refuse: OpenAI's (and
 * Azure's) reasoning models take no sampling or stop sequences, xAI's no stop sequences.
 */
const REFUSED_BY_SOME: Readonly<Record<string, readonly string[]>> = {
  openai: ['stop', 'temperature', 'top_p'],
  azure: ['stop', 'temperature', 'top_p'],
  xai: ['stop'],
};

/**
 * The parameters of a model that a dataset describes no further than by its prices and context
 * window (genai-prices): only what every chat model of its provider kind takes, so it never
 * advertises what it may not do (no tools, JSON schema or images), and reasoning only when the
 * dataset says the model reasons.
 */
export function conservativeParameters(kind: string, reasons: boolean): string[] {
  const refused = new Set(REFUSED_BY_SOME[kind] ?? []);
  return [...ALWAYS_SAFE.filter((p) => !refused.has(p)), ...(reasons ? REASONING : [])].sort();
}
