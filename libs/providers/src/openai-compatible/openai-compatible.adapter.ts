import type { NativeTokens } from '@turnpike/contracts';
import {
  OPENAI_ERROR_DIALECT,
  protocolError,
  upstreamHttpError,
  upstreamStreamError,
  type ErrorDialect,
  type UpstreamError,
} from '../errors/index.js';
import type {
  ParsedChunk,
  ParsedCompletion,
  ProviderAdapter,
  ProviderCapabilities,
  ProviderCredentials,
  UpstreamHttpRequest,
} from '../provider.js';

/**
 * Request fields that only the gateway understands (OpenRouter's routing controls), and
 * OpenRouter fields it accepts but does not implement yet (ignored, never sent upstream).
 */
const GATEWAY_ONLY_FIELDS = [
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
  capabilities: ProviderCapabilities;
  /** Path of the chat endpoint under the base URL. */
  chatPath?: string;
  /** Extra request fields this provider rejects and that must be dropped. */
  dropFields?: readonly string[];
  /** Maps a provider-specific finish reason to OpenAI's. */
  finishReasons?: Record<string, string>;
  /** How this provider writes its errors (default: OpenAI's shapes). */
  errors?: ErrorDialect;
}

const OPENAI_FINISH = new Set(['stop', 'length', 'tool_calls', 'content_filter', 'function_call']);

type Json = Record<string, unknown>;
const isObj = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);
const int = (v: unknown): number =>
  typeof v === 'number' && Number.isFinite(v) && v > 0 ? Math.round(v) : 0;

/** Native token counts of an OpenAI `usage` object. */
export function tokensFromOpenAIUsage(usage: Json): NativeTokens {
  const prompt = isObj(usage['prompt_tokens_details']) ? usage['prompt_tokens_details'] : {};
  const completion = isObj(usage['completion_tokens_details'])
    ? usage['completion_tokens_details']
    : {};
  return {
    prompt: int(usage['prompt_tokens']),
    completion: int(usage['completion_tokens']),
    cachedRead: int(prompt['cached_tokens']),
    cacheWrite: int(prompt['cache_write_tokens']),
    reasoning: int(completion['reasoning_tokens']),
  };
}

/**
 * The shared base of every provider that speaks OpenAI's chat completions protocol. A concrete
 * provider is a small composition of options over this class.
 */
export class OpenAICompatibleAdapter implements ProviderAdapter {
  readonly kind: string;
  readonly capabilities: ProviderCapabilities;
  private readonly chatPath: string;
  private readonly drop: readonly string[];
  private readonly finishMap: Record<string, string>;
  private readonly errors: ErrorDialect;

  constructor(opts: OpenAICompatibleOptions) {
    this.kind = opts.kind;
    this.capabilities = opts.capabilities;
    this.chatPath = opts.chatPath ?? '/chat/completions';
    this.drop = [...GATEWAY_ONLY_FIELDS, ...(opts.dropFields ?? [])];
    this.finishMap = opts.finishReasons ?? {};
    this.errors = opts.errors ?? OPENAI_ERROR_DIALECT;
  }

  buildRequest(
    body: Json,
    upstreamModel: string,
    stream: boolean,
    credentials: ProviderCredentials,
  ): UpstreamHttpRequest {
    const payload: Json = { ...body, model: upstreamModel, stream };
    for (const f of this.drop) delete payload[f];
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
    if (stream) {
      // Always ask for usage: it is what we bill. The gateway drops the usage chunk when the
      // client did not ask for it.
      const so = isObj(body['stream_options']) ? body['stream_options'] : {};
      payload['stream_options'] = { ...so, include_usage: true };
    } else {
      delete payload['stream_options'];
    }
    return {
      url: credentials.baseUrl.replace(/\/+$/, '') + this.chatPath,
      headers: {
        'content-type': 'application/json',
        accept: stream ? 'text/event-stream' : 'application/json',
        authorization: `Bearer ${credentials.apiKey}`,
        ...credentials.headers,
      },
      body: JSON.stringify(payload),
    };
  }

  normaliseFinish(native: unknown): string | null {
    if (typeof native !== 'string' || native === '') return null;
    const mapped = this.finishMap[native] ?? native;
    return OPENAI_FINISH.has(mapped) ? mapped : 'stop';
  }

  parseStreamEvent(event: { event: string; data: string }): ParsedChunk | null {
    const data = event.data.trim();
    if (data === '[DONE]') return null;
    let json: unknown;
    try {
      json = JSON.parse(data);
    } catch {
      return {
        chunk: null,
        tokens: null,
        finishReason: null,
        nativeFinishReason: null,
        hasOutput: false,
        error: protocolError('bad_stream'),
      };
    }
    if (!isObj(json)) return this.parseStreamEvent({ event: event.event, data: '{}' });
    if (event.event === 'error' || (json['error'] !== undefined && json['error'] !== null)) {
      return {
        chunk: null,
        tokens: null,
        finishReason: null,
        nativeFinishReason: null,
        hasOutput: false,
        error: upstreamStreamError(json, this.errors),
      };
    }
    const choices = Array.isArray(json['choices']) ? (json['choices'] as unknown[]) : [];
    let hasOutput = false;
    let nativeFinish: string | null = null;
    for (const c of choices) {
      if (!isObj(c)) continue;
      const delta = isObj(c['delta']) ? c['delta'] : {};
      if (
        (typeof delta['content'] === 'string' && delta['content'] !== '') ||
        (Array.isArray(delta['tool_calls']) && delta['tool_calls'].length > 0) ||
        (typeof delta['refusal'] === 'string' && delta['refusal'] !== '') ||
        isObj(delta['function_call']) ||
        isObj(delta['audio'])
      )
        hasOutput = true;
      if (nativeFinish === null && typeof c['finish_reason'] === 'string')
        nativeFinish = c['finish_reason'];
    }
    const tokens = isObj(json['usage']) ? tokensFromOpenAIUsage(json['usage']) : null;
    return {
      chunk: json,
      tokens,
      finishReason: this.normaliseFinish(nativeFinish),
      nativeFinishReason: nativeFinish,
      hasOutput,
      error: null,
    };
  }

  parseCompletion(json: unknown): ParsedCompletion {
    if (!isObj(json) || !Array.isArray(json['choices'])) {
      throw protocolError('bad_response');
    }
    const first = json['choices'][0];
    const native =
      isObj(first) && typeof first['finish_reason'] === 'string' ? first['finish_reason'] : null;
    const usage = isObj(json['usage']) ? json['usage'] : null;
    return {
      completion: json,
      tokens: usage
        ? tokensFromOpenAIUsage(usage)
        : { prompt: 0, completion: 0, cachedRead: 0, cacheWrite: 0, reasoning: 0 },
      usageReported: usage !== null,
      finishReason: this.normaliseFinish(native),
      nativeFinishReason: native,
    };
  }

  mapError(
    status: number,
    body: string,
    headers: Record<string, string | string[] | undefined>,
  ): UpstreamError {
    return upstreamHttpError(status, body, headers, this.errors);
  }
}
