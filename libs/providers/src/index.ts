export * from './provider.js';
export * from './errors/index.js';
export * from './sse.js';
export * from './openai-compatible/openai-compatible.adapter.js';
export * from './openai/openai.provider.js';
export * from './upstream-call.js';
export * from './registry.js';
export * from './estimate.js';
