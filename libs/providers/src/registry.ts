import { anthropicProvider } from './anthropic/anthropic.provider.js';
import type { ProviderAdapter } from './core/adapter.js';
import { PROVIDER_KINDS, type ProviderKind } from '@turnpike/contracts';
import { geminiProvider, vertexProvider } from './gemini/gemini.provider.js';
import { openaiProvider } from './openai/openai.provider.js';
import { openaiCompatibleHostProvider } from './openai-compatible-host/openai-compatible-host.provider.js';

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
};

export function isProviderKind(kind: string): kind is ProviderKind {
  return (PROVIDER_KINDS as readonly string[]).includes(kind);
}

export function adapterFor(kind: string): ProviderAdapter | undefined {
  return isProviderKind(kind) ? PROVIDER_ADAPTERS[kind] : undefined;
}
