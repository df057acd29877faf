/**
 * Mistral's own chat API (`POST {base}/v1/chat/completions`, default base
 * `https://api.mistral.ai`, `Authorization: Bearer`): OpenAI-like, with its differences mapped
 * declaratively (`mistral.params.ts`), its messages rebuilt from the neutral model
 * (`mistral.request.ts`: 9-character tool call ids, `prefix` prefill, thinking chunks), its
 * stream decoded by `mistral.decoder.ts` and its errors read by `mistral.errors.ts`.
 * Sources: https://docs.mistral.ai/api/ and the official SDK, mistralai/client-ts.
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
import { count, isObj, type Json } from '../core/json.js';
import {
  buildCompletion,
  type FinishReason,
  normaliseFinish,
  nowSeconds,
  type ReasoningDetail,
  type ToolCallOut,
} from '../core/output.js';
import { parametersOf } from '../core/param-map.js';
import { prepareJson, requireCredentials } from '../core/prepare.js';
import { fromOpenAIUsage } from '../core/usage.js';
import { bearer } from '../openai-compatible/openai-compatible.adapter.js';
import { COMPATIBLE_CAPABILITIES } from '../openai-compatible/family-params.js';
import {
  argumentsText,
  contentParts,
  MISTRAL_FINISH,
  MistralStreamDecoder,
} from './mistral.decoder.js';
import { MISTRAL_ERROR_DIALECT } from './mistral.errors.js';
import { MISTRAL_ONLY_FIELDS, MISTRAL_PARAMS } from './mistral.params.js';
import { MISTRAL_REASONING_FORMAT, mistralMessages } from './mistral.request.js';

const PARAMS = MISTRAL_PARAMS;
const ZERO = { prompt: 0, completion: 0, cachedRead: 0, cacheWrite: 0, reasoning: 0 };

class MistralAdapter implements ProviderAdapter {
  readonly kind = 'mistral';
  readonly protocol = 'mistral';
  readonly credentialTypes = ['api_key'] as const;
  readonly defaultBaseUrl = 'https://api.mistral.ai';
  readonly capabilities: ProviderCapabilities = {
    ...COMPATIBLE_CAPABILITIES,
    reasoning: true,
    prefill: true,
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
        messages: mistralMessages(request),
        stream: call.stream,
        ...Object.fromEntries(
          MISTRAL_ONLY_FIELDS.filter((k) => call.body[k] !== undefined).map((k) => [
            k,
            call.body[k],
          ]),
        ),
      }),
      url: `${connection.baseUrl.replace(/\/+$/, '')}/v1/chat/completions`,
      headers: bearer(connection),
    });
  }

  openStream(): StreamDecoder {
    return new MistralStreamDecoder();
  }

  parseCompletion(json: unknown): ParsedCompletion {
    if (!isObj(json) || !Array.isArray(json['choices'])) throw protocolError('bad_response');
    const usage = isObj(json['usage']) ? json['usage'] : null;
    const reported =
      usage !== null && count(usage['prompt_tokens']) + count(usage['completion_tokens']) > 0;
    const tokens = reported && usage ? fromOpenAIUsage(usage) : ZERO;
    const meta = {
      id: typeof json['id'] === 'string' ? json['id'] : '',
      model: typeof json['model'] === 'string' ? json['model'] : '',
      created: typeof json['created'] === 'number' ? json['created'] : nowSeconds(),
    };
    let finish: FinishReason | null = null;
    let native: string | null = null;
    const choices: Json[] = [];
    for (const c of json['choices']) {
      if (!isObj(c)) continue;
      const m = isObj(c['message']) ? c['message'] : {};
      const { text, thinking } = contentParts(m['content']);
      const toolCalls: ToolCallOut[] = (Array.isArray(m['tool_calls']) ? m['tool_calls'] : [])
        .filter(isObj)
        .map((t) => {
          const f = isObj(t['function']) ? t['function'] : {};
          return {
            id: typeof t['id'] === 'string' ? t['id'] : '',
            name: typeof f['name'] === 'string' ? f['name'] : '',
            arguments: argumentsText(f['arguments']),
          };
        });
      const nativeFinish = typeof c['finish_reason'] === 'string' ? c['finish_reason'] : null;
      const f = normaliseFinish(nativeFinish, MISTRAL_FINISH);
      if (native === null) {
        native = nativeFinish;
        finish = f;
      }
      const details: ReasoningDetail[] = thinking
        ? [
            {
              type: 'reasoning.text',
              text: thinking,
              signature: null,
              format: MISTRAL_REASONING_FORMAT,
              index: 0,
            },
          ]
        : [];
      const built = buildCompletion({
        ...meta,
        text: text === '' && toolCalls.length > 0 ? null : text,
        ...(thinking ? { reasoning: thinking, reasoningDetails: details } : {}),
        toolCalls,
        finishReason: f,
        nativeFinishReason: nativeFinish,
        tokens,
      });
      const choice = (built['choices'] as Json[])[0]!;
      choice['index'] = typeof c['index'] === 'number' ? c['index'] : choices.length;
      choices.push(choice);
    }
    const completion = buildCompletion({
      ...meta,
      text: null,
      finishReason: finish,
      nativeFinishReason: native,
      tokens,
    });
    completion['choices'] = choices;
    if (!reported) delete completion['usage'];
    return {
      completion,
      tokens,
      usageReported: reported,
      finishReason: finish,
      nativeFinishReason: native,
    };
  }

  mapError(
    status: number,
    body: string,
    headers: Record<string, string | string[] | undefined>,
  ): UpstreamError {
    return upstreamHttpError(status, body, headers, MISTRAL_ERROR_DIALECT);
  }
}

export const mistralProvider: ProviderAdapter = new MistralAdapter();
