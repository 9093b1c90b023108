export * from './verify-bundle.js';
export { HashPool, defaultHashThreads, type HashOutcome } from './hash-pool.js';
