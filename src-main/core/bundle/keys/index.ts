export * from './keystore.js';
export { fingerprint } from './fingerprint.js';
export {
  generateRepoKey,
  repoKeyInfo,
  repoSigner,
  ensureRepoSigner,
  type RepoKeyInfo,
  type RepoSigner,
} from './repo-key.js';
