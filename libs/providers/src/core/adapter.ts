import type { NativeTokens, ProviderConnection } from '@turnpike/contracts';
import type { UpstreamError } from '../errors/index.js';
import type { ProviderCapabilities } from './capabilities.js';
import type { StreamDecoder } from './decoder.js';
import type { Json } from './json.js';

/** One attempt's request, as the connector hands it to a provider. */
export interface GenerationCall {
  /** The OpenAI-shaped chat request as the gateway validated it (unknown fields included). */
  body: Json;
  /** The provider's name for the model (the endpoint's `upstream_model`). */
  upstreamModel: string;
  stream: boolean;
  /** The endpoint's output limit, when the catalog declares one (a default for `max_tokens`). */
  maxOutputTokens?: number | undefined;
}

/** The HTTP request to send upstream. */
export interface PreparedRequest {
  method: 'POST';
  url: string;
  headers: Record<string, string>;
  body: string;
  /** Request parameters this provider does not take, dropped from the request. */
  droppedParameters: string[];
}

export interface ParsedCompletion {
  /** The answer in OpenAI's `chat.completion` shape. */
  completion: Json;
  /** Normalised usage (see `core/usage.ts`); zeros when `usageReported` is false. */
  tokens: NativeTokens;
  usageReported: boolean;
  finishReason: string | null;
  nativeFinishReason: string | null;
}

export interface PrepareOptions {
  /** `provider.require_parameters`: refuse instead of dropping parameters the provider lacks. */
  requireParameters: boolean;
  /** The clock, for request signing (SigV4 stamps the time). */
  now: Date;
}

/**
 * One provider's wire protocol. Pure apart from the clock: the HTTP exchange itself is done by
 * `callUpstream`, which drives any adapter the same way.
 */
export interface ProviderAdapter {
  /** The provider kind (catalog providers name one). */
  readonly kind: string;
  /** The wire protocol family (`openai`, `anthropic`, `gemini`, `bedrock`, `cohere`). */
  readonly protocol: string;
  readonly capabilities: ProviderCapabilities;
  /** Which credential types this protocol can authenticate with. */
  readonly credentialTypes: readonly string[];
  /** The provider's public API base URL, the default of an account. */
  readonly defaultBaseUrl: string;
  /**
   * Maps the request and signs it. Async, so signing can hash the body and stamp the time.
   * Throws `RequestMappingError` when the request cannot be expressed for this provider.
   */
  prepareRequest(
    call: GenerationCall,
    connection: ProviderConnection,
    opts: PrepareOptions,
  ): Promise<PreparedRequest>;
  /** A decoder for one streamed response. */
  openStream(call: GenerationCall): StreamDecoder;
  /** Maps a whole (non-streamed) response body. Throws an `UpstreamError` when it is malformed. */
  parseCompletion(json: unknown, call: GenerationCall): ParsedCompletion;
  /**
   * Maps an HTTP error response through the one error policy (`errors/policy.ts`): a provider
   * supplies only the `ErrorDialect` that reads its bodies.
   */
  mapError(
    status: number,
    body: string,
    headers: Record<string, string | string[] | undefined>,
  ): UpstreamError;
}
