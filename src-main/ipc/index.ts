/** The main-side IPC layer: the contract, the job payloads, and the backend that serves them. */
export * from './contract.js';
export * from './job-payloads.js';
export { createBackend, type AppBackend } from './backend.js';
export { createDispatcher, type Dispatch } from './dispatcher.js';
export type { AppServices, Dialogs, DriveSource } from './services.js';
export { PickRegistry } from './picks.js';
export { driveView } from './handlers/drives.js';
