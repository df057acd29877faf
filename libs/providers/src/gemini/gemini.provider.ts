/**
 * Google Gemini, natively: the Gemini API (Generative Language, kind `gemini`) and Vertex AI
 * (kind `vertex`) speak the same `generateContent` wire and differ only in the URL and the
 * credentials:
 *
 * - `gemini`: `POST {base}/v1beta/models/{model}:generateContent` or
 *   `:streamGenerateContent?alt=sse`, `x-goog-api-key: <api key>`;
 * - `vertex`: `POST {base}/v1/projects/{project}/locations/{location}/publishers/google/models/
 *   {model}:generateContent|:streamGenerateContent?alt=sse`, `Authorization: Bearer <token>`
 *   (default base `https://{location}-aiplatform.googleapis.com`, `aiplatform.googleapis.com`
 *   for the `global` location).
 */
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
import type { UpstreamError } from '../errors/index.js';
import { GeminiStreamDecoder, geminiCompletion } from './gemini.decoder.js';
import { geminiHttpError } from './gemini.errors.js';
import { GEMINI_PARAMS } from './gemini.params.js';
import { contentsOf, systemInstructionOf } from './gemini.request.js';

const CAPABILITIES: Omit<ProviderCapabilities, 'parameters'> = {
  streaming: true,
  streamUsage: true,
  systemPrompt: true,
  tools: true,
  toolChoice: true,
  parallelToolCalls: true,
  jsonMode: true,
  jsonSchema: true,
  vision: true,
  reasoning: true,
  // A trailing model turn is context, not an answer to continue: Gemini has no prefill.
  prefill: false,
  multipleChoices: true,
  // Implicit caching reports `cachedContentTokenCount` (read), but there is no `cache_control`
  // and no cache-write usage: explicit caches are a separate API (`cachedContents`).
  promptCaching: false,
};

interface Route {
  kind: string;
  credentialType: 'api_key' | 'vertex';
  defaultBaseUrl: string;
  url(base: string, model: string, method: string, connection: ProviderConnection): string;
  auth(connection: ProviderConnection): Record<string, string>;
}

const enc = encodeURIComponent;

/** A model id as it may come from a catalog: `gemini-2.5-pro`, or `models/gemini-2.5-pro`. */
const modelPath = (model: string): string => enc(model.replace(/^models\//, ''));

const GEMINI_API: Route = {
  kind: 'gemini',
  credentialType: 'api_key',
  defaultBaseUrl: 'https://generativelanguage.googleapis.com',
  url: (base, model, method) => `${base}/v1beta/models/${modelPath(model)}:${method}`,
  auth: (c): Record<string, string> =>
    c.credentials.type === 'api_key' ? { 'x-goog-api-key': c.credentials.apiKey } : {},
};

/** Vertex AI's regional endpoint for a location (`global` has no region prefix). */
export function vertexBaseUrl(location: string): string {
  return location === 'global'
    ? 'https://aiplatform.googleapis.com'
    : `https://${location}-aiplatform.googleapis.com`;
}

const VERTEX: Route = {
  kind: 'vertex',
  credentialType: 'vertex',
  defaultBaseUrl: 'https://{location}-aiplatform.googleapis.com',
  url: (base, model, method, c) => {
    if (c.credentials.type !== 'vertex') return base;
    const { projectId, location } = c.credentials;
    const root = base.includes('{location}') ? vertexBaseUrl(location) : base;
    return `${root}/v1/projects/${enc(projectId)}/locations/${enc(location)}/publishers/google/models/${modelPath(model)}:${method}`;
  },
  auth: (c): Record<string, string> =>
    c.credentials.type === 'vertex' ? { authorization: `Bearer ${c.credentials.accessToken}` } : {},
};

export class GeminiAdapter implements ProviderAdapter {
  readonly kind: string;
  readonly protocol = 'gemini';
  readonly capabilities: ProviderCapabilities = {
    ...CAPABILITIES,
    parameters: parametersOf(GEMINI_PARAMS),
  };
  readonly credentialTypes: readonly string[];
  readonly defaultBaseUrl: string;

  constructor(private readonly route: Route) {
    this.kind = route.kind;
    this.credentialTypes = [route.credentialType];
    this.defaultBaseUrl = route.defaultBaseUrl;
  }

  async prepareRequest(
    call: GenerationCall,
    connection: ProviderConnection,
    opts: PrepareOptions,
  ): Promise<PreparedRequest> {
    if (connection.credentials.type !== this.route.credentialType) {
      throw misconfigured(
        `Provider kind '${this.kind}' cannot use '${connection.credentials.type}' credentials.`,
      );
    }
    const request = readChatRequest(call.body);
    const body: Json = { contents: contentsOf(request) };
    const system = systemInstructionOf(request);
    if (system) body['systemInstruction'] = system;
    const { dropped } = applyParameters(
      GEMINI_PARAMS,
      body,
      {
        body: call.body,
        request,
        upstreamModel: call.upstreamModel,
        stream: call.stream,
        maxOutputTokens: call.maxOutputTokens,
      },
      { requireParameters: opts.requireParameters, provider: this.kind },
    );
    const base = connection.baseUrl.replace(/\/+$/, '');
    const method = call.stream ? 'streamGenerateContent?alt=sse' : 'generateContent';
    return {
      method: 'POST',
      url: this.route.url(base, call.upstreamModel, method, connection),
      headers: {
        'content-type': 'application/json',
        accept: call.stream ? 'text/event-stream' : 'application/json',
        ...this.route.auth(connection),
        ...connection.headers,
      },
      body: JSON.stringify(body),
      droppedParameters: dropped,
    };
  }

  openStream(call: GenerationCall): StreamDecoder {
    return new GeminiStreamDecoder(call.upstreamModel);
  }

  parseCompletion(json: unknown, call: GenerationCall): ParsedCompletion {
    const r = geminiCompletion(json, call.upstreamModel);
    return {
      completion: r.completion,
      tokens: r.tokens ?? { prompt: 0, completion: 0, cachedRead: 0, cacheWrite: 0, reasoning: 0 },
      usageReported: r.tokens !== null,
      finishReason: r.finishReason,
      nativeFinishReason: r.nativeFinishReason,
    };
  }

  mapError(
    status: number,
    body: string,
    headers: Record<string, string | string[] | undefined>,
  ): UpstreamError {
    return geminiHttpError(status, body, headers);
  }
}

/** The Gemini API (Google AI Studio keys). */
export const geminiProvider = new GeminiAdapter(GEMINI_API);

/** Vertex AI's Gemini models (a service account's access token). */
export const vertexProvider = new GeminiAdapter(VERTEX);
