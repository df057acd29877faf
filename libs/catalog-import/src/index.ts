export * from './build.js';
export * from './model-ids.js';
export * from './models-dev.js';
export * from './parameters.js';
export * from './providers.js';
export * from './render.js';
