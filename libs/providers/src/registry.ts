import { openaiProvider } from './openai/openai.provider.js';
import type { ProviderAdapter } from './provider.js';

/** Provider adapters by kind. A configured provider account names one of these kinds. */
export const PROVIDER_ADAPTERS: Readonly<Record<string, ProviderAdapter>> = {
  openai: openaiProvider,
};

export function adapterFor(kind: string): ProviderAdapter | undefined {
  return PROVIDER_ADAPTERS[kind];
}
