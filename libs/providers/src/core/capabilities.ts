/**
 * What one provider protocol can do. Routing reads `parameters` (an endpoint's
 * `supported_parameters`), the conformance suite is generated from the flags, and
 * `docs/providers.md` is generated from both.
 */
export interface ProviderCapabilities {
  /** Server-sent (or event-stream) responses. */
  streaming: boolean;
  /** Usage arrives at the end of a stream (otherwise the connector estimates it). */
  streamUsage: boolean;
  /** A system prompt (`system`/`developer` messages). */
  systemPrompt: boolean;
  /** Function tools and tool results in the conversation. */
  tools: boolean;
  /** `tool_choice` (`auto`, `none`, `required`, a named function). */
  toolChoice: boolean;
  /** Several tool calls in one answer. */
  parallelToolCalls: boolean;
  /** `response_format: json_object`. */
  jsonMode: boolean;
  /** `response_format: json_schema`. */
  jsonSchema: boolean;
  /** Image parts in user messages. */
  vision: boolean;
  /** Reasoning (thinking) output, mapped to `reasoning` and `reasoning_details`. */
  reasoning: boolean;
  /** Continues a trailing assistant message (prefill), used to resume a cut stream. */
  prefill: boolean;
  /** `n` > 1 choices. */
  multipleChoices: boolean;
  /** Explicit prompt caching (`cache_control` on content parts) and cache read/write usage. */
  promptCaching: boolean;
  /**
   * OpenAI request parameters the protocol maps (an endpoint's `supported_parameters`); generated
   * from the provider's parameter map.
   */
  parameters: readonly string[];
}

export type CapabilityFlag = Exclude<keyof ProviderCapabilities, 'parameters'>;

export const CAPABILITY_FLAGS: readonly CapabilityFlag[] = [
  'streaming',
  'streamUsage',
  'systemPrompt',
  'tools',
  'toolChoice',
  'parallelToolCalls',
  'jsonMode',
  'jsonSchema',
  'vision',
  'reasoning',
  'prefill',
  'multipleChoices',
  'promptCaching',
];
