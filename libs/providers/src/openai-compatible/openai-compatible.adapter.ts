import type { ProviderConnection } from '@turnpike/contracts';
import { ROUTED_PARAMETERS } from '@turnpike/contracts';
import {
  OPENAI_ERROR_DIALECT,
  protocolError,
  upstreamHttpError,
  upstreamStreamError,
  type ErrorDialect,
  type UpstreamError,
} from '../errors/index.js';
import type {
  GenerationCall,
  ParsedCompletion,
  PreparedRequest,
  PrepareOptions,
  ProviderAdapter,
} from '../core/adapter.js';
import type { ProviderCapabilities } from '../core/capabilities.js';
import type { DecodedEvent, StreamDecoder } from '../core/decoder.js';
import { isObj, type Json } from '../core/json.js';
import { normaliseFinish, type FinishReason } from '../core/output.js';
import {
  applyParameters,
  misconfigured,
  parametersOf,
  type ParamContext,
  type ParamMap,
} from '../core/param-map.js';
import { readChatRequest, type ReasoningRequest } from '../core/request-model.js';
import { fromOpenAIUsage } from '../core/usage.js';
import { normaliseReasoningField, OpenAIStreamDecoder } from './openai-compatible.decoder.js';

/**
 * Request fields that only the gateway understands (OpenRouter's routing controls), and
 * OpenRouter fields it accepts but does not implement yet: never sent upstream.
 */
export const GATEWAY_ONLY_FIELDS: readonly string[] = [
  'models',
  'provider',
  'route',
  'transforms',
  'usage',
  'plugins',
  'session_id',
  'debug',
  'trace',
  'image_config',
  'stop_server_tools_when',
];

export interface OpenAICompatibleOptions {
  kind: string;
  /**
   * The wire, when it differs from OpenAI's in more than parameters (Azure: its own paths and
   * auth header): which simulator plays it.
   */
  protocol?: string;
  /** The provider's public API base URL (with its version path, e.g. `https://api.groq.com/openai/v1`). */
  defaultBaseUrl: string;
  capabilities: Omit<ProviderCapabilities, 'parameters'>;
  /** Which OpenAI parameters the provider takes, and how (renames, ranges, defaults). */
  params: ParamMap;
  /** Path of the chat endpoint under the base URL. */
  chatPath?: string;
  /** Maps provider-specific finish reasons to OpenAI's. */
  finishReasons?: Readonly<Record<string, FinishReason>>;
  /**
   * Whether the provider takes `stream_options: {include_usage: true}` (otherwise usage comes
   * unasked, or not at all and the connector estimates it).
   */
  streamOptions?: boolean;
  /** Last provider-specific touches to the body (after the parameter map). */
  finishBody?: (payload: Json, call: GenerationCall) => void;
  /** The request URL; default: base URL + chat path. */
  url?: (connection: ProviderConnection, call: GenerationCall) => string;
  /** Authentication headers; default: `Authorization: Bearer <api key>`. */
  auth?: (connection: ProviderConnection) => Record<string, string>;
  credentialTypes?: readonly string[];
  /** How this provider writes its errors (default: OpenAI's shapes). */
  errors?: ErrorDialect;
  /** The `format` of the `reasoning_details` made from the server's reasoning text. */
  reasoningFormat?: string;
  /** Where the server puts a stream's usage when not in `usage` (see the decoder). */
  streamUsageOf?: (chunk: Json) => Json | undefined;
}

/** The OpenAI parameter entry that passes a field through unchanged. */
export const passThrough = (...names: string[]): ParamMap =>
  names.map((name) => ({ name, to: name }));

/** A parameter map without the entries for `names` (a provider that lacks them). */
export const omitParams = (map: ParamMap, ...names: string[]): ParamMap =>
  map.filter((s) => !names.includes(s.name));

/** The reasoning request of the neutral model (OpenRouter's `reasoning`, or its legacy forms). */
export const readReasoning = (ctx: ParamContext): ReasoningRequest | undefined =>
  ctx.request.reasoning;

/**
 * The shared base of every provider that speaks OpenAI's chat completions protocol; a concrete
 * provider is a small composition of options over it. Unknown request fields pass through (the
 * upstream may know them); parameters in the `supported_parameters` vocabulary that the provider
 * does not take are dropped (or refused under `provider.require_parameters`).
 */
export class OpenAICompatibleAdapter implements ProviderAdapter {
  readonly kind: string;
  readonly protocol: string;
  readonly capabilities: ProviderCapabilities;
  readonly credentialTypes: readonly string[];
  readonly defaultBaseUrl: string;

  constructor(protected readonly opts: OpenAICompatibleOptions) {
    this.kind = opts.kind;
    this.protocol = opts.protocol ?? 'openai';
    this.defaultBaseUrl = opts.defaultBaseUrl;
    this.credentialTypes = opts.credentialTypes ?? ['api_key'];
    this.capabilities = { ...opts.capabilities, parameters: parametersOf(opts.params) };
  }

  async prepareRequest(
    call: GenerationCall,
    connection: ProviderConnection,
    opts: PrepareOptions,
  ): Promise<PreparedRequest> {
    if (!this.credentialTypes.includes(connection.credentials.type)) {
      throw misconfigured(
        `Provider kind '${this.kind}' cannot use '${connection.credentials.type}' credentials.`,
      );
    }
    const payload: Json = {};
    for (const [k, v] of Object.entries(call.body)) {
      if (ROUTED_PARAMETERS.has(k) || GATEWAY_ONLY_FIELDS.includes(k)) continue;
      payload[k] = v;
    }
    payload['model'] = call.upstreamModel;
    payload['stream'] = call.stream;
    delete payload['stream_options'];
    const { dropped } = applyParameters(
      this.opts.params,
      payload,
      {
        body: call.body,
        request: readChatRequest(call.body),
        upstreamModel: call.upstreamModel,
        stream: call.stream,
        maxOutputTokens: call.maxOutputTokens,
      },
      { requireParameters: opts.requireParameters, provider: this.kind },
    );
    // OpenRouter's server tools (`openrouter:web_search`, ...) are accepted and ignored.
    if (Array.isArray(payload['tools'])) {
      const tools = payload['tools'].filter(
        (t) => isObj(t) && (t['type'] === 'function' || t['type'] === 'custom'),
      );
      if (tools.length > 0) payload['tools'] = tools;
      else {
        delete payload['tools'];
        delete payload['tool_choice'];
        delete payload['parallel_tool_calls'];
      }
    }
    if (call.stream && this.opts.streamOptions !== false) {
      // Always ask for usage: it is what we bill. The gateway drops the usage chunk when the
      // client did not ask for it.
      const so = isObj(call.body['stream_options']) ? call.body['stream_options'] : {};
      payload['stream_options'] = { ...so, include_usage: true };
    }
    this.opts.finishBody?.(payload, call);
    return {
      method: 'POST',
      url: this.opts.url
        ? this.opts.url(connection, call)
        : connection.baseUrl.replace(/\/+$/, '') + (this.opts.chatPath ?? '/chat/completions'),
      headers: {
        'content-type': 'application/json',
        accept: call.stream ? 'text/event-stream' : 'application/json',
        ...(this.opts.auth ? this.opts.auth(connection) : bearer(connection)),
        ...connection.headers,
      },
      body: JSON.stringify(payload),
      droppedParameters: dropped,
    };
  }

  openStream(): StreamDecoder {
    return new OpenAIStreamDecoder({
      ...(this.opts.finishReasons ? { finishReasons: this.opts.finishReasons } : {}),
      ...(this.opts.reasoningFormat ? { reasoningFormat: this.opts.reasoningFormat } : {}),
      ...(this.opts.streamUsageOf ? { usageOf: this.opts.streamUsageOf } : {}),
      streamError: (json) => ({
        type: 'error',
        error: upstreamStreamError(json, this.opts.errors ?? OPENAI_ERROR_DIALECT),
      }),
    });
  }

  parseCompletion(json: unknown, _call?: GenerationCall): ParsedCompletion {
    if (!isObj(json) || !Array.isArray(json['choices'])) throw protocolError('bad_response');
    let native: string | null = null;
    let finish: string | null = null;
    for (const c of json['choices']) {
      if (!isObj(c)) continue;
      if (isObj(c['message'])) normaliseReasoningField(c['message'], this.opts.reasoningFormat);
      if (typeof c['finish_reason'] === 'string') {
        const f = normaliseFinish(c['finish_reason'], this.opts.finishReasons);
        if (native === null) {
          native = c['finish_reason'];
          finish = f;
        }
        if (f !== c['finish_reason']) {
          c['native_finish_reason'] = c['finish_reason'];
          c['finish_reason'] = f;
        }
      }
    }
    const usage = isObj(json['usage']) ? json['usage'] : null;
    return {
      completion: json,
      tokens: usage
        ? fromOpenAIUsage(usage)
        : { prompt: 0, completion: 0, cachedRead: 0, cacheWrite: 0, reasoning: 0 },
      usageReported: usage !== null,
      finishReason: finish,
      nativeFinishReason: native,
    };
  }

  mapError(
    status: number,
    body: string,
    headers: Record<string, string | string[] | undefined>,
  ): UpstreamError {
    return upstreamHttpError(status, body, headers, this.opts.errors ?? OPENAI_ERROR_DIALECT);
  }
}

/**
 * The conversation's trailing assistant message (text only, no tool calls) in an OpenAI-shaped
 * payload: the prefill a provider continues, marked as its wire wants it (`prefix: true` for
 * DeepSeek and Mistral, `continue_final_message` for vLLM).
 */
export function trailingAssistant(payload: Json): Json | undefined {
  const messages = Array.isArray(payload['messages']) ? payload['messages'] : [];
  const last: unknown = messages[messages.length - 1];
  if (!isObj(last) || last['role'] !== 'assistant') return undefined;
  if (Array.isArray(last['tool_calls']) && last['tool_calls'].length > 0) return undefined;
  const c = last['content'];
  const hasText =
    (typeof c === 'string' && c !== '') ||
    (Array.isArray(c) && c.some((p) => isObj(p) && typeof p['text'] === 'string' && p['text']));
  return hasText ? last : undefined;
}

/** `Authorization: Bearer <key>` from api-key credentials. */
export function bearer(connection: ProviderConnection): Record<string, string> {
  const c = connection.credentials;
  return c.type === 'api_key' || c.type === 'azure' ? { authorization: `Bearer ${c.apiKey}` } : {};
}

export type { DecodedEvent };
