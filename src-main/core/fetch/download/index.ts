/** HTTP downloads for the connected side: undici, retries, Range resume, proxies, mirrors. */
export * from './proxy.js';
export * from './mirrors.js';
export * from './retry.js';
export * from './http-client.js';
export * from './download-file.js';
export * from './limit.js';
export * from './segmented.js';
