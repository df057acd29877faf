export * from './cases.js';
export * from './result.js';
export * from './targets.js';
export * from './direct.js';
export * from './json-schema.js';
export * from './gateway.js';
