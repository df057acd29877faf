export * from './service-config.js';
export * from './readiness.js';
export * from './health.controller.js';
export * from './kafka.providers.js';
export * from './core.module.js';
export * from './bootstrap.js';
export * from './database.module.js';
export * from './usage-events.sink.js';
