export * from './store.js';
export { createStore, type CreateStoreOptions } from './create-store.js';
export { MAX_LOG_STREAM_BYTES, MAX_RESULTS_BYTES, MAX_TEXT_BYTES } from './payload.js';
export { MAX_PAGE_LIMIT, MIN_PAGE_LIMIT } from './cursor.js';
