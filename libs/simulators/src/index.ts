export * from './openai/index.js';
export * from './bedrock/index.js';
export * from './core/protocol.js';
export { SimulatorServer } from './core/server.js';
export { SimHttpError, redactKey } from './core/sim-error.js';
export type { Simulator } from './core/types.js';
export * from './registry.js';
export { REASONING_WORDS } from './core/plan.js';
export type { SimRequestSummary } from './core/types.js';
