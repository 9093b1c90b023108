/**
 * One timed import, in its own process so the caller can set OPENSSL_ia32cap (which OpenSSL reads
 * at start-up). Prints {seconds, cpu, status} as JSON. Used by bench/export/run.ts.
 *   npx tsx bench/export/import-step.ts SOURCE STORE KEYS_DIR
 */
import fs from 'node:fs/promises';
import { importBundle } from '../../src-main/core/media/import/index.js';
import { KeyStore } from '../../src-main/core/bundle/keys/index.js';

const [source, store, keys] = process.argv.slice(2);
await fs.rm(store, { recursive: true, force: true });
const c0 = process.cpuUsage();
const t0 = process.hrtime.bigint();
const r = await importBundle(source, { store, keyStore: new KeyStore(keys) });
const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
const c = process.cpuUsage(c0);
process.stdout.write(
  JSON.stringify({ seconds, cpu: (c.user + c.system) / 1e6, user: c.user / 1e6, status: r.status }) + '\n',
);
await fs.rm(store, { recursive: true, force: true });
