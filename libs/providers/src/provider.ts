import type { NativeTokens } from '@turnpike/contracts';
import type { UpstreamError } from './errors/index.js';

/** What a provider can do; the conformance suite and routing read it. */
export interface ProviderCapabilities {
  streaming: boolean;
  streamUsage: boolean;
  tools: boolean;
  toolChoice: boolean;
  parallelToolCalls: boolean;
  jsonMode: boolean;
  jsonSchema: boolean;
  vision: boolean;
  /** OpenAI request parameters the upstream accepts (the `supported_parameters` of endpoints). */
  parameters: readonly string[];
}

/** How to reach one configured provider account (owned by the connector). */
export interface ProviderCredentials {
  baseUrl: string;
  apiKey: string;
  /** Extra headers the provider requires (e.g. organisation, project). */
  headers?: Record<string, string>;
}

export interface UpstreamHttpRequest {
  url: string;
  headers: Record<string, string>;
  body: string;
}

/** A streamed chunk, already in the OpenAI `chat.completion.chunk` shape. */
export interface ParsedChunk {
  chunk: Record<string, unknown> | null;
  /** Usage, when this chunk carried it. */
  tokens: NativeTokens | null;
  /** The finish reason this chunk carried (first choice), native and normalised. */
  finishReason: string | null;
  nativeFinishReason: string | null;
  /** Whether the chunk carries generated output (text, tool call, refusal): the first token. */
  hasOutput: boolean;
  /** An error the upstream sent inside the stream, through the error policy. */
  error: UpstreamError | null;
}

export interface ParsedCompletion {
  completion: Record<string, unknown>;
  tokens: NativeTokens;
  usageReported: boolean;
  finishReason: string | null;
  nativeFinishReason: string | null;
}

/**
 * One provider's wire protocol: request mapping, response and stream-chunk mapping, usage
 * extraction and error mapping. Everything here is pure; the HTTP call is done by `callUpstream`.
 * Errors go through the one error policy (`errors/policy.ts`): a provider only supplies the
 * `ErrorDialect` that reads its error bodies.
 */
export interface ProviderAdapter {
  readonly kind: string;
  readonly capabilities: ProviderCapabilities;
  buildRequest(
    body: Record<string, unknown>,
    upstreamModel: string,
    stream: boolean,
    credentials: ProviderCredentials,
  ): UpstreamHttpRequest;
  /** Parses one SSE event of the stream; null when the event ends the stream (`[DONE]`). */
  parseStreamEvent(event: { event: string; data: string }): ParsedChunk | null;
  /** Throws an `UpstreamError` when the body is not a completion. */
  parseCompletion(json: unknown): ParsedCompletion;
  /** An HTTP error answer (status, body text, headers) through the error policy. */
  mapError(
    status: number,
    body: string,
    headers: Record<string, string | string[] | undefined>,
  ): UpstreamError;
}
