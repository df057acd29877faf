export * from './errors.js';
export * from './chat-request.js';
export * from './chat-response.js';
export * from './json-depth.js';
