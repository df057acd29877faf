/**
 * The Azure OpenAI wire: OpenAI's chat completions under a deployment path,
 * `POST /openai/deployments/{deployment}/chat/completions?api-version=...`, authenticated by an
 * `api-key` header, with Azure's error bodies and content-filter annotations
 * (`prompt_filter_results` on the answer, `content_filter_results` on each choice; a stream opens
 * with a chunk that carries only the prompt's). The deployment names the model.
 */
import { runChat } from '../core/chat-flow.js';
import type { Exchange } from '../core/http-util.js';
import { systemFingerprint } from '../core/ids.js';
import type { ChatDialect, SimContext, SimProtocol } from '../core/protocol.js';
import { keyAccepted } from '../core/protocol.js';
import { parseChatRequest, type ChatRequest } from '../openai/chat-request.js';
import { openaiChatDialect } from '../openai/protocol.js';
import { azureErrorForStatus, azureErrors, SAFE_FILTER_RESULTS } from './errors.js';

const CHAT_PATH = /^\/openai\/deployments\/([^/]+)\/chat\/completions$/;

const promptFilterResults = () => [
  {
    prompt_index: 0,
    content_filter_results: {
      ...SAFE_FILTER_RESULTS,
      jailbreak: { filtered: false, detected: false },
    },
  },
];

function apiKeyOf(ex: Exchange): string {
  const h = ex.req.headers['api-key'];
  return (Array.isArray(h) ? h[0] : h)?.trim() ?? '';
}

function azureChatDialect(name: string, deployment: string): ChatDialect<ChatRequest> {
  const base = openaiChatDialect(systemFingerprint(name), {
    leadingChunks: () => [
      {
        choices: [],
        created: 0,
        id: '',
        model: '',
        object: '',
        prompt_filter_results: promptFilterResults(),
      },
    ],
    annotateChoice: (c) => {
      c['content_filter_results'] = {};
    },
    annotateCompletion: (c) => {
      c['prompt_filter_results'] = promptFilterResults();
      for (const choice of (c['choices'] as Array<Record<string, unknown>> | undefined) ?? [])
        choice['content_filter_results'] = SAFE_FILTER_RESULTS;
    },
  });
  return {
    ...base,
    authorize(ctx: SimContext, ex: Exchange) {
      if (!keyAccepted(ctx, apiKeyOf(ex))) throw azureErrors.accessDenied();
    },
    // The deployment is the model; the body's `model` is optional and ignored.
    parse: (body) =>
      parseChatRequest(
        typeof body === 'object' && body !== null ? { ...body, model: deployment } : body,
      ),
    modelNotFound: () => azureErrors.deploymentNotFound(),
    errorForStatus: (status, ctx) => azureErrorForStatus(status, ctx),
    credentialOf: apiKeyOf,
  };
}

export function azureProtocol(name: string): SimProtocol {
  return {
    name: 'azure',
    basePath: '',
    responseHeaders: (ex) => ({
      'x-request-id': ex.id,
      'apim-request-id': ex.id,
      'x-ms-region': 'Sim Central',
      'openai-processing-ms': String(ex.elapsedMs),
    }),
    notFound: () => azureErrors.resourceNotFound(),
    internalError: () => azureErrors.serverError(),
    async route(ctx: SimContext, ex: Exchange, path: string, url: URL): Promise<boolean> {
      const m = CHAT_PATH.exec(path);
      if (ex.method !== 'POST' || !m?.[1]) return false;
      if (!url.searchParams.get('api-version')) throw azureErrors.missingApiVersion();
      await runChat(ctx, ex, url, azureChatDialect(name, decodeURIComponent(m[1])));
      return true;
    },
  };
}
