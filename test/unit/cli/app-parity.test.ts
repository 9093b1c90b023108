import { describe, expect, it } from 'vitest';
import { commands, loadCommand } from '../../../src-main/cli/commands/index.js';
import { REQUEST_CHANNELS, type RequestChannel } from '../../../src-main/ipc/channels.js';

/**
 * The README promises that everything the app does is reachable headless. Each IPC channel the
 * app calls is answered here by the CLI command (and flag) that does the same, or marked as
 * window-only with the reason. A new channel fails this test until it is given one or the other.
 */
type Answer = { command: string; flag?: string } | { windowOnly: string };

const ANSWERS: Record<RequestChannel, Answer> = {
  'app.info': { windowOnly: 'the About line; ferry --version' },
  'app.openExternal': { windowOnly: 'opens a link in the browser' },
  'app.copyText': { windowOnly: 'the clipboard; the CLI prints the text' },
  'dialog.pickFolder': { windowOnly: 'a native dialog; the CLI takes paths' },
  'dialog.pickFile': { windowOnly: 'a native dialog; the CLI takes paths' },
  'jobs.get': { windowOnly: 're-attaching a window; a CLI job runs in the foreground' },
  'jobs.list': { windowOnly: 're-attaching a window; a CLI job runs in the foreground' },
  'jobs.cancel': { windowOnly: 'Ctrl-C cancels a CLI job' },
  'plan.kubesprayVersions': { command: 'plan', flag: 'list-releases' },
  'plan.prepare': { command: 'plan', flag: 'list-kube-versions' },
  'plan.compute': { command: 'plan' },
  'plan.sizes': { command: 'plan' },
  'fetch.start': { command: 'fetch' },
  'fetch.pause': { command: 'fetch' },
  'fetch.resume': { command: 'fetch' },
  'fetch.retryFailed': { command: 'fetch' },
  'drives.list': { command: 'drives' },
  'export.start': { command: 'export' },
  'media.scan': { command: 'bundles' },
  'bundle.open': { command: 'bundles' },
  'verify.start': { command: 'verify' },
  'import.start': { command: 'import' },
  'serve.interfaces': { command: 'serve', flag: 'list-interfaces' },
  'serve.start': { command: 'serve' },
  'serve.stop': { command: 'serve' },
  'serve.status': { command: 'serve' },
  'vars.generate': { command: 'vars', flag: 'containerd' },
  'vars.save': { command: 'vars', flag: 'output' },
  'deploy.start': { command: 'deploy' },
  'venv.start': { command: 'venv' },
  'keys.list': { command: 'keys list' },
  'keys.generate': { command: 'keys generate' },
  'keys.exportPublic': { command: 'keys export' },
  'keys.trust': { command: 'keys trust' },
  'keys.trustFile': { command: 'keys trust' },
  'keys.untrust': { command: 'keys untrust' },
  'settings.get': { windowOnly: "the app's saved settings; the CLI takes flags and ferry.yaml" },
  'settings.set': { windowOnly: "the app's saved settings; the CLI takes flags and ferry.yaml" },
  'settings.pickStore': { command: 'store ls', flag: 'store' },
};

describe('everything the app asks of the backend, the CLI answers', () => {
  // Loading every command module transforms most of the CLI's imports: about a second alone, but
  // past vitest's 5 s default on a loaded machine or under coverage, so it gets room.
  it(
    'every IPC channel has a CLI command (and flag) or a reason it belongs to the window',
    { timeout: 30_000 },
    async () => {
      expect(Object.keys(ANSWERS).sort()).toEqual([...REQUEST_CHANNELS].sort());
      for (const [channel, a] of Object.entries(ANSWERS)) {
        if ('windowOnly' in a) continue;
        const entry = commands.find((c) => c.name === a.command);
        expect(entry, `${channel}: ferry ${a.command}`).toBeDefined();
        const cmd = await loadCommand(entry!);
        if (a.flag) expect(Object.keys(cmd!.options ?? {}), `${channel}: --${a.flag}`).toContain(a.flag);
      }
    },
  );
});
