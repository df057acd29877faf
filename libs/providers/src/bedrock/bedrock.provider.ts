/**
 * AWS Bedrock, natively: the Converse API (`POST {base}/model/{modelId}/converse`) and
 * ConverseStream (`.../converse-stream`, the binary AWS event stream), signed with SigV4
 * (`core/signing/aws-sigv4.ts`) from an account's AWS credentials (access key, secret, optional
 * session token, region). The default base URL is `https://bedrock-runtime.{region}.amazonaws.com`,
 * `{region}` being the account's region; the model id goes into the path URI-encoded
 * (`anthropic.claude-3-5-sonnet-20241022-v2:0` → `...-v2%3A0`), inference profiles and ARNs too.
 */
import { randomUUID } from 'node:crypto';
import type { ProviderConnection } from '@turnpike/contracts';
import { protocolError, type UpstreamError } from '../errors/index.js';
import type {
  GenerationCall,
  ParsedCompletion,
  PreparedRequest,
  PrepareOptions,
  ProviderAdapter,
} from '../core/adapter.js';
import type { ProviderCapabilities } from '../core/capabilities.js';
import type { StreamDecoder } from '../core/decoder.js';
import { isObj, type Json } from '../core/json.js';
import {
  buildCompletion,
  nowSeconds,
  type ReasoningDetail,
  type ToolCallOut,
} from '../core/output.js';
import { applyParameters, misconfigured, parametersOf } from '../core/param-map.js';
import { readChatRequest } from '../core/request-model.js';
import { signRequest, uriEncode } from '../core/signing/aws-sigv4.js';
import { fromBedrockUsage } from '../core/usage.js';
import { countTokens } from '../estimate.js';
import { BedrockStreamDecoder, bedrockFinish } from './bedrock.decoder.js';
import { bedrockHttpError } from './bedrock.errors.js';
import { BEDROCK_PARAMS } from './bedrock.params.js';
import {
  converseMessages,
  hasToolBlocks,
  historyToolSpecs,
  reasoningFormatOf,
  structuredOutputTool,
  systemBlocks,
  toolSpecs,
  type ConverseRequest,
} from './bedrock.request.js';

/** The signing name of bedrock-runtime. */
export const BEDROCK_SIGNING_SERVICE = 'bedrock';

export const BEDROCK_CAPABILITIES: Omit<ProviderCapabilities, 'parameters'> = {
  streaming: true,
  streamUsage: true,
  systemPrompt: true,
  tools: true,
  toolChoice: true,
  parallelToolCalls: true,
  // Converse has no JSON mode: both are a forced tool (see bedrock.request.ts).
  jsonMode: true,
  jsonSchema: true,
  vision: true,
  // Claude's extended thinking (`reasoningContent`), and models that reason on their own.
  reasoning: true,
  // A trailing assistant message is continued (Claude and most Converse models).
  prefill: true,
  multipleChoices: false,
  // `cachePoint` blocks; `cacheReadInputTokens` / `cacheWriteInputTokens` in usage.
  promptCaching: true,
};

export interface BuiltConverse {
  body: ConverseRequest;
  dropped: string[];
}

/** The Converse body of a call (everything but the model id, which is in the URL). */
export function buildConverseRequest(
  call: GenerationCall,
  requireParameters: boolean,
): BuiltConverse {
  const request = readChatRequest(call.body);
  const body: ConverseRequest = { messages: converseMessages(request.turns, call.upstreamModel) };
  const system = systemBlocks(request);
  if (system.length > 0) body.system = system;
  const { dropped } = applyParameters(
    BEDROCK_PARAMS,
    body,
    {
      body: call.body,
      request,
      upstreamModel: call.upstreamModel,
      stream: call.stream,
      maxOutputTokens: call.maxOutputTokens,
    },
    { requireParameters, provider: 'bedrock' },
  );
  // Converse refuses toolUse/toolResult blocks without a toolConfig that names their tools.
  if (hasToolBlocks(body.messages)) {
    // `tool_choice: none` left the declared tools out: the conversation needs them back.
    const tools = [
      ...(body.toolConfig?.tools ?? []),
      ...(request.toolChoice === 'none' ? toolSpecs(request.tools) : []),
    ];
    const declared = new Set(
      tools.map((t) => (isObj(t['toolSpec']) ? String(t['toolSpec']['name']) : '')),
    );
    const all = [...tools, ...historyToolSpecs(request, declared)];
    if (all.length > 0) body.toolConfig = { ...body.toolConfig, tools: all };
  }
  // Claude takes no sampling parameters while it thinks: say which were dropped.
  if (isObj(body.additionalModelRequestFields?.['thinking'])) {
    const inf = body.inferenceConfig ?? {};
    if (request.temperature !== undefined && inf['temperature'] === undefined)
      dropped.push('temperature');
    if (request.topP !== undefined && inf['topP'] === undefined) dropped.push('top_p');
    if (request.topK !== undefined) dropped.push('top_k');
  }
  return { body, dropped };
}

const completionMeta = (call: GenerationCall) => ({
  id: `chatcmpl-bedrock-${randomUUID()}`,
  model: call.upstreamModel,
  created: nowSeconds(),
});

export class BedrockAdapter implements ProviderAdapter {
  readonly kind = 'bedrock';
  readonly protocol = 'bedrock';
  readonly credentialTypes = ['aws'] as const;
  readonly defaultBaseUrl = 'https://bedrock-runtime.{region}.amazonaws.com';
  readonly capabilities: ProviderCapabilities = {
    ...BEDROCK_CAPABILITIES,
    parameters: parametersOf(BEDROCK_PARAMS),
  };

  prepareRequest(
    call: GenerationCall,
    connection: ProviderConnection,
    opts: PrepareOptions,
  ): Promise<PreparedRequest> {
    const c = connection.credentials;
    if (c.type !== 'aws')
      return Promise.reject(
        misconfigured(`Provider kind 'bedrock' cannot use '${c.type}' credentials.`),
      );
    const { body, dropped } = buildConverseRequest(call, opts.requireParameters);
    const base = new URL(connection.baseUrl.replace(/\{region\}|%7Bregion%7D/gi, c.region));
    const path = `${base.pathname.replace(/\/+$/, '')}/model/${uriEncode(call.upstreamModel)}/${call.stream ? 'converse-stream' : 'converse'}`;
    const text = JSON.stringify(body);
    const signed = signRequest(
      {
        method: 'POST',
        path,
        // undici sends `host` from the URL: the same value is signed.
        headers: { host: base.host, 'content-type': 'application/json' },
        body: text,
      },
      {
        accessKeyId: c.accessKeyId,
        secretAccessKey: c.secretAccessKey,
        sessionToken: c.sessionToken,
      },
      { region: c.region, service: BEDROCK_SIGNING_SERVICE, now: opts.now, signBody: true },
    );
    // An account's extra headers travel unsigned and never replace a signed one.
    const extra: Record<string, string> = {};
    for (const [k, v] of Object.entries(connection.headers ?? {})) {
      const name = k.toLowerCase();
      if (name === 'host' || name === 'content-type' || name === 'authorization') continue;
      if (name.startsWith('x-amz-')) continue;
      extra[name] = v;
    }
    return Promise.resolve({
      method: 'POST',
      url: `${base.origin}${path}`,
      headers: { ...extra, 'content-type': 'application/json', ...signed.headers },
      body: text,
      droppedParameters: dropped,
    });
  }

  openStream(call: GenerationCall): StreamDecoder {
    return new BedrockStreamDecoder({
      meta: completionMeta(call),
      structuredTool: structuredOutputTool(readChatRequest(call.body))?.name ?? null,
      reasoningFormat: reasoningFormatOf(call.upstreamModel),
    });
  }

  /** A Converse response: `{output: {message: {role, content}}, stopReason, usage, metrics}`. */
  parseCompletion(json: unknown, call: GenerationCall): ParsedCompletion {
    if (!isObj(json) || !isObj(json['output'])) throw protocolError('bad_response', 200);
    const message = isObj(json['output']['message']) ? json['output']['message'] : {};
    const content = Array.isArray(message['content']) ? message['content'].filter(isObj) : [];
    const structured = structuredOutputTool(readChatRequest(call.body))?.name ?? null;
    const format = reasoningFormatOf(call.upstreamModel);
    let text: string | null = null;
    let structuredText: string | null = null;
    let reasoning = '';
    const details: ReasoningDetail[] = [];
    const toolCalls: ToolCallOut[] = [];
    let structuredSeen = false;
    for (const block of content) {
      if (typeof block['text'] === 'string') text = (text ?? '') + block['text'];
      else if (isObj(block['toolUse'])) {
        const t = block['toolUse'];
        const name = typeof t['name'] === 'string' ? t['name'] : '';
        const args = JSON.stringify(t['input'] ?? {});
        if (structured !== null && name === structured) {
          structuredSeen = true;
          structuredText = (structuredText ?? '') + args;
        } else {
          toolCalls.push({ id: String(t['toolUseId'] ?? ''), name, arguments: args });
        }
      } else if (isObj(block['reasoningContent'])) {
        const r = block['reasoningContent'];
        if (isObj(r['reasoningText'])) {
          const rt = r['reasoningText'];
          const piece = typeof rt['text'] === 'string' ? rt['text'] : '';
          reasoning += piece;
          details.push({
            type: 'reasoning.text',
            text: piece,
            signature: typeof rt['signature'] === 'string' ? rt['signature'] : null,
            format,
            index: details.length,
          });
        } else if (typeof r['redactedContent'] === 'string') {
          details.push({
            type: 'reasoning.encrypted',
            data: r['redactedContent'],
            format,
            index: details.length,
          });
        }
      }
    }
    const native = typeof json['stopReason'] === 'string' ? json['stopReason'] : null;
    const finish = native === null ? null : bedrockFinish(native, toolCalls.length, structuredSeen);
    const usage: Json | null = isObj(json['usage']) ? json['usage'] : null;
    const tokens = usage
      ? fromBedrockUsage(usage, countTokens(reasoning))
      : { prompt: 0, completion: 0, cachedRead: 0, cacheWrite: 0, reasoning: 0 };
    return {
      completion: buildCompletion({
        ...completionMeta(call),
        // The structured-output tool's input is the answer (prose around it is not JSON).
        text: structuredText ?? text,
        ...(reasoning ? { reasoning } : {}),
        reasoningDetails: details,
        toolCalls,
        finishReason: finish,
        nativeFinishReason: native,
        tokens,
      }),
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
    return bedrockHttpError(status, body, headers);
  }
}

export const bedrockProvider = new BedrockAdapter();
