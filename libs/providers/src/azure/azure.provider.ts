/**
 * Azure OpenAI: OpenAI's chat completions served by a deployment of an Azure resource.
 *
 * Sources:
 * - REST reference, https://learn.microsoft.com/azure/ai-services/openai/reference:
 *   `POST {endpoint}/openai/deployments/{deployment-id}/chat/completions?api-version={version}`,
 *   the key in an `api-key` header; the request body is OpenAI's (the deployment names the model).
 * - Content filtering, https://learn.microsoft.com/azure/ai-services/openai/concepts/content-filter:
 *   `prompt_filter_results` on the answer (a stream opens with a chunk that carries only them,
 *   with empty `id`, `model` and `object`), `content_filter_results` on each choice, finish
 *   reason `content_filter`; a filtered prompt is a 400 with code `content_filter`.
 * - Quotas, https://learn.microsoft.com/azure/ai-services/openai/quotas-limits: 429 with
 *   `retry-after` (and `retry-after-ms`).
 *
 * The account's `azure` credentials give the key, the `api-version` and the deployment of each
 * upstream model (a model without one is called by a deployment of its own name).
 */
import type { ProviderConnection } from '@turnpike/contracts';
import type { GenerationCall } from '../core/adapter.js';
import { misconfigured } from '../core/param-map.js';
import { OPENAI_PARAMS } from '../openai/openai.provider.js';
import { OpenAICompatibleAdapter } from '../openai-compatible/openai-compatible.adapter.js';
import { COMPATIBLE_CAPABILITIES } from '../openai-compatible/family-params.js';
import { AZURE_ERROR_DIALECT } from './azure.errors.js';

function azureCredentials(connection: ProviderConnection) {
  const c = connection.credentials;
  if (c.type !== 'azure') throw misconfigured(`Azure needs 'azure' credentials, not '${c.type}'.`);
  return c;
}

/** The deployment that serves `model` on this account. */
export function deploymentOf(connection: ProviderConnection, model: string): string {
  return azureCredentials(connection).deployments[model] ?? model;
}

export const azureProvider = new OpenAICompatibleAdapter({
  kind: 'azure',
  protocol: 'azure',
  // Every Azure resource has its own endpoint: an account must name it.
  defaultBaseUrl: 'https://RESOURCE.openai.azure.com',
  capabilities: COMPATIBLE_CAPABILITIES,
  params: OPENAI_PARAMS,
  credentialTypes: ['azure'],
  errors: AZURE_ERROR_DIALECT,
  url: (connection: ProviderConnection, call: GenerationCall) => {
    const c = azureCredentials(connection);
    const base = connection.baseUrl.replace(/\/+$/, '');
    const deployment = encodeURIComponent(deploymentOf(connection, call.upstreamModel));
    return `${base}/openai/deployments/${deployment}/chat/completions?api-version=${encodeURIComponent(c.apiVersion)}`;
  },
  auth: (connection: ProviderConnection) => ({ 'api-key': azureCredentials(connection).apiKey }),
});
