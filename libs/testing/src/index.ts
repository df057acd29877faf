export * from './infra/index.js';
export * from './platform/platform.js';
export * from './platform/local-catalog.js';
export * from './simulators/index.js';
export * from './assertions/stream-pacing.js';
export * from './fixtures/usage-event.js';
export * from './fixtures/traffic.js';
