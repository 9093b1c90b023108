import fs from 'node:fs/promises';
import { FerryError, EXIT } from '../../core/base/errors/index.js';
import { KeyStore, repoKeyInfo } from '../../core/bundle/keys/index.js';
import type { Command } from '../command.js';
import { printJson, println, str } from '../output.js';

const store = (env: NodeJS.ProcessEnv) => KeyStore.fromEnv(env);

export const keysGenerate: Command = {
  name: 'keys generate',
  summary: 'Make an Ed25519 signing key pair for this machine (bundles fetched here are signed with it)',
  options: {
    name: { type: 'string', description: 'A name for the key, shown on the other side.', valueName: 'NAME' },
    force: { type: 'boolean', description: 'Replace an existing key.' },
  },
  async run(ctx) {
    const name = str(ctx.values.name);
    const force = ctx.values.force === true;
    const k = await store(ctx.env).generate({ name, force });
    // generate() made the OpenPGP repository key beside it too.
    const dir = store(ctx.env).dir;
    const repo = (await repoKeyInfo(dir))!;
    if (ctx.json)
      printJson(ctx, {
        fingerprint: k.fingerprint,
        name: k.name,
        publicKey: k.publicKeyPem,
        repoKey: { fingerprint: repo.fingerprint, name: repo.name },
      });
    else {
      println(ctx, `Generated signing key ${k.fingerprint} (${k.name}) in ${dir}`);
      println(ctx, `Repository key (OpenPGP) ${repo.fingerprint}`);
      println(
        ctx,
        "Give the offline side the output of 'ferry keys export' and compare this fingerprint there.",
      );
    }
    return EXIT.OK;
  },
};

export const keysList: Command = {
  name: 'keys list',
  summary: 'List this machine’s own key and the keys it trusts',
  async run(ctx) {
    const keys = await store(ctx.env).list();
    const repo = await repoKeyInfo(store(ctx.env).dir);
    if (ctx.json)
      printJson(ctx, [
        ...keys.map(({ fingerprint, name, own }) => ({ fingerprint, name, own })),
        ...(repo ? [{ fingerprint: repo.fingerprint, name: repo.name, own: true, kind: 'repository' }] : []),
      ]);
    else if (keys.length === 0)
      println(
        ctx,
        "No keys. Run 'ferry keys generate' (connected side) or 'ferry keys trust FILE' (offline side).",
      );
    else {
      for (const k of keys) println(ctx, `${k.fingerprint}  ${k.own ? 'own    ' : 'trusted'}  ${k.name}`);
      if (repo) println(ctx, `${repo.fingerprint}  repo    ${repo.name} (OpenPGP, signs apt repositories)`);
    }
    return EXIT.OK;
  },
};

export const keysExport: Command = {
  name: 'keys export',
  summary: 'Print this machine’s public key, to trust it on the other side',
  async run(ctx) {
    const k = await store(ctx.env).ownKey();
    if (!k)
      throw new FerryError('NOT_FOUND', 'This machine has no signing key.', {
        hint: "Run 'ferry keys generate' first.",
      });
    if (ctx.json) printJson(ctx, { fingerprint: k.fingerprint, name: k.name, publicKey: k.publicKeyPem });
    else ctx.stdout.write(k.publicKeyPem.endsWith('\n') ? k.publicKeyPem : k.publicKeyPem + '\n');
    return EXIT.OK;
  },
};

export const keysTrust: Command = {
  name: 'keys trust',
  summary: 'Trust a public key exported on the other side (FILE, or - for stdin)',
  usage: 'FILE',
  options: { name: { type: 'string', description: 'Name to show for this key.', valueName: 'NAME' } },
  async run(ctx) {
    const file = ctx.positionals[0];
    if (!file || ctx.positionals.length > 1)
      throw new FerryError('USAGE', 'ferry keys trust takes one FILE (or - for stdin).');
    let pem: string;
    try {
      pem = file === '-' ? await readStdin() : await fs.readFile(file, 'utf8');
    } catch (err) {
      throw new FerryError('NOT_FOUND', `Cannot read ${file}: ${(err as Error).message}`, { artifact: file });
    }
    const k = await store(ctx.env).trust(pem, { name: str(ctx.values.name), source: file });
    if (ctx.json) printJson(ctx, { fingerprint: k.fingerprint, name: k.name });
    else
      println(
        ctx,
        `Trusted key ${k.fingerprint} (${k.name}). Check that the connected side shows the same fingerprint.`,
      );
    return EXIT.OK;
  },
};

const keysUntrust: Command = {
  name: 'keys untrust',
  summary: 'Stop trusting a key (by fingerprint), as the app’s settings can',
  usage: 'FINGERPRINT',
  async run(ctx) {
    const fp = ctx.positionals[0];
    if (!fp || ctx.positionals.length > 1)
      throw new FerryError('USAGE', 'ferry keys untrust takes one FINGERPRINT (see ferry keys list).');
    const removed = await store(ctx.env).untrust(fp.toUpperCase());
    if (ctx.json) printJson(ctx, { fingerprint: fp.toUpperCase(), removed });
    else if (removed)
      println(ctx, `No longer trusting ${fp.toUpperCase()}: bundles it signed are untrusted here.`);
    else
      println(ctx, `${fp.toUpperCase()} was not a trusted key (this machine's own key cannot be untrusted).`);
    // Not trusted afterwards either way; a script that asks twice has what it wanted.
    return EXIT.OK;
  },
};

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of process.stdin) chunks.push(c as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

export const keysCommands = [keysGenerate, keysList, keysExport, keysTrust, keysUntrust];
