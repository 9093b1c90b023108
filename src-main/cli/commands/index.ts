import type { Command, LazyCommand } from '../command.js';

/**
 * Every CLI command, in the order of the journey: plan and fetch, carry, verify and serve.
 *
 * Each is named here with its summary and loaded only when it runs: a command module pulls in its
 * part of core and the libraries under it (undici, openpgp, zod schemas, systeminformation),
 * whose evaluation is most of the standalone executable's start-up memory. `ferry --help` then
 * costs Node and this table (test/unit/cli/commands.test.ts keeps the summaries equal to the
 * modules'). A plain `Command` in the list works too, loaded eagerly.
 */
function lazy(name: string, summary: string, load: () => Promise<Command>): LazyCommand {
  return { name, summary, load };
}

export const commands: Array<Command | LazyCommand> = [
  lazy(
    'plan',
    'Compute exactly what Kubespray downloads for your cluster (files, checksums, images)',
    async () => (await import('./plan.js')).plan,
  ),
  lazy(
    'fetch',
    'Download a plan into a verified, signed bundle (resumable, parallel, through proxies and mirrors)',
    async () => (await import('./fetch.js')).fetch,
  ),
  lazy(
    'export',
    'Copy a bundle to removable media and read it back to prove the copy',
    async () => (await import('./export.js')).exportCommand,
  ),
  lazy(
    'import',
    'Verify a bundle from media and import it into the local store',
    async () => (await import('./import.js')).importCommand,
  ),
  lazy(
    'bundles',
    'Find the bundles and archive exports on the drives (or in folders), as the app’s media step does',
    async () => (await import('./bundles.js')).bundles,
  ),
  lazy(
    'verify',
    'Check a bundle’s signature and every byte of every artifact',
    async () => (await import('./verify.js')).verify,
  ),
  lazy(
    'serve',
    'Serve a bundle’s files and images to the cluster (file server + OCI registry)',
    async () => (await import('./serve.js')).serve,
  ),
  lazy(
    'vars',
    'Write Kubespray’s offline.yml for the bundle’s Kubespray version, pointing at Ferry',
    async () => (await import('./vars.js')).vars,
  ),
  lazy(
    'push',
    'Copy every image of a bundle into a registry the site already runs (Harbor, Nexus, …)',
    async () => (await import('./push.js')).push,
  ),
  lazy(
    'venv',
    'Make the deploy host’s Ansible virtualenv from the bundle’s wheels, with no network',
    async () => (await import('./venv.js')).venvCommand,
  ),
  lazy(
    'deploy',
    'Run Kubespray from the bundle: inventory, offline.yml, preflight, ansible-playbook',
    async () => (await import('./deploy.js')).deployCommand,
  ),
  lazy('store ls', 'List the bundles in the local store', async () => (await import('./store.js')).storeLs),
  lazy(
    'store gc',
    'Delete blobs no stored bundle uses, and leftover temp files',
    async () => (await import('./store.js')).storeGc,
  ),
  lazy(
    'store rm',
    'Remove a bundle (all versions, or one with --version) from the store',
    async () => (await import('./store.js')).storeRm,
  ),
  lazy(
    'drives',
    'List removable drives (export targets); --watch to follow them coming and going',
    async () => (await import('./drives.js')).drives,
  ),
  lazy(
    'keys generate',
    'Make an Ed25519 signing key pair for this machine (bundles fetched here are signed with it)',
    async () => (await import('./keys.js')).keysGenerate,
  ),
  lazy(
    'keys list',
    'List this machine’s own key and the keys it trusts',
    async () => (await import('./keys.js')).keysList,
  ),
  lazy(
    'keys export',
    'Print this machine’s public key, to trust it on the other side',
    async () => (await import('./keys.js')).keysExport,
  ),
  lazy(
    'keys trust',
    'Trust a public key exported on the other side (FILE, or - for stdin)',
    async () => (await import('./keys.js')).keysTrust,
  ),
  lazy('keys untrust', 'Stop trusting a key (by fingerprint), as the app’s settings can', async () =>
    (await import('./keys.js')).keysCommands.find((c) => c.name === 'keys untrust')!,
  ),
];

/** The command itself, loading its module when the entry is lazy. */
export async function loadCommand(entry: Command | LazyCommand): Promise<Command> {
  return 'load' in entry ? entry.load() : entry;
}
