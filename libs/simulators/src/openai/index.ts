export * from './openai-simulator.js';
