export * from './master-keys.js';
export * from './envelope.js';
export * from './transport.js';
export * from './fingerprint.js';
export * from './mask.js';
