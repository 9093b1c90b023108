/** Fetch: a plan in, a verified, signed bundle out. */
export * from '../plan/plan.js';
export * from './fetch-bundle.js';
export * from './tarball.js';
