import type { ProviderConnection } from '@turnpike/contracts';
import type {
  GenerationCall,
  ParsedCompletion,
  PreparedRequest,
  PrepareOptions,
  ProviderAdapter,
} from '../core/adapter.js';
import type { ProviderCapabilities } from '../core/capabilities.js';
import type { StreamDecoder } from '../core/decoder.js';
import type { Json } from '../core/json.js';
import { applyParameters, misconfigured, parametersOf } from '../core/param-map.js';
import { readChatRequest } from '../core/request-model.js';
import type { HeaderBag, UpstreamError } from '../errors/index.js';
import { AnthropicStreamDecoder, parseMessage } from './anthropic.decoder.js';
import { anthropicHttpError } from './anthropic.errors.js';
import { ANTHROPIC_PARAMS } from './anthropic.params.js';
import { messagesOf, systemOf } from './anthropic.request.js';

/**
 * The API version we speak. `2026-10-21` removed `temperature`, `top_p` and `top_k`, which the
 * OpenAI request maps; `2023-06-01` still has them, with everything else used here (structured
 * outputs in `output_config`, extended thinking, prompt caching).
 */
export const ANTHROPIC_VERSION = '2023-06-01';

/**
 * Anthropic's Messages API (`POST /v1/messages`), natively: `x-api-key` authentication, the
 * request map of `anthropic.request.ts` and `anthropic.params.ts`, the SSE decoder of
 * `anthropic.decoder.ts`, and Anthropic's error bodies read by `anthropic.errors.ts`.
 */
export class AnthropicAdapter implements ProviderAdapter {
  readonly kind = 'anthropic';
  readonly protocol = 'anthropic';
  readonly credentialTypes: readonly string[] = ['api_key'];
  readonly defaultBaseUrl = 'https://api.anthropic.com';
  readonly capabilities: ProviderCapabilities = {
    streaming: true,
    streamUsage: true,
    systemPrompt: true,
    tools: true,
    toolChoice: true,
    parallelToolCalls: true,
    // No JSON mode: structured outputs take a schema (json_schema).
    jsonMode: false,
    jsonSchema: true,
    vision: true,
    reasoning: true,
    prefill: true,
    multipleChoices: false,
    promptCaching: true,
    parameters: parametersOf(ANTHROPIC_PARAMS),
  };

  async prepareRequest(
    call: GenerationCall,
    connection: ProviderConnection,
    opts: PrepareOptions,
  ): Promise<PreparedRequest> {
    const c = connection.credentials;
    if (c.type !== 'api_key')
      throw misconfigured(`Provider kind 'anthropic' cannot use '${c.type}' credentials.`);
    const request = readChatRequest(call.body);
    const payload: Json = { model: call.upstreamModel };
    const system = systemOf(request.system);
    if (system !== undefined) payload['system'] = system;
    payload['messages'] = messagesOf(request.turns);
    const { dropped } = applyParameters(
      ANTHROPIC_PARAMS,
      payload,
      {
        body: call.body,
        request,
        upstreamModel: call.upstreamModel,
        stream: call.stream,
        maxOutputTokens: call.maxOutputTokens,
      },
      { requireParameters: opts.requireParameters, provider: this.kind },
    );
    if (call.stream) payload['stream'] = true;
    return {
      method: 'POST',
      url: `${connection.baseUrl.replace(/\/+$/, '').replace(/\/v1$/, '')}/v1/messages`,
      headers: {
        'content-type': 'application/json',
        accept: call.stream ? 'text/event-stream' : 'application/json',
        'anthropic-version': ANTHROPIC_VERSION,
        'x-api-key': c.apiKey,
        ...connection.headers,
      },
      body: JSON.stringify(payload),
      droppedParameters: dropped,
    };
  }

  openStream(call: GenerationCall): StreamDecoder {
    return new AnthropicStreamDecoder(call.upstreamModel);
  }

  parseCompletion(json: unknown, call: GenerationCall): ParsedCompletion {
    return parseMessage(json, call.upstreamModel);
  }

  mapError(status: number, body: string, headers: HeaderBag): UpstreamError {
    return anthropicHttpError(status, body, headers);
  }
}

export const anthropicProvider = new AnthropicAdapter();
