export * from './accounts/account-book.js';
export * from './accounts/account-sealing.js';
export * from './accounts/key-pool.js';
export * from './attempt-executor.js';
export * from './reply-sink.js';
export * from './transport.js';
export * from './in-process.transport.js';
