export * from './rank.js';
export * from './request.js';
export * from './health.js';
