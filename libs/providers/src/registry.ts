import { anthropicProvider } from './anthropic/anthropic.provider.js';
import type { ProviderAdapter } from './core/adapter.js';
import { PROVIDER_KINDS, type ProviderKind } from '@turnpike/contracts';
import { geminiProvider, vertexProvider } from './gemini/gemini.provider.js';
import { bedrockProvider } from './bedrock/bedrock.provider.js';
import { openaiProvider } from './openai/openai.provider.js';
import { openaiCompatibleHostProvider } from './openai-compatible-host/openai-compatible-host.provider.js';
import { azureProvider } from './azure/azure.provider.js';
import { cerebrasProvider } from './cerebras/cerebras.provider.js';
import { cohereProvider } from './cohere/cohere.provider.js';
import { deepseekProvider } from './deepseek/deepseek.provider.js';
import { fireworksProvider } from './fireworks/fireworks.provider.js';
import { groqProvider } from './groq/groq.provider.js';
import { lmstudioProvider } from './lmstudio/lmstudio.provider.js';
import { mistralProvider } from './mistral/mistral.provider.js';
import { ollamaProvider } from './ollama/ollama.provider.js';
import { openrouterProvider } from './openrouter/openrouter.provider.js';
import { perplexityProvider } from './perplexity/perplexity.provider.js';
import { togetherProvider } from './together/together.provider.js';
import { vllmProvider } from './vllm/vllm.provider.js';
import { xaiProvider } from './xai/xai.provider.js';

/**
 * Provider adapters by kind: exactly the kinds of {@link PROVIDER_KINDS} (`libs/contracts`), the
 * list the catalog admin API validates against; the type makes a missing one a compile error,
 * the unit test an extra one.
 */
export const PROVIDER_ADAPTERS: Readonly<Record<ProviderKind, ProviderAdapter>> = {
  openai: openaiProvider,
  anthropic: anthropicProvider,
  gemini: geminiProvider,
  vertex: vertexProvider,
  'openai-compatible': openaiCompatibleHostProvider,
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
  bedrock: bedrockProvider,
};

export function isProviderKind(kind: string): kind is ProviderKind {
  return (PROVIDER_KINDS as readonly string[]).includes(kind);
}

export function adapterFor(kind: string): ProviderAdapter | undefined {
  return isProviderKind(kind) ? PROVIDER_ADAPTERS[kind] : undefined;
}
