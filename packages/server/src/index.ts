export * from './engine/index.js';
export * from './errors/app-error.js';
