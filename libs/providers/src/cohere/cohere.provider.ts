/**
 * Cohere's v2 chat API (`POST {base}/v2/chat`, default base `https://api.cohere.com`,
 * `Authorization: Bearer`): its own request (`cohere.params.ts`, `cohere.request.ts`), answer
 * and stream grammar (`cohere.decoder.ts`), usage (`fromCohereUsage`) and errors
 * (`cohere.errors.ts`). Sources: https://docs.cohere.com/reference/chat and
 * https://docs.cohere.com/reference/chat-stream; the official SDK, cohere-ai/cohere-typescript.
 */
import type { ProviderConnection } from '@turnpike/contracts';
import { protocolError, upstreamHttpError, type UpstreamError } from '../errors/index.js';
import type {
  GenerationCall,
  ParsedCompletion,
  PreparedRequest,
  PrepareOptions,
  ProviderAdapter,
} from '../core/adapter.js';
import type { ProviderCapabilities } from '../core/capabilities.js';
import type { StreamDecoder } from '../core/decoder.js';
import { isObj, str } from '../core/json.js';
import { buildCompletion, normaliseFinish, nowSeconds, type ToolCallOut } from '../core/output.js';
import { parametersOf } from '../core/param-map.js';
import { prepareJson, requireCredentials } from '../core/prepare.js';
import { fromCohereUsage } from '../core/usage.js';
import { COMPATIBLE_CAPABILITIES } from '../openai-compatible/family-params.js';
import { bearer } from '../openai-compatible/openai-compatible.adapter.js';
import { COHERE_FINISH, CohereStreamDecoder } from './cohere.decoder.js';
import { COHERE_ERROR_DIALECT } from './cohere.errors.js';
import { COHERE_PARAMS } from './cohere.params.js';
import { COHERE_REASONING_FORMAT, cohereMessages } from './cohere.request.js';

const PARAMS = COHERE_PARAMS;
const ZERO = { prompt: 0, completion: 0, cachedRead: 0, cacheWrite: 0, reasoning: 0 };

class CohereAdapter implements ProviderAdapter {
  readonly kind = 'cohere';
  readonly protocol = 'cohere';
  readonly credentialTypes = ['api_key'] as const;
  readonly defaultBaseUrl = 'https://api.cohere.com';
  readonly capabilities: ProviderCapabilities = {
    ...COMPATIBLE_CAPABILITIES,
    reasoning: true,
    multipleChoices: false,
    parameters: parametersOf(PARAMS),
  };

  async prepareRequest(
    call: GenerationCall,
    connection: ProviderConnection,
    opts: PrepareOptions,
  ): Promise<PreparedRequest> {
    requireCredentials(this.kind, connection, this.credentialTypes);
    return prepareJson({
      kind: this.kind,
      call,
      connection,
      opts,
      params: PARAMS,
      build: (request) => ({
        model: call.upstreamModel,
        messages: cohereMessages(request),
        stream: call.stream,
      }),
      url: `${connection.baseUrl.replace(/\/+$/, '')}/v2/chat`,
      headers: bearer(connection),
    });
  }

  openStream(call: GenerationCall): StreamDecoder {
    return new CohereStreamDecoder(call.upstreamModel);
  }

  parseCompletion(json: unknown, call: GenerationCall): ParsedCompletion {
    if (!isObj(json) || !isObj(json['message'])) throw protocolError('bad_response');
    const m = json['message'];
    let text = '';
    let thinking = '';
    for (const c of Array.isArray(m['content']) ? m['content'] : []) {
      if (!isObj(c)) continue;
      if (c['type'] === 'text' && typeof c['text'] === 'string') text += c['text'];
      if (c['type'] === 'thinking' && typeof c['thinking'] === 'string') thinking += c['thinking'];
    }
    const toolCalls: ToolCallOut[] = (Array.isArray(m['tool_calls']) ? m['tool_calls'] : [])
      .filter(isObj)
      .map((t) => {
        const f = isObj(t['function']) ? t['function'] : {};
        return {
          id: str(t['id']) ?? '',
          name: str(f['name']) ?? '',
          arguments: str(f['arguments']) ?? '{}',
        };
      });
    // The plan Cohere writes before calling tools is the message's text.
    if (!text && typeof m['tool_plan'] === 'string') text = m['tool_plan'];
    const native = str(json['finish_reason']) ?? null;
    const finish = normaliseFinish(native, COHERE_FINISH);
    const usage = isObj(json['usage']) ? json['usage'] : null;
    const tokens = usage ? fromCohereUsage(usage) : ZERO;
    const completion = buildCompletion({
      id: str(json['id']) ?? '',
      model: call.upstreamModel,
      created: nowSeconds(),
      text: text || (toolCalls.length > 0 ? null : ''),
      ...(thinking
        ? {
            reasoning: thinking,
            reasoningDetails: [
              {
                type: 'reasoning.text',
                text: thinking,
                signature: null,
                format: COHERE_REASONING_FORMAT,
                index: 0,
              },
            ],
          }
        : {}),
      toolCalls,
      finishReason: finish,
      nativeFinishReason: native,
      tokens,
    });
    if (!usage) delete completion['usage'];
    return {
      completion,
      tokens,
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
    return upstreamHttpError(status, body, headers, COHERE_ERROR_DIALECT);
  }
}

export const cohereProvider: ProviderAdapter = new CohereAdapter();
