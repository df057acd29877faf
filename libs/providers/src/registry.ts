import type { ProviderAdapter } from './core/adapter.js';
import { bedrockProvider } from './bedrock/bedrock.provider.js';
import { openaiProvider } from './openai/openai.provider.js';

/**
 * Provider adapters by kind. A catalog provider names one of these kinds; the connector's
 * accounts hold the credentials. Core code never imports a provider folder: only this registry
 * does.
 */
export const PROVIDER_ADAPTERS: Readonly<Record<string, ProviderAdapter>> = {
  openai: openaiProvider,
  bedrock: bedrockProvider,
};

export function adapterFor(kind: string): ProviderAdapter | undefined {
  return Object.hasOwn(PROVIDER_ADAPTERS, kind) ? PROVIDER_ADAPTERS[kind] : undefined;
}
