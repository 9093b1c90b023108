/**
 * Channel names only, with no schema library: the preload imports this to refuse any channel
 * the contract does not name, without pulling zod into the sandboxed preload bundle.
 * contract.ts checks (by type) that every name here has schemas.
 */
export const REQUEST_CHANNELS = [
  'app.info',
  'app.openExternal',
  'app.copyText',
  'dialog.pickFolder',
  'dialog.pickFile',
  'jobs.get',
  'jobs.list',
  'jobs.cancel',
  'plan.kubesprayVersions',
  'plan.prepare',
  'plan.compute',
  'plan.sizes',
  'fetch.start',
  'fetch.pause',
  'fetch.resume',
  'fetch.retryFailed',
  'drives.list',
  'export.start',
  'media.scan',
  'bundle.open',
  'verify.start',
  'import.start',
  'serve.interfaces',
  'serve.start',
  'serve.stop',
  'serve.status',
  'vars.generate',
  'vars.save',
  'deploy.start',
  'keys.list',
  'keys.generate',
  'keys.exportPublic',
  'keys.trust',
  'keys.trustFile',
  'keys.untrust',
  'settings.get',
  'settings.set',
  'settings.pickStore',
] as const;
export type RequestChannel = (typeof REQUEST_CHANNELS)[number];

/** Main → renderer: one channel, payloads are AppEvent values (contract.ts). */
export const EVENT_CHANNEL = 'ferry:event';
/** Every request channel is sent over IPC with this prefix, so nothing else can collide. */
export const IPC_PREFIX = 'ferry:';

export function isRequestChannel(c: unknown): c is RequestChannel {
  return typeof c === 'string' && (REQUEST_CHANNELS as readonly string[]).includes(c);
}
