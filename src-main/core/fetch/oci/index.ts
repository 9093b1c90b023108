/** OCI distribution client (pull side): references, auth, manifests, platforms, blobs. */
export * from './reference.js';
export * from './platform.js';
export * from './media.js';
export * from './auth.js';
export * from './registry-client.js';
export * from './pull.js';
