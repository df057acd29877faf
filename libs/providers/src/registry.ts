import type { ProviderAdapter } from './core/adapter.js';
import { openaiProvider } from './openai/openai.provider.js';
import { openaiCompatibleHostProvider } from './openai-compatible-host/openai-compatible-host.provider.js';

/**
 * Provider adapters by kind. A catalog provider names one of these kinds; the connector's
 * accounts hold the credentials. Core code never imports a provider folder: only this registry
 * does.
 */
export const PROVIDER_ADAPTERS: Readonly<Record<string, ProviderAdapter>> = {
  openai: openaiProvider,
  'openai-compatible': openaiCompatibleHostProvider,
};

export function adapterFor(kind: string): ProviderAdapter | undefined {
  return Object.hasOwn(PROVIDER_ADAPTERS, kind) ? PROVIDER_ADAPTERS[kind] : undefined;
}
