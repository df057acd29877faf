import type { ProviderAdapter } from './core/adapter.js';
import { azureProvider } from './azure/azure.provider.js';
import { cerebrasProvider } from './cerebras/cerebras.provider.js';
import { cohereProvider } from './cohere/cohere.provider.js';
import { deepseekProvider } from './deepseek/deepseek.provider.js';
import { fireworksProvider } from './fireworks/fireworks.provider.js';
import { groqProvider } from './groq/groq.provider.js';
import { lmstudioProvider } from './lmstudio/lmstudio.provider.js';
import { mistralProvider } from './mistral/mistral.provider.js';
import { ollamaProvider } from './ollama/ollama.provider.js';
import { openaiProvider } from './openai/openai.provider.js';
import { openrouterProvider } from './openrouter/openrouter.provider.js';
import { perplexityProvider } from './perplexity/perplexity.provider.js';
import { togetherProvider } from './together/together.provider.js';
import { vllmProvider } from './vllm/vllm.provider.js';
import { xaiProvider } from './xai/xai.provider.js';

/**
 * Provider adapters by kind. A catalog provider names one of these kinds; the connector's
 * accounts hold the credentials. Core code never imports a provider folder: only this registry
 * does.
 */
export const PROVIDER_ADAPTERS: Readonly<Record<string, ProviderAdapter>> = {
  openai: openaiProvider,
  azure: azureProvider,
  mistral: mistralProvider,
  cohere: cohereProvider,
  // The OpenAI-compatible family: compositions of the OpenAI base with their quirks declared.
  groq: groqProvider,
  together: togetherProvider,
  fireworks: fireworksProvider,
  deepseek: deepseekProvider,
  xai: xaiProvider,
  perplexity: perplexityProvider,
  cerebras: cerebrasProvider,
  openrouter: openrouterProvider,
  vllm: vllmProvider,
  ollama: ollamaProvider,
  lmstudio: lmstudioProvider,
};

export function adapterFor(kind: string): ProviderAdapter | undefined {
  return Object.hasOwn(PROVIDER_ADAPTERS, kind) ? PROVIDER_ADAPTERS[kind] : undefined;
}
