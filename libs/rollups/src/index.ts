export * from './sketch.js';
export * from './buckets.js';
export * from './facts.js';
export * from './sql.js';
export * from './schema.js';
export * from './store.js';
export * from './reader.js';
export * from './records.js';
