export * from './keystore.js';
export { fingerprint } from './fingerprint.js';
