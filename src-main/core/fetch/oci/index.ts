/** OCI distribution client: references, auth, manifests, platforms, blobs; pull and push. */
export * from './reference.js';
export * from './platform.js';
export * from './media.js';
export * from './auth.js';
export * from './registry-client.js';
export * from './pull.js';
export * from './push-client.js';
