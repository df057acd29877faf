export * from './openai-simulator.js';
export * from './openai-spec.js';
