export * from './logger.js';
export * from './client.js';
export * from './codec.js';
export * from './batching-producer.js';
export * from './consumer.js';
export * from './admin.js';
export * from './reply-inbox.js';
export * from './compacted-view.js';
