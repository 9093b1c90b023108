/**
 * Offline services: `openServeSources` (verified bundle folder or local store), then
 * `OfflineServer.start` (file server + read-only registry) with `status()` for live counters and
 * `stop()`. TLS material comes from core/tls (`ensureServerCert` or `loadUserCert`).
 */
export * from './server.js';
export * from './sources.js';
export { openVerifiedBundle, restrictSource, type VerifiedBundle } from './verified-source.js';
