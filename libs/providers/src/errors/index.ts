export * from './dialect.js';
export * from './policy.js';
export * from './retry-after.js';
export * from './scrub.js';
export * from './transport.js';
